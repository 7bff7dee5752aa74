import type { MovementPath } from "../model/types";
import { type AddressSet, hasPorts, type IpFamily, Protocol, parseAddress, type ServiceSet } from "../net";
import type { CompiledPath, Party, Plan } from "../plan/types";

interface Entry {
  path: MovementPath;
  /** The slice's addresses when they are narrower than the party's (checked per flow); else undefined. */
  from?: AddressSet;
  to?: AddressSet;
}

type PairIndex = Map<string, Map<string, Entry[]>>;

function index(paths: readonly CompiledPath[], restricted: Set<string>): PairIndex {
  const out: PairIndex = new Map();
  for (const c of paths) {
    for (const f of c.from) {
      for (const t of c.to) {
        const narrowFrom = !f.addresses.equals(f.party.addresses);
        const narrowTo = !t.addresses.equals(t.party.addresses);
        const pair = `${f.party.key}\u0000${t.party.key}`;
        if (narrowFrom || narrowTo) restricted.add(pair);
        let byTo = out.get(f.party.key);
        if (!byTo) out.set(f.party.key, (byTo = new Map()));
        let list = byTo.get(t.party.key);
        if (!list) byTo.set(t.party.key, (list = []));
        list.push({
          path: c.path,
          from: narrowFrom ? f.addresses : undefined,
          to: narrowTo ? t.addresses : undefined,
        });
      }
    }
  }
  return out;
}

/** What the plan says about one observed connection between two parties. */
export interface Decision {
  /** Allow paths admitting it (policy order). Empty: default deny. */
  allowedBy: MovementPath[];
  /** Enforce forbids naming it. */
  forbiddenBy: MovementPath[];
  /** Monitor forbids naming it. */
  monitoredBy: MovementPath[];
}

export interface Connection {
  family: IpFamily;
  src: string;
  dst: string;
  protocol: number;
  dstPort?: number;
}

/**
 * The protocol number to ask a ServiceSet about: ServiceSet "icmp" (1) means ICMP of the packet's
 * family, so an IPv6 packet's real ICMPv6 (58) is 1 there, and real 1 is 58 (see ConnectionSet).
 */
export function serviceProtocol(family: IpFamily, protocol: number): number {
  if (family === 6 && protocol === Protocol.ICMPV6) return Protocol.ICMP;
  if (family === 6 && protocol === Protocol.ICMP) return Protocol.ICMPV6;
  return protocol;
}

/** True iff `services` admits the connection's protocol and destination port. */
export function admits(services: ServiceSet, c: Connection): boolean {
  const p = serviceProtocol(c.family, c.protocol);
  return hasPorts(c.protocol) ? services.has(p, c.dstPort ?? 0) : services.has(p);
}

/**
 * Evaluates observed connections against a plan exactly as docs/design.md's semantics say (an allow
 * path admits a connection when its `from` covers the source party, its `to` the destination
 * party, over the covered addresses, and its services hold the protocol and port), with the
 * decisions cached per party pair and service when no path end is narrower than its party.
 */
export class PlanEvaluator {
  private readonly restricted = new Set<string>();
  private readonly allows: PairIndex;
  private readonly guardrails: PairIndex;
  private readonly monitored: PairIndex;
  /** Decisions per source party, destination party and (family, protocol, port). */
  private readonly cache = new Map<Party, Map<Party, Map<number, Decision>>>();
  private cached = 0;

  constructor(readonly plan: Plan) {
    this.allows = index(plan.allows, this.restricted);
    this.guardrails = index(plan.guardrails, this.restricted);
    this.monitored = index(plan.monitored, this.restricted);
  }

  decide(src: Party, dst: Party, c: Connection): Decision {
    let byDst = this.cache.get(src);
    if (!byDst) this.cache.set(src, (byDst = new Map()));
    let bySvc = byDst.get(dst);
    if (!bySvc) {
      bySvc = new Map();
      // A pair with an end narrower than its party is decided per flow (its addresses matter).
      if (!this.restricted.has(`${src.key}\u0000${dst.key}`)) byDst.set(dst, bySvc);
    }
    const key = (c.family * 256 + c.protocol) * 65536 + (c.dstPort ?? 0);
    const hit = bySvc.get(key);
    if (hit) return hit;
    const pick = (idx: PairIndex) => {
      const entries = idx.get(src.key)?.get(dst.key);
      if (!entries) return [];
      const out: MovementPath[] = [];
      for (const e of entries) {
        if (!admits(e.path.services, c)) continue;
        if (e.from && !contains(e.from, c.src)) continue;
        if (e.to && !contains(e.to, c.dst)) continue;
        if (!out.includes(e.path)) out.push(e.path);
      }
      return out;
    };
    const d: Decision = {
      allowedBy: pick(this.allows),
      forbiddenBy: pick(this.guardrails),
      monitoredBy: pick(this.monitored),
    };
    if (++this.cached > 1_000_000) {
      this.cache.clear();
      this.cached = 0;
    }
    bySvc.set(key, d);
    return d;
  }
}

function contains(set: AddressSet, address: string): boolean {
  const a = parseAddress(address);
  return set.family(a.family).has(a.value);
}
