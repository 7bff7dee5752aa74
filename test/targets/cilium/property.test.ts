import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPolicyDocument, type Party, type Plan } from "../../../lib";
import { ciliumEvaluator, clustersOf, renderCilium } from "../../../lib/targets/cilium";
import { propertyRuns } from "../../support/property-runs";

const meta = { owner: "o@example.com", justification: "property" };
const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22", "sctp/9000"];

/** Small random policies: pods in two clusters and two namespaces, AWS workloads, peers, internet. */
const policyArb = fc
  .record({
    workloads: fc.array(
      fc.record({
        kind: fc.constantFrom("k8s-c1", "k8s-c2", "aws"),
        ns: fc.constantFrom("a", "b"),
        seg: fc.constantFrom("s0", "s1", "s2"),
        v6: fc.boolean(),
      }),
      { minLength: 2, maxLength: 6 },
    ),
    paths: fc.array(
      fc.record({
        from: fc.constantFrom("s0", "s1", "s2", "corp", "partner", "internet"),
        to: fc.constantFrom("s0", "s1", "s2", "corp", "partner", "internet"),
        services: fc.subarray(SERVICES, { minLength: 1, maxLength: 3 }),
        verdict: fc.constantFrom("allow", "allow", "allow", "forbid"),
        mode: fc.constantFrom("enforce", "monitor"),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  })
  .map(({ workloads, paths }) => ({
    name: "prop",
    workloads: workloads.map((w, i) => {
      const cidrs = [`10.${i + 1}.0.0/24`, ...(w.v6 ? [`fd00:${i + 1}::/64`] : [])];
      const placements =
        w.kind === "aws"
          ? { aws: { vpc: "v", cidrs } }
          : {
              kubernetes: {
                cluster: w.kind === "k8s-c1" ? "c1" : "c2",
                namespace: w.ns,
                podLabels: { app: `w${i}` },
                cidrs,
              },
            };
      return { name: `w${i}`, labels: { seg: w.seg }, placements };
    }),
    segments: {
      s0: { matchLabels: { seg: "s0" } },
      s1: { matchLabels: { seg: "s1" } },
      s2: { matchLabels: { seg: "s2" } },
    },
    peers: {
      corp: { cidrs: ["172.16.0.0/16", "fd10::/48"] },
      partner: { cidrs: ["8.8.4.0/24", "2a00:1450::/32"] },
    },
    paths: paths
      .filter(
        (p) =>
          !(
            ["corp", "partner", "internet"].includes(p.from) && ["corp", "partner", "internet"].includes(p.to)
          ),
      )
      .map((p, i) => ({
        name: `p${i}`,
        from: p.from,
        to: p.to,
        ...(p.verdict === "forbid" ? { verdict: "forbid", mode: p.mode } : { services: p.services }),
        ...meta,
      })),
  }));

function planOrSkip(doc: unknown): Plan | undefined {
  const r = checkPolicyDocument(doc, "prop");
  return r.ok && r.plan && r.plan.policy.paths.length > 0 ? r.plan : undefined;
}

describe("property: the evaluator over the rendered policies allows exactly the intended connectivity", () => {
  it("for every ordered pair of parties a cluster enforces (a few hundred random policies)", () => {
    let checked = 0;
    fc.assert(
      fc.property(policyArb, (doc) => {
        const plan = planOrSkip(doc);
        if (!plan) return;
        const policies = clustersOf(plan).flatMap((cluster) =>
          renderCilium(plan, { cluster }).map((r) => ({ cluster, object: r.object as never, source: r.key })),
        );
        const ev = ciliumEvaluator(policies, plan);
        const parties: Party[] = plan.parties;
        for (const a of parties)
          for (const b of parties) {
            if (!ev.enforces(a) && !ev.enforces(b)) continue;
            const got = ev.allowed(a, b);
            const want = plan.intended(a, b);
            if (!got.equals(want))
              throw new Error(
                `${a.name} -> ${b.name}: cilium allows ${got.toString()}, intended ${want.toString()}`,
              );
            checked++;
          }
      }),
      { numRuns: propertyRuns(300), seed: 20251122 },
    );
    expect(checked).toBeGreaterThan(1000);
  });
});
