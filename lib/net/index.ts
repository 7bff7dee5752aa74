/**
 * lib/net — the connection-set algebra: interval sets, IPv4/IPv6 address sets, services
 * (protocol × port) and connection sets (packets), all immutable and interval based.
 */
export { formatAddress, type IpFamily, parseAddress } from "./address";
export { AddressSet } from "./address-set";
export { ConnectionSet, type Packet } from "./connection-set";
export { NetParseError } from "./errors";
export { Hypercube, type HypercubeLayer } from "./hypercube";
export { IntervalSet } from "./interval-set";
export { IPV4_MAPPED, ipv4MappedProblem } from "./mapped";
export { hasPorts, MAX_PORT, MAX_PROTOCOL, Protocol, protocolName } from "./protocol";
export { ServiceSet } from "./service-set";
export { INTERNET, SPECIAL_PURPOSE_V4, SPECIAL_PURPOSE_V6 } from "./special-ranges";
