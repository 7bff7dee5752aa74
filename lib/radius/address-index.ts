import { AddressSet } from "../net";
import { Bitset } from "./bitset";

/**
 * Which of many address sets (party classes) meet a given set: the address space cut at every
 * boundary of the indexed sets into elementary intervals, each listing the sets covering it. A
 * question then walks only the elementary intervals its ranges cover.
 */
export class AddressIndex {
  private readonly families: Record<4 | 6, { starts: bigint[]; owners: number[][] }>;

  constructor(
    private readonly sets: readonly AddressSet[],
    private readonly size = sets.length,
  ) {
    this.families = { 4: this.index(4), 6: this.index(6) };
    this.span = AddressSet.unionAll(sets);
  }

  /** Every address of every indexed set. */
  private readonly span: AddressSet;
  private nonEmpty?: number[];

  private index(f: 4 | 6): { starts: bigint[]; owners: number[][] } {
    const cuts = new Set<bigint>();
    for (const s of this.sets)
      for (const [lo, hi] of s.family(f).ranges) {
        cuts.add(lo);
        cuts.add(hi + 1n);
      }
    const starts = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const owners: number[][] = starts.map(() => []);
    this.sets.forEach((s, id) => {
      for (const [lo, hi] of s.family(f).ranges)
        for (let i = firstAtOrAfter(starts, lo); i < starts.length && starts[i]! <= hi; i++)
          owners[i]!.push(id);
    });
    return { starts, owners };
  }

  /** The indexed sets meeting `q`, added to `into` (a new bitset by default). */
  meeting(q: AddressSet, into: Bitset = new Bitset(this.size)): Bitset {
    // A question covering every indexed address (a footprint of everything) meets every non-empty set.
    if (this.span.isSubsetOf(q)) {
      this.nonEmpty ??= this.sets.map((s, id) => (s.isEmpty() ? -1 : id)).filter((id) => id >= 0);
      for (const id of this.nonEmpty) into.add(id);
      return into;
    }
    for (const f of [4, 6] as const) {
      const { starts, owners } = this.families[f];
      if (starts.length === 0) continue;
      for (const [lo, hi] of q.family(f).ranges) {
        // The elementary interval holding lo starts at the last cut at or before it.
        let i = firstAtOrAfter(starts, lo + 1n) - 1;
        if (i < 0) i = 0;
        for (; i < starts.length && starts[i]! <= hi; i++) for (const id of owners[i]!) into.add(id);
      }
    }
    return into;
  }
}

/** The first index whose start is at or after x (starts ascending). */
function firstAtOrAfter(starts: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
