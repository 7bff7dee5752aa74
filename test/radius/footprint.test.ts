import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TARGET_MODULES } from "../../components/targets";
import { AddressSet, type Party, type TargetEvaluator } from "../../lib";
import { propertyRuns } from "../support/property-runs";
import { evaluatorsIfRendered, planOf, policyArbWith } from "../support/random-policy";

/**
 * `footprint` lets multi-hop reachability skip the pairs of parties a target cannot connect. A
 * footprint too small would hide hops, so this checks, on random policies over every target, that
 * every pair `allowed` connects is inside the footprints of the ends the target enforces.
 */

const meets = (fp: { addresses: AddressSet; names: readonly string[] }, ev: TargetEvaluator, other: Party) =>
  fp.addresses.overlaps(other.addresses) || ev.identityNames!(other).some((n) => fp.names.includes(n));

describe("footprints", () => {
  it("every target has one", () => {
    const plan = planOf({
      name: "one",
      workloads: [
        { name: "w", labels: { a: "b" }, placements: { aws: { vpc: "v", cidrs: ["10.0.0.0/24"] } } },
      ],
      segments: { s: { matchLabels: { a: "b" } } },
    })!;
    for (const m of TARGET_MODULES) {
      const ev = m.adapter.evaluator(m.records(plan), plan);
      expect(ev.footprint, m.target).toBeTypeOf("function");
      expect(ev.identityNames, m.target).toBeTypeOf("function");
    }
  });

  it("hold every pair that allowed connects, on every target, and leave pairs out", () => {
    const pruned = new Map<string, number>();
    const checked = new Map<string, number>();
    fc.assert(
      fc.property(policyArbWith({ identityOnly: true }), (doc) => {
        const plan = planOf(doc);
        fc.pre(plan !== undefined);
        const evaluators = evaluatorsIfRendered(plan!);
        fc.pre(evaluators !== undefined);
        for (const ev of evaluators!) {
          if (!ev.footprint) continue;
          for (const p of plan!.parties) {
            if (!ev.enforces(p)) continue;
            const out = ev.footprint(p, "egress");
            const inn = ev.footprint(p, "ingress");
            for (const q of plan!.parties) {
              if (!ev.allowed(p, q).isEmpty())
                expect(
                  meets(out, ev, q),
                  `${ev.target}: ${p.name} -> ${q.name} outside egress footprint`,
                ).toBe(true);
              else if (!meets(out, ev, q)) pruned.set(ev.target, (pruned.get(ev.target) ?? 0) + 1);
              if (!ev.allowed(q, p).isEmpty())
                expect(
                  meets(inn, ev, q),
                  `${ev.target}: ${q.name} -> ${p.name} outside ingress footprint`,
                ).toBe(true);
              checked.set(ev.target, (checked.get(ev.target) ?? 0) + 1);
            }
          }
        }
      }),
      { numRuns: propertyRuns(120) },
    );
    for (const m of TARGET_MODULES) {
      expect(checked.get(m.target) ?? 0, m.target).toBeGreaterThan(50);
      // A footprint of everything would hold trivially: each target must rule pairs out.
      expect(pruned.get(m.target) ?? 0, m.target).toBeGreaterThan(0);
    }
  });

  it("is empty for a party whose rules allow nothing (no address, no name)", () => {
    const plan = planOf({
      name: "closed",
      workloads: [
        { name: "a", labels: { s: "a" }, placements: { aws: { vpc: "v", cidrs: ["10.0.1.0/24"] } } },
        { name: "b", labels: { s: "b" }, placements: { aws: { vpc: "v", cidrs: ["10.0.2.0/24"] } } },
      ],
      segments: { a: { matchLabels: { s: "a" } }, b: { matchLabels: { s: "b" } } },
      paths: [
        {
          name: "a-to-b",
          from: "a",
          to: "b",
          services: ["tcp/443"],
          owner: "o@example.com",
          justification: "test",
        },
      ],
    })!;
    const aws = TARGET_MODULES.find((m) => m.target === "aws")!;
    const ev = aws.adapter.evaluator(aws.records(plan), plan);
    const [a, b] = plan.parties;
    // b initiates nothing; a's egress names b's group (same VPC: a reference, not addresses).
    expect(ev.footprint!(b!, "egress")).toEqual({ addresses: AddressSet.EMPTY, names: [] });
    const out = ev.footprint!(a!, "egress");
    expect(out.addresses.isEmpty()).toBe(true);
    expect(ev.identityNames!(b!).some((n) => out.names.includes(n))).toBe(true);
    expect(ev.identityNames!(a!).some((n) => out.names.includes(n))).toBe(false);
  });
});
