import type { MovementPath } from "../model/types";
import { INTERNET_PEER } from "../model/validate";
import { hasPorts, ServiceSet } from "../net";
import type { Plan } from "../plan/types";
import { type Connection, serviceProtocol } from "./evaluate";

/**
 * Why an allow path is broad for an observed connection (docs/flows.md, "Broad rules"):
 *
 * - `internet`: an end is the built-in `internet` (every public address);
 * - `wide-peer`: an end is a declared peer wider than a /16 of IPv4 (more than 65,536 addresses) or
 *   a /64 of IPv6;
 * - `any-service`: its services are `any`;
 * - `all-ports`: its services hold every port of the connection's protocol (`tcp`, `udp`, `sctp`
 *   without ports, or a range 0-65535).
 *
 * A connection is "allowed only by broad rules" when every allow path admitting it is broad.
 */
export type BroadReason = "internet" | "wide-peer" | "any-service" | "all-ports";

export const WIDE_PEER_V4 = 1n << 16n;
export const WIDE_PEER_V6 = 1n << 64n;

export function broadness(plan: Plan): (path: MovementPath, c: Connection) => BroadReason[] {
  const peers = new Map(plan.policy.peers.map((p) => [p.name, p]));
  const endReasons = new Map<string, BroadReason[]>();
  const ends = (path: MovementPath): BroadReason[] => {
    let r = endReasons.get(path.name);
    if (r) return r;
    r = [];
    for (const end of [path.from, path.to]) {
      const peer = peers.get(end);
      if (!peer || plan.members.has(end)) continue;
      if (end === INTERNET_PEER) {
        if (!r.includes("internet")) r.push("internet");
      } else if (peer.addresses.v4.size() > WIDE_PEER_V4 || peer.addresses.v6.size() > WIDE_PEER_V6) {
        if (!r.includes("wide-peer")) r.push("wide-peer");
      }
    }
    endReasons.set(path.name, r);
    return r;
  };
  return (path, c) => {
    const r = [...ends(path)];
    if (path.services.equals(ServiceSet.ALL)) r.push("any-service");
    else if (hasPorts(c.protocol) && path.services.has(serviceProtocol(c.family, c.protocol)))
      r.push("all-ports");
    return r;
  };
}
