import * as gcp from "@pulumi/gcp";
import { describe, expect, it } from "vitest";
import { DB, NETWORK, plan, segmentation, vm, WEB } from "./gcp-data";
import { fails, reviewProgram, verdict } from "./support";

/*
 * GCP binding: every interface of a VM is read in its own network, an instance from a template is
 * read with its overrides, an interface naming only its subnetwork is located through it, and VMs
 * running as a service account the rules name but no workload owns are parties.
 */

const BASTION = "bastion@corp.iam.gserviceaccount.com";
const OTHER = "projects/corp/global/networks/other";

describe("GCP binding: every interface, templates' instances, subnetworks, named accounts", () => {
  it("a db VM's second interface in another network (whose rule admits corp) is an error naming the interface", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB, { networkInterfaces: [{ network: NETWORK }, { network: OTHER }] });
      new gcp.compute.Firewall("other-open", {
        name: "other-open",
        network: OTHER,
        direction: "INGRESS",
        priority: 1000,
        allows: [{ protocol: "tcp", ports: ["5432"] }],
        sourceRanges: ["10.200.0.0/16"],
      });
    });
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "unbound-compute",
        severity: "error",
        resource: "db-0",
        workload: "db",
      }),
    );
    expect(
      review.errors.some((e) =>
        e.includes(
          'instance db-0 (network interface 1) runs as db@corp.iam.gserviceaccount.com (workload "db", placed in network data) but sits in network other',
        ),
      ),
    ).toBe(true);
    expect(fails(review)).toBe(true);
  });

  it("an instance from the db template whose own tags a rule opens ssh to: read with the override (unexplained tcp/22)", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      const t = new gcp.compute.InstanceTemplate("db-tpl", {
        machineType: "e2-small",
        disks: [{ sourceImage: "debian-cloud/debian-12" }],
        networkInterfaces: [{ network: NETWORK }],
        serviceAccount: { email: DB, scopes: ["cloud-platform"] },
      });
      new gcp.compute.InstanceFromTemplate("db-from-tpl", {
        zone: "europe-west1-b",
        sourceInstanceTemplate: t.selfLink,
        tags: ["open"],
      });
      new gcp.compute.Firewall("ssh-open", {
        name: "ssh-open",
        network: NETWORK,
        direction: "INGRESS",
        priority: 900,
        allows: [{ protocol: "tcp", ports: ["22"] }],
        sourceRanges: ["0.0.0.0/0"],
        targetTags: ["open"],
      });
    });
    expect(review.errors.filter((e) => !e.includes("tcp/22"))).toEqual([]);
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({ from: "unmodelled addresses", to: "db", services: "tcp/22", by: "ssh-open" }),
    );
    expect(fails(review)).toBe(true);
  });

  it("an instance from a template the stack does not hold is an unknown error", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB);
      new gcp.compute.InstanceFromTemplate("mystery", {
        zone: "europe-west1-b",
        sourceInstanceTemplate: "projects/corp/global/instanceTemplates/elsewhere",
      });
    });
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "unknown", severity: "error", resource: "mystery" }),
    );
  });

  it("VMs running as an account a rule names but no workload owns are a party: a rule admitting them to the db fails the review", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB);
      new gcp.compute.Firewall("bastion-to-db", {
        name: "bastion-to-db",
        network: NETWORK,
        direction: "INGRESS",
        priority: 900,
        allows: [{ protocol: "tcp", ports: ["5432"] }],
        sourceServiceAccounts: [BASTION],
        targetServiceAccounts: [DB],
      });
    });
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({
        from: `VMs of network data running as ${BASTION}`,
        to: "db",
        services: "tcp/5432",
        by: "bastion-to-db",
      }),
    );
    expect(fails(review)).toBe(true);
  });

  it("an interface naming only a subnetwork of the stack is located in its network (bound, proven)", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      const sub = new gcp.compute.Subnetwork("data-db", {
        name: "data-db",
        network: NETWORK,
        ipCidrRange: "10.2.0.0/24",
        region: "europe-west1",
      });
      vm("db-0", DB, { networkInterfaces: [{ subnetwork: sub.selfLink }] });
    });
    expect(review.errors).toEqual([]);
    expect(verdict(review, "no-corp-to-db", "gcp")?.status).toBe("blocked");
    expect(verdict(review, "web-to-db", "gcp")?.status).toBe("open");
  });

  it("an interface naming only a subnetwork the stack does not hold is one unknown error (not unbound)", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB, {
        networkInterfaces: [{ subnetwork: "projects/corp/regions/europe-west1/subnetworks/data-db" }],
      });
    });
    expect(review.findings.filter((f) => f.severity === "error")).toEqual([
      expect.objectContaining({ kind: "unknown", resource: "db-0", workload: "db" }),
    ]);
    expect(review.errors[0]).toContain(
      "names subnetwork projects/corp/regions/europe-west1/subnetworks/data-db only",
    );
  });
});
