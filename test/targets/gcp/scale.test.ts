import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../../bench/generate";
import { gcpModule, placeholderProject } from "../../../components/gcp/module";
import { type ConnectionSet, type Party, prove, ServiceSet } from "../../../lib";
import { ConnectionSet as CS } from "../../../lib/net";
import { FIREWALL_TYPE, gcpAdapter } from "../../../lib/targets/gcp";
import { gcpWorkload, meta, planOf, recordGcp } from "./helpers";
import { mixedPolicy } from "./policies";

const sa = (n: string) => `${n}@p.iam.gserviceaccount.com`;

/** a, b on GCP network n (service accounts), c on AWS; two paths into b over tcp/443, a forbid into a. */
const tiny = {
  name: "tiny",
  workloads: [
    gcpWorkload("a", { seg: "ga" }, "n", ["10.0.1.0/24"], sa("a")),
    gcpWorkload("b", { seg: "gb" }, "n", ["10.0.2.0/24"], sa("b")),
    { name: "c", labels: { seg: "gc" }, placements: { aws: { vpc: "v", cidrs: ["10.0.3.0/24"] } } },
  ],
  segments: {
    ga: { matchLabels: { seg: "ga" } },
    gb: { matchLabels: { seg: "gb" } },
    gc: { matchLabels: { seg: "gc" } },
  },
  peers: {},
  paths: [
    { name: "c-to-b", from: "gc", to: "gb", services: ["tcp/443"], ...meta },
    { name: "a-to-b", from: "ga", to: "gb", services: ["tcp/443"], ...meta },
    { name: "no-c-to-a", from: "gc", to: "ga", verdict: "forbid", ...meta },
  ],
};

/** Records as the lead's offline test compares them: type, name, inputs (ids left out). */
const comparable = (rs: ReadonlyArray<{ type: string; name: string; inputs: Record<string, unknown> }>) =>
  rs
    .filter((r) => gcpModule.adapter.owns(r))
    .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));

describe("records(plan) without the Pulumi engine", () => {
  it("equals what the placeholder program registers (mixed policy and a generated one)", async () => {
    for (const plan of [planOf(mixedPolicy), planOf(generatePolicy({ workloads: 500, segments: 50 }))]) {
      const recorded = await recordGcp(plan);
      expect(comparable(gcpModule.records(plan))).toEqual(comparable(recorded));
      // Firewall ids follow the provider's (and the mocks') form.
      const ids = gcpModule.records(plan).filter((r) => r.type === FIREWALL_TYPE);
      expect(
        ids.every((r) => r.id === `projects/${r.inputs.project}/global/firewalls/${r.inputs.name}`),
      ).toBe(true);
    }
  });
});

describe("partyKey", () => {
  it("a class asked once with its union of addresses answers for each member (generated policy)", () => {
    const plan = planOf(generatePolicy({ workloads: 500, segments: 50 }));
    const ev = gcpModule.adapter.evaluator(gcpModule.records(plan), plan);
    const classes = new Map<string, Party[]>();
    for (const p of plan.parties) {
      const k = ev.partyKey!(p);
      classes.set(k, [...(classes.get(k) ?? []), p]);
    }
    // Segment members share their accounts' rules, so each GCP segment is one class; the rest is "address".
    expect(classes.size).toBe(1 + 10);
    // 400 workloads on other targets and the built-in `internet` peer.
    expect(classes.get("address")!.length).toBe(401);
    const union = (ps: Party[]): Party => ({
      ...ps[0]!,
      addresses: ps.map((p) => p.addresses).reduce((a, b) => a.union(b)),
    });
    const groups = [...classes.values()];
    for (const fs of groups)
      for (const ts of groups) {
        const whole: ConnectionSet = ev.allowed(union(fs), union(ts));
        for (const f of fs.slice(0, 4))
          for (const t of ts.slice(0, 4)) {
            if (f === t) continue;
            const part = whole.intersect(CS.of(f.addresses, t.addresses, ServiceSet.ALL));
            expect(part.equals(ev.allowed(f, t))).toBe(true);
            expect(ev.enforces(f)).toBe(ev.enforces(fs[0]!));
          }
      }
  });
});

describe("one rule per destination identity and service set", () => {
  it("merges sources over the same services, keeps identities and ranges apart, and proves", async () => {
    const plan = planOf(tiny);
    const records = await recordGcp(plan);
    const names = records.filter((r) => r.type === FIREWALL_TYPE).map((r) => r.name);
    expect(names.filter((n) => n.includes("allow-in-gb"))).toEqual([
      "gcp-n-allow-in-gb-tcp-443-0", // a by service account
      "gcp-n-allow-in-gb-tcp-443-1", // c by range
    ]);
    expect(prove(plan, [gcpAdapter().evaluator(records, plan)]).ok).toBe(true);
    // Dropping the range rule breaks exactly the path it serves.
    const proof = prove(plan, [
      gcpAdapter().evaluator(
        records.filter((r) => r.name !== "gcp-n-allow-in-gb-tcp-443-1"),
        plan,
      ),
    ]);
    expect(proof.allowed.filter((a) => a.status === "broken").map((a) => a.path)).toEqual(["c-to-b"]);
  });

  it("a source with two paths into one segment takes one rule with the union of their services", () => {
    const plan = planOf({
      ...tiny,
      paths: [
        { name: "c-to-b-web", from: "gc", to: "gb", services: ["tcp/443"], ...meta },
        { name: "c-to-b-dns", from: "gc", to: "gb", services: ["udp/53"], ...meta },
        { name: "a-to-b-web", from: "ga", to: "gb", services: ["tcp/443"], ...meta },
      ],
    });
    const records = gcpModule.records(plan);
    const inB = records.filter((r) => r.name.startsWith("gcp-n-allow-in-gb"));
    expect(inB.map((r) => [r.name, r.inputs.allows])).toEqual([
      ["gcp-n-allow-in-gb-tcp-443-0", [{ protocol: "tcp", ports: ["443"] }]],
      [
        "gcp-n-allow-in-gb-tcp-443-udp-53-0",
        [
          { protocol: "tcp", ports: ["443"] },
          { protocol: "udp", ports: ["53"] },
        ],
      ],
    ]);
    expect(prove(plan, [gcpAdapter().evaluator(records, plan)]).ok).toBe(true);
  });
});

describe("usage", () => {
  it("counts firewall rules, guardrails and every per-rule and per-project limit", () => {
    const plan = planOf(tiny);
    const records = gcpModule.records(plan);
    const usage = gcpModule.adapter.usage!(records, plan);
    // Baseline: in and out, IPv4 and IPv6 (4); guardrail into A (1); allows into B (2: identity, range); out of A (1).
    expect([usage.rules, usage.guardrailRules, usage.resources]).toEqual([8, 1, 8]);
    expect(usage.quotas.length).toBe(8 * 5 + 1);
    expect(usage.quotas.find((q) => q.quota === "gcp.firewallRulesPerProject")).toEqual({
      target: "gcp",
      quota: "gcp.firewallRulesPerProject",
      description: "VPC firewall rules per project (all networks)",
      scope: `project ${placeholderProject("n")}`,
      used: 8,
      limit: 500,
    });
    const max = (id: string) => Math.max(...usage.quotas.filter((q) => q.quota === id).map((q) => q.used));
    expect(max("gcp.targetServiceAccountsPerRule")).toBe(2);
    expect(max("gcp.sourceServiceAccountsPerRule")).toBe(1);
    expect(max("gcp.sourceRangesPerRule")).toBe(1);
    expect(max("gcp.portsPerRule")).toBe(1);
    expect(
      new Set(usage.quotas.filter((q) => q.quota !== "gcp.firewallRulesPerProject").map((q) => q.limit)),
    ).toEqual(new Set([5000, 10, 256]));
  });

  it("an override below what is used shows the excess, per place", () => {
    const plan = planOf(tiny);
    const usage = gcpModule.adapter.usage!(gcpModule.records(plan), plan, {
      "gcp.firewallRulesPerProject": 5,
      "gcp.targetServiceAccountsPerRule": 1,
    });
    const over = usage.quotas.filter((q) => q.used > q.limit);
    expect(
      over.filter((q) => q.quota === "gcp.firewallRulesPerProject").map((q) => [q.used, q.limit]),
    ).toEqual([[8, 5]]);
    // The four baseline rules target both accounts.
    expect(over.filter((q) => q.quota === "gcp.targetServiceAccountsPerRule").length).toBe(4);
  });

  it("the generated 1k-workload estate stays within every default limit", () => {
    const plan = planOf(generatePolicy({ workloads: 1000, segments: 100 }));
    const usage = gcpModule.adapter.usage!(gcpModule.records(plan), plan);
    expect(usage.quotas.filter((q) => q.used > q.limit)).toEqual([]);
  });
});
