import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddressSet, IntervalSet } from "../../lib";
import { AddressIndex } from "../../lib/radius/address-index";
import { Bitset } from "../../lib/radius/bitset";
import { propertyRuns } from "../support/property-runs";

describe("Bitset", () => {
  it("behaves like a Set of small integers across many words", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((size) =>
            fc.tuple(
              fc.constant(size),
              fc.uniqueArray(fc.integer({ min: 0, max: size - 1 })),
              fc.uniqueArray(fc.integer({ min: 0, max: size - 1 })),
            ),
          ),
        ([size, xs, ys]) => {
          const a = new Bitset(size);
          const b = new Bitset(size);
          for (const x of xs) a.add(x);
          for (const y of ys) b.add(y);
          const sa = new Set(xs);
          const sb = new Set(ys);
          expect([...a]).toEqual([...sa].sort((p, q) => p - q));
          expect(a.count()).toBe(sa.size);
          expect(a.count(b)).toBe([...sa].filter((x) => sb.has(x)).length);
          expect(a.meets(b)).toBe([...sa].some((x) => sb.has(x)));
          const u = a.clone();
          u.or(b);
          expect([...u]).toEqual([...new Set([...xs, ...ys])].sort((p, q) => p - q));
          const i = a.clone();
          i.and(b);
          expect([...i]).toEqual([...sa].filter((x) => sb.has(x)).sort((p, q) => p - q));
          if (xs.length > 0) {
            a.delete(xs[0]!);
            expect(a.has(xs[0]!)).toBe(false);
          }
          expect([...Bitset.full(size)]).toHaveLength(size);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
  });
});

describe("AddressIndex", () => {
  const setArb = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 50 }), fc.boolean()), {
      maxLength: 4,
    })
    .map((ranges) => {
      const v4 = ranges.filter(([, , six]) => !six).map(([lo, n]) => [BigInt(lo), BigInt(lo + n)] as const);
      const v6 = ranges.filter(([, , six]) => six).map(([lo, n]) => [BigInt(lo), BigInt(lo + n)] as const);
      return AddressSet.fromIntervals(IntervalSet.of(v4), IntervalSet.of(v6));
    });

  it("finds exactly the indexed sets meeting a question", () => {
    fc.assert(
      fc.property(fc.array(setArb, { minLength: 1, maxLength: 30 }), setArb, (sets, q) => {
        const withAll = [...sets, AddressSet.ALL];
        const found = [...new AddressIndex(withAll).meeting(q)];
        const want = withAll.map((s, i) => (s.overlaps(q) ? i : -1)).filter((i) => i >= 0);
        expect(found).toEqual(want);
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});
