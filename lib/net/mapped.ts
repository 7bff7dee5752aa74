import { formatAddress } from "./address";
import { AddressSet } from "./address-set";
import { IntervalSet } from "./interval-set";

/**
 * IPv4-mapped IPv6 addresses (`::ffff:0:0/96`, RFC 4291 §2.5.5.2) are how a dual-stack socket shows
 * an IPv4 peer; they never appear in a packet on the wire. A policy entry written that way would
 * therefore make an IPv6 rule that no IPv4 packet matches: an allow would open nothing, a forbid
 * would block nothing, and neither would collide with the same range written as IPv4.
 *
 * Decision: policies reject them, naming the IPv4 entry to write instead, rather than normalise them
 * silently. The author then reads in the file exactly what every target enforces, and conflicts and
 * forbids see one address family. Entries that merely contain the mapped block (`::/0`, `::/64`)
 * are ordinary IPv6 and stay valid. Exports of live rules and flow logs are not policies: their
 * readers keep such entries as IPv6, which is what the targets do.
 */
export const IPV4_MAPPED: AddressSet = AddressSet.ofFamily(
  6,
  IntervalSet.range(0xffff_0000_0000n, 0xffff_ffff_ffffn),
);

/**
 * When `set` (one parsed policy entry) lies inside the IPv4-mapped block: the message saying so and
 * the IPv4 entry to write. Undefined for every other set.
 */
export function ipv4MappedProblem(entry: string, set: AddressSet): string | undefined {
  const v6 = set.family(6);
  if (v6.isEmpty() || !set.isSubsetOf(IPV4_MAPPED)) return undefined;
  const v4 = AddressSet.ofFamily(
    4,
    IntervalSet.of(v6.ranges.map(([lo, hi]) => [lo - 0xffff_0000_0000n, hi - 0xffff_0000_0000n])),
  );
  const cidrs = v4.toCidrs();
  const written =
    cidrs.length <= 4
      ? cidrs.map((c) => `"${c}"`).join(", ")
      : `"${formatAddress(4, v6.ranges[0]![0] - 0xffff_0000_0000n)}-…"`;
  return (
    `"${entry.trim()}" is an IPv4-mapped IPv6 address (::ffff:0:0/96): packets from it travel as IPv4, ` +
    `so an IPv6 rule for it would match nothing; write ${written} instead`
  );
}
