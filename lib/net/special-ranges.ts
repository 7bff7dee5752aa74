import { AddressSet } from "./address-set";

/*
 * THE one place in the code base that lists the non-public address space.
 *
 * Source: the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates),
 * https://www.iana.org/assignments/iana-ipv4-special-registry and
 * https://www.iana.org/assignments/iana-ipv6-special-registry, plus the multicast blocks (which live
 * in their own registries). Rule: a block is listed here when its "Globally Reachable" column says
 * False, or N/A for deprecated/tunnelling blocks (as Python's `ipaddress.is_global` does, to be
 * safe); blocks marked True (AS112, AMT, PCP/TURN anycast, 64:ff9b::/96, ORCHIDv2, DETs, …) are
 * left in the internet. Where the False block 2001::/23 contains True sub-blocks, the list holds the
 * remainder (computed below from the block and its exceptions).
 */

/** 2001::/23 IETF Protocol Assignments (RFC 2928), minus its globally reachable sub-blocks. */
const IETF_PROTOCOL_V6 = "2001::/23";
const IETF_PROTOCOL_V6_GLOBAL = [
  "2001:3::/32", // AMT (RFC 7450)
  "2001:4:112::/48", // AS112-v6 (RFC 7535)
  "2001:20::/28", // ORCHIDv2 (RFC 7343)
  "2001:30::/28", // Drone Remote ID Protocol Entity Tags (DETs) Prefix (RFC 9374)
];
// Stays special inside 2001::/23: 2001::/32 Teredo (RFC 4380, N/A), 2001:2::/48 Benchmarking
// (RFC 5180, False), 2001:10::/28 deprecated ORCHID (RFC 4843), unassigned space, and — a deliberate
// simplification — the globally reachable single anycast addresses 2001:1::1/128 (PCP, RFC 7723),
// 2001:1::2/128 (TURN, RFC 8155) and 2001:1::3/128 (DNS-SD SRP, RFC 9665): carving them out would
// add ~130 CIDRs to every rendering of the internet for addresses no policy targets.

function remainder(block: string, globallyReachable: readonly string[]): string[] {
  return AddressSet.parse(block).subtract(AddressSet.fromCidrs(globallyReachable)).toCidrs();
}

/** IPv4 blocks that are not part of the public internet (each annotated with its registry entry). */
export const SPECIAL_PURPOSE_V4: readonly string[] = Object.freeze([
  "0.0.0.0/8", // "This network" (RFC 791, RFC 1122 §3.2.1.3)
  "10.0.0.0/8", // Private-Use (RFC 1918)
  "100.64.0.0/10", // Shared Address Space, carrier-grade NAT (RFC 6598)
  "127.0.0.0/8", // Loopback (RFC 1122 §3.2.1.3)
  "169.254.0.0/16", // Link Local (RFC 3927)
  "172.16.0.0/12", // Private-Use (RFC 1918)
  // IETF Protocol Assignments (RFC 6890 §2.1). Deliberately whole: its two globally reachable
  // anycast addresses 192.0.0.9/32 (PCP, RFC 7723) and 192.0.0.10/32 (TURN, RFC 8155) stay out of
  // the internet, like their IPv6 counterparts below.
  "192.0.0.0/24",
  "192.0.2.0/24", // Documentation TEST-NET-1 (RFC 5737)
  "192.88.99.0/24", // Deprecated 6to4 Relay Anycast (RFC 7526)
  "192.168.0.0/16", // Private-Use (RFC 1918)
  "198.18.0.0/15", // Benchmarking (RFC 2544)
  "198.51.100.0/24", // Documentation TEST-NET-2 (RFC 5737)
  "203.0.113.0/24", // Documentation TEST-NET-3 (RFC 5737)
  "224.0.0.0/4", // Multicast (RFC 5771, IANA IPv4 Multicast Address Space Registry)
  "240.0.0.0/4", // Reserved for Future Use (RFC 1112 §4), includes Limited Broadcast 255.255.255.255/32 (RFC 919, RFC 8190)
]);

/** IPv6 blocks that are not part of the public internet (each annotated with its registry entry). */
export const SPECIAL_PURPOSE_V6: readonly string[] = Object.freeze([
  "::/128", // Unspecified Address (RFC 4291)
  "::1/128", // Loopback Address (RFC 4291)
  "::ffff:0:0/96", // IPv4-mapped Address (RFC 4291)
  "64:ff9b:1::/48", // IPv4-IPv6 Translation, local use (RFC 8215)
  "100::/64", // Discard-Only Address Block (RFC 6666)
  "100:0:0:1::/64", // Dummy IPv6 Prefix (RFC 9780)
  ...remainder(IETF_PROTOCOL_V6, IETF_PROTOCOL_V6_GLOBAL), // IETF Protocol Assignments (RFC 2928)
  "2001:db8::/32", // Documentation (RFC 3849)
  "2002::/16", // 6to4 (RFC 3056): Globally Reachable N/A, treated as not global
  "3fff::/20", // Documentation (RFC 9637)
  "5f00::/16", // Segment Routing (SRv6) SIDs (RFC 9602)
  "fc00::/7", // Unique-Local (RFC 4193, RFC 8190)
  "fe80::/10", // Link-Local Unicast (RFC 4291)
  "ff00::/8", // Multicast (RFC 4291 §2.7)
]);

/**
 * The public internet, the built-in `internet` peer: every IPv4 and IPv6 address outside
 * SPECIAL_PURPOSE_V4 and SPECIAL_PURPOSE_V6.
 */
export const INTERNET: AddressSet = AddressSet.ALL.subtract(
  AddressSet.fromCidrs([...SPECIAL_PURPOSE_V4, ...SPECIAL_PURPOSE_V6]),
);
