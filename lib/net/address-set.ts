import { familyBits, familyMax, formatAddress, type IpFamily, parseAddress } from "./address";
import { NetParseError } from "./errors";
import { IntervalSet } from "./interval-set";

export { formatAddress, type IpFamily, parseAddress } from "./address";

/** Number of trailing zero bits of `x` (x > 0), capped at `cap`. */
function trailingZeros(x: bigint, cap: number): number {
  if (x === 0n) return cap;
  let n = 0;
  while (n < cap && ((x >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}

/** floor(log2(x)) for x > 0. */
function log2Floor(x: bigint): number {
  return x.toString(2).length - 1;
}

/** Minimal CIDR blocks `[network, prefix]` covering exactly `[lo, hi]`, ascending. */
function rangeToCidrs(lo: bigint, hi: bigint, bits: number): Array<[bigint, number]> {
  const out: Array<[bigint, number]> = [];
  let cur = lo;
  while (cur <= hi) {
    const align = trailingZeros(cur, bits);
    const fit = log2Floor(hi - cur + 1n);
    const size = Math.min(align, fit);
    out.push([cur, bits - size]);
    cur += 1n << BigInt(size);
  }
  return out;
}

function familyName(f: IpFamily): string {
  return f === 4 ? "IPv4" : "IPv6";
}

/**
 * An immutable set of IP addresses: an IntervalSet of IPv4 address values (0..2^32-1) and a separate
 * IntervalSet of IPv6 address values (0..2^128-1). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
 * are IPv6 addresses here, distinct from the IPv4 address. The empty set contains no address of
 * either family.
 */
export class AddressSet {
  /** No address. */
  static readonly EMPTY: AddressSet = new AddressSet(IntervalSet.EMPTY, IntervalSet.EMPTY);
  /** Every IPv4 address (0.0.0.0/0). */
  static readonly ALL_V4: AddressSet = new AddressSet(IntervalSet.range(0n, familyMax(4)), IntervalSet.EMPTY);
  /** Every IPv6 address (::/0). */
  static readonly ALL_V6: AddressSet = new AddressSet(IntervalSet.EMPTY, IntervalSet.range(0n, familyMax(6)));
  /** Every IPv4 and every IPv6 address. */
  static readonly ALL: AddressSet = new AddressSet(AddressSet.ALL_V4.v4, AddressSet.ALL_V6.v6);

  private constructor(
    /** The IPv4 addresses, as 32-bit values. */
    readonly v4: IntervalSet,
    /** The IPv6 addresses, as 128-bit values. */
    readonly v6: IntervalSet,
  ) {}

  /**
   * From raw address values per family. Throws RangeError when a value is outside its family's
   * space (negative, or above 2^32-1 / 2^128-1).
   */
  static fromIntervals(v4: IntervalSet, v6: IntervalSet): AddressSet {
    for (const [f, s] of [
      [4, v4],
      [6, v6],
    ] as const) {
      const lo = s.min();
      const hi = s.max();
      if (lo !== undefined && (lo < 0n || hi! > familyMax(f))) {
        throw new RangeError(`AddressSet.fromIntervals: values outside the ${familyName(f)} address space`);
      }
    }
    if (v4.isEmpty() && v6.isEmpty()) return AddressSet.EMPTY;
    return new AddressSet(v4, v6);
  }

  /** The set of one family holding exactly `values`. */
  static ofFamily(family: IpFamily, values: IntervalSet): AddressSet {
    return family === 4
      ? AddressSet.fromIntervals(values, IntervalSet.EMPTY)
      : AddressSet.fromIntervals(IntervalSet.EMPTY, values);
  }

  /**
   * Parses one entry: a CIDR (`10.0.0.0/8`, `2001:db8::/32`), a single address (`10.0.0.5`), or an
   * inclusive range of one family (`10.0.0.5-10.0.0.9`). Strict: a CIDR with host bits set, a prefix
   * out of range, a mixed-family or reversed range, or anything else throws NetParseError quoting the
   * entry and saying how to fix it.
   */
  static parse(entry: string): AddressSet {
    const e = entry.trim();
    if (e === "") {
      throw new NetParseError(
        "empty address entry: write a CIDR like 10.0.0.0/8, an address, or a range like 10.0.0.5-10.0.0.9",
      );
    }
    const wrap = (f: () => { family: IpFamily; value: bigint }) => {
      try {
        return f();
      } catch (err) {
        if (err instanceof NetParseError) {
          throw new NetParseError(`bad address entry "${e}": ${err.message}`);
        }
        throw err;
      }
    };
    if (e.includes("/")) {
      const slash = e.indexOf("/");
      const addrText = e.slice(0, slash).trim();
      const prefixText = e.slice(slash + 1).trim();
      const { family, value } = wrap(() => parseAddress(addrText));
      const bits = familyBits(family);
      if (!/^[0-9]{1,3}$/.test(prefixText)) {
        throw new NetParseError(
          `bad CIDR "${e}": the prefix length after "/" must be a number 0-${bits} for ${familyName(family)}`,
        );
      }
      const prefix = Number(prefixText);
      if (prefix > bits) {
        throw new NetParseError(
          `bad CIDR "${e}": prefix /${prefix} is out of range for ${familyName(family)} (0-${bits})`,
        );
      }
      const hostBits = BigInt(bits - prefix);
      const hostMask = (1n << hostBits) - 1n;
      if ((value & hostMask) !== 0n) {
        const net = value & ~hostMask;
        throw new NetParseError(
          `bad CIDR "${e}": host bits are set; did you mean ${formatAddress(family, net)}/${prefix}? ` +
            `(or ${formatAddress(family, value)}/${bits} for the single address)`,
        );
      }
      return AddressSet.ofFamily(family, IntervalSet.range(value, value | hostMask));
    }
    if (e.includes("-")) {
      const parts = e.split("-");
      if (parts.length !== 2) {
        throw new NetParseError(`bad address range "${e}": write exactly one "-" between two addresses`);
      }
      const lo = wrap(() => parseAddress(parts[0]!));
      const hi = wrap(() => parseAddress(parts[1]!));
      if (lo.family !== hi.family) {
        throw new NetParseError(
          `bad address range "${e}": it mixes IPv${lo.family} and IPv${hi.family}; ` +
            "a range must have both ends in the same family (write two entries instead)",
        );
      }
      if (lo.value > hi.value) {
        throw new NetParseError(
          `bad address range "${e}": the start is after the end; write ` +
            `"${formatAddress(hi.family, hi.value)}-${formatAddress(lo.family, lo.value)}"`,
        );
      }
      return AddressSet.ofFamily(lo.family, IntervalSet.range(lo.value, hi.value));
    }
    const a = parseAddress(e);
    return AddressSet.ofFamily(a.family, IntervalSet.single(a.value));
  }

  /** The union of the parsed entries (see `parse`); the first bad entry throws NetParseError naming it. */
  static fromCidrs(entries: readonly string[]): AddressSet {
    return AddressSet.unionAll(entries.map((e) => AddressSet.parse(e)));
  }

  /** The union of many sets in one pass. */
  static unionAll(sets: Iterable<AddressSet>): AddressSet {
    const list = [...sets];
    return AddressSet.derived(
      IntervalSet.unionAll(list.map((s) => s.v4)),
      IntervalSet.unionAll(list.map((s) => s.v6)),
    );
  }

  /**
   * The result of the algebra on valid sets: within each family's space by construction, so the
   * range check of `fromIntervals` (two scans per set, on every evaluator's hot path) is skipped.
   */
  private static derived(v4: IntervalSet, v6: IntervalSet): AddressSet {
    return v4.isEmpty() && v6.isEmpty() ? AddressSet.EMPTY : new AddressSet(v4, v6);
  }

  /** Addresses in either set. */
  union(o: AddressSet): AddressSet {
    return AddressSet.derived(this.v4.union(o.v4), this.v6.union(o.v6));
  }

  /** Addresses in both sets. */
  intersect(o: AddressSet): AddressSet {
    return AddressSet.derived(this.v4.intersect(o.v4), this.v6.intersect(o.v6));
  }

  /** Addresses of this set not in `o`. */
  subtract(o: AddressSet): AddressSet {
    return AddressSet.derived(this.v4.subtract(o.v4), this.v6.subtract(o.v6));
  }

  /** True iff the set holds no address of either family. */
  isEmpty(): boolean {
    return this.v4.isEmpty() && this.v6.isEmpty();
  }

  /** True iff both sets hold exactly the same addresses. */
  equals(o: AddressSet): boolean {
    return this.v4.equals(o.v4) && this.v6.equals(o.v6);
  }

  /** True iff every address of this set is in `o`. */
  isSubsetOf(o: AddressSet): boolean {
    return this.v4.isSubsetOf(o.v4) && this.v6.isSubsetOf(o.v6);
  }

  /** True iff the sets share at least one address. */
  overlaps(o: AddressSet): boolean {
    return this.v4.overlaps(o.v4) || this.v6.overlaps(o.v6);
  }

  /** Membership of one address given as text; throws NetParseError when it is not an address. */
  has(address: string): boolean {
    const a = parseAddress(address);
    return this.family(a.family).has(a.value);
  }

  /** The addresses of one family, as raw values. */
  family(f: IpFamily): IntervalSet {
    return f === 4 ? this.v4 : this.v6;
  }

  /** Canonical string key: equal sets have equal keys. */
  key(): string {
    return `${this.v4.key()}|${this.v6.key()}`;
  }

  /**
   * The exact, minimal CIDR decomposition (each canonical range split into the fewest aligned
   * blocks); IPv4 first, then IPv6, ascending. Empty array for the empty set.
   */
  toCidrs(): string[] {
    // Renderers ask the same (immutable) set again and again: computed once, handed out as copies.
    if (this.cidrs === undefined) {
      const out: string[] = [];
      for (const f of [4, 6] as const) {
        for (const [lo, hi] of this.family(f).ranges) {
          for (const [net, prefix] of rangeToCidrs(lo, hi, familyBits(f))) {
            out.push(`${formatAddress(f, net)}/${prefix}`);
          }
        }
      }
      this.cidrs = out;
    }
    return this.cidrs.slice();
  }

  private cidrs: string[] | undefined;

  /**
   * A deterministic member: the lowest address of the lowest range, but the next one when that range
   * holds more than one address (skipping a network address: 10.200.0.0/16 gives "10.200.0.1");
   * IPv4 preferred over IPv6. Undefined when empty.
   */
  sample(): string | undefined {
    for (const f of [4, 6] as const) {
      const v = sampleValue(this.family(f));
      if (v !== undefined) return formatAddress(f, v);
    }
    return undefined;
  }

  /** `toCidrs().join(", ")`, or "∅" when empty. */
  toString(): string {
    return this.isEmpty() ? "∅" : this.toCidrs().join(", ");
  }
}

/** The sample rule of AddressSet.sample on raw values: lo of the first range, lo+1 if that range has >1 value. */
export function sampleValue(s: IntervalSet): bigint | undefined {
  const r = s.ranges[0];
  if (r === undefined) return undefined;
  return r[1] > r[0] ? r[0] + 1n : r[0];
}
