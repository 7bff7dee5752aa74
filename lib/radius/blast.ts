import { criticalSegments } from "../plan/pivot";
import { Bitset } from "./bitset";
import { explainHop } from "./explain";
import type { HopGraph } from "./graph";

/** One party's blast radius (review JSON `radius.parties`). */
export interface BlastRadius {
  name: string;
  kind: "workload" | "peer";
  /** Workloads a compromise of it reaches in any number of hops (itself not counted). */
  reaches: number;
  /** Critical segments (crown jewels) with a member among them, in policy order. */
  critical: string[];
  /** Peers it reaches (exfiltration to `internet`, a partner...), in policy order. */
  peers: string[];
}

/**
 * Every workload's and every peer's blast radius at once. The graph's edges and nodes are one
 * directed graph (node → edge when the node pivots, edge → each of its targets); its strongly
 * connected components, taken sinks first, give each component the set of nodes reachable from it
 * as a bitset (the union of its successors' sets and their members, plus its own members when it is
 * a cycle). A party's blast radius is then the union over the edges it starts: it initiates whether
 * or not it pivots.
 */
export function blastRadii(g: HopGraph): BlastRadius[] {
  const n = g.nodes.length;
  const m = g.edges.length;
  const lazy = lazyComponents(g);
  const k = lazy.members.length;
  const total = n + m + k;
  // Successors of vertex v, as vertex ids: a node pivoting → its edges (n + id) and its lazy
  // component (n + m + c); an edge → its targets; a lazy component → its members and the
  // components it reaches.
  const succ = (v: number): number[] => {
    if (v < n) {
      if (!g.nodes[v]!.pivots) return [];
      const out = Array.from(g.outOf(v), (e) => n + e);
      const c = lazy.comp[v]!;
      if (c >= 0) out.push(n + m + c);
      return out;
    }
    if (v < n + m) return Array.from(g.edges[v - n]!.targets);
    const c = v - n - m;
    return [...lazy.members[c]!, ...[...lazy.succ[c]!].map((d) => n + m + d)];
  };

  // Tarjan's algorithm, iterative; components come out sinks first.
  const index = new Int32Array(total).fill(-1);
  const low = new Int32Array(total);
  const onStack = new Uint8Array(total);
  const comp = new Int32Array(total).fill(-1);
  const stack: number[] = [];
  const components: number[][] = [];
  const successors: number[][] = [];
  let counter = 0;
  const work: Array<{ v: number; s: number[]; i: number }> = [];
  for (let root = 0; root < total; root++) {
    if (index[root] !== -1) continue;
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    work.push({ v: root, s: succ(root), i: 0 });
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const { v, s } = top;
      if (top.i < s.length) {
        const w = s[top.i++]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push({ v: w, s: succ(w), i: 0 });
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp[w] = components.length;
          members.push(w);
        } while (w !== v);
        components.push(members);
        successors.push(members.flatMap((x) => succ(x)));
      }
    }
  }

  // Reachable nodes per component, sinks first (each successor component is done before).
  const reachable: Bitset[] = [];
  const ownNodes: Bitset[] = [];
  for (let c = 0; c < components.length; c++) {
    const r = new Bitset(n);
    const own = new Bitset(n);
    const members = components[c]!;
    for (const v of members) if (v < n) own.add(v);
    const done = new Set<number>();
    for (const w of successors[c]!) {
      const d = comp[w]!;
      if (d === c || done.has(d)) continue;
      done.add(d);
      r.or(reachable[d]!);
      r.or(ownNodes[d]!);
    }
    // A cycle reaches its own members (a single vertex cannot have a self-loop here).
    if (members.length > 1) r.or(own);
    reachable.push(r);
    ownNodes.push(own);
  }
  const from = (v: number, into: Bitset) => {
    const c = comp[v]!;
    into.or(reachable[c]!);
    into.or(ownNodes[c]!);
  };

  const workloads = new Bitset(n);
  const peers: number[] = [];
  for (const node of g.nodes) {
    if (node.kind === "workload") workloads.add(node.index);
    else if (node.kind === "peer") peers.push(node.index);
  }
  const jewels = criticalSegments(g.plan.policy).map((segment) => {
    const b = new Bitset(n);
    for (const w of g.plan.members.get(segment) ?? []) {
      const node = g.node(`workload:${w}`);
      if (node) b.add(node.index);
    }
    return { segment, members: b };
  });

  const out: BlastRadius[] = [];
  for (const node of g.nodes) {
    if (node.kind !== "workload" && node.kind !== "peer") continue;
    const r = new Bitset(n);
    for (const e of g.outOf(node.index)) from(n + e, r);
    r.delete(node.index);
    out.push({
      name: node.name,
      kind: node.kind,
      reaches: r.count(workloads),
      critical: jewels.filter((j) => j.members.meets(r)).map((j) => j.segment),
      peers: peers.filter((p) => r.has(p)).map((p) => g.nodes[p]!.name),
    });
  }
  return out;
}

/**
 * The strongly connected components of the hops among unmodelled endpoints (asked lazily, see
 * `HopGraph.lazyTargets`), and the hops between components: Kosaraju's two searches over the
 * implicit graph, each asking only towards endpoints not placed yet, then one question per pair
 * of components not yet linked. Enough for reachability (every blast radius), not for chains.
 */
function lazyComponents(g: HopGraph): { comp: Int32Array; members: number[][]; succ: Array<Set<number>> } {
  const comp = new Int32Array(g.nodes.length).fill(-1);
  const nodes = g.lazyNodes();
  // Who may hop to whom by footprints (nothing asked yet), both ways.
  const candidates = new Map<number, number[]>();
  const reverse = new Map<number, number[]>();
  for (const x of nodes) {
    const list = g.lazyCandidateNodes(x);
    candidates.set(x, list);
    for (const y of list) {
      const r = reverse.get(y);
      if (r) r.push(x);
      else reverse.set(y, [x]);
    }
  }
  // First search: finish order.
  const unvisited = new Set(nodes);
  const order: number[] = [];
  for (const root of nodes) {
    if (!unvisited.delete(root)) continue;
    const work: Array<{ x: number; c: number[]; i: number }> = [
      { x: root, c: g.lazyCandidateNodes(root), i: 0 },
    ];
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      let pushed = false;
      while (top.i < top.c.length) {
        const y = top.c[top.i++]!;
        if (unvisited.has(y) && g.lazyEdge(top.x, y)) {
          unvisited.delete(y);
          work.push({ x: y, c: candidates.get(y)!, i: 0 });
          pushed = true;
          break;
        }
      }
      if (pushed) continue;
      order.push(top.x);
      work.pop();
    }
  }
  // Second search, on the reversed hops, in reverse finish order: each tree is a component.
  const members: number[][] = [];
  const unplaced = new Set(nodes);
  for (let i = order.length - 1; i >= 0; i--) {
    const root = order[i]!;
    if (!unplaced.delete(root)) continue;
    const id = members.length;
    const list = [root];
    comp[root] = id;
    for (let h = 0; h < list.length; h++) {
      const y = list[h]!;
      for (const x of reverse.get(y) ?? [])
        if (unplaced.has(x) && g.lazyEdge(x, y)) {
          unplaced.delete(x);
          comp[x] = id;
          list.push(x);
        }
    }
    members.push(list);
  }
  // Hops between components: one question per pair of components until one links them.
  const succ = members.map(() => new Set<number>());
  for (const x of nodes)
    for (const y of candidates.get(x)!) {
      const a = comp[x]!;
      const b = comp[y]!;
      if (a === b || succ[a]!.has(b)) continue;
      if (g.lazyEdge(x, y)) succ[a]!.add(b);
    }
  return { comp, members, succ };
}

/** Who reaches a crown jewel (review JSON `radius.critical`), with the first hop of a shortest chain. */
export interface CrownJewel {
  segment: string;
  members: string[];
  reachedBy: Array<{
    name: string;
    kind: "workload" | "peer";
    /** Hops of the shortest chain from it to a member. */
    hops: number;
    /** The next party on that chain, and the allow path opening that hop (null: none explains it). */
    next: string;
    path: string | null;
  }>;
}

/**
 * For each critical segment, every workload and peer that reaches a member in any number of hops:
 * a breadth-first search backwards from the members, continuing only through parties that pivot
 * (a chain passes through a party only if the party pivots; peers never do). Sorted by hops then
 * name; the members themselves are the jewels, not listed.
 */
export function crownJewels(g: HopGraph): CrownJewel[] {
  const n = g.nodes.length;
  return criticalSegments(g.plan.policy).map((segment) => {
    const members = (g.plan.members.get(segment) ?? [])
      .map((w) => g.node(`workload:${w}`)?.index)
      .filter((i): i is number => i !== undefined);
    const dist = new Int32Array(n).fill(-1);
    const next = new Int32Array(n).fill(-1);
    const used = new Uint8Array(g.edges.length);
    const queue: number[] = [];
    for (const x of members) {
      dist[x] = 0;
      queue.push(x);
    }
    const reachedBy: CrownJewel["reachedBy"] = [];
    for (let head = 0; head < queue.length; head++) {
      const y = queue[head]!;
      const d = dist[y]!;
      // Through y only if y pivots (a member is an end: anything reaching it counts).
      if (d > 0 && !g.nodes[y]!.pivots) continue;
      const visit = (x: number) => {
        dist[x] = d + 1;
        next[x] = y;
        queue.push(x);
      };
      for (const e of g.inOf(y)) {
        if (used[e]) continue;
        used[e] = 1;
        for (const x of g.edges[e]!.sources) if (dist[x] === -1) visit(x);
      }
      if (g.isLazy(y)) for (const x of g.lazySources(y, (z) => dist[z] === -1)) visit(x);
    }
    for (let x = 0; x < n; x++) {
      const node = g.nodes[x]!;
      if (node.kind !== "workload" && node.kind !== "peer") continue;
      if (dist[x]! <= 0) continue;
      const hop = explainHop(g, x, next[x]!)!;
      reachedBy.push({ name: node.name, kind: node.kind, hops: dist[x]!, next: hop.to, path: hop.path });
    }
    reachedBy.sort((a, b) => a.hops - b.hops || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      segment,
      members: members.map((i) => g.nodes[i]!.name),
      reachedBy,
    };
  });
}
