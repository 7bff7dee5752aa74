import type { ForbidMode } from "../model/types";
import type { AddressSet, ServiceSet } from "../net";
import { membersOf } from "../plan/pivot";
import type { CompiledPath } from "../plan/types";
import { FlowNetwork } from "./cut";
import { explainHop, type HopJson, type HopWithin } from "./explain";
import type { HopGraph } from "./graph";
import { chainOfSlot, type OriginsResult, reachedFromOtherThan, reachOrigins } from "./origins";

/** A `reach: any` forbid proven over the combined hop graph (review JSON `chains`). */
export interface ChainResult {
  path: string;
  mode: ForbidMode;
  /** open: some chain of hops of any length leads from `from` to `to` (DESIGN.md rule 10). */
  status: "blocked" | "open";
  /** Open: the shortest chain, hop by hop (witness packet, deciding rule per target, allow path or null). */
  chain?: HopJson[];
  /**
   * Open: a minimum edge cut of the hop graph, the suggested fix: the fewest hops whose closing
   * disconnects `from` from `to`, each with the allow path to narrow or, when no allow path opens
   * it (`path: null`), the live rules that do (`decidedBy`).
   */
  cut?: HopJson[];
  /** When the cut was left out (too many hops to weigh, or to show), why. */
  cutSkipped?: string;
}

/** Hops weighed for a cut at most; beyond, the cut is skipped and the result says so. */
export const CUT_EDGE_LIMIT = 500_000;

/**
 * Hops a suggested cut shows at most. A larger minimum cut is no fix a person applies hop by hop
 * (a ring of 1,000 workloads cut between two tiers takes tens of thousands), and explaining each
 * hop costs a decision per enforcing target: the cut is left out, saying how large it is.
 */
export const CUT_SHOWN_LIMIT = 200;

interface ForbidEnds {
  starts: number[];
  /** Starts standing for part of a node (a peer the forbid names part of). */
  startAddresses: Map<number, AddressSet>;
  ends: Map<number, AddressSet | undefined>;
  services: ServiceSet;
  chokepoints: Set<number>;
}

function endsOf(g: HopGraph, f: CompiledPath): ForbidEnds {
  const startAddresses = new Map<number, AddressSet>();
  const starts: number[] = [];
  for (const s of f.from) {
    const node = g.node(s.party.key);
    if (!node) continue;
    starts.push(node.index);
    if (!s.addresses.equals(s.party.addresses)) startAddresses.set(node.index, s.addresses);
  }
  const ends = new Map<number, AddressSet | undefined>();
  for (const s of f.to) {
    const node = g.node(s.party.key);
    if (node) ends.set(node.index, s.addresses.equals(s.party.addresses) ? undefined : s.addresses);
  }
  const chokepoints = new Set<number>();
  for (const w of membersOf(g.plan.members, f.path.through ?? [])) {
    const node = g.node(`workload:${w}`);
    if (node) chokepoints.add(node.index);
  }
  return { starts, startAddresses, ends, services: f.path.services, chokepoints };
}

/**
 * Every `reach: any` forbid of the plan (enforce and monitor, in policy order) over the hop graph:
 * blocked, or open with the shortest chain and a minimum cut. A chain starts at a party the forbid's
 * `from` names (its first hop leaving the part of a peer the forbid names), passes only through
 * parties that pivot and are not in its `through` segments, and ends with a hop into the part of a
 * party its `to` names over a service it forbids. A chain back to the party it started from does
 * not count, while one from another start does, so a forbid whose `from` and `to` share parties
 * (tenants → tenants) is searched with the two nearest distinct origins of each party
 * (`reachOrigins`): the verdict does not depend on the order of the workloads.
 */
export function proveChains(g: HopGraph, options: { cutLimit?: number } = {}): ChainResult[] {
  const out: ChainResult[] = [];
  const forbids = [...g.plan.guardrails, ...g.plan.monitored]
    .filter((f) => f.path.reach === "any")
    .sort((a, b) => g.plan.policy.paths.indexOf(a.path) - g.plan.policy.paths.indexOf(b.path));
  for (const f of forbids) out.push(proveChain(g, f, options.cutLimit ?? CUT_EDGE_LIMIT));
  return out;
}

function proveChain(g: HopGraph, f: CompiledPath, cutLimit: number): ChainResult {
  const e = endsOf(g, f);
  const expands = (x: number) => g.nodes[x]!.pivots && !e.chokepoints.has(x);
  const r = reachOrigins(g, e.starts, { expands, startAddresses: e.startAddresses });
  const base = { path: f.path.name, mode: f.path.mode };
  const last = lastHop(g, e, r, expands);
  if (!last) return { ...base, status: "blocked" };
  // The chain held by the slot of an origin other than the end: it starts where the forbid says.
  const nodes = [...chainOfSlot(r, last.slot), last.to];
  const chain = nodes.slice(1).map((y, i) => {
    const x = nodes[i]!;
    return explainHop(g, x, y, withinOf(e, x, y, i === 0, i === nodes.length - 2))!;
  });
  const result: ChainResult = { ...base, status: "open", chain };
  const cut = minimumCut(g, e, r, expands, cutLimit);
  if (Array.isArray(cut)) result.cut = cut;
  else result.cutSkipped = cut.skipped;
  return result;
}

/** What a hop must carry: from the forbid's part of a start, into its part of an end over its services. */
function withinOf(e: ForbidEnds, x: number, y: number, first: boolean, last: boolean): HopWithin {
  const within: HopWithin = {};
  const src = first ? e.startAddresses.get(x) : undefined;
  if (src) within.src = src;
  if (last) {
    const dst = e.ends.get(y);
    if (dst) within.dst = dst;
    within.services = e.services;
  }
  return within;
}

/**
 * The last hop of a shortest chain: from a party reached that may initiate, into an end, over the
 * chain of the nearest origin of that party other than the end (`slot`).
 */
function lastHop(
  g: HopGraph,
  e: ForbidEnds,
  r: OriginsResult,
  expands: (x: number) => boolean,
): { slot: number; to: number } | undefined {
  let best: { slot: number; to: number; length: number } | undefined;
  for (const y of e.ends.keys())
    for (const edge of g.inOf(y))
      for (const x of g.edges[edge]!.sources) {
        if (x === y) continue;
        for (const slot of [2 * x, 2 * x + 1]) {
          const d = r.dist[slot]!;
          if (d < 0 || r.origin[slot] === y) continue;
          if (best && d + 1 >= best.length) break;
          if (d > 0 && !expands(x)) continue;
          if (!g.hops(x, y, withinOf(e, x, y, d === 0, true))) continue;
          best = { slot, to: y, length: d + 1 };
          break;
        }
      }
  return best;
}

/**
 * A minimum edge cut between the forbid's starts and ends over the hops its chains may take: unit
 * capacity per hop (a pair of parties), a super source into every start and every end into a super
 * sink. Each cut hop is explained like a chain hop.
 *
 * Joining the starts lets the network hold paths from an end back to itself (tenant-a ⇝ tenant-a),
 * which are no chain: cutting them too makes the cut larger than needed at worst, never short. A
 * last hop x → y is left out only when no start but y reaches x (`reachedFromOtherThan`): no chain
 * ends with it. Every chain is then a path of the network (or holds one: its part from the last
 * start it passes), so closing the cut blocks the forbid.
 */
function minimumCut(
  g: HopGraph,
  e: ForbidEnds,
  r: OriginsResult,
  expands: (x: number) => boolean,
  limit: number,
): HopJson[] | { skipped: string } {
  const n = g.nodes.length;
  // The hops to weigh, counted before any is checked: a graph too large for a cut says so at once.
  let weigh = 0;
  for (let x = 0; x < n; x++) {
    const d = r.dist[2 * x]!;
    if (d < 0 || (d > 0 && !expands(x))) continue;
    for (const edge of g.outOf(x)) weigh += g.edges[edge]!.targets.length;
    weigh += g.lazyCandidates(x);
  }
  if (weigh > limit)
    return { skipped: `${weigh} hops to weigh, more than ${limit}; narrow the chain shown and review again` };
  // Vertices: 0 source, 1 sink, 2 + x a node, 2 + n + y an end's copy (reaching it over the forbid's services).
  const net = new FlowNetwork(2 + 2 * n);
  const hops: Array<{ x: number; y: number; final: boolean }> = [];
  const seen = new Set<number>();
  for (const s of e.starts) net.add(0, 2 + s);
  for (const y of e.ends.keys()) net.add(2 + n + y, 1);
  for (let x = 0; x < n; x++) {
    const d = r.dist[2 * x]!;
    if (d < 0 || (d > 0 && !expands(x))) continue;
    // Hops between unmodelled endpoints (asked now): intermediate only (an end is a named party).
    for (const y of g.lazyTargets(x, (t) => r.dist[2 * t]! > 0 && expands(t))) {
      net.add(2 + x, 2 + y, hops.length);
      hops.push({ x, y, final: false });
    }
    for (const edge of g.outOf(x))
      for (const y of g.edges[edge]!.targets) {
        if (y === x) continue;
        const key = x * n + y;
        if (seen.has(key)) continue;
        seen.add(key);
        if (r.dist[2 * y]! > 0 && expands(y) && g.hops(x, y, withinOf(e, x, y, d === 0, false))) {
          net.add(2 + x, 2 + y, hops.length);
          hops.push({ x, y, final: false });
        }
        if (
          e.ends.has(y) &&
          reachedFromOtherThan(r, x, y) &&
          g.hops(x, y, withinOf(e, x, y, d === 0, true))
        ) {
          net.add(2 + x, 2 + n + y, hops.length);
          hops.push({ x, y, final: true });
        }
      }
  }
  const labels = (net.minCut(0, 1) ?? []).sort((a, b) => a - b);
  const pairs = new Set(labels.map((label) => hops[label]!.x * n + hops[label]!.y));
  if (pairs.size > CUT_SHOWN_LIMIT)
    return {
      skipped: `the smallest cut has ${pairs.size} hops, more than ${CUT_SHOWN_LIMIT} to show; narrow the allow paths of the chain shown and review again`,
    };
  const cut = new Map<number, HopJson>();
  for (const label of labels) {
    const { x, y, final } = hops[label]!;
    if (cut.has(x * n + y)) continue;
    cut.set(x * n + y, explainHop(g, x, y, withinOf(e, x, y, r.dist[2 * x] === 0, final))!);
  }
  return [...cut.values()];
}
