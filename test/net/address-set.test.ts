import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddressSet, formatAddress, IntervalSet, NetParseError, parseAddress } from "../../lib/net";

const V4_MAX = 0xffff_ffffn;
const V6_MAX = (1n << 128n) - 1n;

function parseError(entry: string): string {
  try {
    AddressSet.parse(entry);
  } catch (e) {
    expect(e).toBeInstanceOf(NetParseError);
    return (e as Error).message;
  }
  throw new Error(`expected "${entry}" to be rejected`);
}

describe("parseAddress / formatAddress", () => {
  it("parses IPv4 and IPv6", () => {
    expect(parseAddress("10.0.0.1")).toEqual({ family: 4, value: 0x0a000001n });
    expect(parseAddress(" 255.255.255.255 ")).toEqual({ family: 4, value: V4_MAX });
    expect(parseAddress("::")).toEqual({ family: 6, value: 0n });
    expect(parseAddress("::1")).toEqual({ family: 6, value: 1n });
    expect(parseAddress("2001:DB8::1").value).toBe(0x20010db8000000000000000000000001n);
    expect(parseAddress("::ffff:10.0.0.1").value).toBe(0xffff0a000001n);
    expect(parseAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").value).toBe(V6_MAX);
  });

  it.each([
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // longest run; first on a tie
    ["2001:0db8::0001", "2001:db8::1"], // no leading zeros
    ["2001:DB8::A", "2001:db8::a"], // lowercase
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is not shortened
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"], // the longest run wins
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["::ffff:c000:0201", "::ffff:192.0.2.1"], // IPv4-mapped in mixed notation
    ["fe80:0:0:0:0:0:0:1", "fe80::1"],
  ])("formats %s as %s (RFC 5952)", (text, canonical) => {
    const { family, value } = parseAddress(text);
    expect(formatAddress(family, value)).toBe(canonical);
  });

  it.each([
    ["", /empty address/],
    ["10.0.0", /four dotted decimal/],
    ["10.0.0.256", /greater than 255/],
    ["010.0.0.1", /leading zeros/],
    ["1:2:3", /expected 8 groups/],
    ["1::2::3", /only once/],
    ["fe80::1%eth0", /zone/],
    ["12345::", /bad group/],
    ["hello", /not an IP address/],
  ])("rejects %j", (text, re) => {
    expect(() => parseAddress(text)).toThrow(NetParseError);
    expect(() => parseAddress(text)).toThrow(re);
  });

  it("round-trips random values", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: V6_MAX }), fc.bigInt({ min: 0n, max: V4_MAX }), (v6, v4) => {
        expect(parseAddress(formatAddress(6, v6))).toEqual({ family: 6, value: v6 });
        expect(parseAddress(formatAddress(4, v4))).toEqual({ family: 4, value: v4 });
      }),
      { numRuns: 500 },
    );
  });
});

describe("AddressSet.parse", () => {
  it("accepts CIDRs, single addresses and ranges", () => {
    expect(AddressSet.parse("10.0.0.0/8").v4.ranges).toEqual([[0x0a000000n, 0x0affffffn]]);
    expect(AddressSet.parse("2001:db8::/32").toCidrs()).toEqual(["2001:db8::/32"]);
    expect(AddressSet.parse("10.0.0.5").toCidrs()).toEqual(["10.0.0.5/32"]);
    expect(AddressSet.parse("10.0.0.5-10.0.0.9").v4.size()).toBe(5n);
    expect(AddressSet.parse("0.0.0.0/0").equals(AddressSet.ALL_V4)).toBe(true);
    expect(AddressSet.parse("::/0").equals(AddressSet.ALL_V6)).toBe(true);
    expect(AddressSet.parse(" 10.0.0.0/8 ").equals(AddressSet.parse("10.0.0.0/8"))).toBe(true);
  });

  it("rejects a CIDR with host bits set and suggests the network", () => {
    const msg = parseError("10.10.1.5/24");
    expect(msg).toContain('"10.10.1.5/24"');
    expect(msg).toContain("did you mean 10.10.1.0/24?");
    expect(parseError("2001:db8::1/32")).toContain("did you mean 2001:db8::/32?");
  });

  it.each([
    ["10.0.0.0/33", /prefix \/33 is out of range for IPv4 \(0-32\)/],
    ["2001:db8::/129", /prefix \/129 is out of range for IPv6 \(0-128\)/],
    ["10.0.0.0/", /prefix length/],
    ["10.0.0.0/abc", /prefix length/],
    ["10.0.0.1-2001:db8::1", /mixes IPv4 and IPv6/],
    ["10.0.0.9-10.0.0.5", /write "10.0.0.5-10.0.0.9"/],
    ["10.0.0.1-10.0.0.2-10.0.0.3", /exactly one "-"/],
    ["garbage", /"garbage" is not an IP address/],
    ["", /empty address entry/],
    ["10.0.0.300/24", /"10.0.0.300\/24".*greater than 255/],
  ])("rejects %j", (entry, re) => {
    expect(parseError(entry)).toMatch(re);
  });

  it("fromCidrs unions and names the first bad entry", () => {
    const s = AddressSet.fromCidrs(["10.0.0.0/24", "10.0.1.0/24", "fd00::/8"]);
    expect(s.toCidrs()).toEqual(["10.0.0.0/23", "fd00::/8"]);
    expect(() => AddressSet.fromCidrs(["10.0.0.0/24", "bogus", "also bad"])).toThrow(/"bogus"/);
  });
});

describe("AddressSet operations", () => {
  it("keeps families apart", () => {
    const mapped = AddressSet.parse("::ffff:10.0.0.1");
    expect(mapped.overlaps(AddressSet.parse("10.0.0.1"))).toBe(false);
    expect(AddressSet.ALL.subtract(AddressSet.ALL_V4).equals(AddressSet.ALL_V6)).toBe(true);
    expect(AddressSet.ALL.has("10.1.2.3")).toBe(true);
    expect(AddressSet.ALL_V6.has("10.1.2.3")).toBe(false);
    expect(AddressSet.EMPTY.isEmpty()).toBe(true);
    expect(AddressSet.EMPTY.toString()).toBe("∅");
  });

  it("toCidrs is exact and minimal", () => {
    expect(AddressSet.parse("10.0.0.1-10.0.0.6").toCidrs()).toEqual([
      "10.0.0.1/32",
      "10.0.0.2/31",
      "10.0.0.4/31",
      "10.0.0.6/32",
    ]);
    expect(AddressSet.parse("0.0.0.0-255.255.255.255").toCidrs()).toEqual(["0.0.0.0/0"]);
    expect(AddressSet.parse("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").toCidrs()).toEqual(["::/0"]);
    expect(AddressSet.parse("::1-::6").toCidrs()).toEqual(["::1/128", "::2/127", "::4/127", "::6/128"]);
    expect(AddressSet.fromCidrs(["fd00::/8", "10.0.0.0/8"]).toString()).toBe("10.0.0.0/8, fd00::/8");
  });

  it("sample skips the network address and prefers IPv4", () => {
    expect(AddressSet.parse("10.200.0.0/16").sample()).toBe("10.200.0.1");
    expect(AddressSet.parse("10.200.0.7").sample()).toBe("10.200.0.7");
    expect(AddressSet.fromCidrs(["fd00::/64", "192.168.0.0/24"]).sample()).toBe("192.168.0.1");
    expect(AddressSet.parse("fd00::/64").sample()).toBe("fd00::1");
    expect(AddressSet.EMPTY.sample()).toBeUndefined();
  });

  const arbFamilySet = (max: bigint) =>
    fc
      .array(fc.tuple(fc.bigInt({ min: 0n, max }), fc.bigInt({ min: 0n, max })), { maxLength: 5 })
      .map((ps) => IntervalSet.of(ps.map(([a, b]): readonly [bigint, bigint] => (a <= b ? [a, b] : [b, a]))));
  const arbAddressSet = fc
    .tuple(arbFamilySet(V4_MAX), arbFamilySet(V6_MAX))
    .map(([v4, v6]) => AddressSet.fromIntervals(v4, v6));

  it("toCidrs round-trips, blocks are aligned and disjoint (property)", () => {
    fc.assert(
      fc.property(arbAddressSet, (s) => {
        const cidrs = s.toCidrs();
        expect(AddressSet.fromCidrs(cidrs).equals(s)).toBe(true);
        let total = 0n;
        for (const c of cidrs) {
          const block = AddressSet.parse(c); // strict parse: throws if host bits were set
          total += block.v4.size() + block.v6.size();
        }
        expect(total).toBe(s.v4.size() + s.v6.size());
        // minimal: no two consecutive blocks of one range can merge into one aligned block
        for (let i = 1; i < cidrs.length; i++) {
          const a = AddressSet.parse(cidrs[i - 1]!);
          const b = AddressSet.parse(cidrs[i]!);
          const merged = a.union(b);
          const single = merged.toCidrs();
          expect(single.length === 1 && merged.v4.ranges.length + merged.v6.ranges.length === 1).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("sample is a member, and the lowest address of the lowest range (+1 for multi-address ranges)", () => {
    fc.assert(
      fc.property(arbAddressSet, (s) => {
        const x = s.sample();
        if (s.isEmpty()) expect(x).toBeUndefined();
        else {
          expect(s.has(x!)).toBe(true);
          const fam = s.v4.isEmpty() ? s.v6 : s.v4;
          const [lo, hi] = fam.ranges[0]!;
          expect(parseAddress(x!).value).toBe(hi > lo ? lo + 1n : lo);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("rejects out-of-space values in fromIntervals", () => {
    expect(() => AddressSet.fromIntervals(IntervalSet.range(0n, 1n << 32n), IntervalSet.EMPTY)).toThrow(
      RangeError,
    );
  });
});
