import { type IpFamily, parseAddress } from "./address";
import { AddressSet, sampleValue } from "./address-set";
import { Hypercube } from "./hypercube";
import { IntervalSet } from "./interval-set";
import { hasPorts, MAX_PORT, MAX_PROTOCOL, Protocol } from "./protocol";
import { ALL_PORTS, ServiceSet } from "./service-set";

export { protocolName } from "./protocol";

/**
 * One concrete packet (the first packet of a connection, initiator → responder).
 * `protocol` is the real IP protocol number of the family (58 for ICMPv6). `port` is the destination
 * port, present only when `hasPorts(protocol)`.
 */
export interface Packet {
  family: IpFamily;
  src: string;
  dst: string;
  protocol: number;
  port?: number;
}

const ICMP = BigInt(Protocol.ICMP);
const ICMPV6 = BigInt(Protocol.ICMPV6);
const ICMP_PAIR = IntervalSet.of([
  [ICMP, ICMP],
  [ICMPV6, ICMPV6],
]);

/** Swaps protocol numbers 1 and 58 (ServiceSet "icmp" ↔ real ICMPv6 in the IPv6 part); a bijection. */
function swapIcmp(s: IntervalSet): IntervalSet {
  const has1 = s.has(ICMP);
  const has58 = s.has(ICMPV6);
  if (has1 === has58) return s;
  return s.subtract(ICMP_PAIR).union(IntervalSet.single(has1 ? ICMPV6 : ICMP));
}

const EMPTY4 = Hypercube.empty(4);

/** The IPv6 form of a service cube (icmp ↔ ICMPv6), once per cube: products ask it again and again. */
const v6ServiceCubes = new WeakMap<Hypercube, Hypercube>();
function v6Services(c: Hypercube): Hypercube {
  let v6 = v6ServiceCubes.get(c);
  if (v6 === undefined) v6ServiceCubes.set(c, (v6 = c.mapDim(0, swapIcmp)));
  return v6;
}

/** Real ICMP protocol number of the family. */
function icmpOf(f: IpFamily): number {
  return f === 4 ? Protocol.ICMP : Protocol.ICMPV6;
}

const PREFERRED_PORTS = [443, 80, 22, 53] as const;

/**
 * An immutable set of packets (family, source address, destination address, real IP protocol,
 * destination port). IPv4 packets have IPv4 source and destination, IPv6 packets IPv6 ones: a
 * mixed-family pair is never a member. Protocols without ports always carry every port (0-65535).
 *
 * Stored as two canonical 4-dimensional hypercubes (IPv4 and IPv6) over [src, dst, protocol, port],
 * with the IPv6 one using real protocol numbers (ICMPv6 = 58), so equal sets have equal structure.
 */
export class ConnectionSet {
  /** No packet. */
  static readonly EMPTY: ConnectionSet = new ConnectionSet(Hypercube.empty(4), Hypercube.empty(4));
  /** Every packet of both families. */
  static readonly ALL: ConnectionSet = ConnectionSet.of(AddressSet.ALL, AddressSet.ALL, ServiceSet.ALL);

  private constructor(
    private readonly v4: Hypercube,
    private readonly v6: Hypercube,
  ) {}

  private static make(v4: Hypercube, v6: Hypercube): ConnectionSet {
    return v4.isEmpty() && v6.isEmpty() ? ConnectionSet.EMPTY : new ConnectionSet(v4, v6);
  }

  /**
   * The product: IPv4 sources × IPv4 destinations × services, plus IPv6 sources × IPv6 destinations
   * × services (never mixed-family pairs). In the IPv6 part, ServiceSet protocol 1 ("icmp") becomes
   * real protocol 58 (ICMPv6) and 58 becomes 1, so the mapping stays a bijection.
   */
  static of(src: AddressSet, dst: AddressSet, services: ServiceSet): ConnectionSet {
    const c = services.cube;
    const v4 = src.v4.isEmpty() || dst.v4.isEmpty() ? EMPTY4 : Hypercube.prefixed([src.v4, dst.v4], c);
    const v6 =
      src.v6.isEmpty() || dst.v6.isEmpty() ? EMPTY4 : Hypercube.prefixed([src.v6, dst.v6], v6Services(c));
    return ConnectionSet.make(v4, v6);
  }

  /** The union of many sets, combined as a balanced tree (use this rather than folding `union`). */
  static unionAll(sets: Iterable<ConnectionSet>): ConnectionSet {
    const list = [...sets];
    return ConnectionSet.make(
      Hypercube.unionAll(
        4,
        list.map((s) => s.v4),
      ),
      Hypercube.unionAll(
        4,
        list.map((s) => s.v6),
      ),
    );
  }

  /** Packets in either set. */
  union(o: ConnectionSet): ConnectionSet {
    return ConnectionSet.make(this.v4.union(o.v4), this.v6.union(o.v6));
  }

  /** Packets in both sets. */
  intersect(o: ConnectionSet): ConnectionSet {
    return ConnectionSet.make(this.v4.intersect(o.v4), this.v6.intersect(o.v6));
  }

  /** Packets of this set not in `o`. */
  subtract(o: ConnectionSet): ConnectionSet {
    return ConnectionSet.make(this.v4.subtract(o.v4), this.v6.subtract(o.v6));
  }

  /** True iff the set holds no packet. */
  isEmpty(): boolean {
    return this.v4.isEmpty() && this.v6.isEmpty();
  }

  /** True iff both sets hold exactly the same packets (structural comparison of canonical forms). */
  equals(o: ConnectionSet): boolean {
    return this.v4.equals(o.v4) && this.v6.equals(o.v6);
  }

  /** True iff every packet of this set is in `o`. */
  isSubsetOf(o: ConnectionSet): boolean {
    return this.v4.isSubsetOf(o.v4) && this.v6.isSubsetOf(o.v6);
  }

  /** True iff the sets share at least one packet. */
  overlaps(o: ConnectionSet): boolean {
    return this.v4.overlaps(o.v4) || this.v6.overlaps(o.v6);
  }

  /** True iff every packet of `ConnectionSet.of(src, dst, services)` is in this set (the product is not built). */
  containsProduct(src: AddressSet, dst: AddressSet, services: ServiceSet): boolean {
    const c = services.cube;
    return (
      (src.v4.isEmpty() || dst.v4.isEmpty() || this.v4.containsProduct([src.v4, dst.v4], c)) &&
      (src.v6.isEmpty() || dst.v6.isEmpty() || this.v6.containsProduct([src.v6, dst.v6], v6Services(c)))
    );
  }

  /** True iff `ConnectionSet.of(src, dst, services)` shares a packet with this set (the product is not built). */
  overlapsProduct(src: AddressSet, dst: AddressSet, services: ServiceSet): boolean {
    const c = services.cube;
    return (
      (!src.v4.isEmpty() && !dst.v4.isEmpty() && this.v4.overlapsProduct([src.v4, dst.v4], c)) ||
      (!src.v6.isEmpty() && !dst.v6.isEmpty() && this.v6.overlapsProduct([src.v6, dst.v6], v6Services(c)))
    );
  }

  /** Canonical string key: equal sets have equal keys. */
  key(): string {
    return `${this.v4.key()}|${this.v6.key()}`;
  }

  private cube(f: IpFamily): Hypercube {
    return f === 4 ? this.v4 : this.v6;
  }

  /**
   * Membership of one packet. False when an address is not of `p.family`. For tcp/udp/sctp with
   * `port` omitted, true only when every port is in the set. Throws NetParseError for a bad address.
   */
  has(p: Packet): boolean {
    const src = parseAddress(p.src);
    const dst = parseAddress(p.dst);
    if (src.family !== p.family || dst.family !== p.family) return false;
    if (!Number.isInteger(p.protocol) || p.protocol < 0 || p.protocol > MAX_PROTOCOL) return false;
    const ports = this.cube(p.family).slice(src.value).slice(dst.value).slice(BigInt(p.protocol));
    if (ports.isEmpty()) return false;
    const set = ports.layers[0]!.key;
    if (!hasPorts(p.protocol) || p.port === undefined) return ALL_PORTS.isSubsetOf(set);
    return Number.isInteger(p.port) && p.port >= 0 && p.port <= MAX_PORT && set.has(BigInt(p.port));
  }

  /**
   * A deterministic member (a witness packet), undefined when empty. Protocol preference: tcp, then
   * udp, then icmp (of the family), then the lowest other protocol; port preference: 443, 80, 22, 53
   * if present, else the lowest port >= 1, else 0; IPv4 before IPv6 on ties. Then the source is
   * picked like AddressSet.sample() among sources having such packets, and the destination likewise
   * among destinations for that source, so the packet is always a member.
   */
  sample(): Packet | undefined {
    interface Cand {
      family: IpFamily;
      rank: number;
      protocol: number;
      cube: Hypercube;
    }
    const cands: Cand[] = [];
    for (const family of [4, 6] as const) {
      const cube = this.cube(family);
      if (cube.isEmpty()) continue;
      const protos = cube.project(2);
      const named = [Protocol.TCP, Protocol.UDP, icmpOf(family)];
      named.forEach((protocol, rank) => {
        if (protos.has(BigInt(protocol))) cands.push({ family, rank, protocol, cube });
      });
      const other = protos.subtract(IntervalSet.of(named.map((n) => [BigInt(n), BigInt(n)] as const))).min();
      if (other !== undefined) cands.push({ family, rank: 3, protocol: Number(other), cube });
    }
    if (cands.length === 0) return undefined;
    const bestRank = Math.min(...cands.map((c) => c.rank));
    let best = cands.filter((c) => c.rank === bestRank);
    const bestProto = Math.min(...best.map((c) => c.protocol));
    if (bestRank === 3) best = best.filter((c) => c.protocol === bestProto);
    // `best` holds one candidate per family at most, IPv4 first.
    const withPorts = best.map((c) => ({
      ...c,
      ports: c.cube.restrict(2, IntervalSet.single(BigInt(c.protocol))).project(3),
    }));
    let chosen = withPorts[0]!;
    let port = 0n;
    if (hasPorts(chosen.protocol)) {
      let found = false;
      for (const pref of PREFERRED_PORTS) {
        const hit = withPorts.find((c) => c.ports.has(BigInt(pref)));
        if (hit !== undefined) {
          chosen = hit;
          port = BigInt(pref);
          found = true;
          break;
        }
      }
      if (!found) {
        let bestPort: bigint | undefined;
        for (const c of withPorts) {
          const m = c.ports.subtract(IntervalSet.single(0n)).min();
          if (m !== undefined && (bestPort === undefined || m < bestPort)) {
            bestPort = m;
            chosen = c;
          }
        }
        if (bestPort !== undefined) port = bestPort;
        else chosen = withPorts.find((c) => c.ports.has(0n))!;
      }
    }
    const r = chosen.cube
      .restrict(2, IntervalSet.single(BigInt(chosen.protocol)))
      .restrict(3, IntervalSet.single(port));
    const src = sampleValue(r.project(0))!;
    const dst = sampleValue(r.slice(src).project(0))!;
    const packet: Packet = {
      family: chosen.family,
      src: AddressSet.ofFamily(chosen.family, IntervalSet.single(src)).sample()!,
      dst: AddressSet.ofFamily(chosen.family, IntervalSet.single(dst)).sample()!,
      protocol: chosen.protocol,
    };
    if (hasPorts(chosen.protocol)) packet.port = Number(port);
    return packet;
  }

  /** Every source address that has some packet in the set. */
  sources(): AddressSet {
    return AddressSet.fromIntervals(this.v4.project(0), this.v6.project(0));
  }

  /** Every destination address that has some packet in the set. */
  destinations(): AddressSet {
    return AddressSet.fromIntervals(this.v4.project(1), this.v6.project(1));
  }

  /** Every service used by some packet, in ServiceSet terms (IPv6 protocol 58 mapped back to 1 "icmp"). */
  services(): ServiceSet {
    return ServiceSet.fromCube(this.v4.dropPrefix(2).union(this.v6.dropPrefix(2).mapDim(0, swapIcmp)));
  }

  /**
   * A decomposition into disjoint products src × dst × services whose union is the set;
   * deterministic (follows the canonical form): IPv4 parts first, then IPv6, by ascending source.
   */
  cubes(): Array<{ src: AddressSet; dst: AddressSet; services: ServiceSet }> {
    const out: Array<{ src: AddressSet; dst: AddressSet; services: ServiceSet }> = [];
    for (const family of [4, 6] as const) {
      for (const s of this.cube(family).layers) {
        for (const d of s.sub.layers) {
          out.push({
            src: AddressSet.ofFamily(family, s.key),
            dst: AddressSet.ofFamily(family, d.key),
            services: ServiceSet.fromCube(family === 6 ? d.sub.mapDim(0, swapIcmp) : d.sub),
          });
        }
      }
    }
    return out;
  }

  /** Human readable: "10.200.0.0/16 -> 10.10.1.0/24 tcp/443; …" (one part per cube); "∅" when empty. */
  toString(): string {
    if (this.isEmpty()) return "∅";
    return this.cubes()
      .map((c) => `${c.src} -> ${c.dst} ${c.services}`)
      .join("; ");
  }
}
