import type { HopGraph } from "./graph";
import type { ReachOptions } from "./reach";

/**
 * A breadth-first search from a set of starts that keeps, for every node, its two nearest distinct
 * origins (the starts its shortest chains begin at), each with its own distance and chain.
 *
 * Why two: a `reach: any` forbid whose `from` and `to` share parties (tenants → tenants) forbids a
 * chain from a start to a different party of its `to`, and a chain back to its own start does not
 * count. With one origin per node (whichever start got there first) a node reached from both a
 * and b remembers only a, and its hop into a is dropped although b ⇝ it → a is a chain: the
 * verdict then depends on the order of the workloads. With the two nearest distinct origins, a
 * hop x → y is the last hop of a chain exactly when some origin of x is not y: if the nearest is
 * y, the second is the nearest other start.
 *
 * Each node is queued at most twice (once per origin) and each edge walked at most twice (by two
 * distinct origins, after which every target holds two origins): still linear.
 */
export interface OriginsResult {
  /** Per slot `2 * node + k` (k = 0 the nearest origin, 1 the nearest other one): hops from its origin, -1 when empty. */
  dist: Int32Array;
  /** Per slot, the start its chain begins at (a node's two slots differ), -1 when empty. */
  origin: Int32Array;
  /** Per slot, the slot its chain came from, -1 for a start. */
  parent: Int32Array;
}

/** The two nearest distinct origins of every node reached from `starts` (see `OriginsResult`). */
export function reachOrigins(
  g: HopGraph,
  starts: Iterable<number>,
  options: Pick<ReachOptions, "expands" | "startAddresses"> = {},
): OriginsResult {
  const n = g.nodes.length;
  const dist = new Int32Array(2 * n).fill(-1);
  const origin = new Int32Array(2 * n).fill(-1);
  const parent = new Int32Array(2 * n).fill(-1);
  // Per edge, the first origin that walked it, and whether a second (distinct) one has.
  const walkedBy = new Int32Array(g.edges.length).fill(-1);
  const walkedTwice = new Uint8Array(g.edges.length);
  const expands = options.expands ?? ((x: number) => g.nodes[x]!.pivots);
  const queue: number[] = [];
  for (const s of starts)
    if (dist[2 * s] === -1) {
      dist[2 * s] = 0;
      origin[2 * s] = s;
      queue.push(2 * s);
    }
  /** The slot of `t` that a chain from origin `o` would fill, or -1 (t has o, or two origins already). */
  const slotFor = (t: number, o: number): number => {
    if (dist[2 * t] === -1) return 2 * t;
    if (origin[2 * t] !== o && dist[2 * t + 1] === -1) return 2 * t + 1;
    return -1;
  };
  for (let head = 0; head < queue.length; head++) {
    const slot = queue[head]!;
    const x = slot >> 1;
    const d = dist[slot]!;
    const o = origin[slot]!;
    if (d > 0 && !expands(x)) continue;
    const restricted = d === 0 ? options.startAddresses?.get(x) : undefined;
    const visit = (into: number) => {
      dist[into] = d + 1;
      parent[into] = slot;
      origin[into] = o;
      queue.push(into);
    };
    for (const e of g.outOf(x)) {
      // A restricted start asks each pair itself, so it leaves the edge to the others.
      if (!restricted) {
        if (walkedTwice[e]) continue;
        if (walkedBy[e] === -1) walkedBy[e] = o;
        else if (walkedBy[e] === o) continue;
        else walkedTwice[e] = 1;
      }
      for (const t of g.edges[e]!.targets) {
        const into = slotFor(t, o);
        if (into === -1) continue;
        if (restricted && !g.hops(x, t, { src: restricted })) continue;
        visit(into);
      }
    }
    // Hops between unmodelled endpoints are asked now, only towards those that can take this origin.
    if (g.isLazy(x))
      for (const t of g.lazyTargets(
        x,
        (y) => slotFor(y, o) !== -1 && (!restricted || g.hops(x, y, { src: restricted })),
      ))
        visit(slotFor(t, o));
  }
  return { dist, origin, parent };
}

/** Whether some chain reaching `x` begins at a start other than `y`. */
export function reachedFromOtherThan(r: OriginsResult, x: number, y: number): boolean {
  if (r.dist[2 * x]! < 0) return false;
  // A second slot holds an origin other than the first's, so one of the two is not y.
  return r.origin[2 * x] !== y || r.dist[2 * x + 1]! >= 0;
}

/** The nodes of the chain held in `slot`, from its origin to its node. */
export function chainOfSlot(r: OriginsResult, slot: number): number[] {
  const out = [slot >> 1];
  for (let s = r.parent[slot]!; s !== -1; s = r.parent[s]!) out.push(s >> 1);
  return out.reverse();
}
