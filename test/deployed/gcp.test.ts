import * as gcp from "@pulumi/gcp";
import { describe, expect, it } from "vitest";
import { DB, NETWORK, plan, segmentation, vm, WEB } from "./gcp-data";
import { fails, reviewProgram, verdict } from "./support";

/*
 * GCP: VMs are bound to workloads by the service account they run as; every firewall rule of the
 * network is read, whoever created it; other VMs of the network are parties too.
 */

describe("GCP: the proof reads which account each VM runs as, and every rule of the network", () => {
  it("VMs running as their workloads' accounts: proven, nothing unexplained", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB);
    });
    expect(review.binding.gcp).toBe("bound");
    expect(review.errors).toEqual([]);
    expect(review.ok).toBe(true);
  });

  it("a firewall rule created elsewhere in the stack opening ssh to every instance fails the review, naming it (the enforce forbid stays blocked by its guardrail)", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB);
      new gcp.compute.Firewall("allow-ssh-everywhere", {
        name: "allow-ssh-everywhere",
        network: NETWORK,
        direction: "INGRESS",
        priority: 900,
        allows: [{ protocol: "tcp", ports: ["22"] }],
        sourceRanges: ["0.0.0.0/0"],
      });
    });
    // Deny guardrails at priority 0 keep the enforce forbid closed whatever is added below them.
    expect(verdict(review, "no-corp-to-db", "gcp")).toMatchObject({
      status: "blocked",
      by: "br-deployed-gcp-data-forbid-in-db-any-0",
    });
    expect(review.unexplained).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          from: "unmodelled addresses",
          to: "db",
          services: "tcp/22",
          by: "allow-ssh-everywhere",
        }),
        expect.objectContaining({ to: "web", services: "tcp/22", by: "allow-ssh-everywhere" }),
      ]),
    );
    expect(fails(review)).toBe(true);
  });

  it("a VM running as another account is an unmodelled endpoint; a tag rule that admits it to the db fails the review", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB);
      vm("bastion", "bastion@corp.iam.gserviceaccount.com", { tags: ["admin"] });
      new gcp.compute.Firewall("admin-to-db", {
        name: "admin-to-db",
        network: NETWORK,
        direction: "INGRESS",
        priority: 900,
        allows: [{ protocol: "tcp", ports: ["5432"] }],
        sourceTags: ["admin"],
        targetServiceAccounts: [DB],
      });
    });
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "unbound-compute", resource: "bastion", severity: "warning" }),
    );
    // The bastion, and any other VM of the network carrying the tag (one class: the rules see
    // them alike), reaches the db.
    expect(review.unexplained.map((u) => [u.from, u.to, u.services])).toEqual([
      ["instance bastion", "db", "tcp/5432"],
    ]);
    expect(review.unexplained[0]!.by).toBe("admin-to-db");
    expect(fails(review)).toBe(true);
  });

  it("a workload with no VM running as it, and a VM of the workload in another network, are errors", async () => {
    const { review } = await reviewProgram(plan, () => {
      segmentation();
      vm("web-0", WEB, { networkInterfaces: [{ network: "projects/corp/global/networks/other" }] });
    });
    expect(review.errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'instance web-0 runs as web@corp.iam.gserviceaccount.com (workload "web", placed in network data) but sits in network other',
        ),
        expect.stringContaining(
          'workload "db" is placed in network data as db@corp.iam.gserviceaccount.com, but no instance or template of this stack runs as it',
        ),
      ]),
    );
  });

  it("VMs of one workload with different tags are told apart: an allow must hold for each of them", async () => {
    const quarantined = () => {
      segmentation();
      vm("web-0", WEB);
      vm("db-0", DB);
      vm("db-1", DB, { tags: ["quarantine"] });
      new gcp.compute.Firewall("quarantine", {
        name: "quarantine",
        network: NETWORK,
        direction: "INGRESS",
        priority: 500,
        denies: [{ protocol: "all" }],
        sourceRanges: ["0.0.0.0/0"],
        targetTags: ["quarantine"],
      });
    };
    const { review } = await reviewProgram(plan, quarantined);
    // db-0 is reachable, db-1 is not: the allow is broken (for one of the db's VMs).
    expect(verdict(review, "web-to-db", "gcp")).toMatchObject({
      status: "broken",
      missing: "tcp/5432",
      by: "quarantine",
    });
  });
});
