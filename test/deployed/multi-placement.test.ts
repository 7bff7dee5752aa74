import { describe, expect, it } from "vitest";
import { TARGET_MODULES } from "../../components/targets";
import { reviewRecords } from "../../lib";
import { planOf, verdict } from "./support";

/*
 * A workload placed on two targets at different addresses is two computes: each target decides
 * only the packets of its own, and sees the other by address (the etl-mesh example).
 */

const plan = planOf({
  name: "etl",
  workloads: [
    { name: "etl-a", labels: { role: "etl" }, placements: { aws: { vpc: "ml", cidrs: ["10.1.0.0/24"] } } },
    {
      name: "etl-b",
      labels: { role: "etl" },
      placements: {
        aws: { vpc: "ml", cidrs: ["10.2.0.0/24"] },
        gcp: { network: "data", serviceAccount: "etl@p.iam.gserviceaccount.com", cidrs: ["10.3.0.0/24"] },
      },
    },
    {
      name: "etl-c",
      labels: { role: "etl" },
      placements: {
        kubernetes: { cluster: "k", namespace: "etl", podLabels: { app: "etl-c" }, cidrs: ["10.5.0.0/24"] },
        azure: { vnet: "core", cidrs: ["10.6.0.0/24"] },
      },
    },
    {
      name: "vault",
      labels: { role: "vault" },
      placements: { azure: { vnet: "core", cidrs: ["10.4.0.0/24"] } },
    },
  ],
  segments: { etl: { matchLabels: { role: "etl" } }, vault: { matchLabels: { role: "vault" } } },
  peers: { corp: { cidrs: ["10.200.0.0/16"] } },
  paths: [
    { name: "etl-mesh", from: "etl", to: "etl", services: ["tcp/443"], owner: "o@x", justification: "j" },
    {
      name: "etl-reads-vault",
      from: "etl",
      to: "vault",
      services: ["tcp/8200"],
      owner: "o@x",
      justification: "j",
    },
    { name: "no-corp-to-etl", from: "corp", to: "etl", verdict: "forbid", owner: "o@x", justification: "j" },
  ],
});

const review = () =>
  reviewRecords(
    plan,
    TARGET_MODULES.filter((m) => plan.targets.includes(m.target)).flatMap((m) => m.records(plan)),
    TARGET_MODULES.map((m) => m.adapter),
  );

describe("a workload on two targets at different addresses", () => {
  it("etl-a (AWS) reaches etl-b's GCP instance: both AWS (by address) and GCP render and prove it; so do Azure and Cilium for etl-c", () => {
    const r = review();
    for (const t of ["aws", "gcp", "azure", "cilium"])
      expect(verdict(r, "etl-mesh", t)?.status, t).toBe("open");
    expect(verdict(r, "etl-reads-vault", "azure")?.status).toBe("open");
    expect(r.ok).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it("every witness is between addresses of the parties it names, on the target that decides it", () => {
    const r = review();
    const addrs: Record<string, string[]> = {
      "etl-a": ["10.1.0."],
      "etl-b": ["10.2.0.", "10.3.0."],
      "etl-c": ["10.5.0.", "10.6.0."],
      vault: ["10.4.0."],
      corp: ["10.200."],
    };
    for (const x of [...r.forbidden, ...r.allowed])
      if (x.witness) {
        expect(
          addrs[x.witness.from]!.some((p) => x.witness!.src.startsWith(p)),
          JSON.stringify(x),
        ).toBe(true);
        expect(
          addrs[x.witness.to]!.some((p) => x.witness!.dst.startsWith(p)),
          JSON.stringify(x),
        ).toBe(true);
      }
    // GCP decides no packet of etl-b's AWS instances: its forbid verdict is about the GCP ones.
    const gcp = verdict(r, "no-corp-to-etl", "gcp");
    expect(gcp?.status).toBe("blocked");
  });
});
