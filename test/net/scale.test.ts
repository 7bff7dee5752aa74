import { describe, expect, it } from "vitest";
import { AddressSet, ConnectionSet, IntervalSet, ServiceSet } from "../../lib/net";

/** Deterministic xorshift generator. */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

describe("scale (interval based, never enumerating)", () => {
  it("handles thousands of ranges and huge IPv6 spaces quickly", () => {
    const rnd = rng(7);
    const t0 = Date.now();
    const ranges = Array.from({ length: 5000 }, () => {
      const lo = BigInt(rnd(1 << 30)) * 4n;
      return [lo, lo + BigInt(rnd(1000))] as const;
    });
    const a = IntervalSet.of(ranges.slice(0, 2500));
    const b = IntervalSet.of(ranges.slice(2500));
    expect(a.union(b).subtract(b).union(a.intersect(b)).equals(a)).toBe(true);
    const everything = AddressSet.ALL_V6.subtract(AddressSet.parse("2001:db8::1"));
    expect(everything.v6.size()).toBe((1n << 128n) - 1n);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("unions 300 segment-to-segment paths over 3000 scattered workloads", () => {
    const rnd = rng(42);
    const host = (i: number) =>
      AddressSet.fromIntervals(IntervalSet.single(0x0a000000n + BigInt(i)), IntervalSet.EMPTY);
    const segs = Array.from({ length: 60 }, () =>
      AddressSet.unionAll(Array.from({ length: 50 }, () => host(rnd(3000) * 4))),
    );
    const svcs = ["tcp/443", "tcp/8000-8100", "udp/53", "tcp/22", "icmp"].map((t) => ServiceSet.parse(t));
    const t0 = Date.now();
    const parts = Array.from({ length: 300 }, () =>
      ConnectionSet.of(segs[rnd(60)]!, segs[rnd(60)]!, svcs[rnd(5)]!),
    );
    const allow = ConnectionSet.unionAll(parts);
    const forbid = ConnectionSet.unionAll(
      parts.slice(0, 50).map((_, i) => ConnectionSet.of(segs[i]!, segs[(i * 7) % 60]!, ServiceSet.ALL)),
    );
    const overlap = allow.intersect(forbid);
    const rest = allow.subtract(forbid);
    expect(rest.union(overlap).equals(allow)).toBe(true);
    for (const p of parts.slice(0, 20)) expect(p.isSubsetOf(allow)).toBe(true);
    const w = overlap.sample();
    if (w !== undefined) expect(forbid.has(w) && allow.has(w)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10000);
  });
});
