import { describe, expect, it } from "vitest";
import { bluefieldModule, bluefieldPlaceholderProgram } from "../../../components/bluefield/module";
import { runProgram } from "../../../components/runner";
import { AddressSet, ConnectionSet, type Party, ServiceSet } from "../../../lib";
import {
  type BlueFieldEvaluator,
  bluefieldAdapter,
  FLOWS_PER_DPU_QUOTA,
  renderBlueField,
} from "../../../lib/targets/bluefield";
import { prove } from "../../../lib/verify/prove";
import type { ResourceRecord } from "../../../lib/verify/types";
import { DUAL_STACK, FLAGSHIP, planOf, planOfDocument } from "./helpers";

const strip = (r: ResourceRecord) => ({ type: r.type, name: r.name, inputs: r.inputs });

describe("records(plan): the placeholder program's resources without the Pulumi engine", () => {
  for (const file of [FLAGSHIP, DUAL_STACK])
    it(`equal the runner's recorded resources (${file.split("/").pop()})`, async () => {
      const plan = planOf(file);
      const { resources } = await runProgram(() => bluefieldPlaceholderProgram(plan));
      const recorded = resources.filter((r) => bluefieldAdapter.owns(r as ResourceRecord)).map(strip);
      expect(bluefieldModule!.records(plan).map(strip)).toEqual(recorded);
    });
});

/** Two DPUs of two workloads each (one of them also on AWS, with an address outside the DPU). */
const TWO_DPUS = {
  name: "keys",
  workloads: [
    ["a1", "h1", "10.1.0.0/28", "a"],
    ["a2", "h1", "10.1.0.16/28", "a"],
    ["b1", "h2", "10.2.0.0/28", "b"],
    ["b2", "h2", "10.2.0.16/28", "b"],
  ].map(([name, host, cidr, seg]) => ({
    name,
    labels: { seg },
    placements: {
      bluefield: { hosts: [host], port: "pf0hpf", addresses: [cidr] },
      ...(name === "b2" ? { aws: { vpc: "v", cidrs: ["10.9.0.0/28"] } } : {}),
    },
  })),
  segments: { a: { matchLabels: { seg: "a" } }, b: { matchLabels: { seg: "b" } } },
  peers: { office: { cidrs: ["192.168.0.0/24"] } },
  paths: [
    { name: "a-to-b", from: "a", to: "b", services: ["tcp/443", "udp/53"], owner: "o@x", justification: "j" },
    { name: "office-to-a", from: "office", to: "a", services: ["tcp/22"], owner: "o@x", justification: "j" },
    {
      name: "no-b-to-office",
      from: "b",
      to: "office",
      verdict: "forbid",
      owner: "o@x",
      justification: "j",
    },
  ],
};

function evaluator(doc: unknown) {
  const plan = planOfDocument(doc);
  const ev = bluefieldAdapter.evaluator(bluefieldModule!.records(plan), plan) as BlueFieldEvaluator;
  return { plan, ev };
}

describe("partyKey", () => {
  it("names the DPU hosts and port; parties seen only by address share one key", () => {
    const { plan, ev } = evaluator(TWO_DPUS);
    const key = (n: string) => ev.partyKey!(plan.parties.find((p) => p.name === n)!);
    expect(key("a1")).toBe("dpu:h1|pf0hpf");
    expect(key("a2")).toBe(key("a1"));
    expect(key("b1")).toBe("dpu:h2|pf0hpf");
    // b2 also has an AWS address the DPU never sees: its key carries its DPU addresses.
    expect(key("b2")).not.toBe(key("b1"));
    expect(key("office")).toBe("address");
    expect(key("internet")).toBe("address");
  });

  it("a class asked with the union of its addresses answers each member as the member itself", () => {
    const { plan, ev } = evaluator(TWO_DPUS);
    const classes = new Map<string, Party[]>();
    for (const p of plan.parties) classes.set(ev.partyKey!(p), [...(classes.get(ev.partyKey!(p)) ?? []), p]);
    const union = (ps: Party[]): Party => ({
      ...ps[0]!,
      addresses: AddressSet.unionAll(ps.map((p) => p.addresses)),
    });
    for (const from of classes.values())
      for (const to of classes.values()) {
        const whole = ev.allowed(union(from), union(to));
        for (const f of from)
          for (const t of to) {
            const region = ConnectionSet.of(f.addresses, t.addresses, ServiceSet.ALL);
            expect(whole.intersect(region).equals(ev.allowed(f, t).intersect(region))).toBe(true);
          }
      }
  });

  it("proofs with the evaluator: the DPU side of the forbid is blocked, b2's AWS address is not the DPU's to block", () => {
    const { plan, ev } = evaluator(TWO_DPUS);
    const proof = prove(plan, [ev]);
    expect(proof.allowed.map((a) => [a.path, a.status])).toEqual([
      ["a-to-b", "open"],
      ["office-to-a", "open"],
    ]);
    // b2 is behind the DPU at 10.2.0.16/28 and on AWS at 10.9.0.0/28: two facets. The DPU decides
    // (and blocks) only the packets of the first; the second is AWS's to block, never a BlueField
    // verdict (before facets, the review reported it "open on bluefield" with a 10.9.0.x witness).
    const forbid = proof.forbidden.find((f) => f.path === "no-b-to-office")!;
    expect(forbid).toMatchObject({ status: "blocked", target: "bluefield" });
    const b2 = plan.parties.find((p) => p.name === "b2")!;
    const office = plan.parties.find((p) => p.name === "office")!;
    const behind = ConnectionSet.of(AddressSet.parse("10.2.0.16/28"), office.addresses, ServiceSet.ALL);
    expect(ev.allowed(b2, office).overlaps(behind)).toBe(false);
  });
});

describe("usage", () => {
  it("counts flows per DPU (the rule unit), guardrail flows and resources, by hand", () => {
    const { plan } = evaluator(TWO_DPUS);
    const records = bluefieldModule!.records(plan);
    const u = bluefieldAdapter.usage!(records, plan);
    // Per DPU: entry table 1 (ARP from the port's one CIDR) + 1 (ARP spoof) + 1 (ARP) + 4 (ND) + 1
    // (source ok) + 2 (spoof) + 1 (to local) = 11; each direction's conntrack table 5 and policy
    // default drop 1: 12. Paths: b's addresses are two CIDRs (10.2.0.0/27 and b2's 10.9.0.0/28).
    // h1: egress a-to-b tcp/443 + udp/53 to two CIDRs (4); ingress office-to-a tcp/22 (1): 28.
    // h2: ingress a-to-b (4); egress guardrail b-to-office from two CIDRs (2): 29.
    expect(u.quotas).toEqual([
      {
        target: "bluefield",
        quota: FLOWS_PER_DPU_QUOTA,
        description: expect.any(String),
        scope: "h1",
        used: 28,
        limit: 100000,
      },
      {
        target: "bluefield",
        quota: FLOWS_PER_DPU_QUOTA,
        description: expect.any(String),
        scope: "h2",
        used: 29,
        limit: 100000,
      },
    ]);
    expect(u.rules).toBe(57);
    expect(u.guardrailRules).toBe(2);
    // Agent ConfigMap, two rule-set ConfigMaps, the DaemonSet (the component is not a resource).
    expect(u.resources).toBe(4);
    const flows = renderBlueField(plan);
    expect(flows.map((r) => r.flowCount)).toEqual([28, 29]);
  });

  it("an over-limit DPU shows used above the limit; a raised limit is honoured", () => {
    const plan = planOf(DUAL_STACK);
    const records = bluefieldModule!.records(plan);
    const tight = bluefieldAdapter.usage!(records, plan, { [FLOWS_PER_DPU_QUOTA]: 100 });
    const over = tight.quotas.filter((q) => q.used > q.limit).map((q) => q.scope);
    expect(over).toEqual(["dpu-b"]);
    expect(renderBlueField(plan).find((r) => r.host === "dpu-b")!.flowCount).toBeGreaterThan(100);
    expect(() => renderBlueField(plan, { maxFlowsPerHost: 100 })).toThrow(
      /BlueField host "dpu-b" needs \d+ flows, more than the limit of 100/,
    );
  });
});

describe("the directional pipeline", () => {
  it("egress and ingress have their own tables; a local side that is the whole host goes unmatched", () => {
    const plan = planOfDocument(TWO_DPUS);
    const h1 = renderBlueField(plan).find((r) => r.host === "h1")!.flows;
    expect(h1).toContain("ip,in_port=pf0hpf,nw_src=10.1.0.0/27,actions=ct(table=70,zone=45477)");
    expect(h1).toContain("ip,nw_dst=10.1.0.0/27,actions=ct(table=72,zone=45477)");
    expect(h1).toMatch(
      /add table=71,priority=20000,[^\n]*,ct_state=\+new\+trk,tcp,nw_dst=10\.2\.0\.0\/27,tp_dst=443,/,
    );
    expect(h1).toMatch(
      /add table=73,priority=20000,[^\n]*,ct_state=\+new\+trk,tcp,nw_src=192\.168\.0\.0\/24,tp_dst=22,/,
    );
    expect(() => renderBlueField(plan, { tables: { ingressConntrack: 70 } })).toThrow(
      /must be four different tables/,
    );
  });
});
