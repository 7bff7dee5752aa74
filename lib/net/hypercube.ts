import { bigMin, exact, IntervalSet, type Range } from "./interval-set";

/** One layer of a hypercube: the points whose first coordinate is in `key` form exactly the set `sub`. */
export interface HypercubeLayer {
  /** Values of the first dimension (non-empty; disjoint from every other layer's key). */
  readonly key: IntervalSet;
  /** The set over the remaining dimensions shared by all those values (non-empty). */
  readonly sub: Hypercube;
}

type Op = "union" | "intersect" | "subtract";

/** A flattened layer range: `[lo, hi]` of the first dimension belongs to layer `idx`. */
interface Piece {
  readonly lo: bigint;
  readonly hi: bigint;
  readonly idx: number;
}

/**
 * An immutable set of points in an N-dimensional integer space (N >= 0), in canonical form
 * (np-guard's "CanonicalHypercubeSet"): a list of layers mapping pairwise disjoint IntervalSets of
 * dimension 0 to non-empty sub-sets of the remaining N-1 dimensions, where no two layers carry equal
 * sub-sets (equal sub-sets are merged into one layer with the union of their keys). Layers are
 * ordered by their key's smallest value. Because the form is unique, equal sets have equal structure
 * and equal `key()`s.
 *
 * A 0-dimensional set is either empty or the unit set (containing the empty tuple); it ends the
 * recursion. The space itself is unbounded: the caller chooses the universe of each dimension.
 */
export class Hypercube {
  private static readonly emptyByDims: Hypercube[] = [];
  /** The 0-dimensional set containing the empty tuple. */
  static readonly UNIT: Hypercube = new Hypercube(0, [], true);

  private static nextId = 0;
  /** @internal Unique object id (for memo signatures). */
  readonly id: number = Hypercube.nextId++;
  private cachedKey: string | undefined;
  private cachedPieces: Piece[] | undefined;
  private cachedProjections: Map<number, IntervalSet> | undefined;
  private cachedDrops: Map<number, Hypercube> | undefined;

  private constructor(
    /** Number of dimensions. */
    readonly dims: number,
    private readonly ls: readonly HypercubeLayer[],
    private readonly unit: boolean,
  ) {}

  /** The empty set of the given dimension. */
  static empty(dims: number): Hypercube {
    let e = Hypercube.emptyByDims[dims];
    if (e === undefined) {
      e = new Hypercube(dims, [], false);
      Hypercube.emptyByDims[dims] = e;
    }
    return e;
  }

  /** The cartesian product `sets[0] × sets[1] × …`; empty if any factor is empty. */
  static product(sets: readonly IntervalSet[]): Hypercube {
    return Hypercube.prefixed(sets, Hypercube.UNIT);
  }

  /** The product `keys[0] × … × keys[k-1] × sub`; empty if any factor is empty. */
  static prefixed(keys: readonly IntervalSet[], sub: Hypercube): Hypercube {
    const dims = keys.length + sub.dims;
    if (sub.isEmpty() || keys.some((k) => k.isEmpty())) return Hypercube.empty(dims);
    let cube = sub;
    for (let i = keys.length - 1; i >= 0; i--)
      cube = new Hypercube(cube.dims + 1, [{ key: keys[i]!, sub: cube }], false);
    return cube;
  }

  /**
   * Builds a set from arbitrary (key, sub) pairs of the same sub-dimension; keys may overlap (the
   * result is the union of all `key × sub`). Normalised to canonical form.
   */
  static fromLayers(dims: number, layers: Iterable<{ key: IntervalSet; sub: Hypercube }>): Hypercube {
    const cubes: Hypercube[] = [];
    for (const l of layers) cubes.push(Hypercube.prefixed([l.key], l.sub));
    if (cubes.some((c) => c.dims !== dims)) throw new RangeError("Hypercube.fromLayers: dimension mismatch");
    return Hypercube.unionAll(dims, cubes);
  }

  /**
   * The union of many sets of dimension `dims` in one n-ary sweep per dimension (much cheaper than
   * folding `union` over many operands).
   */
  static unionAll(dims: number, cubes: readonly Hypercube[]): Hypercube {
    for (const c of cubes) {
      if (c.dims !== dims)
        throw new RangeError(`Hypercube.unionAll: expected ${dims} dimensions, got ${c.dims}`);
    }
    return unionMany(dims, cubes);
  }

  /** The canonical layers (empty for the empty set and for 0-dimensional sets). */
  get layers(): ReadonlyArray<HypercubeLayer> {
    return this.ls;
  }

  /** True iff the set has no point. */
  isEmpty(): boolean {
    return this.dims === 0 ? !this.unit : this.ls.length === 0;
  }

  /** Membership of one point; `point.length` must equal `dims`. */
  has(point: readonly bigint[]): boolean {
    if (point.length !== this.dims) throw new RangeError(`Hypercube.has: expected ${this.dims} coordinates`);
    if (this.dims === 0) return this.unit;
    const [x, ...rest] = point;
    const idx = this.layerIndexOf(x!);
    return idx >= 0 && this.ls[idx]!.sub.has(rest);
  }

  /** Points in either set. */
  union(o: Hypercube): Hypercube {
    return combine(this, o, "union");
  }

  /** Points in both sets. */
  intersect(o: Hypercube): Hypercube {
    return combine(this, o, "intersect");
  }

  /** Points of this set not in `o`. */
  subtract(o: Hypercube): Hypercube {
    return combine(this, o, "subtract");
  }

  /** True iff every point of this set is in `o`. */
  isSubsetOf(o: Hypercube): boolean {
    return subset(this, o);
  }

  /** True iff the sets share at least one point. */
  overlaps(o: Hypercube): boolean {
    return overlap(this, o);
  }

  /**
   * True iff the product `keys[0] × … × keys[k-1] × sub` lies in this set: `Hypercube.prefixed(keys,
   * sub).isSubsetOf(this)` without building the product (the proof asks it once per path and class).
   */
  containsProduct(keys: readonly IntervalSet[], sub: Hypercube): boolean {
    if (keys.length + sub.dims !== this.dims)
      throw new RangeError("Hypercube.containsProduct: dimension mismatch");
    if (sub.isEmpty() || keys.some((k) => k.isEmpty())) return true;
    return containsProduct(this, keys, 0, sub);
  }

  /** True iff the product `keys[0] × … × keys[k-1] × sub` shares a point with this set (nothing built). */
  overlapsProduct(keys: readonly IntervalSet[], sub: Hypercube): boolean {
    if (keys.length + sub.dims !== this.dims)
      throw new RangeError("Hypercube.overlapsProduct: dimension mismatch");
    if (sub.isEmpty() || keys.some((k) => k.isEmpty())) return false;
    return overlapsProduct(this, keys, 0, sub);
  }

  /** True iff both sets contain exactly the same points (structural, thanks to the canonical form). */
  equals(o: Hypercube): boolean {
    return this === o || (this.dims === o.dims && this.key() === o.key());
  }

  /** Canonical string: equal sets (of equal dimension) have equal keys, different sets different keys. */
  key(): string {
    if (this.cachedKey === undefined) {
      if (this.dims === 0) this.cachedKey = this.unit ? "T" : "F";
      else if (this.dims === 1) this.cachedKey = `(${this.ls[0]?.key.key() ?? ""})`;
      else this.cachedKey = `{${this.ls.map((l) => `${l.key.key()}>${l.sub.key()}`).join(";")}}`;
    }
    return this.cachedKey;
  }

  /** The values of dimension `dim` that occur in some point (existential projection). */
  project(dim: number): IntervalSet {
    if (dim < 0 || dim >= this.dims) throw new RangeError(`Hypercube.project: no dimension ${dim}`);
    this.cachedProjections ??= new Map();
    let r = this.cachedProjections.get(dim);
    if (r === undefined) {
      if (dim === 0) r = IntervalSet.unionAll(this.ls.map((l) => l.key));
      else r = IntervalSet.unionAll(this.ls.map((l) => l.sub.project(dim - 1)));
      this.cachedProjections.set(dim, r);
    }
    return r;
  }

  /** The set over dimensions `k…dims-1` of all suffixes of points (existential over the first k dims). */
  dropPrefix(k: number): Hypercube {
    if (k === 0) return this;
    if (k > this.dims) throw new RangeError(`Hypercube.dropPrefix: only ${this.dims} dimensions`);
    this.cachedDrops ??= new Map();
    let r = this.cachedDrops.get(k);
    if (r === undefined) {
      r = unionMany(
        this.dims - k,
        this.ls.map((l) => l.sub.dropPrefix(k - 1)),
      );
      this.cachedDrops.set(k, r);
    }
    return r;
  }

  /** The sub-set of the remaining dimensions at first coordinate `x` (empty if `x` is absent). */
  slice(x: bigint): Hypercube {
    if (this.dims === 0) throw new RangeError("Hypercube.slice: no dimension left");
    const idx = this.layerIndexOf(x);
    return idx < 0 ? Hypercube.empty(this.dims - 1) : this.ls[idx]!.sub;
  }

  /**
   * Restricts dimension `dim` to `values` (intersection with the cylinder `… × values × …`) without
   * building the cylinder.
   */
  restrict(dim: number, values: IntervalSet): Hypercube {
    if (dim === 0) {
      const layers: HypercubeLayer[] = [];
      for (const l of this.ls) {
        const key = l.key.intersect(values);
        if (!key.isEmpty()) layers.push({ key, sub: l.sub });
      }
      layers.sort((a, b) => cmp(a.key.min()!, b.key.min()!));
      return Hypercube.fromCanonicalLayers(this.dims, layers);
    }
    const grouped = new Map<string, { sub: Hypercube; ranges: Range[] }>();
    for (const l of this.ls) {
      const sub = l.sub.restrict(dim - 1, values);
      if (sub.isEmpty()) continue;
      const g = grouped.get(sub.key());
      if (g === undefined) grouped.set(sub.key(), { sub, ranges: [...l.key.ranges] });
      else g.ranges.push(...l.key.ranges);
    }
    return fromGroups(this.dims, grouped);
  }

  /**
   * Applies an element-wise bijection to the values of dimension `dim`, given as a function on
   * IntervalSets that distributes over union and preserves disjointness (for example a swap of two
   * values). The result is canonical because a bijection keeps distinct sub-sets distinct.
   */
  mapDim(dim: number, f: (s: IntervalSet) => IntervalSet): Hypercube {
    if (this.isEmpty()) return this;
    if (dim === 0) {
      const layers = this.ls.map((l) => ({ key: f(l.key), sub: l.sub }));
      layers.sort((a, b) => cmp(a.key.min()!, b.key.min()!));
      return new Hypercube(this.dims, layers, false);
    }
    return new Hypercube(
      this.dims,
      this.ls.map((l) => ({ key: l.key, sub: l.sub.mapDim(dim - 1, f) })),
      false,
    );
  }

  /**
   * A decomposition into disjoint products (each entry lists one IntervalSet per dimension);
   * deterministic, follows the canonical layers. Can be larger than the layer count.
   */
  products(): IntervalSet[][] {
    if (this.dims === 0) return this.unit ? [[]] : [];
    const out: IntervalSet[][] = [];
    for (const l of this.ls) for (const p of l.sub.products()) out.push([l.key, ...p]);
    return out;
  }

  /** Index of the layer whose key contains `x`, or -1 (binary search over the flattened ranges). */
  private layerIndexOf(x: bigint): number {
    const ps = this.pieces();
    let a = 0;
    let b = ps.length - 1;
    while (a <= b) {
      const m = (a + b) >> 1;
      const p = ps[m]!;
      if (x < p.lo) b = m - 1;
      else if (x > p.hi) a = m + 1;
      else return p.idx;
    }
    return -1;
  }

  /** Flattened ranges of dimension 0, sorted, each tagged with its layer index (cached). */
  pieces(): Piece[] {
    if (this.cachedPieces === undefined) {
      const ps: Piece[] = [];
      this.ls.forEach((l, idx) => {
        for (const [lo, hi] of l.key.ranges) ps.push({ lo, hi, idx });
      });
      // One layer's ranges are already sorted (a product's, most often).
      if (this.ls.length > 1) ps.sort((a, b) => cmp(a.lo, b.lo));
      this.cachedPieces = exact(ps);
    }
    return this.cachedPieces;
  }

  /** @internal Builds from already canonical layers. */
  static fromCanonicalLayers(dims: number, layers: HypercubeLayer[]): Hypercube {
    return layers.length === 0 ? Hypercube.empty(dims) : new Hypercube(dims, exact(layers), false);
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Ranges of the first dimension grouped by the sub-set they lead to, for building canonical layers
 * from an ascending sweep. Grouped by object first (most results have one sub-set, or sub-sets
 * that are distinct objects and distinct sets); only when there are several are the sub-sets'
 * canonical keys compared, to merge equal sets that are different objects.
 */
class SweepGroups {
  // The first sub-set seen and its ranges are kept apart: most sweeps lead to one sub-set only, and
  // then no map is made.
  private firstSub: Hypercube | undefined;
  private firstRanges: Range[] = [];
  private byObject: Map<Hypercube, Range[]> | undefined;

  add(sub: Hypercube, lo: bigint, hi: bigint): void {
    if (this.firstSub === undefined) this.firstSub = sub;
    if (sub === this.firstSub) {
      this.firstRanges.push([lo, hi]);
      return;
    }
    this.byObject ??= new Map();
    const ranges = this.byObject.get(sub);
    if (ranges === undefined) this.byObject.set(sub, [[lo, hi]]);
    else ranges.push([lo, hi]);
  }

  /**
   * The canonical set. The sweep was ascending, so each object's ranges are sorted and objects
   * appear in order of their smallest value; a merged group keeps the place of its first object.
   */
  build(dims: number): Hypercube {
    const first = this.firstSub;
    if (first === undefined) return Hypercube.empty(dims);
    if (this.byObject === undefined)
      return Hypercube.prefixed([IntervalSet.fromSorted(this.firstRanges)], first);
    const layers: HypercubeLayer[] = [];
    const byKey = new Map<string, { sub: Hypercube; ranges: Range[]; merged: boolean }>();
    // The first object was seen first, the others in the order they were: by smallest value.
    const groups: Array<[Hypercube, Range[]]> = [[first, this.firstRanges], ...this.byObject];
    for (const [sub, ranges] of groups) {
      const k = sub.key();
      const g = byKey.get(k);
      if (g === undefined) byKey.set(k, { sub, ranges, merged: false });
      else {
        g.ranges = g.ranges.concat(ranges);
        g.merged = true;
      }
    }
    for (const g of byKey.values()) {
      if (g.merged) g.ranges.sort((a, b) => cmp(a[0], b[0]));
      layers.push({ key: IntervalSet.fromSorted(g.ranges), sub: g.sub });
    }
    return Hypercube.fromCanonicalLayers(dims, layers);
  }
}

/** Builds canonical layers from ranges grouped by sub-set key, in any order. */
function fromGroups(dims: number, grouped: Map<string, { sub: Hypercube; ranges: Range[] }>): Hypercube {
  const layers: HypercubeLayer[] = [];
  for (const g of grouped.values()) {
    g.ranges.sort((a, b) => cmp(a[0], b[0]));
    layers.push({ key: IntervalSet.fromSorted(g.ranges), sub: g.sub });
  }
  layers.sort((a, b) => cmp(a.key.min()!, b.key.min()!));
  return Hypercube.fromCanonicalLayers(dims, layers);
}

/** n-ary union: one sweep over the first dimension of all operands, recursing once per distinct overlap. */
function unionMany(dims: number, input: readonly Hypercube[]): Hypercube {
  let cubes = input.filter((c) => !c.isEmpty());
  if (cubes.length > 2) {
    // Equal sets that are different objects are swept once (their canonical keys are equal); with
    // one or two operands the keys would cost more than they save.
    const seen = new Set<string>();
    cubes = cubes.filter((c) => {
      const k = c.key();
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  if (cubes.length === 0) return Hypercube.empty(dims);
  if (cubes.length === 1) return cubes[0]!;
  if (cubes.length === 2) return cubes[0]!.union(cubes[1]!);
  if (dims === 1) return Hypercube.product([IntervalSet.unionAll(cubes.map((c) => c.layers[0]!.key))]);

  // Events: a piece of cube c (layer idx) starts at lo and ends after hi.
  interface Ev {
    at: bigint;
    cube: number;
    layer: number; // -1: end of that cube's current piece
  }
  const evs: Ev[] = [];
  cubes.forEach((c, ci) => {
    for (const p of c.pieces()) {
      evs.push({ at: p.lo, cube: ci, layer: p.idx });
      evs.push({ at: p.hi + 1n, cube: ci, layer: -1 });
    }
  });
  // At one position, ends sort before starts (a cube's next piece may start where the last ended).
  evs.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.layer - b.layer));
  const active = new Map<number, Hypercube>();
  const memo = new Map<string, Hypercube>();
  const grouped = new SweepGroups();
  let i = 0;
  while (i < evs.length) {
    const at = evs[i]!.at;
    for (; i < evs.length && evs[i]!.at === at; i++) {
      const e = evs[i]!;
      if (e.layer < 0) active.delete(e.cube);
      else active.set(e.cube, cubes[e.cube]!.layers[e.layer]!.sub);
    }
    if (active.size === 0 || i >= evs.length) continue;
    const next = evs[i]!.at;
    const subs = [...active.values()];
    let sub: Hypercube;
    if (subs.length === 1) sub = subs[0]!;
    else {
      const sig = subs
        .map((x) => x.id)
        .sort((a, b) => a - b)
        .join(",");
      let m = memo.get(sig);
      if (m === undefined) {
        m = unionMany(dims - 1, subs);
        memo.set(sig, m);
      }
      sub = m;
    }
    grouped.add(sub, at, next - 1n);
  }
  return grouped.build(dims);
}

function checkDims(a: Hypercube, b: Hypercube): void {
  if (a.dims !== b.dims) throw new RangeError(`Hypercube: dimension mismatch (${a.dims} vs ${b.dims})`);
}

function combine(a: Hypercube, b: Hypercube, op: Op): Hypercube {
  checkDims(a, b);
  const dims = a.dims;
  if (a === b) return op === "subtract" ? Hypercube.empty(dims) : a;
  if (a.isEmpty()) return op === "union" ? b : a;
  if (b.isEmpty()) return op === "intersect" ? b : a;
  if (dims === 0) {
    // both are the unit
    return op === "subtract" ? Hypercube.empty(0) : a;
  }
  if (dims === 1) {
    const x = a.layers[0]!.key;
    const y = b.layers[0]!.key;
    const r = op === "union" ? x.union(y) : op === "intersect" ? x.intersect(y) : x.subtract(y);
    if (r === x) return a;
    if (r === y) return b;
    return Hypercube.prefixed([r], Hypercube.UNIT);
  }

  const A = a.pieces();
  const B = b.pieces();
  const la = a.layers;
  const lb = b.layers;
  let memo: Map<number, Hypercube> | undefined;
  const stride = lb.length + 1;
  const grouped = new SweepGroups();

  const emit = (lo: bigint, hi: bigint, ia: number, ib: number): void => {
    let sub: Hypercube | undefined;
    if (ib < 0) {
      if (op === "intersect") return;
      sub = la[ia]!.sub;
    } else if (ia < 0) {
      if (op !== "union") return;
      sub = lb[ib]!.sub;
    } else {
      const k = ia * stride + ib;
      sub = memo?.get(k);
      if (sub === undefined) {
        sub = combine(la[ia]!.sub, lb[ib]!.sub, op);
        (memo ??= new Map()).set(k, sub);
      }
    }
    if (!sub.isEmpty()) grouped.add(sub, lo, hi);
  };

  if (op === "intersect" && (A.length * 8 < B.length || B.length * 8 < A.length)) {
    // A few pieces against many (a path's product against a whole rule set): each small piece
    // finds the large pieces it meets by binary search, in ascending order.
    const aSmall = A.length < B.length;
    const small = aSmall ? A : B;
    const large = aSmall ? B : A;
    let k = 0;
    for (const ps of small) {
      k = firstPieceEndingAtOrAfter(large, ps.lo, k);
      for (let m = k; m < large.length && large[m]!.lo <= ps.hi; m++) {
        const pl = large[m]!;
        const lo = ps.lo > pl.lo ? ps.lo : pl.lo;
        const hi = ps.hi < pl.hi ? ps.hi : pl.hi;
        if (aSmall) emit(lo, hi, ps.idx, pl.idx);
        else emit(lo, hi, pl.idx, ps.idx);
      }
    }
    return grouped.build(dims);
  }

  let i = 0;
  let j = 0;
  let aLo = A[0]?.lo ?? 0n;
  let bLo = B[0]?.lo ?? 0n;
  while (i < A.length && j < B.length) {
    const pa = A[i]!;
    const pb = B[j]!;
    if (aLo < bLo) {
      const end = pa.hi < bLo ? pa.hi : bLo - 1n;
      emit(aLo, end, pa.idx, -1);
      if (end === pa.hi) {
        i++;
        if (i < A.length) aLo = A[i]!.lo;
      } else aLo = bLo;
    } else if (bLo < aLo) {
      const end = pb.hi < aLo ? pb.hi : aLo - 1n;
      emit(bLo, end, -1, pb.idx);
      if (end === pb.hi) {
        j++;
        if (j < B.length) bLo = B[j]!.lo;
      } else bLo = aLo;
    } else {
      const end = bigMin(pa.hi, pb.hi);
      emit(aLo, end, pa.idx, pb.idx);
      if (end === pa.hi) {
        i++;
        if (i < A.length) aLo = A[i]!.lo;
      } else aLo = end + 1n;
      if (end === pb.hi) {
        j++;
        if (j < B.length) bLo = B[j]!.lo;
      } else bLo = end + 1n;
    }
  }
  if (op !== "intersect") {
    for (; i < A.length; i++) {
      emit(aLo, A[i]!.hi, A[i]!.idx, -1);
      if (i + 1 < A.length) aLo = A[i + 1]!.lo;
    }
  }
  if (op === "union") {
    for (; j < B.length; j++) {
      emit(bLo, B[j]!.hi, -1, B[j]!.idx);
      if (j + 1 < B.length) bLo = B[j + 1]!.lo;
    }
  }
  return grouped.build(dims);
}

/** The first index at or after `from` whose piece ends at or after `x` (pieces sorted, disjoint). */
function firstPieceEndingAtOrAfter(ps: readonly Piece[], x: bigint, from: number): number {
  let lo = from;
  let hi = ps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ps[mid]!.hi < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function subset(a: Hypercube, b: Hypercube): boolean {
  checkDims(a, b);
  if (a === b || a.isEmpty()) return true;
  if (b.isEmpty()) return false;
  if (a.dims === 0) return true;
  if (a.dims === 1) return a.layers[0]!.key.isSubsetOf(b.layers[0]!.key);
  const A = a.pieces();
  const B = b.pieces();
  // A product (one piece) against a large set is the proof's common question: no memo, and the
  // first piece of B is found by binary search rather than by walking B.
  const checked = A.length > 1 ? new Set<number>() : undefined;
  const search = A.length * 8 < B.length;
  const stride = b.layers.length + 1;
  let j = 0;
  for (const pa of A) {
    let lo = pa.lo;
    if (search) j = firstPieceEndingAtOrAfter(B, lo, j);
    else while (j < B.length && B[j]!.hi < lo) j++;
    let k = j;
    while (lo <= pa.hi) {
      const pb = B[k];
      if (pb === undefined || pb.lo > lo) return false;
      const key = pa.idx * stride + pb.idx;
      if (checked === undefined) {
        if (!subset(a.layers[pa.idx]!.sub, b.layers[pb.idx]!.sub)) return false;
      } else if (!checked.has(key)) {
        if (!subset(a.layers[pa.idx]!.sub, b.layers[pb.idx]!.sub)) return false;
        checked.add(key);
      }
      if (pb.hi >= pa.hi) break;
      lo = pb.hi + 1n;
      k++;
    }
  }
  return true;
}

/**
 * Layer indexes a product query has already decided: most keys meet one layer, so the latest is
 * kept apart and a list is made only for the others.
 */
class LayerMarks {
  private last = -1;
  private others: number[] | undefined;

  has(idx: number): boolean {
    return idx === this.last || (this.others?.includes(idx) ?? false);
  }

  add(idx: number): void {
    if (this.last >= 0) (this.others ??= []).push(this.last);
    this.last = idx;
  }
}

/** `containsProduct` from dimension `i` of the keys on (every key and `sub` non-empty). */
function containsProduct(b: Hypercube, keys: readonly IntervalSet[], i: number, sub: Hypercube): boolean {
  if (i === keys.length) return subset(sub, b);
  if (b.isEmpty()) return false;
  const key = keys[i]!;
  if (b.dims === 1) return key.isSubsetOf(b.layers[0]!.key);
  const B = b.pieces();
  const layers = b.layers;
  // Layers already found to hold the rest of the product.
  const held = new LayerMarks();
  const rs = key.ranges;
  let k = 0;
  for (let r = 0; r < rs.length; r++) {
    let lo = rs[r]![0];
    const hi = rs[r]![1];
    k = firstPieceEndingAtOrAfter(B, lo, k);
    while (lo <= hi) {
      const pb = B[k];
      if (pb === undefined || pb.lo > lo) return false;
      if (!held.has(pb.idx)) {
        if (!containsProduct(layers[pb.idx]!.sub, keys, i + 1, sub)) return false;
        held.add(pb.idx);
      }
      if (pb.hi >= hi) break;
      lo = pb.hi + 1n;
      k++;
    }
  }
  return true;
}

/** `overlapsProduct` from dimension `i` of the keys on (every key and `sub` non-empty). */
function overlapsProduct(b: Hypercube, keys: readonly IntervalSet[], i: number, sub: Hypercube): boolean {
  if (i === keys.length) return overlap(sub, b);
  if (b.isEmpty()) return false;
  const key = keys[i]!;
  if (b.dims === 1) return key.overlaps(b.layers[0]!.key);
  const B = b.pieces();
  const layers = b.layers;
  // Layers already found to miss the rest of the product.
  const missed = new LayerMarks();
  const rs = key.ranges;
  let k = 0;
  for (let r = 0; r < rs.length; r++) {
    const lo = rs[r]![0];
    const hi = rs[r]![1];
    k = firstPieceEndingAtOrAfter(B, lo, k);
    for (let m = k; m < B.length && B[m]!.lo <= hi; m++) {
      const idx = B[m]!.idx;
      if (missed.has(idx)) continue;
      if (overlapsProduct(layers[idx]!.sub, keys, i + 1, sub)) return true;
      missed.add(idx);
    }
  }
  return false;
}

function overlap(a: Hypercube, b: Hypercube): boolean {
  checkDims(a, b);
  if (a.isEmpty() || b.isEmpty()) return false;
  if (a === b || a.dims === 0) return true;
  if (a.dims === 1) return a.layers[0]!.key.overlaps(b.layers[0]!.key);
  const A = a.pieces();
  const B = b.pieces();
  const stride = b.layers.length + 1;
  if (A.length * 8 < B.length) {
    // Few pieces against many: find each piece's overlapping pieces of B by binary search.
    let k = 0;
    for (const pa of A) {
      k = firstPieceEndingAtOrAfter(B, pa.lo, k);
      for (let m = k; m < B.length && B[m]!.lo <= pa.hi; m++)
        if (overlap(a.layers[pa.idx]!.sub, b.layers[B[m]!.idx]!.sub)) return true;
    }
    return false;
  }
  const checked = new Set<number>();
  let i = 0;
  let j = 0;
  while (i < A.length && j < B.length) {
    const pa = A[i]!;
    const pb = B[j]!;
    if (pa.hi < pb.lo) i++;
    else if (pb.hi < pa.lo) j++;
    else {
      const key = pa.idx * stride + pb.idx;
      if (!checked.has(key)) {
        if (overlap(a.layers[pa.idx]!.sub, b.layers[pb.idx]!.sub)) return true;
        checked.add(key);
      }
      if (pa.hi < pb.hi) i++;
      else j++;
    }
  }
  return false;
}
