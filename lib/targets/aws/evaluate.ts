import {
  AddressSet,
  ConnectionSet,
  IntervalSet,
  type Packet,
  Protocol,
  parseAddress,
  ServiceSet,
} from "../../net";
import { governs } from "../../plan/facets";
import type { Party, Plan } from "../../plan/types";
import { unclaimedAddresses } from "../../plan/universe";
import { WORKLOAD_TAG } from "../../verify/binding";
import type {
  BindingFinding,
  Decision,
  Footprint,
  ResourceRecord,
  TargetAdapter,
  TargetEvaluator,
} from "../../verify/types";
import { type AwsBindingIssue, type AwsCompute, awsBinding } from "./bind";
import { AWS_COMPUTE_TYPES, AWS_TYPES } from "./contract";
import {
  type AwsNetwork,
  defaultGroupId,
  type Nacl,
  type NaclEntry,
  networkFromRecords,
  protocolConnections,
  type SgGroup,
  type SgRule,
} from "./model";
import { awsUsage } from "./usage";

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

/**
 * What some rules of a group allow, as (remote addresses, services): the connections
 * remote → any (ingress) or any → remote (egress) over those services. The protocol's family is in
 * the addresses (AWS "icmp" matches IPv4 only: its remote is IPv4 only), so that
 * `ConnectionSet.of(local, remote, services)` is exactly what the rules match.
 */
interface Grant {
  remote: AddressSet;
  services: ServiceSet;
  /** The remote's bounds (index grants only). */
  box?: Box;
}

interface GroupIndex {
  group: SgGroup;
  /** CIDR, prefix-list and default rules: one grant per service set (remotes merged). */
  egressByAddress: Grant[];
  ingressByAddress: Grant[];
  /** Rules naming a group: referenced group id → grants over every address (of the rule's family). */
  egressByGroup: Map<string, Grant[]>;
  ingressByGroup: Map<string, Grant[]>;
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

const V4 = AddressSet.ALL_V4;
const V6 = AddressSet.ALL_V6;
interface RuleServices {
  family: AddressSet;
  services: ServiceSet;
}
const NO_PORTS = IntervalSet.EMPTY;
const serviceCache = new Map<SgRule["protocol"], Map<IntervalSet, RuleServices>>();
/**
 * A rule's protocol and ports as algebra services, with the addresses of the family it applies to
 * (the same reading as `protocolConnections`): "all" is every service of both families; AWS "icmp"
 * (1) is IPv4 ICMP only, "icmpv6" (58) IPv6 ICMPv6 only (the algebra's "icmp" of the IPv6 family);
 * every other protocol applies to both families.
 */
function ruleServices(protocol: SgRule["protocol"], ports: IntervalSet | undefined): RuleServices {
  // By protocol, then by the ports object (rules share them: `awsPorts` returns one set per range).
  let byPorts = serviceCache.get(protocol);
  if (!byPorts) serviceCache.set(protocol, (byPorts = new Map()));
  let hit = byPorts.get(ports ?? NO_PORTS);
  if (!hit) {
    hit =
      protocol === "all"
        ? { family: ALL, services: ServiceSet.ALL }
        : protocol === Protocol.ICMP
          ? { family: V4, services: ServiceSet.icmp() }
          : protocol === Protocol.ICMPV6
            ? { family: V6, services: ServiceSet.icmp() }
            : { family: ALL, services: ServiceSet.protocol(protocol, ports) };
    if (byPorts.size > 10_000) byPorts.clear();
    byPorts.set(ports ?? NO_PORTS, hit);
  }
  return hit;
}

/**
 * Grants merged without comparing sets: remotes of the same services object united, then services
 * of the same remote object united (rules share their services objects, group rules their remotes).
 */
function mergeGrants(grants: readonly Grant[]): Grant[] {
  if (grants.length <= 1) return grants.map(withBox);
  const bySvc = new Map<ServiceSet, AddressSet[]>();
  for (const g of grants) {
    const e = bySvc.get(g.services);
    if (e) e.push(g.remote);
    else bySvc.set(g.services, [g.remote]);
  }
  const byRemote = new Map<AddressSet, ServiceSet>();
  for (const [services, remotes] of bySvc) {
    const remote = remotes.length === 1 ? remotes[0]! : AddressSet.unionAll(remotes);
    const had = byRemote.get(remote);
    byRemote.set(remote, had === undefined ? services : unionOf(had, services));
  }
  return [...byRemote].map(([remote, services]) => withBox({ remote, services }));
}

/**
 * The smallest and largest address per family: IPv4 as numbers (exact), IPv6 as bigints; -1 when
 * the family is empty.
 */
interface Box {
  lo4: number;
  hi4: number;
  lo6: bigint;
  hi6: bigint;
}
function boxOf(a: AddressSet): Box {
  const v4 = a.family(4);
  const v6 = a.family(6);
  return {
    lo4: v4.isEmpty() ? -1 : Number(v4.min()),
    hi4: v4.isEmpty() ? -1 : Number(v4.max()),
    lo6: v6.min() ?? -1n,
    hi6: v6.max() ?? -1n,
  };
}
/** False when the boxes show the sets cannot share an address (a cheap test before `overlaps`). */
function boxesMeet(a: Box, b: Box): boolean {
  return (
    (a.lo4 >= 0 && b.lo4 >= 0 && a.lo4 <= b.hi4 && b.lo4 <= a.hi4) ||
    (a.lo6 >= 0n && b.lo6 >= 0n && a.lo6 <= b.hi6 && b.lo6 <= a.hi6)
  );
}
function withBox(g: Grant): Grant {
  return g.box ? g : { ...g, box: boxOf(g.remote) };
}

/** Unions and intersections of the few service sets rules use, computed once per pair. */
const unions = new WeakMap<ServiceSet, WeakMap<ServiceSet, ServiceSet>>();
const intersections = new WeakMap<ServiceSet, WeakMap<ServiceSet, ServiceSet>>();
function pairwise(
  cache: WeakMap<ServiceSet, WeakMap<ServiceSet, ServiceSet>>,
  a: ServiceSet,
  b: ServiceSet,
  op: (a: ServiceSet, b: ServiceSet) => ServiceSet,
): ServiceSet {
  let inner = cache.get(a);
  if (!inner) cache.set(a, (inner = new WeakMap()));
  let r = inner.get(b);
  if (!r) inner.set(b, (r = op(a, b)));
  return r;
}
function unionOf(a: ServiceSet, b: ServiceSet): ServiceSet {
  return a === b ? a : pairwise(unions, a, b, (x, y) => x.union(y));
}
function intersectionOf(a: ServiceSet, b: ServiceSet): ServiceSet {
  if (a === b || b === ServiceSet.ALL) return a;
  if (a === ServiceSet.ALL) return b;
  return pairwise(intersections, a, b, (x, y) => x.intersect(y));
}

/**
 * Whether a rule's protocol and ports match a packet, as `protocolConnections` reads them: "all"
 * matches every packet; AWS "icmp" (1) IPv4 packets only, "icmpv6" (58) IPv6 packets only; ports
 * count for tcp/udp (a packet without a port matches only a rule for every port).
 */
function matchesService(r: SgRule, packet: Packet): boolean {
  if (r.protocol === "all") return true;
  if (r.protocol !== packet.protocol) return false;
  if (r.protocol === Protocol.ICMP && packet.family !== 4) return false;
  if (r.protocol === Protocol.ICMPV6 && packet.family !== 6) return false;
  if (r.ports === undefined) return true;
  if (packet.port === undefined) return r.ports.equals(ALL_PORT_RANGE);
  return Number.isInteger(packet.port) && r.ports.has(BigInt(packet.port));
}
const ALL_PORT_RANGE = IntervalSet.range(0n, 65535n);

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

/** What the binding read of the stack's compute, for the evaluator (see `bind.ts`). */
export interface AwsEvaluatorOptions {
  /**
   * The stack's compute (instances, launch templates, interfaces) with the groups each carries.
   * With none, the proof assumes the binding contract: every workload of a VPC carries the VPC's
   * baseline group and the groups of its segments there.
   */
  computes?: readonly AwsCompute[];
  /** What the binding could not read or tie to one workload (each an error finding). */
  issues?: readonly AwsBindingIssue[];
  /** VPC id → placement VPC name (default: from the groups' `vpcId` and `blastradius:vpc` tag). */
  vpcNames?: ReadonlyMap<string, string>;
}

/** The groups one interface carries, indexed, and the VPC it sits in (placement name or id). */
interface Identity {
  /** The group ids joined (sorted): interfaces with the same key are alike to every rule. */
  key: string;
  groups: GroupIndex[];
  vpc: string | undefined;
}

/** The evaluator of an AWS network (recorded or exported) for a plan's parties. */
export function awsEvaluator(
  network: AwsNetwork,
  plan: Plan,
  options: AwsEvaluatorOptions = {},
): TargetEvaluator {
  const segmentsOf = new Map<string, Set<string>>();
  for (const [segment, names] of plan.members)
    for (const n of names) {
      let s = segmentsOf.get(n);
      if (!s) segmentsOf.set(n, (s = new Set()));
      s.add(segment);
    }
  const byVpcSegment = new Map<string, SgGroup[]>();
  const baselineOf = new Map<string, SgGroup[]>();
  for (const g of network.groups) {
    if (g.vpc === undefined) continue;
    if (g.baseline) {
      const list = baselineOf.get(g.vpc);
      if (list) list.push(g);
      else baselineOf.set(g.vpc, [g]);
    }
    if (g.segment === undefined) continue;
    const k = `${g.vpc}\u0000${g.segment}`;
    let list = byVpcSegment.get(k);
    if (!list) byVpcSegment.set(k, (list = []));
    list.push(g);
  }
  const groupById = new Map(network.groups.map((g) => [g.id, g] as const));
  const remoteOf = (rule: SgRule): AddressSet | undefined => {
    if (rule.peer.kind === "cidr") return rule.peer.addresses;
    if (rule.peer.kind === "prefixList") return network.prefixLists.get(rule.peer.id) ?? ALL;
    return undefined;
  };
  const rulesByGroup = new Map<string, SgRule[]>();
  const addRule = (r: SgRule) => {
    let list = rulesByGroup.get(r.groupId);
    if (!list) rulesByGroup.set(r.groupId, (list = []));
    list.push(r);
  };
  for (const r of network.rules) addRule(r);

  // VPC ids of the placement VPCs, from the groups blastradius rendered in them.
  const vpcNames = new Map(options.vpcNames ?? []);
  for (const g of network.groups)
    if (g.vpcId !== undefined && g.vpc !== undefined && g.rendered && !vpcNames.has(g.vpcId))
      vpcNames.set(g.vpcId, g.vpc);

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
    const grants = (direction: "egress" | "ingress") => {
      const byAddress: Grant[] = [];
      const byGroup = new Map<string, Grant[]>();
      for (const r of rules) {
        if (r.direction !== direction) continue;
        const { family, services } = ruleServices(r.protocol, r.ports);
        if (r.peer.kind === "group") {
          let list = byGroup.get(r.peer.groupId);
          if (!list) byGroup.set(r.peer.groupId, (list = []));
          list.push({ remote: family, services });
        } else {
          const remote = remoteOf(r)!;
          byAddress.push({ remote: family === ALL ? remote : remote.intersect(family), services });
        }
      }
      return {
        byAddress: mergeGrants(byAddress),
        byGroup: new Map([...byGroup].map(([k, v]) => [k, mergeGrants(v)] as const)),
      };
    };
    const egress = grants("egress");
    const ingress = grants("ingress");
    ix = {
      group: g,
      egressByAddress: egress.byAddress,
      ingressByAddress: ingress.byAddress,
      egressByGroup: egress.byGroup,
      ingressByGroup: ingress.byGroup,
      egressRules: rules.filter((r) => r.direction === "egress"),
      ingressRules: rules.filter((r) => r.direction === "ingress"),
    };
    groupIndex.set(g.id, ix);
    return ix;
  };
  // Built up front (linear in the rules): the proof then only reads.
  for (const g of network.groups) indexOf(g);

  /**
   * A VPC's default security group: the one the stack manages (`DefaultSecurityGroup`), else
   * AWS's own, which admits everything from its own members and lets everything out.
   */
  const defaults = new Map<string, GroupIndex>();
  const defaultGroup = (vpcId: string | undefined, vpc: string | undefined): GroupIndex => {
    const key = vpcId ?? (vpc !== undefined ? `vpc ${vpc}` : "an unknown VPC");
    let ix = defaults.get(key);
    if (ix) return ix;
    const managed = vpcId !== undefined ? groupById.get(defaultGroupId(vpcId)) : undefined;
    if (managed) ix = indexOf(managed);
    else {
      const id = defaultGroupId(key);
      const g: SgGroup = {
        id,
        name: `default security group of ${key}`,
        defaultEgress: true,
        isDefault: true,
      };
      addRule({
        name: `${g.name} default ingress (AWS allow-all from its own members)`,
        groupId: id,
        direction: "ingress",
        protocol: "all",
        peer: { kind: "group", groupId: id },
      });
      ix = indexOf(g);
    }
    defaults.set(key, ix);
    return ix;
  };

  const identities = new Map<string, Identity>();
  const identityOf = (
    groups: readonly string[],
    vpcId: string | undefined,
    vpc: string | undefined,
  ): Identity => {
    const known = groups.filter((id) => groupById.has(id)).map((id) => indexOf(groupById.get(id)!));
    const list = groups.length === 0 ? [defaultGroup(vpcId, vpc)] : known;
    const key = `${vpc ?? vpcId ?? "?"}\u0000${list.map((g) => g.group.id).join(",")}`;
    let id = identities.get(key);
    if (!id) identities.set(key, (id = { key, groups: list, vpc: vpc ?? vpcId }));
    return id;
  };

  // ------------------------------------------------------------------ binding
  const computes = options.computes ?? [];
  const bound = computes.length > 0;
  const workloads = new Map(plan.policy.workloads.map((w) => [w.name, w] as const));
  const findings: BindingFinding[] = [];
  const finding = (f: Omit<BindingFinding, "target">) => findings.push({ target: "aws", ...f });
  const byWorkload = new Map<string, Identity[]>();
  const others = new Map<string, { party: Party; identity: Identity }>();
  const unclaimed = unclaimedAddresses(plan);
  const carried = new Set<string>();
  for (const issue of options.issues ?? []) finding({ severity: "error", ...issue });
  for (const c of computes) {
    const w = c.workload !== undefined ? workloads.get(c.workload) : undefined;
    const vpcOfCompute = c.vpcId !== undefined ? vpcNames.get(c.vpcId) : undefined;
    for (const u of c.unknown)
      finding({
        kind: "unknown",
        severity: "error",
        resource: c.resource,
        message: `${c.kind} ${c.resource}: ${u}; the proof cannot see what it will carry`,
      });
    for (const g of c.groups)
      if (!groupById.has(g))
        finding({
          kind: "unknown",
          severity: "error",
          resource: c.resource,
          ...(c.workload !== undefined ? { workload: c.workload } : {}),
          message: `${c.kind} ${c.resource} carries security group ${g.replace(/^name:/, "named ")}, which this stack does not create: the proof cannot read its rules (create it in the stack, or audit the live groups)`,
        });
    if (c.workload !== undefined && !w)
      finding({
        kind: "unbound-compute",
        severity: "error",
        resource: c.resource,
        message: `${c.kind} ${c.resource} is tagged ${WORKLOAD_TAG}=${c.workload}, but policy "${plan.policy.name}" has no workload of that name${suggest(c.workload, [...workloads.keys()])}`,
      });
    else if (w && !w.placements.aws)
      finding({
        kind: "unbound-compute",
        severity: "error",
        resource: c.resource,
        workload: w.name,
        message: `${c.kind} ${c.resource} is bound to workload "${w.name}", which is not placed on aws (add placements.aws, or bind the right compute)`,
      });
    if (w?.placements.aws) {
      const vpc = w.placements.aws.vpc;
      if (vpcOfCompute !== undefined && vpcOfCompute !== vpc)
        finding({
          kind: "unbound-compute",
          severity: "error",
          resource: c.resource,
          workload: w.name,
          message: `${c.kind} ${c.resource} is bound to workload "${w.name}" (placed in VPC ${vpc}) but sits in VPC ${vpcOfCompute}`,
        });
      // Rules match the workload by its cidrs: an address outside them is traffic the proof is not about.
      const cidrs = w.placements.aws.cidrs;
      if (c.addresses && !c.addresses.isEmpty() && !c.addresses.isSubsetOf(AddressSet.fromCidrs(cidrs)))
        finding({
          kind: "unbound-compute",
          severity: "error",
          resource: c.resource,
          workload: w.name,
          message: `${c.kind} ${c.resource} of workload "${w.name}" has addresses (${c.addresses}) outside the workload's cidrs (${cidrs.join(", ")}): rules by address see it as another party, so the proof would be about other addresses (fix its private addresses or the workload's cidrs)`,
        });
      const identity = identityOf(c.groups, c.vpcId, vpc);
      const list = byWorkload.get(w.name);
      if (!list) byWorkload.set(w.name, [identity]);
      else if (!list.includes(identity)) list.push(identity);
      for (const g of identity.groups) carried.add(g.group.id);
      continue;
    }
    // Compute bound to no workload: an endpoint the model does not name, with what it carries.
    const identity = identityOf(c.groups, c.vpcId, vpcOfCompute);
    const key = `other:aws:${c.kind}:${c.resource}`;
    others.set(key, {
      identity,
      party: {
        kind: "other",
        name: `${c.kind} ${c.resource}`,
        key,
        addresses: c.addresses ?? unclaimed,
        scope: `VPC ${vpcOfCompute ?? c.vpcId ?? "unknown"}`,
        targets: ["aws"],
      },
    });
    if (c.workload === undefined)
      finding({
        kind: "unbound-compute",
        severity: "warning",
        resource: c.resource,
        message: `${c.kind} ${c.resource} (${identity.vpc === undefined ? "VPC unknown" : `VPC ${identity.vpc}`}) is bound to no workload; tag it ${WORKLOAD_TAG}=<workload> if it is one. The proof treats it as an unmodelled endpoint: default deny must hold between it and every workload`,
      });
  }

  /** The contract's attachment: the VPC's baseline group and the groups of the workload's segments there. */
  const assumedCache = new Map<string, Identity>();
  const assumed = (name: string, vpc: string): Identity => {
    let id = assumedCache.get(name);
    if (id) return id;
    const list: GroupIndex[] = [];
    for (const g of baselineOf.get(vpc) ?? []) list.push(indexOf(g));
    for (const s of segmentsOf.get(name) ?? [])
      for (const g of byVpcSegment.get(`${vpc}\u0000${s}`) ?? []) list.push(indexOf(g));
    const key = `${vpc}\u0000${list.map((g) => g.group.id).join(",")}`;
    id = identities.get(key);
    if (!id) identities.set(key, (id = { key, groups: list, vpc }));
    assumedCache.set(name, id);
    return id;
  };

  if (bound) {
    for (const w of plan.policy.workloads)
      if (w.placements.aws && !byWorkload.has(w.name))
        finding({
          kind: "unbound-workload",
          severity: "error",
          workload: w.name,
          message: `workload "${w.name}" is placed in VPC ${w.placements.aws.vpc} but no compute of this stack is bound to it (tag its instances, launch templates or interfaces ${WORKLOAD_TAG}=${w.name}); the proof assumes it carries ${
            assumed(w.name, w.placements.aws.vpc)
              .groups.map((g) => g.group.name)
              .join(", ") || "no group"
          }`,
        });
    for (const g of network.groups) {
      if (!g.rendered || carried.has(g.id) || g.vpc === undefined) continue;
      if (g.segment !== undefined && (plan.members.get(g.segment)?.length ?? 0) > 0)
        finding({
          kind: "unattached",
          severity: "error",
          resource: g.name,
          message: `security group ${g.name} (segment ${g.segment}, VPC ${g.vpc}) is attached to no compute bound to its workloads (${(plan.members.get(g.segment) ?? []).filter((n) => workloads.get(n)?.placements.aws?.vpc === g.vpc).join(", ")}): pass securityGroupIdsFor(<workload>) to their instances`,
        });
    }
  }

  // Parties are immutable: their identities are read once per party object (a class representative
  // is an object of its own).
  const identityMemo = new WeakMap<Party, Identity[]>();
  const identitiesOf = (p: Party): Identity[] => {
    let ids = identityMemo.get(p);
    if (!ids) identityMemo.set(p, (ids = readIdentities(p)));
    return ids;
  };
  const readIdentities = (p: Party): Identity[] => {
    if (p.kind === "other") {
      const o = others.get(p.key);
      return o ? [o.identity] : [];
    }
    if (p.kind !== "workload" || !governs(p, "aws")) return [];
    const vpc = p.workload.placements.aws?.vpc;
    if (vpc === undefined) return [];
    const list = (bound && byWorkload.get(p.name)) || [assumed(p.name, vpc)];
    if (p.variant?.startsWith("aws:")) {
      const v = list[Number(p.variant.slice(4))];
      if (v) return [v];
    }
    return list;
  };

  const vpcOf = (p: Party): string | undefined => identitiesOf(p)[0]?.vpc;
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

  const enforces = (p: Party) => identitiesOf(p).length > 0;

  /**
   * What one side's groups grant towards the far party's addresses `far`: rules by address cut to
   * `far`, and rules naming a group the far party carries over all of `far`. Merged, so a far end
   * one rule set treats alike is one grant.
   */
  const side = (own: GroupIndex[], farGroups: GroupIndex[], far: AddressSet, egress: boolean): Grant[] => {
    // Grants keyed by their remote set (object identity): a grant covering all of `far` keeps `far`
    // itself, so grants of one far end merge without comparing sets.
    const box = boxOf(far);
    const hits: Grant[] = [];
    for (const g of own) {
      for (const e of egress ? g.egressByAddress : g.ingressByAddress)
        if (boxesMeet(box, e.box!)) hits.push(e);
      const byGroup = egress ? g.egressByGroup : g.ingressByGroup;
      if (byGroup.size === 0) continue;
      for (const h of farGroups)
        for (const e of byGroup.get(h.group.id) ?? []) if (boxesMeet(box, e.box!)) hits.push(e);
    }
    const byRemote = new Map<AddressSet, ServiceSet>();
    const cutOf = (e: Grant) =>
      e.remote === ALL || far.isSubsetOf(e.remote) ? far : far.intersect(e.remote);
    if (hits.length === 1) {
      const e = hits[0]!;
      return far.overlaps(e.remote) ? [{ remote: cutOf(e), services: e.services }] : [];
    }
    for (const e of hits) {
      if (!far.overlaps(e.remote)) continue;
      const cut = cutOf(e);
      const had = byRemote.get(cut);
      byRemote.set(cut, had === undefined ? e.services : unionOf(had, e.services));
    }
    const out: Grant[] = [];
    for (const [remote, services] of byRemote) out.push({ remote, services });
    return out;
  };

  /** What a source with identity `fi` (undefined: not in AWS) may open to a destination with `ti`. */
  const allowedWith = (
    from: Party,
    fi: Identity | undefined,
    to: Party,
    ti: Identity | undefined,
  ): ConnectionSet => {
    // Egress grants over the destination's addresses, ingress grants over the source's; a side AWS
    // does not enforce grants everything. The product of the two sides is what both let through.
    const out = fi
      ? side(fi.groups, ti?.groups ?? [], to.addresses, true)
      : [{ remote: to.addresses, services: ServiceSet.ALL }];
    if (out.length === 0) return ConnectionSet.EMPTY;
    const inn = ti
      ? side(ti.groups, fi?.groups ?? [], from.addresses, false)
      : [{ remote: from.addresses, services: ServiceSet.ALL }];
    const parts: ConnectionSet[] = [];
    for (const o of out)
      for (const i of inn) {
        const services = intersectionOf(o.services, i.services);
        if (!services.isEmpty()) parts.push(ConnectionSet.of(i.remote, o.remote, services));
      }
    let set = parts.length === 1 ? parts[0]! : ConnectionSet.unionAll(parts);
    if (from.key !== to.key) {
      for (const n of naclsOf(from)) set = set.intersect(n.out).intersect(n.repliesIn);
      for (const n of naclsOf(to)) set = set.intersect(n.in).intersect(n.repliesOut);
    }
    return set;
  };

  /** Variants of a party: one per identity; a party with several is asked for each (union). */
  const allowed = (from: Party, to: Party): ConnectionSet => {
    const fis = identitiesOf(from);
    const tis = identitiesOf(to);
    const fl: Array<Identity | undefined> = fis.length > 0 ? fis : [undefined];
    const tl: Array<Identity | undefined> = tis.length > 0 ? tis : [undefined];
    if (fl.length === 1 && tl.length === 1) return allowedWith(from, fl[0], to, tl[0]);
    const parts: ConnectionSet[] = [];
    for (const fi of fl) for (const ti of tl) parts.push(allowedWith(from, fi, to, ti));
    return ConnectionSet.unionAll(parts);
  };

  /** The first rule (by name) of the groups that matches the packet on one side. */
  const matchingRule = (
    side: GroupIndex[],
    direction: "egress" | "ingress",
    farGroups: readonly GroupIndex[],
    packet: Packet,
  ): SgRule | undefined => {
    // A packet whose addresses are not of its family is no member of any set (ConnectionSet.has).
    const src = parseAddress(packet.src);
    const dst = parseAddress(packet.dst);
    if (src.family !== packet.family || dst.family !== packet.family) return undefined;
    const far = new Set(farGroups.map((g) => g.group.id));
    const farAddr = AddressSet.ofFamily(
      packet.family,
      IntervalSet.single(direction === "egress" ? dst.value : src.value),
    );
    for (const g of side)
      for (const r of direction === "egress" ? g.egressRules : g.ingressRules) {
        if (!matchesService(r, packet)) continue;
        if (r.peer.kind === "group" ? far.has(r.peer.groupId) : farAddr.isSubsetOf(remoteOf(r)!)) return r;
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

  const decideWith = (
    from: Party,
    fi: Identity | undefined,
    to: Party,
    ti: Identity | undefined,
    packet: Packet,
  ): Decision => {
    const by: string[] = [];
    if (fi) {
      const r = matchingRule(fi.groups, "egress", ti?.groups ?? [], packet);
      if (!r) return { verdict: "deny", by: "default-deny" };
      by.push(r.name);
    }
    if (ti) {
      const r = matchingRule(ti.groups, "ingress", fi?.groups ?? [], packet);
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

  /** With variants, the packet passes when it passes for some pair of them (named by the first that does). */
  const decide = (from: Party, to: Party, packet: Packet): Decision => {
    const fis = identitiesOf(from);
    const tis = identitiesOf(to);
    const fl: Array<Identity | undefined> = fis.length > 0 ? fis : [undefined];
    const tl: Array<Identity | undefined> = tis.length > 0 ? tis : [undefined];
    let first: Decision | undefined;
    for (const fi of fl)
      for (const ti of tl) {
        const d = decideWith(from, fi, to, ti, packet);
        if (d.verdict === "allow") return d;
        first ??= d;
      }
    return first!;
  };

  /*
   * Everything the evaluator reads of a party apart from its addresses: its VPC and the groups it
   * carries there (every variant's). A party outside AWS is seen by address only. In a VPC with a
   * NACL the party's own identity counts too: its traffic to itself does not cross the NACL, to
   * another party with the same groups it does.
   */
  const partyKeys = new WeakMap<Party, string>();
  const partyKey = (p: Party): string => {
    let key = partyKeys.get(p);
    if (key !== undefined) return key;
    const ids = identitiesOf(p);
    if (ids.length === 0) key = "address";
    else {
      key = `aws\u0000${ids.map((i) => i.key).join("|")}`;
      const vpc = ids[0]!.vpc;
      if (vpc !== undefined && naclIndex.has(vpc)) key = `${key}\u0000${p.base ?? p.key}`;
    }
    partyKeys.set(p, key);
    return key;
  };

  const variants = (p: Party): Party[] => {
    const ids = identitiesOf(p);
    if (ids.length < 2) return [];
    return ids.map((_, k) => ({ ...p, key: `${p.key}~aws${k}`, base: p.base ?? p.key, variant: `aws:${k}` }));
  };

  /** A group holding rules blastradius did not render (or AWS's own default rules). */
  const foreignGroup = (g: GroupIndex) =>
    g.group.isDefault === true ||
    g.group.defaultEgress ||
    [...g.egressRules, ...g.ingressRules].some((r) => r.rendered !== true);
  /**
   * Groups blastradius rendered that a workload's compute carries beyond the contract's attachment
   * (another segment's group, another VPC's): their rules were written for other workloads, and
   * every rule referencing them now matches this one too, so what they open is checked in full.
   */
  const misattached = (name: string, i: Identity): GroupIndex[] => {
    const vpc = workloads.get(name)?.placements.aws?.vpc;
    if (vpc === undefined) return [];
    const own = new Set(assumed(name, vpc).groups);
    return i.groups.filter((g) => !own.has(g) && !foreignGroup(g));
  };
  const foreign = (p: Party) =>
    identitiesOf(p).some(
      (i) =>
        i.groups.some(foreignGroup) || (bound && p.kind === "workload" && misattached(p.name, i).length > 0),
    );
  if (bound)
    for (const [name, ids] of byWorkload)
      for (const i of ids) {
        const extra = i.groups.filter(foreignGroup).map((g) => g.group.name);
        if (extra.length > 0)
          finding({
            kind: "foreign-rules",
            severity: "warning",
            workload: name,
            message: `workload "${name}" carries rules blastradius did not render (${extra.join(", ")}); the proof checks everything they open against the policy`,
          });
        const others = misattached(name, i).map(
          (g) => `${g.group.name}${g.group.segment !== undefined ? ` (segment ${g.group.segment})` : ""}`,
        );
        if (others.length > 0)
          finding({
            kind: "foreign-rules",
            severity: "warning",
            workload: name,
            message: `workload "${name}" carries security groups rendered for other workloads (${others.join(", ")}); the proof checks everything they open against the policy (pass securityGroupIdsFor("${name}") alone)`,
          });
      }

  /*
   * Footprints (lib/radius), over every identity of the party (every variant's groups): a side's
   * grants by address, and the groups its rules reference (a rule naming a group matches the
   * parties carrying it). NACLs only narrow, so they are left out.
   */
  const footprint = (p: Party, direction: "egress" | "ingress"): Footprint => {
    const egress = direction === "egress";
    const addresses: AddressSet[] = [];
    const names = new Set<string>();
    for (const i of identitiesOf(p))
      for (const g of i.groups) {
        for (const e of egress ? g.egressByAddress : g.ingressByAddress) addresses.push(e.remote);
        for (const id of (egress ? g.egressByGroup : g.ingressByGroup).keys()) names.add(`sg:${id}`);
      }
    return { addresses: AddressSet.unionAll(addresses), names: [...names] };
  };
  const identityNames = (p: Party): string[] => [
    ...new Set(identitiesOf(p).flatMap((i) => i.groups.map((g) => `sg:${g.group.id}`))),
  ];

  return {
    target: "aws",
    binding: bound ? "bound" : "assumed",
    footprint,
    identityNames,
    enforces,
    allowed,
    decide,
    partyKey,
    variants,
    universe: () => [...others.values()].map((o) => o.party),
    findings: () => findings,
    foreign,
  };
}

function suggest(name: string, known: readonly string[]): string {
  const close = known.filter((k) => editDistance(k, name) <= 2);
  return close.length > 0 ? ` (did you mean "${close[0]}"?)` : "";
}

/** Levenshtein distance, bounded by the lengths (names are short). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

const OWNED = new Set<string>(Object.values(AWS_TYPES));
const READ = new Set<string>(Object.values(AWS_COMPUTE_TYPES));

/** The aws target's adapter: which recorded resources are its own, and their evaluator. */
export const awsAdapter: TargetAdapter = {
  target: "aws",
  owns: (r: ResourceRecord) => OWNED.has(r.type),
  reads: (r: ResourceRecord) => READ.has(r.type),
  evaluator: (records, plan) => {
    const { computes, issues } = awsBinding(records);
    return awsEvaluator(networkFromRecords(records), plan, { computes, issues });
  },
  usage: (records, plan, limits) =>
    awsUsage(
      records.filter((r) => OWNED.has(r.type)),
      plan,
      limits,
    ),
};
