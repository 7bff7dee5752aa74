/** The smaller of two bigints (Math.min does not accept bigint). */
export function bigMin(a: bigint, b: bigint): bigint {
  return a <= b ? a : b;
}

/** The larger of two bigints (Math.max does not accept bigint). */
export function bigMax(a: bigint, b: bigint): bigint {
  return a >= b ? a : b;
}

/**
 * An array built with `push` at its exact length. V8 grows a pushed array's backing store ahead of
 * its length (17 slots for the first element) and never gives the slack back, so every set kept
 * (rule sets, caches, pass sets) would carry and copy it through each garbage collection: the
 * copy is one small allocation that dies young.
 */
export function exact<T>(a: T[]): T[] {
  return a.slice();
}

/** One inclusive range `[lo, hi]` with `lo <= hi`. */
export type Range = readonly [bigint, bigint];

/** Above this ratio of range counts, operations binary-search the larger set instead of merging. */
const SKEW = 8;

/** The first index at or after `from` whose range ends at or after `x` (ranges sorted, disjoint). */
function firstEndingAtOrAfter(rs: readonly Range[], x: bigint, from: number): number {
  let lo = from;
  let hi = rs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rs[mid]![1] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * An immutable set of bigints stored as canonical ranges: sorted ascending, pairwise disjoint,
 * never adjacent (so `[1,2],[3,4]` is always stored as `[1,4]`), each inclusive `[lo, hi]`.
 * Equal sets therefore have identical `ranges` and identical `key()`. The empty set has no ranges.
 * Every operation is linear in the number of ranges (binary search for `has`).
 */
export class IntervalSet {
  /** The empty set. */
  static readonly EMPTY: IntervalSet = new IntervalSet([]);

  private cachedKey: string | undefined;

  private constructor(private readonly rs: readonly Range[]) {}

  /** The set `{lo, …, hi}` (inclusive both ends). Throws RangeError if `lo > hi`. */
  static range(lo: bigint, hi: bigint): IntervalSet {
    if (lo > hi) throw new RangeError(`IntervalSet.range: lo ${lo} is greater than hi ${hi}`);
    return new IntervalSet([[lo, hi]]);
  }

  /** The set `{x}`. */
  static single(x: bigint): IntervalSet {
    return new IntervalSet([[x, x]]);
  }

  /**
   * The union of the given inclusive ranges, in any order, overlapping or adjacent; normalised.
   * Throws RangeError for a range with `lo > hi`.
   */
  static of(ranges: Iterable<readonly [bigint, bigint]>): IntervalSet {
    const list: Range[] = [];
    for (const r of ranges) {
      if (r[0] > r[1]) throw new RangeError(`IntervalSet.of: lo ${r[0]} is greater than hi ${r[1]}`);
      list.push([r[0], r[1]]);
    }
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return IntervalSet.fromSorted(list);
  }

  /**
   * Builds from ranges already sorted by `lo` (they may overlap or touch; they are merged).
   * Internal fast path for the algebra; no validation beyond merging.
   */
  static fromSorted(sorted: readonly Range[]): IntervalSet {
    if (sorted.length === 0) return IntervalSet.EMPTY;
    const out: Range[] = [];
    let [lo, hi] = sorted[0]!;
    for (let i = 1; i < sorted.length; i++) {
      const r = sorted[i]!;
      if (r[0] <= hi + 1n) {
        if (r[1] > hi) hi = r[1];
      } else {
        out.push([lo, hi]);
        lo = r[0];
        hi = r[1];
      }
    }
    out.push([lo, hi]);
    return new IntervalSet(exact(out));
  }

  /** The union of many sets, merged in one pass (cheaper than folding `union`). */
  static unionAll(sets: Iterable<IntervalSet>): IntervalSet {
    const all: Range[] = [];
    for (const s of sets) for (const r of s.rs) all.push(r);
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return IntervalSet.fromSorted(all);
  }

  /** The canonical ranges (sorted, disjoint, non-adjacent, inclusive). Empty array for the empty set. */
  get ranges(): ReadonlyArray<readonly [bigint, bigint]> {
    return this.rs;
  }

  /** True iff the set has no element. */
  isEmpty(): boolean {
    return this.rs.length === 0;
  }

  /** Number of elements (0n for the empty set). */
  size(): bigint {
    let n = 0n;
    for (const [lo, hi] of this.rs) n += hi - lo + 1n;
    return n;
  }

  /** Membership test (binary search). */
  has(x: bigint): boolean {
    return this.indexOf(x) >= 0;
  }

  /** Index of the range containing `x`, or -1. */
  private indexOf(x: bigint): number {
    let a = 0;
    let b = this.rs.length - 1;
    while (a <= b) {
      const m = (a + b) >> 1;
      const r = this.rs[m]!;
      if (x < r[0]) b = m - 1;
      else if (x > r[1]) a = m + 1;
      else return m;
    }
    return -1;
  }

  /** Smallest element, or undefined when empty. */
  min(): bigint | undefined {
    return this.rs[0]?.[0];
  }

  /** Largest element, or undefined when empty. */
  max(): bigint | undefined {
    return this.rs[this.rs.length - 1]?.[1];
  }

  /** Elements in either set. */
  union(o: IntervalSet): IntervalSet {
    if (o.rs.length === 0 || o === this) return this;
    if (this.rs.length === 0) return o;
    const a = this.rs;
    const b = o.rs;
    const merged: Range[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && a[i]![0] <= b[j]![0])) merged.push(a[i++]!);
      else merged.push(b[j++]!);
    }
    return IntervalSet.fromSorted(merged);
  }

  /** Elements in both sets. */
  intersect(o: IntervalSet): IntervalSet {
    if (o === this) return this;
    const a = this.rs;
    const b = o.rs;
    if (a.length === 0 || b.length === 0) return IntervalSet.EMPTY;
    // A few ranges against many (a workload's /28 against a peer's thousands): search, don't merge.
    if (a.length * SKEW < b.length || b.length * SKEW < a.length) {
      const [small, large] = a.length < b.length ? [a, b] : [b, a];
      const out: Range[] = [];
      let k = 0;
      for (const [lo, hi] of small) {
        k = firstEndingAtOrAfter(large, lo, k);
        for (let m = k; m < large.length && large[m]![0] <= hi; m++) {
          const r = large[m]!;
          out.push([r[0] > lo ? r[0] : lo, r[1] < hi ? r[1] : hi]);
        }
      }
      return out.length === 0 ? IntervalSet.EMPTY : new IntervalSet(exact(out));
    }
    const out: Range[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i]!;
      const y = b[j]!;
      const lo = bigMax(x[0], y[0]);
      const hi = bigMin(x[1], y[1]);
      if (lo <= hi) out.push([lo, hi]);
      if (x[1] < y[1]) i++;
      else j++;
    }
    return out.length === 0 ? IntervalSet.EMPTY : new IntervalSet(exact(out));
  }

  /** Elements of this set that are not in `o`. */
  subtract(o: IntervalSet): IntervalSet {
    const a = this.rs;
    const b = o.rs;
    if (a.length === 0 || b.length === 0) return this;
    if (o === this) return IntervalSet.EMPTY;
    const out: Range[] = [];
    let j = 0;
    for (const [lo0, hi] of a) {
      let lo = lo0;
      while (j < b.length && b[j]![1] < lo) j++;
      let k = j;
      while (k < b.length && b[k]![0] <= hi) {
        const [blo, bhi] = b[k]!;
        if (blo > lo) out.push([lo, blo - 1n]);
        if (bhi >= hi) {
          lo = hi + 1n;
          break;
        }
        lo = bhi + 1n;
        k++;
      }
      if (lo <= hi) out.push([lo, hi]);
    }
    return out.length === 0 ? IntervalSet.EMPTY : new IntervalSet(exact(out));
  }

  /** True iff every element of this set is in `o` (the empty set is a subset of everything). */
  isSubsetOf(o: IntervalSet): boolean {
    const b = o.rs;
    const search = this.rs.length * SKEW < b.length;
    let j = 0;
    for (const [lo, hi] of this.rs) {
      if (search) j = firstEndingAtOrAfter(b, lo, j);
      else while (j < b.length && b[j]![1] < lo) j++;
      const r = b[j];
      if (r === undefined || r[0] > lo || r[1] < hi) return false;
    }
    return true;
  }

  /** True iff both sets have exactly the same elements. */
  equals(o: IntervalSet): boolean {
    if (o === this) return true;
    const a = this.rs;
    const b = o.rs;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
    }
    return true;
  }

  /** True iff the sets share at least one element. */
  overlaps(o: IntervalSet): boolean {
    const a = this.rs;
    const b = o.rs;
    if (a.length * SKEW < b.length || b.length * SKEW < a.length) {
      const [small, large] = a.length < b.length ? [a, b] : [b, a];
      let k = 0;
      for (const [lo, hi] of small) {
        k = firstEndingAtOrAfter(large, lo, k);
        if (k < large.length && large[k]![0] <= hi) return true;
      }
      return false;
    }
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i]!;
      const y = b[j]!;
      if (x[1] < y[0]) i++;
      else if (y[1] < x[0]) j++;
      else return true;
    }
    return false;
  }

  /**
   * Canonical string: equal sets have equal keys and different sets different keys.
   * Hex ranges joined by commas (`"a-f,20"`); the empty set is `""`.
   */
  key(): string {
    if (this.cachedKey === undefined) {
      this.cachedKey = this.rs
        .map(([lo, hi]) => (lo === hi ? lo.toString(16) : `${lo.toString(16)}-${hi.toString(16)}`))
        .join(",");
    }
    return this.cachedKey;
  }

  /** Human readable decimal form, e.g. `"1-3, 7"`; `"∅"` when empty. */
  toString(): string {
    if (this.rs.length === 0) return "∅";
    return this.rs.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(", ");
  }
}
