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
  const total = n + m;
  // Successors of vertex v: a node pivoting → its edges (n + id); an edge → its targets.
  const succ = (v: number): ArrayLike<number> =>
    v < n ? (g.nodes[v]!.pivots ? g.outOf(v) : EMPTY) : g.edges[v - n]!.targets;
  const offset = (v: number, w: number) => (v < n ? n + w : w);

  // Tarjan's algorithm, iterative; components come out sinks first.
  const index = new Int32Array(total).fill(-1);
  const low = new Int32Array(total);
  const onStack = new Uint8Array(total);
  const comp = new Int32Array(total).fill(-1);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const work: Array<[number, number]> = [];
  for (let root = 0; root < total; root++) {
    if (index[root] !== -1) continue;
    work.push([root, 0]);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const [v, i] = top;
      if (i === 0) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = 1;
      }
      const s = succ(v);
      if (i < s.length) {
        top[1] = i + 1;
        const w = offset(v, s[i]!);
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
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
    for (const v of members) {
      const s = succ(v);
      for (let i = 0; i < s.length; i++) {
        const d = comp[offset(v, s[i]!)]!;
        if (d === c || done.has(d)) continue;
        done.add(d);
        r.or(reachable[d]!);
        r.or(ownNodes[d]!);
      }
    }
    // A cycle reaches its own members (a single vertex cannot have a self-loop here).
    if (members.length > 1) r.or(own);
    reachable.push(r);
    ownNodes.push(own);
  }

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
    for (const e of g.outOf(node.index)) {
      const c = comp[n + e]!;
      r.or(reachable[c]!);
      r.or(ownNodes[c]!);
    }
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

const EMPTY: ArrayLike<number> = new Int32Array(0);

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
      for (const e of g.inOf(y)) {
        if (used[e]) continue;
        used[e] = 1;
        for (const x of g.edges[e]!.sources) {
          if (dist[x] !== -1) continue;
          dist[x] = d + 1;
          next[x] = y;
          queue.push(x);
        }
      }
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
