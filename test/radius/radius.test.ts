import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AddressSet,
  blastRadii,
  ConnectionSet,
  checkPolicyText,
  crownJewels,
  HopGraph,
  type Party,
  proveChains,
  RadiusNameError,
  radius,
  radiusParties,
  ServiceSet,
  type TargetEvaluator,
} from "../../lib";
import { evaluatorsFor } from "../support/random-policy";

const BASE = readFileSync(join(__dirname, "..", "fixtures", "radius", "jump-chain.yaml"), "utf8");

/** The jump-chain fixture (forbid lines appended, other edits applied), compiled and rendered offline on AWS. */
function rendered(forbidLines: string[], edit: (t: string) => string = (t) => t) {
  const text = edit(`${BASE}${forbidLines.map((l) => `    ${l}\n`).join("")}`);
  const r = checkPolicyText(text, "jump-chain.yaml");
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  const plan = r.plan!;
  return { plan, graph: HopGraph.build(plan, evaluatorsFor(plan)) };
}

const twoJumpHosts = (t: string) =>
  t.replace(
    "  - name: backup-console",
    "  - name: jump-host-2\n    labels: { role: admin-jump }\n    placements:\n      aws: { vpc: backup, cidrs: [10.50.0.11/32] }\n  - name: backup-console",
  );

describe("reach: any forbids over what is rendered", () => {
  it("a monitored reach: any forbid is open with the chain workstation → jump → console and a one-hop cut", () => {
    const { graph } = rendered(["reach: any", "mode: monitor"]);
    const [result] = proveChains(graph);
    expect(result).toMatchObject({ path: "no-workstation-to-console", mode: "monitor", status: "open" });
    expect(result!.chain!.map((h) => [h.from, h.to, h.path])).toEqual([
      ["corp-workstations", "jump-host", "workstations-reach-jump"],
      ["jump-host", "backup-console", "admins-manage-console"],
    ]);
    const [first, second] = result!.chain!;
    expect(first!.packet).toEqual({ src: "10.200.0.1", dst: "10.50.0.10", protocol: "tcp", port: 22 });
    expect(first!.decidedBy.aws).toMatch(/workstations-reach-jump.*tcp-22/);
    expect(second!.packet).toMatchObject({ dst: "10.50.1.1", protocol: "tcp", port: 443 });
    expect(Object.keys(second!.decidedBy)).toEqual(["aws"]);
    // One hop closes it: the first, nearest the attacker.
    expect(result!.cut!.map((h) => [h.from, h.to, h.path])).toEqual([
      ["corp-workstations", "jump-host", "workstations-reach-jump"],
    ]);
  });

  it("a cut too large to weigh is left out and says why", () => {
    const { graph } = rendered(["reach: any", "mode: monitor"], twoJumpHosts);
    const [result] = proveChains(graph, { cutLimit: 1 });
    expect(result!.status).toBe("open");
    expect(result!.cut).toBeUndefined();
    expect(result!.cutSkipped).toMatch(/^\d+ hops to weigh, more than 1; narrow the chain shown/);
  });

  it("the cut is a minimum: two jump hosts take two hops to cut, and both are named", () => {
    const { graph } = rendered(["reach: any", "mode: monitor"], twoJumpHosts);
    const [result] = proveChains(graph);
    expect(result!.status).toBe("open");
    expect(result!.cut!.map((h) => `${h.from}->${h.to}`).sort()).toEqual([
      "corp-workstations->jump-host",
      "corp-workstations->jump-host-2",
    ]);
  });

  it("through the chokepoint, or with the jump host not pivoting, it is blocked", () => {
    expect(proveChains(rendered(["reach: any", "through: [admins]"]).graph)).toEqual([
      { path: "no-workstation-to-console", mode: "enforce", status: "blocked" },
    ]);
    const nonPivot = rendered(["reach: any"], (t) =>
      t.replace("labels: { role: admin-jump }", "labels: { role: admin-jump }\n    pivot: false"),
    );
    expect(proveChains(nonPivot.graph)[0]!.status).toBe("blocked");
  });

  it("the last hop must carry a forbidden service", () => {
    const ssh = rendered(["reach: any", "mode: monitor", "services: [tcp/22]"]);
    expect(proveChains(ssh.graph)[0]!.status).toBe("blocked");
    const https = rendered(["reach: any", "mode: monitor", "services: [tcp/443]"]);
    expect(proveChains(https.graph)[0]!.status).toBe("open");
  });

  it("direct forbids are not chains", () => {
    expect(proveChains(rendered([]).graph)).toEqual([]);
  });
});

describe("blast radius", () => {
  it("counts the workloads each party reaches, the crown jewels and the peers", () => {
    const { graph } = rendered([], (t) =>
      t.replace(
        "console: { matchLabels: { role: backup-console } }",
        "console: { matchLabels: { role: backup-console }, critical: true }",
      ),
    );
    expect(blastRadii(graph)).toEqual([
      { name: "jump-host", kind: "workload", reaches: 1, critical: ["console"], peers: [] },
      { name: "backup-console", kind: "workload", reaches: 0, critical: [], peers: [] },
      { name: "corp-workstations", kind: "peer", reaches: 2, critical: ["console"], peers: [] },
      { name: "internet", kind: "peer", reaches: 0, critical: [], peers: [] },
    ]);
    expect(crownJewels(graph)).toEqual([
      {
        segment: "console",
        members: ["backup-console"],
        reachedBy: [
          {
            name: "jump-host",
            kind: "workload",
            hops: 1,
            next: "backup-console",
            path: "admins-manage-console",
          },
          {
            name: "corp-workstations",
            kind: "peer",
            hops: 2,
            next: "jump-host",
            path: "workstations-reach-jump",
          },
        ],
      },
    ]);
  });

  it("a jump host that does not pivot is reached, and the console is not", () => {
    const { graph } = rendered([], (t) =>
      t.replace(
        "admins: { matchLabels: { role: admin-jump } }",
        "admins: { matchLabels: { role: admin-jump }, pivot: false }",
      ),
    );
    const ws = blastRadii(graph).find((b) => b.name === "corp-workstations")!;
    expect(ws.reaches).toBe(1);
    // Compromised itself, the jump host still initiates.
    expect(blastRadii(graph).find((b) => b.name === "jump-host")!.reaches).toBe(1);
  });

  it("agrees with a breadth-first search from every party", () => {
    const { graph } = rendered([], twoJumpHosts);
    for (const b of blastRadii(graph)) {
      const r = radius(graph, { from: `${b.kind}:${b.name}` });
      expect(r.reached.filter((x) => x.kind === "workload").length, b.name).toBe(b.reaches);
    }
  });
});

describe("radius queries", () => {
  it("lists what is reached by hops then name, each with its chain, within --hops", () => {
    const { graph } = rendered([], twoJumpHosts);
    const r = radius(graph, { from: "corp-workstations" });
    expect(r.from).toBe("corp-workstations");
    expect(r.reached.map((x) => [x.name, x.kind, x.hops, x.chain.length])).toEqual([
      ["jump-host", "workload", 1, 1],
      ["jump-host-2", "workload", 1, 1],
      ["backup-console", "workload", 2, 2],
    ]);
    expect(radius(graph, { from: "corp-workstations", hops: 1 }).reached.map((x) => x.name)).toEqual([
      "jump-host",
      "jump-host-2",
    ]);
    expect(radius(graph, { from: "corp-workstations", to: "console" }).reached.map((x) => x.name)).toEqual([
      "backup-console",
    ]);
    // A segment compromises all its members at once; they are not listed as reached.
    expect(radius(graph, { from: "admins" }).reached.map((x) => [x.name, x.hops])).toEqual([
      ["backup-console", 1],
    ]);
  });

  it("names what it cannot resolve, with a suggestion, and asks which when a name is two things", () => {
    const { graph } = rendered([]);
    expect(() => radius(graph, { from: "jump-hots" })).toThrow(RadiusNameError);
    expect(() => radius(graph, { from: "jump-hots" })).toThrow(/did you mean "jump-host"\?/);
    expect(() => radius(graph, { from: "console", to: "nowhere" })).toThrow(/--to nowhere/);
    const clash = rendered([], (t) =>
      t.replace(
        "  corp-workstations: { cidrs: [10.200.0.0/16] }",
        "  corp-workstations: { cidrs: [10.200.0.0/16] }\n  jump-host: { cidrs: [10.201.0.0/16] }",
      ),
    );
    expect(() => radius(clash.graph, { from: "jump-host" })).toThrow(/workload:jump-host or peer:jump-host/);
    expect(radius(clash.graph, { from: "workload:jump-host" }).reached.map((x) => x.name)).toEqual([
      "backup-console",
    ]);
    // A prefix naming the wrong kind says what the name is (it suggested the very name given).
    expect(() => radius(graph, { from: "workload:admins" })).toThrow(
      /--from workload:admins: "admins" is a segment of policy "[^"]+", not a workload; write segment:admins$/,
    );
    expect(() => radius(graph, { from: "peer:jump-hots" })).toThrow(/no peer of policy .* did you mean/);
  });
});

describe("parties the policy does not name", () => {
  /** A target that enforces every party but peers, allowing what its rules list (by address). */
  function evaluator(rules: ConnectionSet): TargetEvaluator {
    return {
      target: "aws",
      enforces: (p) => p.kind !== "peer",
      allowed: (f, t) => rules.intersect(ConnectionSet.of(f.addresses, t.addresses, ServiceSet.ALL)),
      decide: (_f, _t, packet) =>
        rules.has(packet)
          ? { verdict: "allow", by: "rule-outside-the-library" }
          : { verdict: "deny", by: "default-deny" },
    };
  }
  const other: Party = {
    kind: "other",
    name: "other ENIs of vpc backup",
    key: "other:aws:backup",
    addresses: AddressSet.parse("10.50.9.0/24"),
    scope: "vpc backup",
  };

  it("pivot: a chain passes through them; they are never listed as reached; their hops have no allow path", () => {
    const { plan } = rendered([]);
    const rules = ConnectionSet.of(
      AddressSet.parse("10.200.0.0/16"),
      AddressSet.parse("10.50.9.0/24"),
      ServiceSet.tcp(22),
    ).union(
      ConnectionSet.of(
        AddressSet.parse("10.50.9.0/24"),
        AddressSet.parse("10.50.1.0/28"),
        ServiceSet.tcp(9000),
      ),
    );
    const graph = HopGraph.build(plan, [evaluator(rules)], { parties: [...plan.parties, other] });
    const r = radius(graph, { from: "corp-workstations" });
    expect(r.reached.map((x) => [x.name, x.hops])).toEqual([["backup-console", 2]]);
    expect(r.reached[0]!.chain).toEqual([
      {
        from: "corp-workstations",
        to: "other ENIs of vpc backup",
        path: null,
        packet: { src: "10.200.0.1", dst: "10.50.9.1", protocol: "tcp", port: 22 },
        decidedBy: { aws: "rule-outside-the-library" },
      },
      {
        from: "other ENIs of vpc backup",
        to: "backup-console",
        path: null,
        packet: { src: "10.50.9.1", dst: "10.50.1.1", protocol: "tcp", port: 9000 },
        decidedBy: { aws: "rule-outside-the-library" },
      },
    ]);
    expect(blastRadii(graph).map((b) => b.name)).toEqual([
      "jump-host",
      "backup-console",
      "corp-workstations",
      "internet",
    ]);
  });
});

describe("unmodelled endpoints asked lazily", () => {
  const ROOT = join(__dirname, "..", "..");
  const policies = [
    join(ROOT, "test", "fixtures", "flows", "policy.yaml"),
    join(ROOT, "stacks", "ai-platform", "policy.yaml"),
    join(ROOT, "stacks", "backup-blast-radius", "policy.yaml"),
    join(ROOT, "stacks", "agent-containment", "policy.yaml"),
  ];

  it.each(policies)(
    "%s: the same radii, jewels, queries and chains as asking every pair up front",
    (file) => {
      const r = checkPolicyText(readFileSync(file, "utf8"), file);
      expect(r.ok).toBe(true);
      const plan = r.plan!;
      const evaluators = evaluatorsFor(plan);
      const parties = radiusParties(plan, evaluators);
      expect(parties.some((p) => p.kind === "other")).toBe(true);
      const lazy = HopGraph.build(plan, evaluators, { parties });
      const eager = HopGraph.build(plan, evaluators, { parties, lazyUnmodelled: false });
      expect(blastRadii(lazy)).toEqual(blastRadii(eager));
      expect(crownJewels(lazy)).toEqual(crownJewels(eager));
      expect(proveChains(lazy)).toEqual(proveChains(eager));
      for (const p of plan.parties) {
        const from = `${p.kind}:${p.name}`;
        expect(radius(lazy, { from }), from).toEqual(radius(eager, { from }));
      }
      // Lazily, some pairs of unmodelled endpoints were never asked.
      expect(lazy.stats.candidatePairs + lazy.stats.lazyPairs).toBeLessThanOrEqual(
        eager.stats.candidatePairs,
      );
    },
  );
});
