import { describe, expect, it } from "vitest";
import { type Plan, prove, type ResourceRecord } from "../../../lib";
import { FIREWALL_TYPE, gcpAdapter, gcpRuleName, renderGcpNetwork } from "../../../lib/targets/gcp";
import { gcpWorkload, meta, planOf } from "./helpers";

const sa = (i: number) => `w${i}@p.iam.gserviceaccount.com`;

function wide(n: number) {
  return planOf({
    name: "wide",
    workloads: [
      ...Array.from({ length: n }, (_, i) =>
        gcpWorkload(`c${i}`, { role: "client" }, "net", [`10.70.${i}.0/24`], sa(i)),
      ),
      gcpWorkload("srv", { role: "server" }, "net", ["10.71.0.0/24"], "srv@p.iam.gserviceaccount.com"),
    ],
    segments: { clients: { matchLabels: { role: "client" } }, server: { matchLabels: { role: "server" } } },
    peers: {},
    paths: [
      {
        name: "clients-to-server",
        from: "clients",
        to: "server",
        services: ["tcp/1", "tcp/3", "tcp/5", "tcp/7", "udp/9"],
        ...meta,
      },
      { name: "server-to-internet", from: "server", to: "internet", services: ["tcp/443"], ...meta },
    ],
  });
}

const asRecords = (plan: Plan, network: string, options = {}): ResourceRecord[] =>
  renderGcpNetwork(plan, network, options).map(({ key, kind: _k, paths: _p, segment: _s, ...rule }) => ({
    type: FIREWALL_TYPE,
    name: key,
    inputs: { ...rule, network },
  }));

describe("per-rule limits: merge, then split, never drop", () => {
  it("splits 25 source service accounts into rules of at most 10, and the proof still holds", () => {
    const plan = wide(25);
    const rules = renderGcpNetwork(plan, "net").filter(
      (r) => r.paths?.includes("clients-to-server") && r.direction === "INGRESS",
    );
    expect(rules.map((r) => r.sourceServiceAccounts!.length)).toEqual([10, 10, 5]);
    expect(new Set(rules.flatMap((r) => r.sourceServiceAccounts)).size).toBe(25);
    const baseline = renderGcpNetwork(plan, "net").filter((r) => r.key.startsWith("deny-all-in"));
    expect(baseline.map((r) => r.targetServiceAccounts!.length)).toEqual([10, 10, 10, 10, 6, 6]);
    expect(prove(plan, [gcpAdapter().evaluator(asRecords(plan, "net"), plan)]).ok).toBe(true);
  });

  it("splits the internet's ~400 ranges by family and by rangesPerRule, exactly", () => {
    const plan = wide(1);
    const out = renderGcpNetwork(plan, "net", { limits: { rangesPerRule: 100 } }).filter((r) =>
      r.paths?.includes("server-to-internet"),
    );
    expect(out.length).toBeGreaterThan(4);
    expect(out.every((r) => r.destinationRanges!.length <= 100)).toBe(true);
    expect(out.every((r) => new Set(r.destinationRanges!.map((c) => c.includes(":"))).size === 1)).toBe(true);
    const all = out.flatMap((r) => r.destinationRanges!);
    expect(new Set(all).size).toBe(all.length);
    expect(
      prove(plan, [gcpAdapter().evaluator(asRecords(plan, "net", { limits: { rangesPerRule: 100 } }), plan)])
        .ok,
    ).toBe(true);
  });

  it("splits port lists by portsPerRule", () => {
    const plan = wide(1);
    const rules = renderGcpNetwork(plan, "net", { limits: { portsPerRule: 2 } }).filter(
      (r) => r.paths?.includes("clients-to-server") && r.direction === "INGRESS",
    );
    expect(rules.map((r) => r.allows)).toEqual([
      [{ protocol: "tcp", ports: ["1", "3"] }],
      [{ protocol: "tcp", ports: ["5", "7"] }],
      [{ protocol: "udp", ports: ["9"] }],
    ]);
  });

  it("fails clearly, naming network, count and limit, when a network needs more rules than allowed", () => {
    expect(() => renderGcpNetwork(wide(25), "net", { limits: { rulesPerNetwork: 10 } })).toThrow(
      /network "net" needs \d+ firewall rules, more than the limit of 10 \(options\.limits\.rulesPerNetwork\)/,
    );
    expect(() => renderGcpNetwork(wide(1), "net", { limits: { serviceAccountsPerRule: 0 } })).toThrow(
      /options\.limits\.serviceAccountsPerRule is 0/,
    );
  });
});

describe("what GCP cannot express is an error, not a silent gap", () => {
  it("an egress allow to a same-network workload known only by its service account", () => {
    const plan = planOf({
      name: "sa-only",
      workloads: [
        gcpWorkload("a", { role: "a" }, "net", [], "a@p.iam.gserviceaccount.com"),
        gcpWorkload("b", { role: "b" }, "net", [], "b@p.iam.gserviceaccount.com"),
      ],
      segments: { a: { matchLabels: { role: "a" } }, b: { matchLabels: { role: "b" } } },
      peers: {},
      paths: [{ name: "a-to-b", from: "a", to: "b", services: ["tcp/443"], ...meta }],
    });
    expect(() => renderGcpNetwork(plan, "net")).toThrow(
      /network "net", allow path "a-to-b": destination "b" has no addresses; GCP egress rules name destinations by IP range only/,
    );
  });

  it("an unknown network names the known ones", () => {
    expect(() => renderGcpNetwork(wide(1), "other")).toThrow(
      /network "other": no workload .* GCP networks in the policy: net/,
    );
  });
});

describe("names and priorities", () => {
  it("rule names are RFC 1035, at most 63 chars, deterministic, hashed when too long", () => {
    const long = gcpRuleName("a-very-long-policy-name-indeed", "my-network", `allow-${"x".repeat(60)}-in-0`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(gcpRuleName("a-very-long-policy-name-indeed", "my-network", `allow-${"x".repeat(60)}-in-0`)).toBe(
      long,
    );
    expect(gcpRuleName("p", "My_Net", "allow-x-in-0")).toBe("br-p-my-net-allow-x-in-0");
  });

  it("bands: guardrails at 0, allows at one priority, baseline at 65534; configurable, validated", () => {
    const rules = renderGcpNetwork(wide(2), "net");
    expect(new Set(rules.filter((r) => r.kind === "allow").map((r) => r.priority))).toEqual(new Set([1000]));
    expect(new Set(rules.filter((r) => r.kind === "baseline").map((r) => r.priority))).toEqual(
      new Set([65534]),
    );
    const custom = renderGcpNetwork(wide(2), "net", { priorities: { allow: 2000, baseline: 60000 } });
    expect(custom.find((r) => r.kind === "allow")!.priority).toBe(2000);
    expect(() => renderGcpNetwork(wide(2), "net", { priorities: { baseline: 70000 } })).toThrow(
      /options\.priorities\.baseline is 70000/,
    );
  });
});
