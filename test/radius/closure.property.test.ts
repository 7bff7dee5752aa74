import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AddressSet,
  formatAddress,
  type Packet,
  type Party,
  type Plan,
  Protocol,
  type TargetEvaluator,
} from "../../lib";
import { perTargetGraphs } from "../../lib/radius";
import { explainHop } from "../../lib/radius/explain";
import { HopGraph } from "../../lib/radius/graph";
import { reach } from "../../lib/radius/reach";
import { propertyRuns } from "../support/property-runs";
import { evaluatorsIfRendered, planOf, policyArb, policyArbWith } from "../support/random-policy";

/**
 * The combined reachability of lib/radius (party classes, footprints, sets, bicliques) against a
 * brute force that knows none of it: for every ordered pair of parties, concrete packets asked of
 * each target's `decide` one by one (a hop when some packet passes every target enforcing either
 * end), then the closure with the pivot rule (starts initiate; a party reached continues only if it
 * pivots; peers never do).
 */

/** Concrete addresses of a party: the first and last of each of its ranges, per family. */
function samples(addresses: AddressSet): Array<{ family: 4 | 6; text: string }> {
  const out: Array<{ family: 4 | 6; text: string }> = [];
  for (const family of [4, 6] as const)
    for (const [lo, hi] of addresses.family(family).ranges) {
      out.push({ family, text: formatAddress(family, lo) });
      if (hi !== lo) out.push({ family, text: formatAddress(family, hi) });
    }
  return out;
}

/** Every service of the random policies, a port next to each range, and services no policy names. */
const SERVICES: Array<{ protocol: number; port?: number; v6protocol?: number }> = [
  { protocol: Protocol.TCP, port: 443 },
  { protocol: Protocol.TCP, port: 22 },
  { protocol: Protocol.TCP, port: 8000 },
  { protocol: Protocol.TCP, port: 8100 },
  { protocol: Protocol.TCP, port: 8101 },
  { protocol: Protocol.UDP, port: 53 },
  { protocol: Protocol.UDP, port: 54 },
  { protocol: Protocol.ICMP, v6protocol: Protocol.ICMPV6 },
  { protocol: 50 },
];

function packets(from: Party, to: Party): Packet[] {
  const out: Packet[] = [];
  const dsts = samples(to.addresses);
  for (const src of samples(from.addresses))
    for (const dst of dsts) {
      if (src.family !== dst.family) continue;
      for (const s of SERVICES) {
        const protocol = src.family === 6 && s.v6protocol !== undefined ? s.v6protocol : s.protocol;
        out.push({
          family: src.family,
          src: src.text,
          dst: dst.text,
          protocol,
          ...(s.port !== undefined ? { port: s.port } : {}),
        });
      }
    }
  return out;
}

/** The hop relation by brute force: some concrete packet passes every target enforcing either end. */
function bruteHops(plan: Plan, evaluators: readonly TargetEvaluator[]): boolean[][] {
  const parties = plan.parties;
  return parties.map((a) =>
    parties.map((b) => {
      if (a === b) return false;
      const enforcing = evaluators.filter((e) => e.enforces(a) || e.enforces(b));
      if (enforcing.length === 0) return false;
      return packets(a, b).some((p) => enforcing.every((e) => e.decide(a, b, p).verdict === "allow"));
    }),
  );
}

/** Reachable sets from each party by brute force, with the pivot rule. */
function bruteClosure(plan: Plan, hops: boolean[][], pivots: (p: Party) => boolean): Array<Set<number>> {
  const n = plan.parties.length;
  return plan.parties.map((_, s) => {
    const seen = new Set<number>([s]);
    const queue = [s];
    const reached = new Set<number>();
    while (queue.length > 0) {
      const x = queue.shift()!;
      if (x !== s && !pivots(plan.parties[x]!)) continue;
      for (let y = 0; y < n; y++)
        if (hops[x]![y] && !seen.has(y)) {
          seen.add(y);
          reached.add(y);
          queue.push(y);
        }
    }
    return reached;
  });
}

/** The same evaluators without the optional accelerations: every party its own class, every pair asked. */
function plain(ev: TargetEvaluator): TargetEvaluator {
  return {
    target: ev.target,
    enforces: (p) => ev.enforces(p),
    allowed: (f, t) => ev.allowed(f, t),
    decide: (f, t, packet) => ev.decide(f, t, packet),
  };
}

function graphHops(g: HopGraph): boolean[][] {
  return g.nodes.map((x) => g.nodes.map((y) => x.index !== y.index && g.hops(x.index, y.index)));
}

// Each random policy costs a brute force over every pair of parties: give CI's thousands of runs room.
const TIMEOUT = 1_800_000;

describe("multi-hop reachability equals a brute-force closure over concrete packets", () => {
  it(
    "on random policies over all five targets (hops, closure, witnesses)",
    () => {
      let compared = 0;
      let multiHop = 0;
      fc.assert(
        fc.property(policyArb, (doc) => {
          const plan = planOf(doc);
          fc.pre(plan !== undefined);
          const evaluators = evaluatorsIfRendered(plan!);
          fc.pre(evaluators !== undefined);
          const g = HopGraph.build(plan!, evaluators);
          expect(g.nodes.map((n) => n.name)).toEqual(plan!.parties.map((p) => p.name));
          const brute = bruteHops(plan!, evaluators);
          expect(graphHops(g)).toEqual(brute);
          const closure = bruteClosure(plan!, brute, (p) => g.node(p.key)!.pivots);
          for (const node of g.nodes) {
            const r = reach(g, [node.index]);
            const got = new Set(g.nodes.filter((y) => r.dist[y.index]! > 0).map((y) => y.index));
            expect(got, `from ${node.name}`).toEqual(closure[node.index]);
            if ([...r.dist].some((d) => d > 1)) multiHop++;
          }
          // Every hop's witness passes every target enforcing either end, and names a real allow path.
          for (let x = 0; x < g.nodes.length; x++)
            for (let y = 0; y < g.nodes.length; y++) {
              if (!brute[x]![y]) continue;
              const h = explainHop(g, x, y)!;
              const [a, b] = [plan!.parties[x]!, plan!.parties[y]!];
              const packet: Packet = {
                family: h.packet.src.includes(":") ? 6 : 4,
                src: h.packet.src,
                dst: h.packet.dst,
                protocol: protocolNumber(h.packet.protocol),
                ...(h.packet.port !== undefined ? { port: h.packet.port } : {}),
              };
              expect(a.addresses.has(packet.src) && b.addresses.has(packet.dst)).toBe(true);
              for (const ev of evaluators)
                if (ev.enforces(a) || ev.enforces(b)) {
                  expect(ev.decide(a, b, packet).verdict).toBe("allow");
                  expect(h.decidedBy[ev.target]).toBe(ev.decide(a, b, packet).by);
                }
              if (h.path !== null) {
                const allow = plan!.allowsBetween(a, b).find((c) => c.path.name === h.path);
                expect(allow?.connections.has(packet), `${h.path} explains ${x}->${y}`).toBe(true);
              } else expect(plan!.allowsBetween(a, b).some((c) => c.connections.has(packet))).toBe(false);
            }
          compared++;
        }),
        { numRuns: propertyRuns(60) },
      );
      expect(compared).toBeGreaterThan(propertyRuns(60) / 2);
      // The random policies do chain hops (not only direct ones).
      expect(multiHop).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    "the combined graph has a hop only where every per-target graph enforcing either end has it",
    () => {
      fc.assert(
        fc.property(policyArb, (doc) => {
          const plan = planOf(doc);
          fc.pre(plan !== undefined);
          const evaluators = evaluatorsIfRendered(plan!);
          fc.pre(evaluators !== undefined);
          const combined = graphHops(HopGraph.build(plan!, evaluators));
          const per = [...perTargetGraphs(plan!, evaluators)].map(([t, g]) => ({
            ev: evaluators.find((e) => e.target === t)!,
            hops: graphHops(g),
          }));
          for (const [x, a] of plan!.parties.entries())
            for (const [y, b] of plan!.parties.entries()) {
              if (x === y) continue;
              const enforcing = per.filter((p) => p.ev.enforces(a) || p.ev.enforces(b));
              // Each target alone: its own verdict, by brute force over its decide.
              for (const p of enforcing)
                expect(p.hops[x]![y], `${p.ev.target} ${a.name} -> ${b.name}`).toBe(
                  packets(a, b).some((k) => p.ev.decide(a, b, k).verdict === "allow"),
                );
              // Combined needs every one of them (and one packet they all pass, which each alone does not imply).
              if (combined[x]![y]) for (const p of enforcing) expect(p.hops[x]![y]).toBe(true);
              if (enforcing.length === 0) expect(combined[x]![y]).toBe(false);
            }
        }),
        { numRuns: propertyRuns(40) },
      );
    },
    TIMEOUT,
  );

  it(
    "classes and footprints change nothing: the same graph as asking every pair of parties",
    () => {
      fc.assert(
        fc.property(policyArbWith({ identityOnly: true }), (doc) => {
          const plan = planOf(doc);
          fc.pre(plan !== undefined);
          const evaluators = evaluatorsIfRendered(plan!);
          fc.pre(evaluators !== undefined);
          const fast = HopGraph.build(plan!, evaluators);
          const slow = HopGraph.build(plan!, evaluators.map(plain));
          expect(graphHops(fast)).toEqual(graphHops(slow));
          if (evaluators.length > 0) expect(slow.stats.classes).toBe(plan!.parties.length);
          expect(fast.stats.candidatePairs).toBeLessThanOrEqual(slow.stats.candidatePairs);
        }),
        { numRuns: propertyRuns(60) },
      );
    },
    TIMEOUT,
  );
});

function protocolNumber(name: string): number {
  switch (name) {
    case "tcp":
      return Protocol.TCP;
    case "udp":
      return Protocol.UDP;
    case "icmp":
      return Protocol.ICMP;
    case "icmpv6":
      return Protocol.ICMPV6;
    default:
      return Number(name.replace(/^proto-/, ""));
  }
}
