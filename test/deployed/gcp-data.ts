import * as gcp from "@pulumi/gcp";
import { GcpSegmentation } from "../../components/gcp";
import { planOf } from "./support";

/*
 * The GCP stack of the deployed-stack tests (gcp.test.ts, gcp-binding.test.ts): web and db in
 * network data, bound by the service accounts they run as; web allowed to db, corp forbidden to
 * reach db.
 */

export const WEB = "web@corp.iam.gserviceaccount.com";
export const DB = "db@corp.iam.gserviceaccount.com";

export const plan = planOf({
  name: "deployed-gcp",
  workloads: [
    {
      name: "web",
      labels: { role: "web" },
      placements: { gcp: { network: "data", serviceAccount: WEB, cidrs: ["10.1.0.0/24"] } },
    },
    {
      name: "db",
      labels: { role: "db" },
      placements: { gcp: { network: "data", serviceAccount: DB, cidrs: ["10.2.0.0/24"] } },
    },
  ],
  segments: { web: { matchLabels: { role: "web" } }, db: { matchLabels: { role: "db" } } },
  peers: { corp: { cidrs: ["10.200.0.0/16"] } },
  paths: [
    { name: "web-to-db", from: "web", to: "db", services: ["tcp/5432"], owner: "o@x", justification: "j" },
    { name: "no-corp-to-db", from: "corp", to: "db", verdict: "forbid", owner: "o@x", justification: "j" },
  ],
});

export const NETWORK = "projects/corp/global/networks/data";

/** A VM in network data running as `serviceAccount` (none: the project's default account). */
export function vm(
  name: string,
  serviceAccount: string | undefined,
  extra: Partial<gcp.compute.InstanceArgs> = {},
) {
  return new gcp.compute.Instance(name, {
    machineType: "e2-small",
    zone: "europe-west1-b",
    bootDisk: { initializeParams: { image: "debian-cloud/debian-12" } },
    networkInterfaces: [{ network: NETWORK }],
    ...(serviceAccount ? { serviceAccount: { email: serviceAccount, scopes: ["cloud-platform"] } } : {}),
    ...extra,
  });
}

export const segmentation = () =>
  new GcpSegmentation("data", { network: "data", networkId: NETWORK, project: "corp", plan });
