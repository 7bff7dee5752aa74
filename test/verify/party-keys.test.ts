import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TARGET_MODULES } from "../../components/targets";
import {
  ConnectionSet,
  checkPolicyDocument,
  type Plan,
  type Proof,
  prove,
  type TargetEvaluator,
} from "../../lib";
import { AwsQuotaError } from "../../lib/targets/aws";
import { propertyRuns } from "../support/property-runs";

/**
 * `partyKey` lets the proof decide once per class of parties a target cannot tell apart. A key
 * that leaves out something the target's rules see would make proofs wrong, so this checks, for
 * every target, that the proof with keys equals the proof without them (every party its own
 * class, asked pair by pair) on random policies where classes are large and mixed: several
 * workloads per segment, shared scopes, workloads on two targets, peers, `internet`, forbids.
 */

const SEGMENTS = ["red", "green", "blue"];
const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22"];

const placementArb = (i: number) =>
  fc
    .record({
      kind: fc.constantFrom("aws", "gcp", "azure", "kubernetes", "bluefield", "aws+bluefield"),
      scope: fc.constantFrom("a", "b"),
      host: fc.constantFrom("h1", "h2"),
      v6: fc.boolean(),
    })
    .map((p) => {
      const cidrs = [`10.${i}.0.0/24`, ...(p.v6 ? [`fd00:${i}::/64`] : [])];
      const aws = { aws: { vpc: p.scope, cidrs } };
      const bluefield = { bluefield: { hosts: [p.host], port: "pf0hpf", addresses: cidrs } };
      switch (p.kind) {
        case "aws":
          return aws;
        case "gcp":
          return { gcp: { network: p.scope, serviceAccount: `w${i}@p.iam.gserviceaccount.com`, cidrs } };
        case "azure":
          return { azure: { vnet: p.scope, cidrs } };
        case "kubernetes":
          return {
            kubernetes: { cluster: p.scope, namespace: `ns-${p.host}`, podLabels: { app: `w${i}` }, cidrs },
          };
        case "bluefield":
          return bluefield;
        default:
          return { ...aws, ...bluefield };
      }
    });

const workloadArb = (i: number) =>
  fc
    .record({ color: fc.constantFrom(...SEGMENTS), placements: placementArb(i) })
    .map((w) => ({ name: `w${i}`, labels: { color: w.color }, placements: w.placements }));

const pathArb = fc.record({
  from: fc.constantFrom(...SEGMENTS, "ext", "internet"),
  to: fc.constantFrom(...SEGMENTS, "ext"),
  services: fc.uniqueArray(fc.constantFrom(...SERVICES), { minLength: 1, maxLength: 2 }),
  verdict: fc.constantFrom("allow", "allow", "allow", "forbid"),
  monitor: fc.boolean(),
});

const policyArb = fc
  .record({
    workloads: fc
      .integer({ min: 2, max: 8 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => workloadArb(i)))),
    paths: fc.array(pathArb, { minLength: 1, maxLength: 6 }),
  })
  .map(({ workloads, paths }) => ({
    name: "keys",
    workloads,
    segments: Object.fromEntries(SEGMENTS.map((s) => [s, { matchLabels: { color: s } }])),
    peers: { ext: { cidrs: ["198.51.100.0/24"] } },
    paths: paths.map((p, k) => ({
      name: `p${k}`,
      from: p.from,
      to: p.to,
      services: p.services,
      ...(p.verdict === "forbid" ? { verdict: "forbid", mode: p.monitor ? "monitor" : "enforce" } : {}),
      owner: "o@example.com",
      justification: "property test",
    })),
  }));

/** The same evaluator with its key taken away: the proof then asks pair by pair. */
function withoutKeys(ev: TargetEvaluator): TargetEvaluator {
  return {
    target: ev.target,
    enforces: (p) => ev.enforces(p),
    allowed: (f, t) => ev.allowed(f, t),
    decide: (f, t, packet) => ev.decide(f, t, packet),
  };
}

/** What a proof concludes, without the sample packets (classes may sample another member). */
function verdicts(proof: Proof) {
  return {
    ok: proof.ok,
    forbidden: proof.forbidden.map((r) => [r.path, r.target, r.status, r.open ?? ""].join(" ")),
    allowed: proof.allowed.map((r) => [r.path, r.target, r.status, r.missing ?? ""].join(" ")),
  };
}

/**
 * The evaluators of the targets that render the plan. AWS refuses a plan whose rules would not fit
 * a security group under the default quota (`internet` alone is dozens of CIDRs): that refusal is
 * the right answer, so such a target sits the policy out, and `covered` counts who took part.
 */
function evaluators(plan: Plan, covered: Map<string, number>): TargetEvaluator[] {
  const out: TargetEvaluator[] = [];
  for (const m of TARGET_MODULES.filter((m) => plan.targets.includes(m.target))) {
    let records: ReturnType<typeof m.records>;
    try {
      records = m.records(plan);
    } catch (e) {
      if (e instanceof AwsQuotaError) continue;
      throw e;
    }
    out.push(m.adapter.evaluator(records, plan));
    covered.set(m.target, (covered.get(m.target) ?? 0) + 1);
  }
  return out;
}

describe("party keys", () => {
  it("every target keys its parties", () => {
    for (const m of TARGET_MODULES) {
      const plan = checkPolicyDocument({
        name: "one",
        workloads: [
          { name: "w", labels: { a: "b" }, placements: { aws: { vpc: "v", cidrs: ["10.0.0.0/24"] } } },
        ],
        segments: { s: { matchLabels: { a: "b" } } },
        paths: [],
      }).plan!;
      const ev = m.adapter.evaluator(m.records(plan), plan);
      expect(ev.partyKey, `${m.target} has no partyKey`).toBeTypeOf("function");
    }
  });

  it("proofs with keys equal proofs pair by pair, on every target", () => {
    let compared = 0;
    const covered = new Map<string, number>();
    fc.assert(
      fc.property(policyArb, (doc) => {
        const checked = checkPolicyDocument(doc);
        fc.pre(checked.ok);
        const plan = checked.plan!;
        const keyed = evaluators(plan, covered);
        const plain = keyed.map(withoutKeys);
        expect(verdicts(prove(plan, keyed))).toEqual(verdicts(prove(plan, plain)));
        compared++;
      }),
      { numRuns: propertyRuns(150) },
    );
    // fc.pre discards invalid policies (an allow overlapping an enforce forbid): most must be valid.
    expect(compared).toBeGreaterThan(propertyRuns(150) / 2);
    // Every target took part in a good share of them (AWS sits out those it refuses to render).
    for (const m of TARGET_MODULES)
      expect(covered.get(m.target) ?? 0, m.target).toBeGreaterThan(compared / 5);
  });

  it("allowedWithin equals allowed ∩ within, wherever a target has it", () => {
    let asked = 0;
    const withIt = new Set<string>();
    fc.assert(
      fc.property(policyArb, (doc) => {
        const checked = checkPolicyDocument(doc);
        fc.pre(checked.ok);
        const plan = checked.plan!;
        for (const ev of evaluators(plan, new Map())) {
          if (!ev.allowedWithin) continue;
          withIt.add(ev.target);
          for (const c of [...plan.allows, ...plan.guardrails, ...plan.monitored])
            for (const f of c.from)
              for (const t of c.to) {
                const within = ConnectionSet.of(f.addresses, t.addresses, c.path.services);
                const got = ev.allowedWithin(f.party, t.party, within);
                const want = ev.allowed(f.party, t.party).intersect(within);
                expect(
                  got.equals(want),
                  `${ev.target} ${c.path.name} ${f.party.name} -> ${t.party.name}`,
                ).toBe(true);
                asked++;
              }
        }
      }),
      { numRuns: propertyRuns(100) },
    );
    expect(withIt.size).toBeGreaterThan(0);
    expect(asked).toBeGreaterThan(100);
  });
});
