import { AddressSet, type ConnectionSet, type Packet } from "../net";
import { facetSlices } from "../plan/facets";
import type { Party, Slice } from "../plan/types";
import type { TargetEvaluator } from "./types";

/** The parties of one end of a path that a target cannot tell apart (one `partyKey`). */
export interface Group {
  key: string;
  /** Stands for the class in `allowed` questions. */
  representative: Party;
  slices: Slice[];
  /** What the path's end covers of the group's parties. */
  addresses: AddressSet;
}

/**
 * One target's evaluator seen class by class: on each end of a path, the parties with the same
 * `partyKey` form a group, asked about once through a representative (a member carrying the
 * group's addresses). Paths that share an end share its groups, so the answer is cached per pair
 * of groups. Without `partyKey`, every party is its own group and its own representative, so the
 * proof asks exactly what it would ask pair by pair.
 *
 * The answers are kept for one source end at a time: `prove` asks about the paths grouped by their
 * source end (`startSource`), so a pair asked again is asked while its answer is kept, and the
 * answers of a policy whose paths mostly join distinct pairs do not pile up for the whole proof.
 */
export class ClassView {
  private source: readonly Slice[] | undefined;
  private cache = new Map<Group, Map<Group, ConnectionSet>>();
  private readonly groups = new WeakMap<readonly Slice[], Group[]>();
  private readonly enforced = new Map<string, boolean>();

  constructor(readonly ev: TargetEvaluator) {}

  private keyOf(party: Party): string {
    return this.ev.partyKey ? this.ev.partyKey(party) : `party\u0000${party.key}`;
  }

  /** An end's slices grouped by class (cached: paths that share an end share its slices). */
  groupsOf(slices: readonly Slice[]): Group[] {
    const cached = this.groups.get(slices);
    if (cached) return cached;
    const byKey = new Map<string, Slice[]>();
    for (const s of this.expand(slices)) {
      const k = this.keyOf(s.party);
      const list = byKey.get(k);
      if (list) list.push(s);
      else byKey.set(k, [s]);
    }
    const out: Group[] = [];
    for (const [key, list] of byKey) {
      // Members often share one address set object (every unmodelled party stands at the unclaimed
      // addresses): unite each distinct set once.
      const distinct = list.length === 1 ? [list[0]!.addresses] : [...new Set(list.map((s) => s.addresses))];
      const addresses = distinct.length === 1 ? distinct[0]! : AddressSet.unionAll(distinct);
      const first = list[0]!.party;
      out.push({
        key,
        representative: this.ev.partyKey ? { ...first, addresses } : first,
        slices: list,
        addresses,
      });
    }
    this.groups.set(slices, out);
    return out;
  }

  /**
   * An end's slices as the target sees them: a workload placed on several targets split by facet
   * (each target decides only the packets of the facets it governs), and a party whose bound
   * compute this target sees with different attachments split by variant (each must pass an allow,
   * any one opens a forbid).
   */
  private expand(slices: readonly Slice[]): Slice[] {
    const out: Slice[] = [];
    for (const s of slices)
      for (const f of facetSlices(s)) {
        const variants = this.ev.variants?.(f.party);
        if (!variants || variants.length === 0) out.push(f);
        else for (const v of variants) out.push({ party: v, addresses: f.addresses });
      }
    return out;
  }

  enforces(g: Group): boolean {
    let e = this.enforced.get(g.key);
    if (e === undefined) this.enforced.set(g.key, (e = this.ev.enforces(g.representative)));
    return e;
  }

  /** The paths asked about next start at `slices`: the answers kept for another source end go. */
  startSource(slices: readonly Slice[]): void {
    if (slices === this.source) return;
    this.source = slices;
    this.cache = new Map();
  }

  /** Everything the target lets any member of `from` initiate to any member of `to`. */
  allowed(from: Group, to: Group): ConnectionSet {
    let row = this.cache.get(from);
    if (!row) this.cache.set(from, (row = new Map()));
    let set = row.get(to);
    if (!set) row.set(to, (set = this.ev.allowed(from.representative, to.representative)));
    return set;
  }
}

/** The member slices of two groups a packet runs between (for the witness and `decide`). */
export function membersOf(packet: Packet, from: Group, to: Group): { from: Slice; to: Slice } {
  const f = from.slices.find((s) => s.addresses.has(packet.src)) ?? from.slices[0]!;
  const t = to.slices.find((s) => s.addresses.has(packet.dst)) ?? to.slices[0]!;
  return { from: f, to: t };
}
