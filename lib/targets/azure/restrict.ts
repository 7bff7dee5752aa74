import { AddressSet, IntervalSet } from "../../net";

type Ranges = ReadonlyArray<readonly [bigint, bigint]>;

/** Index of the first range whose end is ≥ x (ranges sorted and disjoint). */
function firstEndingAtOrAfter(rs: Ranges, x: bigint): number {
  let lo = 0;
  let hi = rs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rs[mid]![1] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `small ∩ big` by binary search in `big`: O(|small| log |big| + output), for sets of unequal sizes. */
function intersectRanges(small: Ranges, big: Ranges): Array<readonly [bigint, bigint]> {
  const out: Array<readonly [bigint, bigint]> = [];
  for (const [lo, hi] of small) {
    for (let j = firstEndingAtOrAfter(big, lo); j < big.length && big[j]![0] <= hi; j++) {
      const r = big[j]!;
      out.push([r[0] > lo ? r[0] : lo, r[1] < hi ? r[1] : hi]);
    }
  }
  return out;
}

/** Whether all of `x` lies in one range of `side` (a cheap, sufficient test for x ⊆ side). */
function insideOneRange(side: Ranges, x: Ranges): boolean {
  if (x.length === 0) return true;
  const lo = x[0]![0];
  const hi = x[x.length - 1]![1];
  const r = side[firstEndingAtOrAfter(side, lo)];
  return r !== undefined && r[0] <= lo && r[1] >= hi;
}

function restrictFamily(side: IntervalSet, x: IntervalSet): IntervalSet {
  const s = side.ranges;
  const xs = x.ranges;
  if (xs.length === 0 || insideOneRange(s, xs)) return x;
  if (s.length === 0) return IntervalSet.EMPTY;
  const out = s.length <= xs.length ? intersectRanges(s, xs) : intersectRanges(xs, s);
  // Both inputs are sorted and disjoint, so the pieces come out sorted (by the outer loop's order
  // when it walks the smaller set, which is sorted too) and disjoint.
  return IntervalSet.fromSorted(out);
}

/**
 * `side ∩ x`, returning `x` itself (the same object) when x lies within side, so callers can tell
 * "all of x" by identity. A rule side and a party's addresses are often of very different sizes (a
 * few prefixes against thousands of workloads' ranges, or `*` against anything): this costs the
 * smaller size times the logarithm of the larger, where a merge costs their sum.
 */
export function restrict(side: AddressSet, x: AddressSet): AddressSet {
  if (side === AddressSet.ALL || side === x) return x;
  const v4 = restrictFamily(side.v4, x.v4);
  const v6 = restrictFamily(side.v6, x.v6);
  if (v4 === x.v4 && v6 === x.v6) return x;
  if (v4.isEmpty() && v6.isEmpty()) return AddressSet.EMPTY;
  if (v4.equals(x.v4) && v6.equals(x.v6)) return x;
  return AddressSet.fromIntervals(v4, v6);
}

/** The smallest and largest address of each family (empty families as an empty hull). */
export interface Hull {
  v4: readonly [bigint, bigint] | undefined;
  v6: readonly [bigint, bigint] | undefined;
}

const familyHull = (s: IntervalSet): readonly [bigint, bigint] | undefined => {
  const rs = s.ranges;
  return rs.length === 0 ? undefined : [rs[0]![0], rs[rs.length - 1]![1]];
};

export const hullOf = (a: AddressSet): Hull => ({ v4: familyHull(a.v4), v6: familyHull(a.v6) });

const familyApart = (a: Hull["v4"], b: Hull["v4"]) => !a || !b || a[1] < b[0] || b[1] < a[0];

/** True when two sets cannot overlap because their hulls do not (a cheap test before `restrict`). */
export const hullsApart = (a: Hull, b: Hull): boolean => familyApart(a.v4, b.v4) && familyApart(a.v6, b.v6);
