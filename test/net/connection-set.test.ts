import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AddressSet,
  ConnectionSet,
  formatAddress,
  hasPorts,
  IntervalSet,
  type IpFamily,
  type Packet,
  Protocol,
  parseAddress,
  protocolName,
  ServiceSet,
} from "../../lib/net";

const V4_BASE = parseAddress("10.0.0.0").value; // 10.0.0.0/29
const V6_BASE = parseAddress("2001:db8::").value; // 2001:db8::/125
const base = (f: IpFamily) => (f === 4 ? V4_BASE : V6_BASE);
const addr = (f: IpFamily, i: number) => formatAddress(f, base(f) + BigInt(i));
const PROTOS = [1, 6, 17, 58];
const PORTS = [0, 1, 2, 3, 4, 5, 6, 7];

/** A random subset of the 8 addresses of one family, as index ranges. */
const arbIdx = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 })), { maxLength: 2 })
  .map((ps) => ps.map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const));

interface AddrModel {
  v4: Set<number>;
  v6: Set<number>;
}
const arbAddr = fc.tuple(arbIdx, arbIdx).map(([r4, r6]) => {
  const set = AddressSet.fromIntervals(
    IntervalSet.of(r4.map(([a, b]) => [V4_BASE + BigInt(a), V4_BASE + BigInt(b)] as const)),
    IntervalSet.of(r6.map(([a, b]) => [V6_BASE + BigInt(a), V6_BASE + BigInt(b)] as const)),
  );
  const m: AddrModel = { v4: new Set(), v6: new Set() };
  for (const [a, b] of r4) for (let i = a; i <= b; i++) m.v4.add(i);
  for (const [a, b] of r6) for (let i = a; i <= b; i++) m.v6.add(i);
  return { set, m };
});

/** Services as (ServiceSet protocol, ports) items; ports only within 0..7. */
const arbSvc = fc
  .array(
    fc.oneof(
      fc
        .tuple(fc.constantFrom(6, 17), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }))
        .map(([p, a, b]) => ({ p, lo: Math.min(a, b), hi: Math.max(a, b) })),
      fc.constantFrom(1, 58).map((p) => ({ p, lo: 0, hi: 0 })),
    ),
    { maxLength: 3 },
  )
  .map((items) => ({
    set: items.reduce(
      (acc, it) => acc.union(ServiceSet.protocol(it.p, IntervalSet.range(BigInt(it.lo), BigInt(it.hi)))),
      ServiceSet.EMPTY,
    ),
    items,
  }));

const arbProduct = fc.tuple(arbAddr, arbAddr, arbSvc);
const arbConn = fc.array(arbProduct, { maxLength: 3 }).map((prods) => {
  const set = prods.reduce(
    (acc, [s, d, v]) => acc.union(ConnectionSet.of(s.set, d.set, v.set)),
    ConnectionSet.EMPTY,
  );
  const model = new Set<string>();
  for (const [s, d, v] of prods) {
    for (const f of [4, 6] as const) {
      const srcs = f === 4 ? s.m.v4 : s.m.v6;
      const dsts = f === 4 ? d.m.v4 : d.m.v6;
      for (const it of v.items) {
        // in IPv6, ServiceSet protocol 1 is real ICMPv6 (58) and 58 is real 1
        const real = f === 6 && (it.p === 1 || it.p === 58) ? 59 - it.p : it.p;
        for (const a of srcs) {
          for (const b of dsts) {
            if (hasPorts(real))
              for (let port = it.lo; port <= it.hi; port++) model.add(key(f, a, b, real, port));
            else model.add(key(f, a, b, real, -1));
          }
        }
      }
    }
  }
  return { set, model };
});

function key(f: IpFamily, s: number, d: number, p: number, port: number): string {
  return `${f}|${s}|${d}|${p}|${port}`;
}

/** Every packet of the small universe, with its model key. */
const UNIVERSE: Array<{ k: string; packet: Packet }> = [];
for (const f of [4, 6] as const) {
  for (let s = 0; s < 8; s++) {
    for (let d = 0; d < 8; d++) {
      for (const p of PROTOS) {
        for (const port of hasPorts(p) ? PORTS : [-1]) {
          const packet: Packet = { family: f, src: addr(f, s), dst: addr(f, d), protocol: p };
          if (port >= 0) packet.port = port;
          UNIVERSE.push({ k: key(f, s, d, p, port), packet });
        }
      }
    }
  }
}

function read(c: ConnectionSet): Set<string> {
  return new Set(UNIVERSE.filter((u) => c.has(u.packet)).map((u) => u.k));
}

const eq = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

function packetKey(p: Packet): string {
  const s = Number(parseAddress(p.src).value - base(p.family));
  const d = Number(parseAddress(p.dst).value - base(p.family));
  return key(p.family, s, d, p.protocol, p.port ?? -1);
}

describe("ConnectionSet against brute-force packet enumeration", () => {
  it("union/intersect/subtract/subset/equals/overlaps/isEmpty", () => {
    fc.assert(
      fc.property(arbConn, arbConn, (a, b) => {
        expect(eq(read(a.set), a.model)).toBe(true);
        expect(eq(read(a.set.union(b.set)), new Set([...a.model, ...b.model]))).toBe(true);
        expect(eq(read(a.set.intersect(b.set)), new Set([...a.model].filter((x) => b.model.has(x))))).toBe(
          true,
        );
        expect(eq(read(a.set.subtract(b.set)), new Set([...a.model].filter((x) => !b.model.has(x))))).toBe(
          true,
        );
        expect(a.set.isSubsetOf(b.set)).toBe([...a.model].every((x) => b.model.has(x)));
        expect(a.set.overlaps(b.set)).toBe([...a.model].some((x) => b.model.has(x)));
        expect(a.set.equals(b.set)).toBe(eq(a.model, b.model));
        expect(a.set.key() === b.set.key()).toBe(eq(a.model, b.model));
        expect(a.set.isEmpty()).toBe(a.model.size === 0);
      }),
      { numRuns: 150 },
    );
  });

  it("containsProduct / overlapsProduct answer as the built product's isSubsetOf / overlaps", () => {
    fc.assert(
      fc.property(arbConn, arbProduct, (a, [s, d, v]) => {
        const product = ConnectionSet.of(s.set, d.set, v.set);
        expect(a.set.containsProduct(s.set, d.set, v.set)).toBe(product.isSubsetOf(a.set));
        expect(a.set.overlapsProduct(s.set, d.set, v.set)).toBe(product.overlaps(a.set));
      }),
      { numRuns: 300 },
    );
  });

  it("sample() is a member of non-empty sets; undefined for empty ones", () => {
    fc.assert(
      fc.property(arbConn, arbConn, (a, b) => {
        for (const c of [a.set, a.set.subtract(b.set), a.set.intersect(b.set)]) {
          const p = c.sample();
          if (c.isEmpty()) expect(p).toBeUndefined();
          else {
            expect(c.has(p!)).toBe(true);
            expect(p!.port === undefined).toBe(!hasPorts(p!.protocol));
          }
        }
        const p = a.set.sample();
        if (p !== undefined) expect(a.model.has(packetKey(p))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("projections and cubes() agree with the model", () => {
    fc.assert(
      fc.property(arbConn, (a) => {
        const pk = [...a.model].map((k) => k.split("|").map(Number));
        const srcs = a.set.sources();
        const dsts = a.set.destinations();
        for (const f of [4, 6] as const) {
          for (let i = 0; i < 8; i++) {
            expect(srcs.has(addr(f, i))).toBe(pk.some((x) => x[0] === f && x[1] === i));
            expect(dsts.has(addr(f, i))).toBe(pk.some((x) => x[0] === f && x[2] === i));
          }
        }
        const svc = a.set.services();
        for (const p of PROTOS) {
          for (const port of hasPorts(p) ? PORTS : [0]) {
            const expected = pk.some(
              (x) =>
                (x[0] === 4 ? x[3] === p : x[3] === (p === 1 || p === 58 ? 59 - p : p)) &&
                (!hasPorts(p) || x[4] === port),
            );
            expect(svc.has(p, port)).toBe(expected);
          }
        }
        const rebuilt = ConnectionSet.unionAll(
          a.set.cubes().map((c) => ConnectionSet.of(c.src, c.dst, c.services)),
        );
        expect(rebuilt.equals(a.set)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("is canonical: the same set built in different orders has equal keys", () => {
    fc.assert(
      fc.property(fc.array(arbProduct, { maxLength: 4 }), (prods) => {
        const parts = prods.map(([s, d, v]) => ConnectionSet.of(s.set, d.set, v.set));
        const x = parts.reduce((acc, p) => acc.union(p), ConnectionSet.EMPTY);
        const y = [...parts].reverse().reduce((acc, p) => acc.union(p), ConnectionSet.EMPTY);
        const z = ConnectionSet.ALL.subtract(ConnectionSet.ALL.subtract(x));
        expect(y.key()).toBe(x.key());
        expect(z.key()).toBe(x.key());
        expect(ConnectionSet.unionAll(parts).equals(x)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("ConnectionSet examples", () => {
  const web = ConnectionSet.of(
    AddressSet.parse("10.200.0.0/16"),
    AddressSet.parse("10.10.1.0/24"),
    ServiceSet.parse("tcp/443"),
  );

  it("samples a tcp/443 witness with host addresses", () => {
    expect(web.sample()).toEqual({ family: 4, src: "10.200.0.1", dst: "10.10.1.1", protocol: 6, port: 443 });
    expect(web.toString()).toBe("10.200.0.0/16 -> 10.10.1.0/24 tcp/443");
    expect(ConnectionSet.EMPTY.toString()).toBe("∅");
    expect(ConnectionSet.EMPTY.sample()).toBeUndefined();
  });

  it("prefers tcp, then udp, then icmp, then the lowest other protocol; ports 443, 80, 22, 53, lowest >= 1, 0", () => {
    const any = AddressSet.parse("10.0.0.0/8");
    const of = (svc: string) => ConnectionSet.of(any, any, ServiceSet.parse(svc)).sample();
    expect(of("any")).toMatchObject({ protocol: 6, port: 443 });
    expect(of("udp")).toMatchObject({ protocol: 17, port: 443 });
    expect(of("tcp/22-80")).toMatchObject({ protocol: 6, port: 80 });
    expect(of("tcp/22-79")).toMatchObject({ protocol: 6, port: 22 });
    expect(of("udp/50-60")).toMatchObject({ protocol: 17, port: 53 });
    expect(of("tcp/1000-2000")).toMatchObject({ protocol: 6, port: 1000 });
    expect(of("tcp/0-5")).toMatchObject({ protocol: 6, port: 1 });
    expect(of("tcp/0")).toMatchObject({ protocol: 6, port: 0 });
    const icmp = of("icmp");
    expect(icmp).toEqual({ family: 4, src: "10.0.0.1", dst: "10.0.0.1", protocol: 1 });
    expect(of("proto/47-50")).toMatchObject({ protocol: 47 });
    expect(
      ConnectionSet.ALL.subtract(
        ConnectionSet.of(AddressSet.ALL, AddressSet.ALL, ServiceSet.parse("tcp")),
      ).sample(),
    ).toMatchObject({ protocol: 17, port: 443 });
  });

  it("chooses addresses so the witness is a member even when dimensions depend on each other", () => {
    const a = ConnectionSet.of(
      AddressSet.parse("10.0.0.0/24"),
      AddressSet.parse("10.1.0.0/24"),
      ServiceSet.parse("udp/53"),
    ).union(
      ConnectionSet.of(
        AddressSet.parse("10.0.0.128/25"),
        AddressSet.parse("10.2.0.0/24"),
        ServiceSet.parse("tcp/443"),
      ),
    );
    expect(a.sample()).toEqual({ family: 4, src: "10.0.0.129", dst: "10.2.0.1", protocol: 6, port: 443 });
  });

  it("maps icmp to ICMPv6 (58) in IPv6 and never pairs families", () => {
    const both = AddressSet.fromCidrs(["10.0.0.0/24", "fd00::/64"]);
    const c = ConnectionSet.of(both, both, ServiceSet.icmp());
    expect(c.has({ family: 6, src: "fd00::1", dst: "fd00::2", protocol: 58 })).toBe(true);
    expect(c.has({ family: 6, src: "fd00::1", dst: "fd00::2", protocol: 1 })).toBe(false);
    expect(c.has({ family: 4, src: "10.0.0.1", dst: "10.0.0.2", protocol: 1 })).toBe(true);
    expect(c.has({ family: 4, src: "10.0.0.1", dst: "10.0.0.2", protocol: 58 })).toBe(false);
    expect(c.has({ family: 4, src: "10.0.0.1", dst: "fd00::2", protocol: 1 })).toBe(false);
    expect(c.services().equals(ServiceSet.icmp())).toBe(true);
    const v6only = ConnectionSet.of(
      AddressSet.parse("fd00::/64"),
      AddressSet.parse("fd00::/64"),
      ServiceSet.icmp(),
    );
    expect(v6only.sample()).toEqual({ family: 6, src: "fd00::1", dst: "fd00::1", protocol: 58 });
    expect(c.sources().equals(both)).toBe(true);
    expect(c.toString()).toBe("10.0.0.0/24 -> 10.0.0.0/24 icmp; fd00::/64 -> fd00::/64 icmp");
  });

  it("has() with tcp and no port means every port", () => {
    const all = AddressSet.parse("10.0.0.0/8");
    expect(
      ConnectionSet.of(all, all, ServiceSet.parse("tcp")).has({
        family: 4,
        src: "10.0.0.1",
        dst: "10.0.0.2",
        protocol: 6,
      }),
    ).toBe(true);
    expect(web.has({ family: 4, src: "10.200.0.1", dst: "10.10.1.1", protocol: 6 })).toBe(false);
    expect(web.has({ family: 4, src: "10.200.0.1", dst: "10.10.1.1", protocol: 6, port: 443 })).toBe(true);
  });

  it("protocolName", () => {
    expect(protocolName(6)).toBe("tcp");
    expect(protocolName(17)).toBe("udp");
    expect(protocolName(1)).toBe("icmp");
    expect(protocolName(58)).toBe("icmpv6");
    expect(protocolName(132)).toBe("sctp");
    expect(protocolName(47)).toBe("proto-47");
    expect(protocolName(Protocol.ICMPV6, 6)).toBe("icmpv6");
  });
});
