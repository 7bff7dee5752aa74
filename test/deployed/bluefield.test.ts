import { describe, expect, it } from "vitest";
import { bluefieldModule } from "../../components/bluefield/module";
import { proveDeployment } from "../../lib";
import { bluefieldAdapter, CONFIGMAP_TYPE } from "../../lib/targets/bluefield";
import { planOf } from "./support";

/*
 * BlueField: hosts behind a DPU port no workload claims are parties (one per DPU). Default deny
 * must hold between them and every workload; a bridge left forwarding NORMAL does not hold it.
 */

const plan = planOf({
  name: "bf",
  workloads: [
    {
      name: "gpu",
      labels: { role: "gpu" },
      placements: { bluefield: { hosts: ["dpu-01"], port: "pf0hpf", addresses: ["10.10.5.0/28"] } },
    },
    {
      name: "storage",
      labels: { role: "storage" },
      placements: { bluefield: { hosts: ["dpu-02"], port: "pf0hpf", addresses: ["10.10.6.0/28"] } },
    },
  ],
  segments: { gpu: { matchLabels: { role: "gpu" } }, storage: { matchLabels: { role: "storage" } } },
  paths: [
    {
      name: "gpu-reads-storage",
      from: "gpu",
      to: "storage",
      services: ["tcp/2049"],
      owner: "o@x",
      justification: "j",
    },
  ],
});

const records = bluefieldModule!.records(plan);
const proveWith = (rs: typeof records) => proveDeployment(plan, [bluefieldAdapter.evaluator(rs, plan)]);

describe("BlueField: other ports of a DPU are parties", () => {
  it("with the rendered rule sets, nothing reaches a workload from another port or an unclaimed address", () => {
    const d = proveWith(records);
    expect(d.universe.map((u) => u.name)).toEqual(
      expect.arrayContaining([
        "other ports of DPU dpu-01",
        "other ports of DPU dpu-02",
        "unmodelled addresses",
      ]),
    );
    expect(d.unexplained).toEqual([]);
  });

  it("a DPU whose rule set is missing forwards everything (NORMAL): every unclaimed address (other ports' hosts among them) reaches the storage, and the storage reaches everything", () => {
    const without = records.filter(
      (r) => !(r.type === CONFIGMAP_TYPE && JSON.stringify(r.inputs).includes('"dpu-02"')),
    );
    expect(without.length).toBeLessThan(records.length);
    const d = proveWith(without);
    expect(d.unexplained.map((u) => `${u.from} -> ${u.to}`)).toEqual(
      expect.arrayContaining(["storage -> unmodelled addresses", "unmodelled addresses -> storage"]),
    );
    expect(d.unexplained.find((u) => u.from === "storage")!.by).toContain("dpu-02: table=0 priority=0");
  });
});
