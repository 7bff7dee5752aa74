import { NetParseError } from "./errors";
import { Hypercube } from "./hypercube";
import { IntervalSet } from "./interval-set";
import { hasPorts, MAX_PORT, MAX_PROTOCOL, Protocol } from "./protocol";

export { hasPorts, Protocol } from "./protocol";

const ALL_PORTS = IntervalSet.range(0n, BigInt(MAX_PORT));
const ALL_PROTOCOLS = IntervalSet.range(0n, BigInt(MAX_PROTOCOL));

/** Protocols written by name in service text, in display order. */
const NAMED: ReadonlyArray<readonly [string, number]> = [
  ["tcp", Protocol.TCP],
  ["udp", Protocol.UDP],
  ["sctp", Protocol.SCTP],
  ["icmp", Protocol.ICMP],
];
const VALID_FORMS =
  '"tcp/443", "tcp/8000-8100", "tcp", "udp/53", "udp", "sctp/…", "icmp", "proto/47" or "any"';

function checkInt(what: string, n: number, max: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${what} ${n} is outside 0-${max}`);
  return BigInt(n);
}

/**
 * An immutable set of services: pairs (IP protocol number 0..255, destination port 0..65535).
 * Protocol 1 ("icmp") means ICMP of the packet's own family (ICMPv4 or ICMPv6; see ConnectionSet).
 * Protocols without ports (all but tcp, udp, sctp) always carry the full port range, so for them the
 * set only says whether the protocol is in or out. The empty set ("none") allows nothing; ALL ("any")
 * is every protocol with every port.
 */
export class ServiceSet {
  /** No service ("none"). */
  static readonly EMPTY: ServiceSet = new ServiceSet(Hypercube.empty(2));
  /** Every protocol and port ("any"). */
  static readonly ALL: ServiceSet = new ServiceSet(Hypercube.product([ALL_PROTOCOLS, ALL_PORTS]));

  private constructor(private readonly c: Hypercube) {}

  /** @internal Wraps a 2-dimensional (protocol, port) hypercube that respects the no-ports rule. */
  static fromCube(c: Hypercube): ServiceSet {
    if (c.dims !== 2) throw new RangeError("ServiceSet.fromCube: expected 2 dimensions");
    return c.isEmpty() ? ServiceSet.EMPTY : new ServiceSet(c);
  }

  /** @internal The (protocol, port) hypercube. */
  get cube(): Hypercube {
    return this.c;
  }

  /** TCP destination ports `lo..hi` (inclusive; `hi` defaults to `lo`). RangeError outside 0-65535 or reversed. */
  static tcp(lo: number, hi?: number): ServiceSet {
    return ServiceSet.ports(Protocol.TCP, lo, hi);
  }

  /** UDP destination ports `lo..hi` (inclusive; `hi` defaults to `lo`). RangeError outside 0-65535 or reversed. */
  static udp(lo: number, hi?: number): ServiceSet {
    return ServiceSet.ports(Protocol.UDP, lo, hi);
  }

  private static ports(protocol: number, lo: number, hi = lo): ServiceSet {
    const a = checkInt("port", lo, MAX_PORT);
    const b = checkInt("port", hi, MAX_PORT);
    return ServiceSet.protocol(protocol, IntervalSet.range(a, b));
  }

  /** ICMP of the packet's family (ICMPv4 for IPv4, ICMPv6 for IPv6). */
  static icmp(): ServiceSet {
    return ServiceSet.protocol(Protocol.ICMP);
  }

  /**
   * Protocol `n` (0..255) with the given destination ports (default: all). For protocols without
   * ports the `ports` argument is ignored (they always carry the full port range). RangeError for a
   * protocol outside 0-255 or ports outside 0-65535.
   */
  static protocol(n: number, ports?: IntervalSet): ServiceSet {
    const p = checkInt("protocol", n, MAX_PROTOCOL);
    let portSet = ALL_PORTS;
    if (hasPorts(n) && ports !== undefined) {
      if (!ports.isSubsetOf(ALL_PORTS)) throw new RangeError(`ports ${ports} are outside 0-${MAX_PORT}`);
      portSet = ports;
    }
    return ServiceSet.fromCube(Hypercube.product([IntervalSet.single(p), portSet]));
  }

  /**
   * Parses one service: "tcp/443", "tcp/8000-8100", "udp/53", "sctp/…", "tcp" (all tcp ports),
   * "icmp", "proto/47" or "proto/47-50" (protocols by number, all ports), or "any". The protocol name
   * is case-insensitive and surrounding whitespace is ignored. Throws NetParseError quoting the text
   * for a port out of range, a reversed range, an unknown protocol, ports on icmp/any, or garbage.
   */
  static parse(text: string): ServiceSet {
    const t = text.trim();
    if (t === "") throw new NetParseError(`empty service: write one of ${VALID_FORMS}`);
    const slash = t.indexOf("/");
    const name = (slash < 0 ? t : t.slice(0, slash)).trim().toLowerCase();
    const arg = slash < 0 ? undefined : t.slice(slash + 1).trim();
    const bad = (why: string) => new NetParseError(`bad service "${t}": ${why}`);
    if (name === "any" || name === "icmp") {
      if (arg !== undefined) {
        throw bad(
          name === "any"
            ? '"any" takes no ports; write "any", or a protocol with ports like "tcp/443"'
            : 'icmp has no ports (ICMP types are not supported); write "icmp"',
        );
      }
      return name === "any" ? ServiceSet.ALL : ServiceSet.icmp();
    }
    if (name === "icmpv6" || name === "ipv6-icmp") {
      throw bad('write "icmp": it means ICMPv6 for IPv6 traffic and ICMPv4 for IPv4 traffic');
    }
    if (name === "proto") {
      if (arg === undefined || arg === "") {
        throw bad('write the protocol number after "proto/", e.g. "proto/47" (0-255)');
      }
      const range = parseRange(arg, MAX_PROTOCOL, "protocol", name, bad);
      return ServiceSet.fromCube(Hypercube.product([range, ALL_PORTS]));
    }
    const named = NAMED.find(([n]) => n === name);
    if (named === undefined || !hasPorts(named[1])) {
      throw bad(`unknown protocol "${name}"; valid forms are ${VALID_FORMS}`);
    }
    if (arg === undefined) return ServiceSet.protocol(named[1]);
    if (arg === "")
      throw bad(`write a port or port range after "${name}/", e.g. "${name}/443", or just "${name}"`);
    return ServiceSet.protocol(named[1], parseRange(arg, MAX_PORT, "port", name, bad));
  }

  /** Services in either set. */
  union(o: ServiceSet): ServiceSet {
    return ServiceSet.fromCube(this.c.union(o.c));
  }

  /** Services in both sets. */
  intersect(o: ServiceSet): ServiceSet {
    return ServiceSet.fromCube(this.c.intersect(o.c));
  }

  /** Services of this set not in `o`. */
  subtract(o: ServiceSet): ServiceSet {
    return ServiceSet.fromCube(this.c.subtract(o.c));
  }

  /** True iff no protocol/port is in the set ("none"). */
  isEmpty(): boolean {
    return this.c.isEmpty();
  }

  /** True iff both sets hold exactly the same (protocol, port) pairs. */
  equals(o: ServiceSet): boolean {
    return this.c.equals(o.c);
  }

  /** True iff every (protocol, port) of this set is in `o`. */
  isSubsetOf(o: ServiceSet): boolean {
    return this.c.isSubsetOf(o.c);
  }

  /** True iff the sets share at least one (protocol, port). */
  overlaps(o: ServiceSet): boolean {
    return this.c.overlaps(o.c);
  }

  /**
   * Membership. For protocols without ports the port is irrelevant. For tcp/udp/sctp with `port`
   * omitted, true only when every port of that protocol is in the set.
   */
  has(protocol: number, port?: number): boolean {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > MAX_PROTOCOL) return false;
    const ports = this.c.slice(BigInt(protocol));
    if (ports.isEmpty()) return false;
    const set = ports.layers[0]!.key;
    if (!hasPorts(protocol) || port === undefined) return ALL_PORTS.isSubsetOf(set);
    return Number.isInteger(port) && set.has(BigInt(port));
  }

  /** Canonical string key: equal sets have equal keys. */
  key(): string {
    return this.c.key();
  }

  /** Per protocol (ascending), its destination ports; protocols without ports list 0-65535. */
  entries(): Array<{ protocol: number; ports: IntervalSet }> {
    const out: Array<{ protocol: number; ports: IntervalSet }> = [];
    for (const layer of this.c.layers) {
      const ports = layer.sub.layers[0]!.key;
      for (const [lo, hi] of layer.key.ranges) {
        for (let p = lo; p <= hi; p++) out.push({ protocol: Number(p), ports });
      }
    }
    out.sort((a, b) => a.protocol - b.protocol);
    return out;
  }

  /**
   * Canonical human form: ["any"] for ALL; otherwise tcp, udp, sctp, icmp, then other protocols
   * ascending as "proto/N" or "proto/N-M" ranges; a protocol with all ports is its bare name ("tcp"),
   * else one string per merged port range ("tcp/80-81"). Empty array for the empty set.
   */
  toStrings(): string[] {
    // Renderers and reviews ask the same (immutable) set again and again: computed once, copied out.
    this.strings ??= this.computeStrings();
    return this.strings.slice();
  }

  private strings: string[] | undefined;

  private computeStrings(): string[] {
    if (this.isEmpty()) return [];
    if (this.equals(ServiceSet.ALL)) return ["any"];
    const byProtocol = new Map(this.entries().map((e) => [e.protocol, e.ports]));
    const out: string[] = [];
    for (const [name, n] of NAMED) {
      const ports = byProtocol.get(n);
      if (ports === undefined) continue;
      if (ports.equals(ALL_PORTS)) out.push(name);
      else for (const [lo, hi] of ports.ranges) out.push(lo === hi ? `${name}/${lo}` : `${name}/${lo}-${hi}`);
    }
    const named = IntervalSet.of(NAMED.map(([, n]) => [BigInt(n), BigInt(n)] as const));
    for (const [lo, hi] of this.c.project(0).subtract(named).ranges) {
      out.push(lo === hi ? `proto/${lo}` : `proto/${lo}-${hi}`);
    }
    return out;
  }

  /** `toStrings().join(", ")`, or "none" when empty. */
  toString(): string {
    return this.isEmpty() ? "none" : this.toStrings().join(", ");
  }
}

/** Parses "N" or "N-M" (decimal, inclusive) within 0..max; errors via `bad`. */
function parseRange(
  arg: string,
  max: number,
  what: "port" | "protocol",
  name: string,
  bad: (why: string) => NetParseError,
): IntervalSet {
  const m = /^([0-9]+)\s*(?:-\s*([0-9]+))?$/.exec(arg);
  if (m === null) {
    throw bad(
      what === "port"
        ? `"${arg}" is not a port or port range; write e.g. "${name}/443" or "${name}/8000-8100"`
        : `"${arg}" is not a protocol number; write e.g. "proto/47" (0-${max})`,
    );
  }
  const texts = m[2] === undefined ? [m[1]!] : [m[1]!, m[2]];
  for (const n of texts) if (Number(n) > max) throw bad(`${what} ${n} is outside 0-${max}`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > hi) throw bad(`the range is reversed; write "${name}/${hi}-${lo}"`);
  return IntervalSet.range(BigInt(lo), BigInt(hi));
}

/** @internal */
export { ALL_PORTS, ALL_PROTOCOLS };
