import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Hypercube, IntervalSet } from "../../lib/net";

const MAX = 7;

const arbDimSet = fc
  .array(fc.tuple(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 0, max: MAX })), {
    minLength: 1,
    maxLength: 2,
  })
  .map((pairs) =>
    IntervalSet.of(pairs.map(([a, b]) => [BigInt(Math.min(a, b)), BigInt(Math.max(a, b))] as const)),
  );

/** A set given as a list of products (each product one IntervalSet per dimension). */
const arbProducts = (dims: number) =>
  fc.array(fc.array(arbDimSet, { minLength: dims, maxLength: dims }), { maxLength: 5 });

function build(dims: number, products: IntervalSet[][]): Hypercube {
  return products.reduce((acc, p) => acc.union(Hypercube.product(p)), Hypercube.empty(dims));
}

function allPoints(dims: number): number[][] {
  let pts: number[][] = [[]];
  for (let d = 0; d < dims; d++) {
    const next: number[][] = [];
    for (const p of pts) for (let x = 0; x <= MAX; x++) next.push([...p, x]);
    pts = next;
  }
  return pts;
}

function modelOf(dims: number, products: IntervalSet[][]): Set<string> {
  const out = new Set<string>();
  for (const pt of allPoints(dims)) {
    if (products.some((p) => p.every((s, d) => s.has(BigInt(pt[d]!))))) out.add(pt.join(","));
  }
  return out;
}

function read(dims: number, c: Hypercube): Set<string> {
  const out = new Set<string>();
  for (const pt of allPoints(dims)) if (c.has(pt.map(BigInt))) out.add(pt.join(","));
  return out;
}

const eqSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/** Checks the canonical-form invariants: disjoint keys, distinct non-empty subs, ordered layers. */
function checkCanonical(c: Hypercube): void {
  if (c.dims === 0) return;
  const keys = new Set<string>();
  let prevMin: bigint | undefined;
  for (let i = 0; i < c.layers.length; i++) {
    const l = c.layers[i]!;
    expect(l.key.isEmpty()).toBe(false);
    expect(l.sub.isEmpty()).toBe(false);
    expect(keys.has(l.sub.key())).toBe(false);
    keys.add(l.sub.key());
    for (let j = 0; j < i; j++) expect(l.key.overlaps(c.layers[j]!.key)).toBe(false);
    if (prevMin !== undefined) expect(l.key.min()! > prevMin).toBe(true);
    prevMin = l.key.min();
    checkCanonical(l.sub);
  }
}

for (const dims of [2, 3]) {
  describe(`Hypercube (${dims} dimensions, each 0..${MAX})`, () => {
    const runs = dims === 2 ? 500 : 250;
    it("agrees with a Set-of-tuples model for union/intersect/subtract/subset/equals/overlaps/isEmpty", () => {
      fc.assert(
        fc.property(arbProducts(dims), arbProducts(dims), (pa, pb) => {
          const a = build(dims, pa);
          const b = build(dims, pb);
          const ma = modelOf(dims, pa);
          const mb = modelOf(dims, pb);
          expect(eqSet(read(dims, a), ma)).toBe(true);
          const u = a.union(b);
          const i = a.intersect(b);
          const d = a.subtract(b);
          for (const c of [a, b, u, i, d]) checkCanonical(c);
          expect(eqSet(read(dims, u), new Set([...ma, ...mb]))).toBe(true);
          expect(eqSet(read(dims, i), new Set([...ma].filter((x) => mb.has(x))))).toBe(true);
          expect(eqSet(read(dims, d), new Set([...ma].filter((x) => !mb.has(x))))).toBe(true);
          expect(a.isSubsetOf(b)).toBe([...ma].every((x) => mb.has(x)));
          expect(a.overlaps(b)).toBe([...ma].some((x) => mb.has(x)));
          expect(a.equals(b)).toBe(eqSet(ma, mb));
          expect(a.isEmpty()).toBe(ma.size === 0);
          expect(i.isEmpty()).toBe(!a.overlaps(b));
        }),
        { numRuns: runs },
      );
    });

    it("is canonical: different constructions of the same set have equal structure and keys", () => {
      fc.assert(
        fc.property(arbProducts(dims), (ps) => {
          const a = build(dims, ps);
          // reversed order
          const b = build(dims, [...ps].reverse());
          // point by point from the model
          const pts = [...modelOf(dims, ps)].map((k) =>
            k.split(",").map((x) => IntervalSet.single(BigInt(x))),
          );
          const c = Hypercube.unionAll(
            dims,
            pts.map((p) => Hypercube.product(p)),
          );
          // double complement within the universe
          const universe = Hypercube.product(new Array(dims).fill(IntervalSet.range(0n, BigInt(MAX))));
          const d = universe.subtract(universe.subtract(a));
          for (const x of [b, c, d]) {
            expect(x.equals(a)).toBe(true);
            expect(x.key()).toBe(a.key());
          }
        }),
        { numRuns: runs },
      );
    });

    it("projects, slices and restricts like the model", () => {
      fc.assert(
        fc.property(arbProducts(dims), fc.integer({ min: 0, max: dims - 1 }), arbDimSet, (ps, dim, vals) => {
          const a = build(dims, ps);
          const m = [...modelOf(dims, ps)].map((k) => k.split(",").map(Number));
          const proj = new Set(m.map((p) => p[dim]!));
          for (let x = 0; x <= MAX; x++) expect(a.project(dim).has(BigInt(x))).toBe(proj.has(x));
          const r = a.restrict(dim, vals);
          checkCanonical(r);
          const expected = new Set(m.filter((p) => vals.has(BigInt(p[dim]!))).map((p) => p.join(",")));
          expect(eqSet(read(dims, r), expected)).toBe(true);
          const dropped = a.dropPrefix(1);
          const expDrop = new Set(m.map((p) => p.slice(1).join(",")));
          expect(eqSet(read(dims - 1, dropped), expDrop)).toBe(true);
        }),
        { numRuns: runs },
      );
    });
  });
}

describe("Hypercube basics", () => {
  it("products decompose the set", () => {
    const a = Hypercube.product([IntervalSet.range(0n, 3n), IntervalSet.range(5n, 6n)]).union(
      Hypercube.product([IntervalSet.range(2n, 4n), IntervalSet.range(0n, 1n)]),
    );
    const parts = a.products();
    expect(
      Hypercube.unionAll(
        2,
        parts.map((p) => Hypercube.product(p)),
      ).equals(a),
    ).toBe(true);
    expect(a.layers.map((l) => l.key.toString())).toEqual(["0-1", "2-3", "4"]);
  });

  it("rejects mixed dimensions", () => {
    expect(() => Hypercube.empty(2).union(Hypercube.empty(3))).toThrow(RangeError);
  });
});
