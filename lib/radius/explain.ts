import { AddressSet, ConnectionSet, type Packet, protocolName, ServiceSet } from "../net";
import type { Party } from "../plan/types";
import type { HopGraph } from "./graph";

/**
 * One hop of a chain (the `radius` JSON and the review's chains, a public contract): `from` → `to`,
 * the allow path that opens it (null when no allow path explains the packet: a rule outside the
 * policy, or a hop to or from an unmodelled party), a witness packet, and per target enforcing
 * either end, the rule that let the packet through in that target's own terms.
 */
export interface HopJson {
  from: string;
  to: string;
  path: string | null;
  packet: { src: string; dst: string; protocol: string; port?: number };
  decidedBy: Record<string, string>;
}

/** What a hop's packet must stay within: a forbid's part of a peer on the first hop, its end and services on the last. */
export interface HopWithin {
  src?: AddressSet;
  dst?: AddressSet;
  services?: ServiceSet;
}

/** Where a witness reads best: private addresses (RFC 1918, ULA) rather than 0.0.0.1. */
const PRIVATE = AddressSet.fromCidrs(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]);

/** A packet of the set, between private addresses where it has such packets (as the deployed-stack proof picks). */
function readableSample(set: ConnectionSet): Packet {
  for (const [src, dst] of [
    [PRIVATE, PRIVATE],
    [PRIVATE, AddressSet.ALL],
    [AddressSet.ALL, PRIVATE],
  ] as const) {
    if (!set.overlapsProduct(src, dst, ServiceSet.ALL)) continue;
    const packet = set.intersect(ConnectionSet.of(src, dst, ServiceSet.ALL)).sample();
    if (packet) return packet;
  }
  return set.sample()!;
}

export function packetJson(p: Packet): HopJson["packet"] {
  const out: HopJson["packet"] = { src: p.src, dst: p.dst, protocol: protocolName(p.protocol, p.family) };
  if (p.port !== undefined) out.port = p.port;
  return out;
}

/**
 * The hop x → y explained: a witness packet that every target enforcing either end lets through,
 * taken among the packets an allow path intends when there are any (so that `path` names the
 * policy's reason for the hop), else among the others (then `path` is null). Undefined when the
 * graph has no such hop.
 */
export function explainHop(g: HopGraph, x: number, y: number, within: HopWithin = {}): HopJson | undefined {
  const from = g.nodes[x]!;
  const to = g.nodes[y]!;
  const allows = from.planParty && to.planParty ? g.plan.allowsBetween(from.planParty, to.planParty) : [];
  const restricted = within.src !== undefined || within.dst !== undefined || within.services !== undefined;
  // The first allow path (policy order) whose connections the hop carries: a packet of it, its name.
  // Its connections lie within the plan parties' addresses; a facet or a forbid's part narrows more.
  const intended = (): { from: Party; to: Party; packet: Packet; path: string | null } | undefined => {
    for (const a of allows)
      for (const fx of from.parties)
        for (const fy of to.parties) {
          const answer = g.answerOf(fx, fy);
          if (!answer) continue;
          // Usually the allow path's own first packet passes: then no set is built for the hop.
          const first = a.connections.sample();
          // (It lies within the plan parties' addresses; a facet's own are checked.)
          if (
            first &&
            !restricted &&
            answer.has(first) &&
            (fx === from.planParty || fx.addresses.has(first.src)) &&
            (fy === to.planParty || fy.addresses.has(first.dst))
          )
            return { from: fx, to: fy, packet: first, path: a.path.name };
          if (!answer.overlaps(a.connections)) continue;
          let w = answer.intersect(a.connections);
          if (restricted || fx !== from.planParty || fy !== to.planParty)
            w = w.intersect(
              ConnectionSet.of(
                within.src ? fx.addresses.intersect(within.src) : fx.addresses,
                within.dst ? fy.addresses.intersect(within.dst) : fy.addresses,
                within.services ?? ServiceSet.ALL,
              ),
            );
          const packet = w.sample();
          if (packet) return { from: fx, to: fy, packet, path: a.path.name };
        }
    return undefined;
  };
  let chosen = intended();
  if (!chosen) {
    // No allow path explains the hop: any packet it carries.
    const carried = g.hop(x, y, within);
    if (carried.length === 0) return undefined;
    chosen = {
      from: carried[0]!.from,
      to: carried[0]!.to,
      packet: readableSample(carried[0]!.set),
      path: null,
    };
  }
  const { packet } = chosen;
  const decidedBy: Record<string, string> = {};
  for (const ev of g.evaluators)
    if (ev.enforces(chosen.from) || ev.enforces(chosen.to))
      decidedBy[ev.target] = ev.decide(chosen.from, chosen.to, packet).by;
  return {
    from: from.name,
    to: to.name,
    path: chosen.path,
    packet: packetJson(packet),
    decidedBy,
  };
}
