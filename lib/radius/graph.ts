import { AddressSet, ConnectionSet, ServiceSet } from "../net";
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
}

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
      ms: { classes: 0, footprints: 0, pairs: 0, adjacency: 0 },
    };
  }

  /** The hop graph of what `evaluators` let through between `options.parties` (default: the plan's). */
  static build(plan: Plan, evaluators: readonly TargetEvaluator[], options: HopGraphOptions = {}): HopGraph {
    const g = new HopGraph(plan, evaluators, options.parties ?? plan.parties);
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
    return a === undefined || b === undefined ? undefined : this.answers.get(a * this.classes.length + b);
  }

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
        const answer = this.answers.get(
          this.classOf.get(from)! * this.classes.length + this.classOf.get(to)!,
        );
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
        const answer = this.answers.get(
          this.classOf.get(from)! * this.classes.length + this.classOf.get(to)!,
        );
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
          key += `${enforced ? "E" : "-"}${ev.partyKey ? ev.partyKey(p) : `party\u0000${p.key}`}\u0001`;
        });
        let c = byKey.get(key);
        if (c === undefined) {
          c = this.classes.length;
          byKey.set(key, c);
          this.classes.push({ members: [], nodes: [], rep: p, addresses: AddressSet.EMPTY, enforcers });
        }
        const cls = this.classes[c]!;
        cls.members.push(p);
        cls.nodes.push(node.index);
        this.classOf.set(p, c);
      }
    });
    for (const cls of this.classes) {
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
      for (const b of candidates) {
        const B = this.classes[b]!;
        // No target decides between two parties it does not enforce (two peers): no hop.
        if (A.enforcers.length === 0 && B.enforcers.length === 0) continue;
        // And within the ingress footprint of every target enforcing the destination.
        let admitted = true;
        for (const e of B.enforcers) {
          const fp = fps[e];
          if (fp && !fp.ingress[b]!.has(a)) {
            admitted = false;
            break;
          }
        }
        if (!admitted) continue;
        this.stats.candidatePairs++;
        const answer = this.answer(A, B);
        if (!answer || answer.isEmpty()) continue;
        this.stats.connectedPairs++;
        this.answers.set(a * n + b, answer);
        this.project(a, b, answer);
      }
    }
    this.stats.bicliques = this.edges.length;
  }

  /** The intersection of `allowed` over the evaluators enforcing either class, in evaluator order. */
  private answer(A: PartyClass, B: PartyClass): ConnectionSet | undefined {
    let set: ConnectionSet | undefined;
    for (let e = 0; e < this.evaluators.length; e++) {
      if (!A.enforcers.includes(e) && !B.enforcers.includes(e)) continue;
      this.stats.allowedCalls++;
      const x = this.evaluators[e]!.allowed(A.rep, B.rep);
      set = set ? set.intersect(x) : x;
      if (set.isEmpty()) return set;
    }
    return set;
  }

  /** One biclique per product of the answer (members of each class meeting its sources and destinations). */
  private project(a: number, b: number, answer: ConnectionSet) {
    const A = this.classes[a]!;
    const B = this.classes[b]!;
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

  /** Adjacency in compressed rows: the edges leaving and entering each node. */
  private index() {
    const n = this.nodes.length;
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
