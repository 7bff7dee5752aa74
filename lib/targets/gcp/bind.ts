import { AddressSet } from "../../net";
import { UNKNOWN_VALUE } from "../../verify/binding";
import type { ResourceRecord } from "../../verify/types";

/*
 * Which VMs a stack really runs on GCP, as which service account and with which network tags: the
 * binding contract read from recorded `gcp.compute.Instance` and instance templates (or from
 * `gcloud compute instances list --format=json`). A VM is bound to the workload whose placement
 * names its service account in its network; its network tags are what tag-targeted rules see.
 */

export const GCP_COMPUTE_TYPES = {
  instance: "gcp:compute/instance:Instance",
  instanceTemplate: "gcp:compute/instanceTemplate:InstanceTemplate",
  regionInstanceTemplate: "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
} as const;

/** One VM (or the VMs of one template) as the stack builds it. */
export interface GcpCompute {
  resource: string;
  kind: "instance" | "instance template";
  /** The service account it runs as; undefined: the project's default compute account. */
  serviceAccount?: string;
  /** Its network tags, sorted. */
  tags: string[];
  /** Its network as written (name, id or self link), from its first interface. */
  network?: string;
  /** Its addresses, when the stack fixes them (`networkIp`). */
  addresses?: AddressSet;
  /** A value unknown during a preview (the account or the network of a resource not created yet). */
  unknown: boolean;
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" && v !== UNKNOWN_VALUE ? v : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every VM of the records (instances and instance templates). */
export function gcpComputes(records: readonly ResourceRecord[]): GcpCompute[] {
  const out: GcpCompute[] = [];
  for (const r of records) {
    const kind =
      r.type === GCP_COMPUTE_TYPES.instance
        ? "instance"
        : r.type === GCP_COMPUTE_TYPES.instanceTemplate || r.type === GCP_COMPUTE_TYPES.regionInstanceTemplate
          ? "instance template"
          : undefined;
    if (!kind) continue;
    out.push(computeOf(r.name, kind, r.inputs));
  }
  return out;
}

/** One VM from Pulumi inputs or a `gcloud compute instances list --format=json` item. */
export function computeOf(name: string, kind: GcpCompute["kind"], i: Record<string, unknown>): GcpCompute {
  const sa = (i.serviceAccount ?? list(i.serviceAccounts)[0]) as Record<string, unknown> | undefined;
  const nics = list(i.networkInterfaces) as Array<Record<string, unknown>>;
  const rawTags = i.tags;
  // gcloud prints tags as { items: [...] }; Pulumi takes a list.
  const tags = Array.isArray(rawTags) ? rawTags : list((rawTags as { items?: unknown } | undefined)?.items);
  const addresses: AddressSet[] = [];
  for (const n of nics)
    for (const ip of [n.networkIp, n.networkIP]) {
      const s = str(ip);
      if (!s) continue;
      try {
        addresses.push(AddressSet.parse(s));
      } catch {
        // an unknown or malformed value: the VM's address stays unknown
      }
    }
  const c: GcpCompute = {
    resource: name,
    kind,
    tags: [...new Set(tags.map((t) => str(t)).filter((t): t is string => t !== undefined))].sort(),
    unknown: JSON.stringify(i).includes(UNKNOWN_VALUE),
  };
  const email = str(sa?.email);
  if (email) c.serviceAccount = email;
  const network = str(nics[0]?.network);
  if (network) c.network = network;
  if (addresses.length > 0) c.addresses = AddressSet.unionAll(addresses);
  return c;
}

/** The VMs of `gcloud compute instances list --format=json` (an array of instances). */
export function gcpComputesFromExport(json: unknown): GcpCompute[] {
  const list = typeof json === "string" ? (JSON.parse(json) as unknown) : json;
  if (!Array.isArray(list))
    throw new Error("a gcloud instances export is a JSON array of instances (--format=json)");
  return list.map((item, i) => {
    const o = (item ?? {}) as Record<string, unknown>;
    return computeOf(typeof o.name === "string" ? o.name : `instance[${i}]`, "instance", o);
  });
}
