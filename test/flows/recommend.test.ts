import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkPolicyText, type Party, type Plan } from "../../lib";
import {
  type Flow,
  FlowMapper,
  PlanEvaluator,
  recommend,
  recommendationYaml,
  Simulation,
} from "../../lib/flows";
import { AddressSet, ConnectionSet, ServiceSet } from "../../lib/net";
import { ALL_FIXTURES, fixturePlan, POLICY, planOf, read } from "./support";

async function allFlows(files: string[]): Promise<Flow[]> {
  const out: Flow[] = [];
  for (const f of files) out.push(...(await read(f, readFileSync(f, "utf8"))).flows);
  return out;
}

function fill(yaml: string): string {
  return yaml
    .replace(/owner: ""/g, "owner: reviewer@example.com")
    .replace(/justification: ""/g, "justification: Reviewed against the evidence.");
}

const packetOf = (f: Flow) => ({
  family: f.family,
  src: f.src,
  dst: f.dst,
  protocol: f.protocol,
  port: f.dstPort,
});

describe("recommend: narrowest drafts from observed flows", () => {
  it("drafts one path per candidate with exactly the observed services and evidence; never a forbidden flow", async () => {
    const plan = fixturePlan();
    const sim = new Simulation(plan);
    for (const f of await allFlows(ALL_FIXTURES)) sim.add(f);
    const r = recommend(plan, sim.result());
    const byName = new Map(r.recommendations.map((x) => [x.name, x]));
    expect(byName.get("allow-training-to-datalake")).toMatchObject({
      from: "training",
      to: "datalake",
      // Adjacent ports merge; nothing is widened (no 5433-8442).
      services: ["tcp/5432", "tcp/8443-8444"],
      evidence: {
        flows: 5,
        services: { "tcp/5432": 3, "tcp/8443": 1, "tcp/8444": 1 },
        first: 1718000100_000,
      },
    });
    expect(byName.get("allow-training-to-datalake")!.evidence.samples).toHaveLength(3);
    // A workload no segment holds gets a segment selecting it alone.
    expect(r.segments).toEqual({
      "batch-runner": { matchLabels: { role: "batch", team: "ml" }, workload: "batch-runner" },
    });
    expect(byName.get("allow-batch-runner-to-registry")?.services).toEqual(["tcp/443"]);
    // Peer ends become peers of exactly the observed addresses, not the whole declared peer.
    const partner = Object.entries(r.peers).find(([, p]) => p.within === "partner-net")!;
    expect(partner[1].cidrs).toEqual(["198.51.100.7/32", "198.51.100.8/32"]);
    // Observed is not allowed: the flow an enforce forbid names is a conflict, not a draft.
    expect(r.conflicts).toEqual([
      expect.objectContaining({
        kind: "forbidden",
        from: "corp-workstations",
        to: "training",
        forbids: ["no-workstation-to-training"],
      }),
      expect.objectContaining({
        kind: "forbidden",
        from: "training",
        to: "internet",
        forbids: ["no-training-exfiltration"],
      }),
    ]);
    expect(r.recommendations.some((x) => x.to === "training" && x.from.includes("corp-workstations"))).toBe(
      false,
    );
    // A draft overlapping a monitored forbid says so.
    expect(byName.get("allow-agents-to-billing")?.monitored).toEqual(["no-agent-to-billing"]);
  });

  it("does not pass check until owners and justifications are filled; then it does, and the plan covers exactly the drafts", async () => {
    const policyText = readFileSync(POLICY, "utf8");
    const oldPlan = fixturePlan();
    const flows = await allFlows(ALL_FIXTURES);
    const sim = new Simulation(oldPlan);
    for (const f of flows) sim.add(f);
    const r = recommend(oldPlan, sim.result());
    expect(r.recommendations.length).toBe(10);
    expect(r.diagnostics).toEqual([]);

    const yaml = recommendationYaml(r, { policyText });
    // The original text is kept, comments included, and the evidence is beside each draft.
    expect(yaml.startsWith("# Policy for the flow tests")).toBe(true);
    expect(yaml).toContain("# DRAFT from 5 observed flow(s)");
    const draft = checkPolicyText(yaml, "draft.yaml");
    expect(draft.ok).toBe(false);
    const errors = draft.diagnostics.filter((d) => d.severity === "error");
    expect(errors).toHaveLength(2 * r.recommendations.length);
    expect(errors.every((d) => /owner|justification/.test(d.message))).toBe(true);

    const filled = checkPolicyText(fill(yaml), "filled.yaml");
    expect(filled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const newPlan = filled.plan!;

    // 1. Every observed flow a draft was made for is now intended.
    const oldMapper = new FlowMapper(oldPlan);
    const oldEval = new PlanEvaluator(oldPlan);
    const newMapper = new FlowMapper(newPlan);
    let covered = 0;
    for (const f of flows) {
      const s = oldMapper.map(f.src, f.srcHints);
      const d = oldMapper.map(f.dst, f.dstHints);
      if (!s || !d || (s.kind === "peer" && d.kind === "peer")) continue;
      const decision = oldEval.decide(s, d, f);
      const intendedNow = newPlan.intended(
        newMapper.map(f.src, f.srcHints)!,
        newMapper.map(f.dst, f.dstHints)!,
      );
      if (decision.forbiddenBy.length > 0) {
        // 2. …and a forbidden one is still not.
        expect(intendedNow.has(packetOf(f))).toBe(false);
        continue;
      }
      if (decision.allowedBy.length > 0) continue;
      expect(intendedNow.has(packetOf(f)), `${f.file}:${f.line}`).toBe(true);
      covered++;
    }
    expect(covered).toBe(r.recommendations.reduce((n, x) => n + x.evidence.flows, 0));

    // 3. Nothing more: what the new plan intends beyond the old is within the drafts' own connections,
    //    and each draft's connections are its ends' addresses over exactly the observed services.
    const drafts = new Set(r.recommendations.map((x) => x.name));
    const draftConnections = (a: Party, b: Party) =>
      ConnectionSet.unionAll(
        newPlan
          .allowsBetween(a, b)
          .filter((x) => drafts.has(x.path.name))
          .map((x) => x.connections),
      );
    for (const a of newPlan.parties) {
      const oldA = oldPlan.party(a.key);
      if (!oldA) continue;
      for (const b of newPlan.parties) {
        const oldB = oldPlan.party(b.key);
        if (!oldB) continue;
        const gained = newPlan.intended(a, b).subtract(oldPlan.intended(oldA, oldB));
        expect(gained.isSubsetOf(draftConnections(a, b)), `${a.key} -> ${b.key}`).toBe(true);
      }
    }
    for (const x of r.recommendations) {
      const path = newPlan.allows.find((c) => c.path.name === x.name)!;
      const observed = Object.keys(x.evidence.services)
        .map((t) => ServiceSet.parse(t))
        .reduce((a, b) => a.union(b), ServiceSet.EMPTY);
      expect(path.path.services.equals(observed), x.name).toBe(true);
    }
    for (const [name, p] of Object.entries(r.peers)) {
      const peer = newPlan.policy.peers.find((q) => q.name === name)!;
      expect(peer.addresses.equals(AddressSet.fromCidrs(p.cidrs))).toBe(true);
      expect(p.cidrs.every((c) => c.endsWith("/32"))).toBe(true);
    }
  });

  it("never drafts a path whose generalisation to a segment would open an enforce forbid", async () => {
    const plan: Plan = planOf(`
name: generalise
workloads:
  - { name: trainer, labels: { team: ml, role: train }, placements: { aws: { vpc: v, cidrs: [10.0.1.0/24] } } }
  - { name: batch, labels: { team: ml, role: batch }, placements: { aws: { vpc: v, cidrs: [10.0.2.0/24] } } }
  - { name: vault, labels: { role: secret }, placements: { aws: { vpc: v, cidrs: [10.0.9.0/24] } } }
segments:
  ml: { matchLabels: { team: ml } }
  batch: { matchLabels: { role: batch } }
  secret: { matchLabels: { role: secret } }
paths:
  - { name: no-batch-to-secret, from: batch, to: secret, verdict: forbid, services: [tcp/443], owner: o, justification: j }
`);
    const sim = new Simulation(plan);
    const f = (port: number): Flow => ({
      file: "t.log",
      line: port,
      format: "aws",
      start: 0,
      end: 0,
      family: 4,
      src: "10.0.1.5",
      dst: "10.0.9.5",
      protocol: 6,
      srcPort: 40000,
      dstPort: port,
      observed: "ACCEPT",
    });
    sim.add(f(443));
    sim.add(f(8200));
    const r = recommend(plan, sim.result());
    expect(r.recommendations.map((x) => [x.from, x.to, x.services])).toEqual([
      ["ml", "secret", ["tcp/8200"]],
    ]);
    expect(r.conflicts).toEqual([
      expect.objectContaining({
        kind: "generalised",
        from: "ml",
        to: "secret",
        services: ["tcp/443"],
        flows: 1,
        forbids: ["no-batch-to-secret"],
      }),
    ]);
    const yaml = recommendationYaml(r, { policyText: "name: generalise\n", fragment: true });
    expect(yaml).toContain("services: [ tcp/8200 ]");
    expect(yaml).not.toContain("tcp/443");
  });
});
