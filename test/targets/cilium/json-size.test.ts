import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../../bench/generate";
import { ciliumRecords } from "../../../lib/targets/cilium";
import { jsonBytes } from "../../../lib/targets/cilium/json-size";
import { propertyRuns } from "../../support/property-runs";
import { planOf } from "./support";

const exact = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe("jsonBytes: the size check without stringifying", () => {
  it("equals the UTF-8 length of JSON.stringify for any JSON value (escapes, non-ASCII, shared parts)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary" }), (v, s) => {
        const shared = { s, v };
        const doc = { a: shared, b: [shared, shared, s], [s]: v };
        const memo = new WeakMap<object, number>();
        expect(jsonBytes(v, memo)).toBe(exact(v));
        expect(jsonBytes(doc, memo)).toBe(exact(doc));
      }),
      { numRuns: propertyRuns(200) },
    );
  });

  it("skips what JSON.stringify skips and writes null where it does", () => {
    const odd = {
      a: undefined,
      b: [undefined, () => 1, Number.NaN, -0, 1e300],
      c: null,
      d: '\u0000"\\é\ud800',
    };
    expect(jsonBytes(odd)).toBe(exact(odd));
    expect(jsonBytes(new Date(0))).toBe(exact(new Date(0)));
  });

  it("measures every rendered object of a generated policy as JSON.stringify does", () => {
    const plan = planOf(generatePolicy({ workloads: 500, segments: 50 }));
    for (const guardrails of ["namespaced", "clusterwide"] as const) {
      const memo = new WeakMap<object, number>();
      for (const r of ciliumRecords(plan, { guardrails }))
        expect(jsonBytes(r.inputs, memo)).toBe(exact(r.inputs));
    }
  });
});
