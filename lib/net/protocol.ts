import type { IpFamily } from "./address";

/** IP protocol numbers with a name in this library (IANA "Assigned Internet Protocol Numbers"). */
export const Protocol = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  SCTP: 132,
} as const;

/** Largest IP protocol number (protocols are 0..255). */
export const MAX_PROTOCOL = 255;
/** Largest port number (ports are 0..65535). */
export const MAX_PORT = 65535;

/** True for the protocols that carry ports (tcp 6, udp 17, sctp 132); every other protocol has none. */
export function hasPorts(protocol: number): boolean {
  return protocol === Protocol.TCP || protocol === Protocol.UDP || protocol === Protocol.SCTP;
}

/**
 * Display name of a real IP protocol number: "tcp", "udp", "sctp", "icmp" (1), "icmpv6" (58), else
 * "proto-N". With a family, ICMP of that family is always called "icmp"/"icmpv6" accordingly and
 * the other family's ICMP number is "proto-N".
 */
export function protocolName(protocol: number, family?: IpFamily): string {
  switch (protocol) {
    case Protocol.TCP:
      return "tcp";
    case Protocol.UDP:
      return "udp";
    case Protocol.SCTP:
      return "sctp";
    case Protocol.ICMP:
      return family === 6 ? "proto-1" : "icmp";
    case Protocol.ICMPV6:
      return family === 4 ? "proto-58" : "icmpv6";
    default:
      return `proto-${protocol}`;
  }
}
