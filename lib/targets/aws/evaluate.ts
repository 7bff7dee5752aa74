import { AddressSet, ConnectionSet, IntervalSet, type Packet, ServiceSet } from "../../net";
import type { Party, Plan } from "../../plan/types";
import type { Decision, ResourceRecord, TargetAdapter, TargetEvaluator } from "../../verify/types";
import { AWS_TYPES } from "./contract";
import {
  type AwsNetwork,
  type Nacl,
  type NaclEntry,
  networkFromRecords,
  protocolConnections,
  type SgGroup,
  type SgRule,
} from "./model";

/*
 * An independent interpreter of AWS VPC filtering (security groups + network ACLs):
 *
 * - A workload placed in a VPC is a set of network interfaces carrying the security groups of every
 *   segment it is a member of in that VPC (the attachment contract: attach
 *   `securityGroupIds[segment]` for each of its segments). Its traffic is the UNION of those groups'
 *   rules; groups only allow; no matching rule means deny. Groups are stateful: replies pass.
 * - A connection a → b needs an egress rule on a's groups when a is in AWS, and an ingress rule on
 *   b's groups when b is in AWS (inside a VPC, both). Outside AWS only the AWS side decides.
 * - A rule naming a security group matches every interface carrying that group (all of the
 *   member's addresses); a CIDR or prefix list matches by address.
 * - Network ACLs are stateless and first-match by rule number, with an implicit final deny (`*`).
 *   A NACL tagged with a VPC filters traffic leaving (egress entries) and entering (ingress entries)
 *   each workload of that VPC; replies must pass too, on every ephemeral port 1024-65535 of the
 *   initiator. Traffic of a workload to itself does not cross a subnet boundary.
 */

const EPHEMERAL = IntervalSet.range(1024n, 65535n);
const LOW_PORTS = IntervalSet.range(0n, 1023n);
/** What replies can look like to a NACL: tcp/udp to an ephemeral port, any other protocol. */
const REPLY_SERVICES = ServiceSet.ALL.subtract(ServiceSet.protocol(6, LOW_PORTS)).subtract(
  ServiceSet.protocol(17, LOW_PORTS),
);
const ALL = AddressSet.ALL;

interface GroupIndex {
  group: SgGroup;
  /** CIDR / prefix-list / default rules as sets: egress (any src → remote dst), ingress (remote src → any dst). */
  egressByAddress: ConnectionSet;
  ingressByAddress: ConnectionSet;
  /** Rules naming a group: referenced group id → what they allow (over every address). */
  egressByGroup: Map<string, ConnectionSet>;
  ingressByGroup: Map<string, ConnectionSet>;
  egressRules: SgRule[];
  ingressRules: SgRule[];
}

interface NaclIndex {
  nacl: Nacl;
  sorted: NaclEntry[];
  /** Initiations the NACL lets leave (dst = remote) / enter (src = remote), first match. */
  out: ConnectionSet;
  in: ConnectionSet;
  /** Initiations local → remote whose replies pass the ingress entries on every ephemeral port. */
  repliesIn: ConnectionSet;
  /** Initiations remote → local whose replies pass the egress entries on every ephemeral port. */
  repliesOut: ConnectionSet;
}

function ruleSet(rule: SgRule, remote: AddressSet): ConnectionSet {
  return rule.direction === "egress"
    ? protocolConnections(ALL, remote, rule.protocol, rule.ports)
    : protocolConnections(remote, ALL, rule.protocol, rule.ports);
}

function entrySet(e: NaclEntry): ConnectionSet {
  return e.egress
    ? protocolConnections(ALL, e.cidr, e.protocol, e.ports)
    : protocolConnections(e.cidr, ALL, e.protocol, e.ports);
}

function protocolsOnly(services: ServiceSet): ServiceSet {
  return services
    .entries()
    .map((e) => ServiceSet.protocol(e.protocol))
    .reduce((a, b) => a.union(b), ServiceSet.EMPTY);
}

function indexNacl(nacl: Nacl): NaclIndex {
  const sorted = [...nacl.entries].sort((a, b) => a.ruleNumber - b.ruleNumber);
  const firstMatch = (egress: boolean) => {
    let remaining = ConnectionSet.ALL;
    const allowed: ConnectionSet[] = [];
    for (const e of sorted) {
      if (e.egress !== egress) continue;
      const m = entrySet(e);
      if (e.action === "allow") allowed.push(m.intersect(remaining));
      remaining = remaining.subtract(m);
    }
    return ConnectionSet.unionAll(allowed);
  };
  const out = firstMatch(true);
  const inn = firstMatch(false);
  // Remotes × protocols for which some reply (ephemeral port) is dropped.
  const badIn = ConnectionSet.of(ALL, ALL, REPLY_SERVICES).subtract(inn);
  const badOut = ConnectionSet.of(ALL, ALL, REPLY_SERVICES).subtract(out);
  const okIn = ConnectionSet.ALL.subtract(
    ConnectionSet.unionAll(badIn.cubes().map((c) => ConnectionSet.of(c.src, ALL, protocolsOnly(c.services)))),
  );
  const okOut = ConnectionSet.ALL.subtract(
    ConnectionSet.unionAll(
      badOut.cubes().map((c) => ConnectionSet.of(ALL, c.dst, protocolsOnly(c.services))),
    ),
  );
  return {
    nacl,
    sorted,
    out,
    in: inn,
    repliesIn: ConnectionSet.unionAll(okIn.cubes().map((c) => ConnectionSet.of(ALL, c.src, c.services))),
    repliesOut: ConnectionSet.unionAll(okOut.cubes().map((c) => ConnectionSet.of(c.dst, ALL, c.services))),
  };
}

/** The evaluator of an AWS network (recorded or exported) for a plan's parties. */
export function awsEvaluator(network: AwsNetwork, plan: Plan): TargetEvaluator {
  const segmentsOf = new Map<string, Set<string>>();
  for (const [segment, names] of plan.members)
    for (const n of names) {
      let s = segmentsOf.get(n);
      if (!s) segmentsOf.set(n, (s = new Set()));
      s.add(segment);
    }
  const byVpcSegment = new Map<string, SgGroup[]>();
  for (const g of network.groups) {
    if (g.vpc === undefined || g.segment === undefined) continue;
    const k = `${g.vpc}\u0000${g.segment}`;
    let list = byVpcSegment.get(k);
    if (!list) byVpcSegment.set(k, (list = []));
    list.push(g);
  }
  const remoteOf = (rule: SgRule): AddressSet | undefined => {
    if (rule.peer.kind === "cidr") return rule.peer.addresses;
    if (rule.peer.kind === "prefixList") return network.prefixLists.get(rule.peer.id) ?? ALL;
    return undefined;
  };
  const rulesByGroup = new Map<string, SgRule[]>();
  for (const r of network.rules) {
    let list = rulesByGroup.get(r.groupId);
    if (!list) rulesByGroup.set(r.groupId, (list = []));
    list.push(r);
  }
  const groupIndex = new Map<string, GroupIndex>();
  const indexOf = (g: SgGroup): GroupIndex => {
    let ix = groupIndex.get(g.id);
    if (ix) return ix;
    const rules = [...(rulesByGroup.get(g.id) ?? [])].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    if (g.defaultEgress)
      rules.unshift({
        name: `${g.name} default egress (AWS allow-all 0.0.0.0/0, ::/0)`,
        groupId: g.id,
        direction: "egress",
        protocol: "all",
        peer: { kind: "cidr", addresses: ALL },
      });
    const byAddr = { egress: [] as ConnectionSet[], ingress: [] as ConnectionSet[] };
    const byGroup = {
      egress: new Map<string, ConnectionSet[]>(),
      ingress: new Map<string, ConnectionSet[]>(),
    };
    for (const r of rules) {
      if (r.peer.kind === "group") {
        const m = byGroup[r.direction];
        let list = m.get(r.peer.groupId);
        if (!list) m.set(r.peer.groupId, (list = []));
        list.push(protocolConnections(ALL, ALL, r.protocol, r.ports));
      } else byAddr[r.direction].push(ruleSet(r, remoteOf(r)!));
    }
    const merge = (m: Map<string, ConnectionSet[]>) =>
      new Map([...m].map(([k, v]) => [k, ConnectionSet.unionAll(v)] as const));
    ix = {
      group: g,
      egressByAddress: ConnectionSet.unionAll(byAddr.egress),
      ingressByAddress: ConnectionSet.unionAll(byAddr.ingress),
      egressByGroup: merge(byGroup.egress),
      ingressByGroup: merge(byGroup.ingress),
      egressRules: rules.filter((r) => r.direction === "egress"),
      ingressRules: rules.filter((r) => r.direction === "ingress"),
    };
    groupIndex.set(g.id, ix);
    return ix;
  };

  const vpcOf = (p: Party) => (p.kind === "workload" ? p.workload.placements.aws?.vpc : undefined);
  const groupsCache = new Map<string, GroupIndex[]>();
  const groupsOf = (p: Party): GroupIndex[] => {
    let list = groupsCache.get(p.key);
    if (list) return list;
    const vpc = vpcOf(p);
    list = [];
    if (vpc !== undefined)
      for (const s of segmentsOf.get(p.name) ?? [])
        for (const g of byVpcSegment.get(`${vpc}\u0000${s}`) ?? []) list.push(indexOf(g));
    groupsCache.set(p.key, list);
    return list;
  };
  const naclIndex = new Map<string, NaclIndex[]>();
  for (const n of network.nacls) {
    if (n.vpc === undefined) continue;
    let list = naclIndex.get(n.vpc);
    if (!list) naclIndex.set(n.vpc, (list = []));
    list.push(indexNacl(n));
  }
  const naclsOf = (p: Party) => {
    const vpc = vpcOf(p);
    return vpc === undefined ? [] : (naclIndex.get(vpc) ?? []);
  };

  const enforces = (p: Party) => vpcOf(p) !== undefined;

  // What the groups let through depends only on the two ends' group sets: cache per pair of sets
  // (segments × VPCs), not per pair of parties, so memory stays small at 10k workloads.
  const groupsKey = (p: Party) =>
    groupsOf(p)
      .map((g) => g.group.id)
      .join(",");
  const sgCache = new Map<string, ConnectionSet>();
  const sgSide = (from: Party, to: Party, direction: "egress" | "ingress"): ConnectionSet => {
    const key = `${direction}\u0000${groupsKey(from)}\u0000${groupsKey(to)}`;
    const hit = sgCache.get(key);
    if (hit) return hit;
    const parts: ConnectionSet[] = [];
    const [own, far] =
      direction === "egress" ? [groupsOf(from), groupsOf(to)] : [groupsOf(to), groupsOf(from)];
    for (const g of own) {
      parts.push(direction === "egress" ? g.egressByAddress : g.ingressByAddress);
      const byGroup = direction === "egress" ? g.egressByGroup : g.ingressByGroup;
      for (const h of far) {
        const s = byGroup.get(h.group.id);
        if (s) parts.push(s);
      }
    }
    const set = ConnectionSet.unionAll(parts);
    sgCache.set(key, set);
    return set;
  };

  const allowed = (from: Party, to: Party): ConnectionSet => {
    let set = ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL);
    if (enforces(from)) set = set.intersect(sgSide(from, to, "egress"));
    if (enforces(to)) set = set.intersect(sgSide(from, to, "ingress"));
    if (from.key !== to.key) {
      for (const n of naclsOf(from)) set = set.intersect(n.out).intersect(n.repliesIn);
      for (const n of naclsOf(to)) set = set.intersect(n.in).intersect(n.repliesOut);
    }
    return set;
  };

  /** The first rule (by name) of the groups that matches the packet on one side. */
  const matchingRule = (
    side: GroupIndex[],
    direction: "egress" | "ingress",
    far: Party,
    packet: Packet,
  ): SgRule | undefined => {
    const farGroups = new Set(groupsOf(far).map((g) => g.group.id));
    const farAddr = direction === "egress" ? packet.dst : packet.src;
    for (const g of side) {
      for (const r of direction === "egress" ? g.egressRules : g.ingressRules) {
        let remote: AddressSet;
        if (r.peer.kind === "group") {
          if (!farGroups.has(r.peer.groupId)) continue;
          remote = AddressSet.parse(farAddr);
        } else remote = remoteOf(r)!;
        if (ruleSet(r, remote).has(packet)) return r;
      }
    }
    return undefined;
  };

  const naclEntryFor = (n: NaclIndex, egress: boolean, packet: Packet): NaclEntry | undefined =>
    n.sorted.find((e) => e.egress === egress && entrySet(e).has(packet));

  /** The NACL decision on one packet crossing in one direction: the deciding entry. */
  const naclDecision = (n: NaclIndex, egress: boolean, packet: Packet): { allow: boolean; by: string } => {
    const e = naclEntryFor(n, egress, packet);
    if (e) return { allow: e.action === "allow", by: e.name };
    return {
      allow: false,
      by: `${n.nacl.name} ${egress ? "outbound" : "inbound"} rule * deny (no entry matched)`,
    };
  };
  const naclDenies = (n: NaclIndex, egress: boolean, packet: Packet): string | undefined => {
    const d = naclDecision(n, egress, packet);
    return d.allow ? undefined : d.by;
  };

  /** A reply of the connection (to → from, to an ephemeral port) that the NACL drops, if any. */
  const droppedReply = (n: NaclIndex, egress: boolean, packet: Packet): string | undefined => {
    const src = AddressSet.parse(packet.dst);
    const dst = AddressSet.parse(packet.src);
    const replies =
      packet.protocol === 6 || packet.protocol === 17
        ? protocolConnections(src, dst, packet.protocol, EPHEMERAL)
        : protocolConnections(src, dst, packet.protocol);
    const bad = replies.subtract(egress ? n.out : n.in).sample();
    if (!bad) return undefined;
    const reply = bad;
    const why = naclDenies(n, egress, reply);
    return `${why} (reply ${reply.src} -> ${reply.dst}${reply.port !== undefined ? ` port ${reply.port}` : ""})`;
  };

  const decide = (from: Party, to: Party, packet: Packet): Decision => {
    const by: string[] = [];
    if (enforces(from)) {
      const r = matchingRule(groupsOf(from), "egress", to, packet);
      if (!r) return { verdict: "deny", by: "default-deny" };
      by.push(r.name);
    }
    if (enforces(to)) {
      const r = matchingRule(groupsOf(to), "ingress", from, packet);
      if (!r) return { verdict: "deny", by: "default-deny" };
      by.push(r.name);
    }
    if (from.key !== to.key) {
      for (const [n, egress] of [
        ...naclsOf(from).map((n) => [n, true] as const),
        ...naclsOf(to).map((n) => [n, false] as const),
      ]) {
        const d = naclDecision(n, egress, packet);
        if (!d.allow) return { verdict: "deny", by: d.by };
        const reply = droppedReply(n, !egress, packet);
        if (reply) return { verdict: "deny", by: reply };
        by.push(d.by);
      }
    }
    return { verdict: "allow", by: by.length > 0 ? by.join(" + ") : "not filtered by aws" };
  };

  return { target: "aws", enforces, allowed, decide };
}

const OWNED = new Set<string>(Object.values(AWS_TYPES));

/** The aws target's adapter: which recorded resources are its own, and their evaluator. */
export const awsAdapter: TargetAdapter = {
  target: "aws",
  owns: (r: ResourceRecord) => OWNED.has(r.type),
  evaluator: (records, plan) => awsEvaluator(networkFromRecords(records), plan),
};
