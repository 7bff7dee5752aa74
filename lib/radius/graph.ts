import { AddressSet, ConnectionSet, formatAddress, type Packet, Protocol, ServiceSet } from "../net";
import { nonPivotWorkloads } from "../plan/pivot";
import type { Party, Plan } from "../plan/types";
import type { Footprint, TargetEvaluator } from "../verify/types";
import { AddressIndex } from "./address-index";
import { Bitset } from "./bitset";

/*
 * The hop graph (DESIGN.md rule 10): a hop a → b exists for a packet when every target enforcing a
 * or b lets that packet through. For each ordered pair of parties it is the intersection of
 * `allowed(a, b)` over the evaluators enforcing either end, restricted to a's and b's addresses;
 * a pair no evaluator enforces has no hop (nothing proven about it; `prove` skips it too).
 *
 * Computed from the evaluators only, never from the model, and at scale:
 * - parties that every evaluator treats alike (same `partyKey` on each, same `enforces`) form a
 *   class, asked about once through a representative carrying the class's addresses, exactly as
 *   `prove` does per target;
 * - `footprint` (when the evaluators have it) rules out the pairs of classes that cannot connect
 *   before any `allowed` question: a source class's egress footprint on each of its enforcing
 *   targets, then the destination class's ingress footprint on each of its own;
 * - the answer for a pair of classes is projected onto their members cube by cube: a product
 *   (sources × destinations × services) of the answer connects every member meeting its sources
 *   to every member meeting its destinations. Each such biclique is kept as one edge of the graph
 *   (members × members), so a segment of ten reaching a segment of ten is one edge, not a hundred.
 */

/** A node: what an attacker compromises at once. A workload (all its facets), a peer, or an unmodelled party. */
export interface RadiusNode {
  index: number;
  name: string;
  /** "workload" and "peer" for what the policy names; unmodelled parties keep their own kind. */
  kind: string;
  /** The node's parties: one, or the facets of a workload placed on several targets. */
  parties: Party[];
  /** The plan's party for this node, when the policy names it (its intended connectivity). */
  planParty?: Party;
  /** Reached, it starts hops of its own: not a peer, and not `pivot: false`. */
  pivots: boolean;
}

/** Every source node may hop to every target node (one product of one pair of classes). */
export interface Biclique {
  sources: Int32Array;
  targets: Int32Array;
  /** The pair of classes whose answer it comes from. */
  from: number;
  to: number;
}

export interface HopGraphOptions {
  /**
   * The parties of the graph (default: the plan's). Parties sharing a `base` key (the facets of one
   * workload) are one node. Parties of kinds other than "workload" and "peer" (the unmodelled
   * endpoints of a target scope) pivot.
   */
  parties?: readonly Party[];
  /**
   * Ask the hops between unmodelled endpoints only when a traversal needs them (default true).
   * False asks every pair up front, like any other: the same graph, for tests.
   */
  lazyUnmodelled?: boolean;
}

/** What one build cost, for benchmarks and reports. */
export interface HopGraphStats {
  classes: number;
  /** Pairs of classes left after footprints, each asked of its evaluators. */
  candidatePairs: number;
  /** Pairs of classes connected by some packet. */
  connectedPairs: number;
  allowedCalls: number;
  bicliques: number;
  /** Pairs of unmodelled endpoints asked lazily (by traversals) so far. */
  lazyPairs: number;
  /** Wall time of each step (ms): classes, footprints, pairs (allowed questions and projection), adjacency. */
  ms: { classes: number; footprints: number; pairs: number; adjacency: number };
}

interface PartyClass {
  members: Party[];
  /** Node of each member. */
  nodes: number[];
  /** The distinct nodes of the members, ascending (computed on first use). */
  allNodes?: number[];
  /** Stands for the class in `allowed` questions: a member carrying the class's addresses. */
  rep: Party;
  addresses: AddressSet;
  /** Indices of the evaluators enforcing the class. */
  enforcers: number[];
  /** Some member is a party the policy does not name. */
  unmodelled: boolean;
  /** Only parties the policy does not name: its hops to other such classes are asked lazily. */
  lazy: boolean;
}

/** The packets `probe` tries: common services first. */
const PROBES: ReadonlyArray<readonly [number, number | undefined]> = [
  [Protocol.TCP, 443],
  [Protocol.TCP, 22],
  [Protocol.TCP, 80],
  [Protocol.UDP, 53],
  [Protocol.ICMP, undefined],
];

const baseKey = (p: Party): string => {
  const base = (p as { base?: unknown }).base;
  return typeof base === "string" ? base : p.key;
};

const withAddresses = (p: Party, addresses: AddressSet): Party =>
  p.addresses === addresses ? p : ({ ...p, addresses } as Party);

export class HopGraph {
  readonly nodes: RadiusNode[] = [];
  readonly edges: Biclique[] = [];
  readonly stats: HopGraphStats;
  private readonly nodeOf = new Map<string, number>();
  private readonly classes: PartyClass[] = [];
  private readonly classOf = new Map<Party, number>();
  /** The combined answer per connected pair of classes (key from * classes + to). */
  private readonly answers = new Map<number, ConnectionSet>();
  /** Per node, the edges it starts and the edges it ends (CSR: offsets then edge ids). */
  private outStart!: Int32Array;
  private outEdges!: Int32Array;
  private inStart!: Int32Array;
  private inEdges!: Int32Array;

  private constructor(
    readonly plan: Plan,
    readonly evaluators: readonly TargetEvaluator[],
    parties: readonly Party[],
  ) {
    const nonPivot = nonPivotWorkloads(plan.policy, plan.members);
    for (const p of parties) {
      const key = baseKey(p);
      let i = this.nodeOf.get(key);
      if (i === undefined) {
        i = this.nodes.length;
        this.nodeOf.set(key, i);
        const planParty = plan.party(key);
        this.nodes.push({
          index: i,
          name: p.name,
          kind: p.kind,
          parties: [],
          ...(planParty ? { planParty } : {}),
          pivots: p.kind !== "peer" && !(p.kind === "workload" && nonPivot.has(p.name)),
        });
      }
      this.nodes[i]!.parties.push(p);
    }
    this.stats = {
      classes: 0,
      candidatePairs: 0,
      connectedPairs: 0,
      allowedCalls: 0,
      bicliques: 0,
      lazyPairs: 0,
      ms: { classes: 0, footprints: 0, pairs: 0, adjacency: 0 },
    };
  }

  /** The hop graph of what `evaluators` let through between `options.parties` (default: the plan's). */
  static build(plan: Plan, evaluators: readonly TargetEvaluator[], options: HopGraphOptions = {}): HopGraph {
    const g = new HopGraph(plan, evaluators, options.parties ?? plan.parties);
    g.lazyUnmodelled = options.lazyUnmodelled ?? true;
    let at = performance.now();
    const lap = (step: keyof HopGraphStats["ms"]) => {
      const now = performance.now();
      g.stats.ms[step] += now - at;
      at = now;
    };
    g.classify();
    lap("classes");
    const fps = g.footprints();
    lap("footprints");
    g.connect(fps);
    lap("pairs");
    g.index();
    lap("adjacency");
    return g;
  }

  /** The node of a party (or of its base workload), by key. */
  node(key: string): RadiusNode | undefined {
    const i = this.nodeOf.get(key);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** Edge ids leaving node `n`. */
  outOf(n: number): Int32Array {
    return this.outEdges.subarray(this.outStart[n]!, this.outStart[n + 1]!);
  }

  /** Edge ids entering node `n`. */
  inOf(n: number): Int32Array {
    return this.inEdges.subarray(this.inStart[n]!, this.inStart[n + 1]!);
  }

  /** The combined answer for the classes of two parties (over the classes' addresses), if they connect. */
  answerOf(from: Party, to: Party): ConnectionSet | undefined {
    const a = this.classOf.get(from);
    const b = this.classOf.get(to);
    if (a === undefined || b === undefined) return undefined;
    const pair = a * this.classes.length + b;
    if (!this.connected.has(pair) && !(this.classes[a]!.lazy && this.classes[b]!.lazy && this.lazyHop(a, b)))
      return undefined;
    // (A lazy pair connects its classes; each node pair is then told by its addresses, as for any pair.)
    // Not kept for unmodelled endpoints (they stand for thousands of ranges): asked again.
    return this.answers.get(pair) ?? this.answer(a, b)!;
  }

  // ---- hops between unmodelled endpoints, asked lazily ----

  /*
   * The endpoints the model does not name are many at scale (the other pods of every namespace, the
   * other ports of every DPU) and often open to one another: asking every pair of them up front
   * would cost more than the rest of the graph. Their hops among themselves are asked when a
   * traversal needs them, only towards endpoints it has not reached yet (a breadth-first search
   * through a clique of them asks each once), and cached.
   */
  private fps: ReturnType<HopGraph["footprints"]> = [];
  private lazyUnmodelled = true;
  /** Per class, the classes its egress footprints let it reach (all classes without footprints). */
  private readonly candidatesOut: Bitset[] = [];
  private readonly lazyAnswers = new Map<number, boolean>();

  /** Whether the destination class's ingress footprints, on every target enforcing it, admit the source class. */
  private admits(a: number, b: number): boolean {
    const A = this.classes[a]!;
    const B = this.classes[b]!;
    // No target decides between two parties it does not enforce (two peers): no hop.
    if (A.enforcers.length === 0 && B.enforcers.length === 0) return false;
    for (const e of B.enforcers) {
      const fp = this.fps[e];
      if (fp && !fp.ingress[b]!.has(a)) return false;
    }
    return true;
  }

  /** Whether lazy class `a` hops to lazy class `b`: some packet, between some of their members. */
  private lazyHop(a: number, b: number): boolean {
    if (!this.candidatesOut[a]!.has(b) || !this.admits(a, b)) return false;
    const pair = a * this.classes.length + b;
    let hit = this.lazyAnswers.get(pair);
    if (hit === undefined) {
      // A packet every enforcing target lets through proves the hop at once; else the whole answer.
      hit = this.probe(a, b) || !(this.answer(a, b)?.isEmpty() ?? true);
      this.lazyAnswers.set(pair, hit);
      this.stats.lazyPairs++;
    }
    return hit;
  }

  /**
   * Whether one of a few common packets between the two classes' lowest addresses passes every
   * target enforcing either (`decide`, one packet each: cheap where the classes stand for thousands
   * of ranges). A proof that the hop exists; a miss proves nothing.
   */
  private probe(a: number, b: number): boolean {
    const A = this.classes[a]!;
    const B = this.classes[b]!;
    return this.probeParties(A.rep, B.rep, A, B);
  }

  /** `probe` between two parties (of classes A and B), at their own lowest addresses. */
  private probeParties(from: Party, to: Party, A: PartyClass, B: PartyClass): boolean {
    const enforcing = this.evaluators.filter((_, e) => A.enforcers.includes(e) || B.enforcers.includes(e));
    if (enforcing.length === 0) return false;
    for (const family of [4, 6] as const) {
      const src = from.addresses.family(family).min();
      const dst = to.addresses.family(family).min();
      if (src === undefined || dst === undefined) continue;
      for (const [protocol, port] of PROBES) {
        const packet: Packet = {
          family,
          src: formatAddress(family, src),
          dst: formatAddress(family, dst),
          protocol: protocol === Protocol.ICMP && family === 6 ? Protocol.ICMPV6 : protocol,
          ...(port !== undefined ? { port } : {}),
        };
        if (enforcing.every((ev) => ev.decide(from, to, packet).verdict === "allow")) return true;
      }
    }
    return false;
  }

  /** Whether node `x` is an unmodelled endpoint whose hops to other such endpoints are lazy. */
  isLazy(x: number): boolean {
    return this.lazyNode[x] === 1;
  }

  /** Whether lazy node `x` hops to lazy node `y` (their classes', then their own addresses'). */
  lazyEdge(x: number, y: number): boolean {
    if (x === y || !this.isLazy(x) || !this.isLazy(y)) return false;
    const key = x * this.nodes.length + y;
    let hit = this.lazyEdges.get(key);
    if (hit === undefined) {
      hit = false;
      for (const px of this.nodes[x]!.parties)
        for (const py of this.nodes[y]!.parties) {
          const a = this.classOf.get(px)!;
          const b = this.classOf.get(py)!;
          if (!this.lazyHop(a, b)) continue;
          const A = this.classes[a]!;
          const B = this.classes[b]!;
          // A class of one party each side needs no look at the addresses; else a packet between
          // the two parties' own addresses proves it, or the whole answer is asked (and dropped).
          hit =
            (A.members.length === 1 && B.members.length === 1) ||
            this.probeParties(px, py, A, B) ||
            (this.answer(a, b)?.overlapsProduct(px.addresses, py.addresses, ServiceSet.ALL) ?? false);
          if (hit) break;
        }
      this.lazyEdges.set(key, hit);
    }
    return hit;
  }

  /** The lazy nodes `x` may hop to by its footprints (none asked yet). */
  lazyCandidateNodes(x: number): number[] {
    if (!this.isLazy(x)) return [];
    const out = new Set<number>();
    for (const px of this.nodes[x]!.parties)
      for (const b of this.candidatesOut[this.classOf.get(px)!]!) {
        const B = this.classes[b]!;
        if (B.lazy) for (const y of B.nodes) if (y !== x) out.add(y);
      }
    return [...out];
  }

  /** The lazy nodes `x` hops to among those `want` accepts (asked only for those). */
  lazyTargets(x: number, want: (y: number) => boolean): number[] {
    return this.lazyCandidateNodes(x).filter((y) => want(y) && this.lazyEdge(x, y));
  }

  /** The lazy nodes that hop to `y` among those `want` accepts. */
  lazySources(y: number, want: (x: number) => boolean): number[] {
    if (!this.isLazy(y)) return [];
    return this.lazyList.filter((x) => x !== y && want(x) && this.lazyEdge(x, y));
  }

  /** The lazy nodes, in order. */
  lazyNodes(): number[] {
    return this.lazyList;
  }

  /** How many lazy hops `x` may have, before any is asked (footprint candidates). */
  lazyCandidates(x: number): number {
    return this.lazyCandidateNodes(x).length;
  }

  private readonly lazyEdges = new Map<number, boolean>();
  /** Per node, 1 when it is lazy (unmodelled, every party in a lazy class). */
  private lazyNode!: Uint8Array;
  private lazyList: number[] = [];

  /** Connected pairs of classes (from * classes + to). */
  private readonly connected = new Set<number>();

  /**
   * What node `x` may send node `y` in one hop, as the facet pairs that carry it: for each pair of
   * their parties, the combined answer of their classes restricted to their addresses (and to
   * `within`, when given: a forbid's addresses and services on a first or last hop).
   */
  hop(
    x: number,
    y: number,
    within: { src?: AddressSet; dst?: AddressSet; services?: ServiceSet } = {},
  ): Array<{ from: Party; to: Party; set: ConnectionSet }> {
    const out: Array<{ from: Party; to: Party; set: ConnectionSet }> = [];
    for (const from of this.nodes[x]!.parties)
      for (const to of this.nodes[y]!.parties) {
        const answer = this.answerOf(from, to);
        if (!answer) continue;
        const src = within.src ? from.addresses.intersect(within.src) : from.addresses;
        const dst = within.dst ? to.addresses.intersect(within.dst) : to.addresses;
        const services = within.services ?? ServiceSet.ALL;
        if (src.isEmpty() || dst.isEmpty() || !answer.overlapsProduct(src, dst, services)) continue;
        out.push({ from, to, set: answer.intersect(ConnectionSet.of(src, dst, services)) });
      }
    return out;
  }

  /** Whether `x` may send `y` anything within `within` in one hop (no set built). */
  hops(
    x: number,
    y: number,
    within: { src?: AddressSet; dst?: AddressSet; services?: ServiceSet } = {},
  ): boolean {
    for (const from of this.nodes[x]!.parties)
      for (const to of this.nodes[y]!.parties) {
        const answer = this.answerOf(from, to);
        if (!answer) continue;
        const src = within.src ? from.addresses.intersect(within.src) : from.addresses;
        const dst = within.dst ? to.addresses.intersect(within.dst) : to.addresses;
        if (src.isEmpty() || dst.isEmpty()) continue;
        if (answer.overlapsProduct(src, dst, within.services ?? ServiceSet.ALL)) return true;
      }
    return false;
  }

  // ---- building ----

  /** Classes: parties every evaluator keys alike and that the same evaluators enforce. */
  private classify() {
    const byKey = new Map<string, number>();
    this.nodes.forEach((node) => {
      for (const p of node.parties) {
        const enforcers: number[] = [];
        let key = "";
        this.evaluators.forEach((ev, i) => {
          const enforced = ev.enforces(p);
          if (enforced) enforcers.push(i);
          // A party whose compute a target tells apart in variants is answered as the union of
          // them: its own class there (a key need not speak for a union of attachments).
          const own = !ev.partyKey || (ev.variants?.(p).length ?? 0) > 1;
          key += `${enforced ? "E" : "-"}${own ? `party\u0000${p.key}` : ev.partyKey!(p)}\u0001`;
        });
        let c = byKey.get(key);
        if (c === undefined) {
          c = this.classes.length;
          byKey.set(key, c);
          this.classes.push({
            members: [],
            nodes: [],
            rep: p,
            addresses: AddressSet.EMPTY,
            enforcers,
            unmodelled: false,
            lazy: false,
          });
        }
        const cls = this.classes[c]!;
        cls.members.push(p);
        cls.nodes.push(node.index);
        if (p.kind !== "workload" && p.kind !== "peer") cls.unmodelled = true;
        this.classOf.set(p, c);
      }
    });
    for (const cls of this.classes) {
      cls.lazy = this.lazyUnmodelled && cls.members.every((m) => m.kind !== "workload" && m.kind !== "peer");
      cls.addresses =
        cls.members.length === 1
          ? cls.rep.addresses
          : AddressSet.unionAll(cls.members.map((m) => m.addresses));
      cls.rep = withAddresses(cls.rep, cls.addresses);
    }
    this.stats.classes = this.classes.length;
  }

  /**
   * Per evaluator with footprints, the classes each class may reach (egress) or be reached from
   * (ingress) on that target, as bitsets over classes; one footprint per group of classes the
   * evaluator keys alike (asked of a member carrying the group's addresses).
   */
  private footprints(): Array<{ egress: Bitset[]; ingress: Bitset[] } | undefined> {
    const n = this.classes.length;
    const index = new AddressIndex(
      this.classes.map((c) => c.addresses),
      n,
    );
    return this.evaluators.map((ev, e) => {
      if (!ev.footprint || !ev.identityNames) return undefined;
      // Which classes carry each name (identities of every member).
      const named = new Map<string, Bitset>();
      this.classes.forEach((c, id) => {
        for (const m of c.members)
          for (const name of ev.identityNames!(m)) {
            let b = named.get(name);
            if (!b) named.set(name, (b = new Bitset(n)));
            b.add(id);
          }
      });
      const reached = (fp: Footprint): Bitset => {
        const b = fp.addresses.isEmpty() ? new Bitset(n) : index.meeting(fp.addresses);
        for (const name of fp.names) {
          const m = named.get(name);
          if (m) b.or(m);
        }
        return b;
      };
      // Groups of classes this evaluator enforces and keys alike.
      const groups = new Map<string, number[]>();
      this.classes.forEach((c, id) => {
        if (!c.enforcers.includes(e)) return;
        const key = ev.partyKey ? ev.partyKey(c.rep) : `class\u0000${id}`;
        const list = groups.get(key);
        if (list) list.push(id);
        else groups.set(key, [id]);
      });
      const egress: Bitset[] = [];
      const ingress: Bitset[] = [];
      for (const ids of groups.values()) {
        const first = this.classes[ids[0]!]!;
        const rep =
          ids.length === 1
            ? first.rep
            : withAddresses(first.rep, AddressSet.unionAll(ids.map((id) => this.classes[id]!.addresses)));
        const out = reached(ev.footprint(rep, "egress"));
        const inn = reached(ev.footprint(rep, "ingress"));
        for (const id of ids) {
          egress[id] = out;
          ingress[id] = inn;
        }
      }
      return { egress, ingress };
    });
  }

  /** Every connected pair of classes, projected onto the members as bicliques. */
  private connect(fps: ReturnType<HopGraph["footprints"]>) {
    const n = this.classes.length;
    this.fps = fps;
    const everything = Bitset.full(n);
    for (let a = 0; a < n; a++) {
      const A = this.classes[a]!;
      // Candidates: within the egress footprint of every target enforcing the source.
      let candidates = everything;
      for (const e of A.enforcers) {
        const fp = fps[e];
        if (!fp) continue;
        if (candidates === everything) candidates = fp.egress[a]!.clone();
        else candidates.and(fp.egress[a]!);
      }
      this.candidatesOut[a] = candidates;
      for (const b of candidates) {
        const B = this.classes[b]!;
        // Two unmodelled endpoints: asked only when a traversal needs it (`lazyTargets`).
        if (A.lazy && B.lazy) continue;
        if (!this.admits(a, b)) continue;
        this.stats.candidatePairs++;
        const answer = this.answer(a, b);
        if (!answer || answer.isEmpty()) continue;
        this.stats.connectedPairs++;
        this.connected.add(a * n + b);
        // Unmodelled endpoints stand for large address sets and are many: their answers are asked
        // again when a hop is explained, rather than kept (`answerOf`).
        if (!A.unmodelled && !B.unmodelled) this.answers.set(a * n + b, answer);
        this.project(a, b, answer);
      }
    }
    this.stats.bicliques = this.edges.length;
  }

  /**
   * The intersection of `allowed` over the evaluators enforcing either class, in evaluator order.
   * A target that enforces one class only sees the other by address: two far classes it keys alike
   * and that hold the same addresses get the same answer from it. The unmodelled endpoints of other
   * targets are many and mostly stand for the same (unclaimed) addresses: towards them, each
   * answer is asked once (`oneSided`).
   */
  private answer(a: number, b: number): ConnectionSet | undefined {
    const A = this.classes[a]!;
    const B = this.classes[b]!;
    let set: ConnectionSet | undefined;
    for (let e = 0; e < this.evaluators.length; e++) {
      const onA = A.enforcers.includes(e);
      const onB = B.enforcers.includes(e);
      if (!onA && !onB) continue;
      const ev = this.evaluators[e]!;
      let x: ConnectionSet;
      const farClass = onA ? B : A;
      if (onA !== onB && ev.partyKey && farClass.unmodelled) {
        const near = onA ? a : b;
        const key = `${e}\u0000${onA ? ">" : "<"}${near}\u0000${ev.partyKey(farClass.rep)}`;
        let byAddresses = this.oneSided.get(key);
        if (!byAddresses) this.oneSided.set(key, (byAddresses = new Map()));
        let hit = byAddresses.get(farClass.addresses);
        if (!hit) {
          this.stats.allowedCalls++;
          byAddresses.set(farClass.addresses, (hit = ev.allowed(A.rep, B.rep)));
        }
        x = hit;
      } else {
        this.stats.allowedCalls++;
        x = ev.allowed(A.rep, B.rep);
      }
      set = set ? set.intersect(x) : x;
      if (set.isEmpty()) return set;
    }
    return set;
  }

  /** One-sided answers by target, near class and far key, then by the far class's addresses. */
  private readonly oneSided = new Map<string, Map<AddressSet, ConnectionSet>>();

  /** One biclique per product of the answer (members of each class meeting its sources and destinations). */
  private project(a: number, b: number, answer: ConnectionSet) {
    const A = this.classes[a]!;
    const B = this.classes[b]!;
    // One node each side (a peer, an unmodelled endpoint, a workload alone in its class): one edge.
    if (A.members.length === 1 && B.members.length === 1) {
      if (A.nodes[0] !== B.nodes[0])
        this.edges.push({
          sources: Int32Array.of(A.nodes[0]!),
          targets: Int32Array.of(B.nodes[0]!),
          from: a,
          to: b,
        });
      return;
    }
    const cubes = answer.cubes();
    // Products often share their member sets (one per family, per service range): one edge each.
    const seen = cubes.length > 1 ? new Set<string>() : undefined;
    for (const cube of cubes) {
      const sources = membersMeeting(A, cube.src);
      const targets = membersMeeting(B, cube.dst);
      if (sources.length === 0 || targets.length === 0) continue;
      // Only a node hopping to another node is a hop.
      if (sources.length === 1 && targets.length === 1 && sources[0] === targets[0]) continue;
      if (seen) {
        const key = `${sources.join(",")}>${targets.join(",")}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      this.edges.push({
        sources: Int32Array.from(sources),
        targets: Int32Array.from(targets),
        from: a,
        to: b,
      });
    }
  }

  /** Adjacency in compressed rows: the edges leaving and entering each node; which nodes are lazy. */
  private index() {
    const n = this.nodes.length;
    this.lazyNode = new Uint8Array(n);
    for (const node of this.nodes)
      if (node.parties.every((p) => this.classes[this.classOf.get(p)!]!.lazy)) {
        this.lazyNode[node.index] = 1;
        this.lazyList.push(node.index);
      }
    const outCount = new Int32Array(n + 1);
    const inCount = new Int32Array(n + 1);
    for (const e of this.edges) {
      for (const s of e.sources) outCount[s + 1]!++;
      for (const t of e.targets) inCount[t + 1]!++;
    }
    for (let i = 0; i < n; i++) {
      outCount[i + 1]! += outCount[i]!;
      inCount[i + 1]! += inCount[i]!;
    }
    this.outStart = outCount;
    this.inStart = inCount;
    this.outEdges = new Int32Array(outCount[n]!);
    this.inEdges = new Int32Array(inCount[n]!);
    const outAt = outCount.slice(0, n);
    const inAt = inCount.slice(0, n);
    this.edges.forEach((e, id) => {
      for (const s of e.sources) this.outEdges[outAt[s]!++] = id;
      for (const t of e.targets) this.inEdges[inAt[t]!++] = id;
    });
  }
}

/** The distinct nodes of a class's members whose addresses meet `addresses`, ascending. */
function membersMeeting(c: PartyClass, addresses: AddressSet): number[] {
  if (c.members.length === 1 || c.addresses.isSubsetOf(addresses)) {
    if (c.members.length === 1 && !c.addresses.overlaps(addresses)) return [];
    c.allNodes ??= [...new Set(c.nodes)].sort((x, y) => x - y);
    return c.allNodes;
  }
  const out = new Set<number>();
  c.members.forEach((m, i) => {
    if (m.addresses.overlaps(addresses)) out.add(c.nodes[i]!);
  });
  return [...out].sort((x, y) => x - y);
}
