import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AddressSet, CompiledPath, Plan, ServiceSet, Slice } from "../../lib";
import { intendedChain } from "../../lib/plan/chains";
import { membersOf, nonPivotWorkloads } from "../../lib/plan/pivot";
import { proveChains } from "../../lib/radius/forbids";
import { HopGraph } from "../../lib/radius/graph";
import { radiusParties } from "../../lib/radius/parties";
import { propertyRuns } from "../support/property-runs";
import { evaluatorsIfRendered, planOf, policyArb, SEGMENTS, SERVICES } from "../support/random-policy";

/*
 * `reach: any` forbids proven by one search from all their starts at once (each party keeping its
 * two nearest distinct origins), against a plain search from each start on its own: over the hop
 * graph (`proveChains`, with the parties as deployed: facets, unmodelled endpoints) and over the
 * allow paths (`check`'s `intendedChain`). The random policies add a second label (zone x or y) with
 * its segments, so that forbids have `from` and `to` that are the same segment or overlap (red and
 * zone x share workloads), which is where one origin per party went wrong.
 */

const ZONES = ["zx", "zy"];
const ENDS = [...SEGMENTS, ...ZONES];

const extraPathArb = fc.record({
  from: fc.constantFrom(...ENDS),
  to: fc.constantFrom(...ENDS),
  same: fc.boolean(),
  services: fc.uniqueArray(fc.constantFrom(...SERVICES), { minLength: 1, maxLength: 2 }),
  forbid: fc.boolean(),
  monitor: fc.boolean(),
  through: fc.constantFrom(undefined, undefined, undefined, ...ENDS),
});

const docArb = fc
  .tuple(
    policyArb,
    fc.array(fc.constantFrom("x", "y"), { minLength: 8, maxLength: 8 }),
    fc.array(extraPathArb, { minLength: 1, maxLength: 6 }),
  )
  .map(([base, zones, extra]) => {
    const doc = structuredClone(base) as {
      workloads: Array<{ labels: Record<string, string> }>;
      segments: Record<string, unknown>;
      paths: Array<Record<string, unknown>>;
    };
    doc.workloads.forEach((w, i) => {
      w.labels.zone = zones[i]!;
    });
    doc.segments.zx = { matchLabels: { zone: "x" } };
    doc.segments.zy = { matchLabels: { zone: "y" } };
    extra.forEach((p, k) => {
      const to = p.same ? p.from : p.to;
      doc.paths.push({
        name: `z${k}`,
        from: p.from,
        to,
        ...(p.forbid
          ? {
              verdict: "forbid",
              mode: p.monitor ? "monitor" : "enforce",
              reach: "any",
              ...(p.through && p.through !== p.from && p.through !== to ? { through: [p.through] } : {}),
            }
          : { services: p.services }),
        owner: "o@example.com",
        justification: "property test",
      });
    });
    return doc;
  });

const anyForbids = (plan: Plan): CompiledPath[] =>
  [...plan.guardrails, ...plan.monitored]
    .filter((f) => f.path.reach === "any")
    .sort((a, b) => plan.policy.paths.indexOf(a.path) - plan.policy.paths.indexOf(b.path));

/** The part of a slice's party it names, or undefined for all of it. */
const part = (s: Slice): AddressSet | undefined =>
  s.addresses.equals(s.party.addresses) ? undefined : s.addresses;

/**
 * The shortest chain a forbid forbids over the hop graph, searched from each start on its own (no
 * origins to keep: a chain from s ends anywhere in `to` but s). Hops in `closed` (x * n + y) are
 * left out. Infinity when there is none.
 */
function perStartOverGraph(g: HopGraph, f: CompiledPath, closed: ReadonlySet<number> = new Set()): number {
  const n = g.nodes.length;
  const chokepoints = new Set<number>();
  for (const w of membersOf(g.plan.members, f.path.through ?? [])) {
    const node = g.node(`workload:${w}`);
    if (node) chokepoints.add(node.index);
  }
  const expands = (x: number) => g.nodes[x]!.pivots && !chokepoints.has(x);
  const hop = (x: number, y: number, within: { src?: AddressSet; dst?: AddressSet; services?: ServiceSet }) =>
    x !== y && !closed.has(x * n + y) && g.hops(x, y, within);
  let best = Number.POSITIVE_INFINITY;
  for (const s of f.from) {
    const start = g.node(s.party.key)?.index;
    if (start === undefined) continue;
    const src = part(s);
    const from = (x: number) => (x === start && src ? { src } : {});
    const dist = new Array<number>(n).fill(-1);
    dist[start] = 0;
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const x = queue[head]!;
      if (x !== start && !expands(x)) continue;
      for (let y = 0; y < n; y++)
        if (dist[y] === -1 && hop(x, y, from(x))) {
          dist[y] = dist[x]! + 1;
          queue.push(y);
        }
    }
    for (const t of f.to) {
      const end = g.node(t.party.key)?.index;
      if (end === undefined || end === start) continue;
      const dst = part(t);
      for (let x = 0; x < n; x++) {
        if (dist[x]! < 0 || (x !== start && !expands(x))) continue;
        if (hop(x, end, { ...from(x), ...(dst ? { dst } : {}), services: f.path.services }))
          best = Math.min(best, dist[x]! + 1);
      }
    }
  }
  return best;
}

/**
 * The shortest chain of two or more allow paths a forbid forbids, searched from each source on its
 * own over the allow paths (DESIGN.md rule 10 in the model). Infinity when there is none.
 */
function perStartOverAllows(plan: Plan, f: CompiledPath): number {
  const nonPivot = nonPivotWorkloads(plan.policy, plan.members);
  const chokepoints = membersOf(plan.members, f.path.through ?? []);
  const pivots = (key: string) => {
    const p = plan.party(key)!;
    return p.kind === "workload" && !nonPivot.has(p.name) && !chokepoints.has(p.name);
  };
  let best = Number.POSITIVE_INFINITY;
  for (const s of f.from) {
    const dist = new Map<string, number>([[s.party.key, 0]]);
    const queue = [s.party.key];
    for (let head = 0; head < queue.length; head++) {
      const x = queue[head]!;
      if (x !== s.party.key && !pivots(x)) continue;
      for (const allow of plan.allows) {
        const leaves = allow.from.some(
          (slice) => slice.party.key === x && (x !== s.party.key || slice.addresses.overlaps(s.addresses)),
        );
        if (!leaves) continue;
        for (const t of allow.to)
          if (!dist.has(t.party.key)) {
            dist.set(t.party.key, dist.get(x)! + 1);
            queue.push(t.party.key);
          }
      }
    }
    for (const end of f.to) {
      if (end.party.key === s.party.key) continue;
      for (const allow of plan.allows) {
        if (!allow.path.services.overlaps(f.path.services)) continue;
        if (
          !allow.to.some(
            (slice) => slice.party.key === end.party.key && slice.addresses.overlaps(end.addresses),
          )
        )
          continue;
        for (const slice of allow.from) {
          const d = dist.get(slice.party.key);
          if (d === undefined || d === 0 || slice.party.key === end.party.key || !pivots(slice.party.key))
            continue;
          best = Math.min(best, d + 1);
        }
      }
    }
  }
  return best;
}

// Each random policy costs a search per start and forbid over every pair of nodes.
const TIMEOUT = 1_800_000;

describe("reach: any forbids whose from and to are the same or overlapping segments", () => {
  it(
    "proveChains equals a search from each start on its own, and closing its cut blocks the forbid",
    () => {
      let compared = 0;
      let open = 0;
      let shared = 0;
      fc.assert(
        fc.property(docArb, fc.boolean(), (doc, deployed) => {
          const plan = planOf(doc);
          fc.pre(plan !== undefined);
          const evaluators = evaluatorsIfRendered(plan!);
          fc.pre(evaluators !== undefined);
          const parties = deployed ? radiusParties(plan!, evaluators!) : plan!.parties;
          const g = HopGraph.build(plan!, evaluators!, { parties });
          const forbids = anyForbids(plan!);
          const results = proveChains(g);
          expect(results.map((r) => r.path)).toEqual(forbids.map((f) => f.path.name));
          const byName = new Map(g.nodes.map((v) => [v.name, v.index]));
          forbids.forEach((f, i) => {
            const got = results[i]!;
            const want = perStartOverGraph(g, f);
            const what = `${f.path.name} (${f.path.from} → ${f.path.to})`;
            expect(got.status, what).toBe(want < Number.POSITIVE_INFINITY ? "open" : "blocked");
            compared++;
            if (f.from.some((s) => f.to.some((t) => t.party.key === s.party.key))) shared++;
            if (got.status !== "open") return;
            open++;
            const chain = got.chain!;
            expect(chain.length, what).toBe(want);
            // A chain: consecutive hops, from a party `from` names to another party `to` names.
            for (let k = 1; k < chain.length; k++) expect(chain[k]!.from).toBe(chain[k - 1]!.to);
            expect(f.from.map((s) => s.party.name)).toContain(chain[0]!.from);
            expect(f.to.map((t) => t.party.name)).toContain(chain.at(-1)!.to);
            expect(chain[0]!.from).not.toBe(chain.at(-1)!.to);
            if (!got.cut) return;
            const closed = new Set(
              got.cut.map((h) => byName.get(h.from)! * g.nodes.length + byName.get(h.to)!),
            );
            expect(perStartOverGraph(g, f, closed), `${what} after its cut`).toBe(Number.POSITIVE_INFINITY);
          });
        }),
        { numRuns: propertyRuns(100) },
      );
      expect(compared).toBeGreaterThan(0);
      expect(open).toBeGreaterThan(0);
      expect(shared).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    "check's chains of allow paths equal a search from each source on its own",
    () => {
      let open = 0;
      fc.assert(
        fc.property(docArb, (doc) => {
          const plan = planOf(doc);
          fc.pre(plan !== undefined);
          for (const f of anyForbids(plan!)) {
            const chain = intendedChain(f, plan!.allows, plan!.policy, plan!.members);
            const want = perStartOverAllows(plan!, f);
            const what = `${f.path.name} (${f.path.from} → ${f.path.to})`;
            if (want === Number.POSITIVE_INFINITY) {
              expect(chain, what).toBeUndefined();
              continue;
            }
            open++;
            expect(chain?.length, what).toBe(want);
            for (let k = 1; k < chain!.length; k++) expect(chain![k]!.from.key).toBe(chain![k - 1]!.to.key);
            expect(f.from.map((s) => s.party.key)).toContain(chain![0]!.from.key);
            expect(f.to.map((t) => t.party.key)).toContain(chain!.at(-1)!.to.key);
            expect(chain![0]!.from.key).not.toBe(chain!.at(-1)!.to.key);
          }
        }),
        { numRuns: propertyRuns(300) },
      );
      expect(open).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
