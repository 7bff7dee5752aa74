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

    it("containsProduct / overlapsProduct agree with the model, split anywhere between keys and sub", () => {
      fc.assert(
        fc.property(
          arbProducts(dims),
          fc.array(arbDimSet, { minLength: dims, maxLength: dims }),
          fc.integer({ min: 0, max: dims }),
          (pb, p, split) => {
            const b = build(dims, pb);
            const mb = modelOf(dims, pb);
            const mp = modelOf(dims, [p]);
            const sub = Hypercube.product(p.slice(split));
            expect(b.containsProduct(p.slice(0, split), sub)).toBe([...mp].every((x) => mb.has(x)));
            expect(b.overlapsProduct(p.slice(0, split), sub)).toBe([...mp].some((x) => mb.has(x)));
          },
        ),
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

describe("Hypercube: a few pieces against many (the binary-search paths of subset, overlap, intersect)", () => {
  // Dimension 0 over 0..63 with up to 40 scattered ranges on one side, one or two on the other.
  const W = 64;
  const x = fc.integer({ min: 0, max: W - 1 });
  const y = fc.integer({ min: 0, max: 3 });
  const box = (x0: number, x1: number, y0: number, y1: number) =>
    Hypercube.product([
      IntervalSet.of([[BigInt(Math.min(x0, x1)), BigInt(Math.max(x0, x1))]]),
      IntervalSet.of([[BigInt(Math.min(y0, y1)), BigInt(Math.max(y0, y1))]]),
    ]);
  const many = fc.array(fc.tuple(x, y, y), { minLength: 20, maxLength: 40 }).map((ps) =>
    Hypercube.unionAll(
      2,
      ps.map(([a, b, c]) => box(a, a, b, c)),
    ),
  );
  const few = fc.array(fc.tuple(x, x, y, y), { minLength: 1, maxLength: 2 }).map((ps) =>
    Hypercube.unionAll(
      2,
      ps.map(([a, b, c, d]) => box(a, b, c, d)),
    ),
  );
  const points = (c: Hypercube) => {
    const out = new Set<string>();
    for (let i = 0; i < W; i++)
      for (let j = 0; j < 4; j++) if (c.has([BigInt(i), BigInt(j)])) out.add(`${i},${j}`);
    return out;
  };

  it("subset, overlap and intersect agree with the point model", () => {
    let searched = 0;
    fc.assert(
      fc.property(many, few, (m, f) => {
        const pm = points(m);
        const pf = points(f);
        if (f.pieces().length * 8 < m.pieces().length) searched++;
        expect(f.isSubsetOf(m)).toBe([...pf].every((p) => pm.has(p)));
        expect(m.isSubsetOf(f)).toBe([...pm].every((p) => pf.has(p)));
        expect(f.overlaps(m)).toBe([...pf].some((p) => pm.has(p)));
        expect(m.overlaps(f)).toBe([...pm].some((p) => pf.has(p)));
        // Intersection on the search path, both ways round, against the point model.
        const part = f.intersect(m);
        expect([...points(part)].sort()).toEqual([...pf].filter((p) => pm.has(p)).sort());
        expect(m.intersect(f).key()).toBe(part.key());
        checkCanonical(part);
        // The true side of subset on the search path: a part of the large set is inside it.
        expect(part.isSubsetOf(m)).toBe(true);
        expect(part.overlaps(m)).toBe(!part.isEmpty());
      }),
      { numRuns: 1000 },
    );
    // The generator must reach the search paths for this test to mean anything.
    expect(searched).toBeGreaterThan(100);
  });
});
