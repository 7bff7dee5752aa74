import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntervalSet } from "../../lib/net";

const U = 64;

/** A random IntervalSet over 0..63 built from arbitrary (possibly overlapping, unordered) ranges. */
const arbSet = fc
  .array(fc.tuple(fc.integer({ min: 0, max: U - 1 }), fc.integer({ min: 0, max: U - 1 })), { maxLength: 6 })
  .map((pairs) =>
    IntervalSet.of(pairs.map(([a, b]) => [BigInt(Math.min(a, b)), BigInt(Math.max(a, b))] as const)),
  );

function model(s: IntervalSet): Set<number> {
  const out = new Set<number>();
  for (const [lo, hi] of s.ranges) for (let x = Number(lo); x <= Number(hi); x++) out.add(x);
  return out;
}

function fromModel(m: Set<number>): IntervalSet {
  return IntervalSet.of([...m].map((x) => [BigInt(x), BigInt(x)] as const));
}

function isCanonical(s: IntervalSet): boolean {
  const rs = s.ranges;
  for (let i = 0; i < rs.length; i++) {
    if (rs[i]![0] > rs[i]![1]) return false;
    if (i > 0 && rs[i]![0] <= rs[i - 1]![1] + 1n) return false;
  }
  return true;
}

const sameElements = (a: Set<number>, b: Set<number>) => a.size === b.size && [...a].every((x) => b.has(x));

describe("IntervalSet", () => {
  it("normalises overlapping, adjacent and unordered ranges", () => {
    const s = IntervalSet.of([
      [10n, 12n],
      [1n, 2n],
      [3n, 4n],
      [11n, 20n],
    ]);
    expect(s.ranges).toEqual([
      [1n, 4n],
      [10n, 20n],
    ]);
    expect(s.size()).toBe(15n);
    expect(s.min()).toBe(1n);
    expect(IntervalSet.EMPTY.min()).toBeUndefined();
    expect(IntervalSet.EMPTY.isEmpty()).toBe(true);
    expect(s.key()).toBe("1-4,a-14");
    expect(s.toString()).toBe("1-4, 10-20");
  });

  it("rejects reversed ranges", () => {
    expect(() => IntervalSet.range(5n, 4n)).toThrow(RangeError);
    expect(() => IntervalSet.of([[5n, 4n]])).toThrow(RangeError);
  });

  it("agrees with a Set<number> model on 0..63", () => {
    fc.assert(
      fc.property(arbSet, arbSet, fc.integer({ min: -1, max: U }), (a, b, x) => {
        const ma = model(a);
        const mb = model(b);
        const u = a.union(b);
        const i = a.intersect(b);
        const d = a.subtract(b);
        for (const s of [a, b, u, i, d]) expect(isCanonical(s)).toBe(true);
        expect(sameElements(model(u), new Set([...ma, ...mb]))).toBe(true);
        expect(sameElements(model(i), new Set([...ma].filter((v) => mb.has(v))))).toBe(true);
        expect(sameElements(model(d), new Set([...ma].filter((v) => !mb.has(v))))).toBe(true);
        expect(a.isSubsetOf(b)).toBe([...ma].every((v) => mb.has(v)));
        expect(a.overlaps(b)).toBe([...ma].some((v) => mb.has(v)));
        expect(a.equals(b)).toBe(sameElements(ma, mb));
        expect(a.key() === b.key()).toBe(sameElements(ma, mb));
        expect(a.has(BigInt(x))).toBe(ma.has(x));
        expect(a.size()).toBe(BigInt(ma.size));
        expect(a.isEmpty()).toBe(ma.size === 0);
        expect(a.min()).toBe(ma.size === 0 ? undefined : BigInt(Math.min(...ma)));
        // canonical: rebuilding from single points gives the identical structure
        expect(fromModel(ma).ranges).toEqual(a.ranges);
      }),
      { numRuns: 1000 },
    );
  });

  it("agrees with the model when one set has many more ranges than the other (search path)", () => {
    // Many short ranges over 0..255 against one or two: the skewed operations binary-search.
    const W = 256;
    const point = fc.integer({ min: 0, max: W - 1 });
    const many = fc
      .array(point, { minLength: 20, maxLength: 80 })
      .map((xs) => IntervalSet.of(xs.map((x) => [BigInt(x), BigInt(Math.min(W - 1, x + (x % 3)))] as const)));
    const few = fc
      .array(fc.tuple(point, point), { maxLength: 2 })
      .map((ps) =>
        IntervalSet.of(ps.map(([a, b]) => [BigInt(Math.min(a, b)), BigInt(Math.max(a, b))] as const)),
      );
    fc.assert(
      fc.property(many, few, fc.boolean(), (m, f, swap) => {
        const [a, b] = swap ? [f, m] : [m, f];
        const ma = model(a);
        const mb = model(b);
        const i = a.intersect(b);
        expect(isCanonical(i)).toBe(true);
        expect(sameElements(model(i), new Set([...ma].filter((v) => mb.has(v))))).toBe(true);
        expect(a.isSubsetOf(b)).toBe([...ma].every((v) => mb.has(v)));
        expect(b.isSubsetOf(a)).toBe([...mb].every((v) => ma.has(v)));
        expect(a.overlaps(b)).toBe([...ma].some((v) => mb.has(v)));
      }),
      { numRuns: 1000 },
    );
  });

  it("unionAll equals folding union", () => {
    fc.assert(
      fc.property(fc.array(arbSet, { maxLength: 6 }), (sets) => {
        const folded = sets.reduce((acc, s) => acc.union(s), IntervalSet.EMPTY);
        expect(IntervalSet.unionAll(sets).equals(folded)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
