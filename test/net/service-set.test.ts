import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasPorts, IntervalSet, NetParseError, Protocol, ServiceSet } from "../../lib/net";

function parseError(text: string): string {
  try {
    ServiceSet.parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(NetParseError);
    return (e as Error).message;
  }
  throw new Error(`expected "${text}" to be rejected`);
}

describe("ServiceSet", () => {
  it("parses the service forms", () => {
    expect(ServiceSet.parse("tcp/443").equals(ServiceSet.tcp(443))).toBe(true);
    expect(ServiceSet.parse("TCP/8000-8100").equals(ServiceSet.tcp(8000, 8100))).toBe(true);
    expect(ServiceSet.parse("udp/53").equals(ServiceSet.udp(53))).toBe(true);
    expect(ServiceSet.parse("tcp").equals(ServiceSet.tcp(0, 65535))).toBe(true);
    expect(
      ServiceSet.parse("sctp/9").equals(ServiceSet.protocol(Protocol.SCTP, IntervalSet.single(9n))),
    ).toBe(true);
    expect(ServiceSet.parse("icmp").equals(ServiceSet.icmp())).toBe(true);
    expect(ServiceSet.parse(" Any ").equals(ServiceSet.ALL)).toBe(true);
    expect(ServiceSet.parse("proto/47").equals(ServiceSet.protocol(47))).toBe(true);
    expect(ServiceSet.parse("proto/47-48").toStrings()).toEqual(["proto/47-48"]);
  });

  it.each([
    ["tcp/70000", /"tcp\/70000".*port 70000 is outside 0-65535/],
    ["udp/0-65536", /port 65536 is outside 0-65535/],
    ["tcp/443-80", /write "tcp\/80-443"/],
    ["http/80", /unknown protocol "http".*"tcp\/443".*"icmp".*"any"/],
    ["icmp/8", /"icmp\/8".*icmp has no ports/],
    ["any/80", /"any" takes no ports/],
    ["icmpv6", /write "icmp"/],
    ["", /empty service/],
    ["tcp/", /write a port/],
    ["tcp/http", /"http" is not a port/],
    ["tcp/-5", /is not a port/],
    ["proto/300", /protocol 300 is outside 0-255/],
    ["!!", /unknown protocol/],
  ])("rejects %j", (text, re) => {
    expect(parseError(text)).toMatch(re);
  });

  it("renders canonical merged strings", () => {
    expect(ServiceSet.tcp(80).union(ServiceSet.tcp(81)).toStrings()).toEqual(["tcp/80-81"]);
    const s = ["icmp", "udp/53", "tcp/8000-8100", "tcp/22"].map((t) => ServiceSet.parse(t));
    expect(s.reduce((a, b) => a.union(b)).toStrings()).toEqual(["tcp/22", "tcp/8000-8100", "udp/53", "icmp"]);
    expect(ServiceSet.ALL.toStrings()).toEqual(["any"]);
    expect(ServiceSet.ALL.toString()).toBe("any");
    expect(ServiceSet.EMPTY.toStrings()).toEqual([]);
    expect(ServiceSet.EMPTY.toString()).toBe("none");
    expect(ServiceSet.tcp(0, 65535).toString()).toBe("tcp");
    expect(ServiceSet.protocol(47).toString()).toBe("proto/47");
    expect(ServiceSet.ALL.subtract(ServiceSet.parse("tcp")).toStrings()).toEqual([
      "udp",
      "sctp",
      "icmp",
      "proto/0",
      "proto/2-5",
      "proto/7-16",
      "proto/18-131",
      "proto/133-255",
    ]);
  });

  it("protocols without ports always carry every port", () => {
    const icmp = ServiceSet.protocol(Protocol.ICMP, IntervalSet.single(5n));
    expect(icmp.equals(ServiceSet.icmp())).toBe(true);
    expect(icmp.has(1)).toBe(true);
    expect(icmp.has(1, 12345)).toBe(true);
    expect(ServiceSet.ALL.subtract(ServiceSet.tcp(443)).has(Protocol.ICMP)).toBe(true);
    expect(hasPorts(6) && hasPorts(17) && hasPorts(132) && !hasPorts(1) && !hasPorts(58)).toBe(true);
  });

  it("has and entries", () => {
    const s = ServiceSet.parse("tcp/443").union(ServiceSet.parse("icmp"));
    expect(s.has(6, 443)).toBe(true);
    expect(s.has(6, 80)).toBe(false);
    expect(s.has(6)).toBe(false); // not every tcp port
    expect(ServiceSet.parse("tcp").has(6)).toBe(true);
    expect(s.has(17, 443)).toBe(false);
    expect(s.entries().map((e) => [e.protocol, e.ports.toString()])).toEqual([
      [1, "0-65535"],
      [6, "443"],
    ]);
  });

  it("constructors validate their arguments", () => {
    expect(() => ServiceSet.tcp(70000)).toThrow(RangeError);
    expect(() => ServiceSet.tcp(443, 80)).toThrow(RangeError);
    expect(() => ServiceSet.protocol(256)).toThrow(RangeError);
  });

  const PROTOS = [1, 6, 17, 58];
  const arbService = fc.oneof(
    fc
      .tuple(fc.constantFrom(6, 17), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }))
      .map(([p, a, b]) =>
        ServiceSet.protocol(p, IntervalSet.range(BigInt(Math.min(a, b)), BigInt(Math.max(a, b)))),
      ),
    fc.constantFrom(1, 58).map((p) => ServiceSet.protocol(p)),
  );
  const arbServices = fc
    .array(arbService, { maxLength: 4 })
    .map((ss) => ss.reduce((a, b) => a.union(b), ServiceSet.EMPTY));
  const universe = PROTOS.flatMap((p) =>
    hasPorts(p) ? [0, 1, 2, 3, 4, 5, 6, 7].map((port) => [p, port]) : [[p, 0]],
  );
  const model = (s: ServiceSet) =>
    new Set(universe.filter(([p, port]) => s.has(p!, port)).map((x) => x.join("/")));
  const eq = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

  it("algebra agrees with the model and toStrings round-trips (property)", () => {
    fc.assert(
      fc.property(arbServices, arbServices, (a, b) => {
        const ma = model(a);
        const mb = model(b);
        expect(eq(model(a.union(b)), new Set([...ma, ...mb]))).toBe(true);
        expect(eq(model(a.intersect(b)), new Set([...ma].filter((x) => mb.has(x))))).toBe(true);
        expect(eq(model(a.subtract(b)), new Set([...ma].filter((x) => !mb.has(x))))).toBe(true);
        expect(a.isSubsetOf(b)).toBe([...ma].every((x) => mb.has(x)));
        expect(a.equals(b)).toBe(eq(ma, mb));
        expect(a.overlaps(b)).toBe([...ma].some((x) => mb.has(x)));
        const reparsed = a.toStrings().reduce((acc, t) => acc.union(ServiceSet.parse(t)), ServiceSet.EMPTY);
        expect(reparsed.equals(a)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
