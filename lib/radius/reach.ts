import type { AddressSet } from "../net";
import type { HopGraph } from "./graph";

/** A breadth-first search of the hop graph: shortest chains from a set of start nodes. */
export interface ReachResult {
  /** Hops from the nearest start: 0 for a start, -1 for a node not reached. */
  dist: Int32Array;
  /** The node each reached node was first reached from (-1 for a start or a node not reached). */
  parent: Int32Array;
  /** The start each reached node's chain begins at (-1 for a node not reached). */
  origin: Int32Array;
}

export interface ReachOptions {
  /** Chains of at most this many hops (default: any number). */
  maxHops?: number;
  /**
   * Whether a node reached (not a start) starts hops of its own. Default: it pivots (DESIGN.md
   * rule 10: workloads and unmodelled parties unless `pivot: false`; never peers).
   */
  expands?: (node: number) => boolean;
  /**
   * Starts that stand for part of a node (a forbid's end naming part of a peer): their hops must
   * carry a packet from these addresses.
   */
  startAddresses?: ReadonlyMap<number, AddressSet>;
}

/**
 * Every node reached from `starts` (all compromised at once), with its distance and the node it
 * was first reached from. Starts always initiate; a node reached continues only if it expands.
 * An edge is walked once: the first source taking it is the nearest, so its targets are reached
 * at their least distance through it.
 */
export function reach(g: HopGraph, starts: Iterable<number>, options: ReachOptions = {}): ReachResult {
  const n = g.nodes.length;
  const dist = new Int32Array(n).fill(-1);
  const parent = new Int32Array(n).fill(-1);
  const origin = new Int32Array(n).fill(-1);
  const used = new Uint8Array(g.edges.length);
  const expands = options.expands ?? ((x: number) => g.nodes[x]!.pivots);
  const maxHops = options.maxHops ?? Number.POSITIVE_INFINITY;
  const queue: number[] = [];
  for (const s of starts)
    if (dist[s] === -1) {
      dist[s] = 0;
      origin[s] = s;
      queue.push(s);
    }
  for (let head = 0; head < queue.length; head++) {
    const x = queue[head]!;
    const d = dist[x]!;
    if (d >= maxHops) continue;
    if (d > 0 && !expands(x)) continue;
    const restricted = d === 0 ? options.startAddresses?.get(x) : undefined;
    const visit = (t: number) => {
      dist[t] = d + 1;
      parent[t] = x;
      origin[t] = origin[x]!;
      queue.push(t);
    };
    for (const e of g.outOf(x)) {
      if (!restricted) {
        if (used[e]) continue;
        used[e] = 1;
      }
      for (const t of g.edges[e]!.targets) {
        if (dist[t] !== -1) continue;
        if (restricted && !g.hops(x, t, { src: restricted })) continue;
        visit(t);
      }
    }
    // Hops between unmodelled endpoints are asked now, only towards those not reached yet.
    if (g.isLazy(x))
      for (const t of g.lazyTargets(
        x,
        (y) => dist[y] === -1 && (!restricted || g.hops(x, y, { src: restricted })),
      ))
        visit(t);
  }
  return { dist, parent, origin };
}

/** The nodes of the shortest chain found to `node`, from its start to it. */
export function chainTo(r: ReachResult, node: number): number[] {
  const out = [node];
  for (let x = r.parent[node]!; x !== -1; x = r.parent[x]!) out.push(x);
  return out.reverse();
}
