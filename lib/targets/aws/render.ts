import type { MovementPath } from "../../model/types";
import { AddressSet, ConnectionSet, hasPorts, IntervalSet, MAX_PORT, Protocol, ServiceSet } from "../../net";
import { addressesOutside } from "../../plan/facets";
import type { CompiledPath, Party, Plan, Slice } from "../../plan/types";
import { AWS_BASELINE_TAG, AWS_TAGS } from "./contract";

/** AWS quotas the rendering must fit (defaults: the AWS defaults). */
export interface AwsQuota {
  /**
   * Rules per security group, per direction, per IP family (AWS default 60, adjustable up to 1000).
   * A rule referencing a security group counts once in each family; a rule referencing a prefix
   * list counts as the list's `maxEntries` in its family (as AWS counts them).
   */
  rulesPerGroup?: number;
  /** Security groups per network interface (AWS default 5, adjustable up to 16). */
  groupsPerInterface?: number;
  /** Network ACL rules per direction per IP family, the default deny included (AWS default 20, adjustable up to 40). */
  naclRulesPerDirection?: number;
}

export interface AwsRenderOptions {
  /** The placement VPC name (`placements.aws.vpc`) this rendering is for. */
  vpc: string;
  quota?: AwsQuota;
  /**
   * Render NACL guardrails (deny entries for enforce forbids, then allow-all). `forbids` names the
   * enforce forbids to guard (default: every one touching the VPC).
   */
  nacl?: boolean | { firstRuleNumber?: number; forbids?: readonly string[] };
}

/** What the far end of a security group rule names. */
export type AwsRulePeer =
  | { kind: "group"; segment: string }
  | { kind: "cidr"; family: 4 | 6; cidr: string }
  | { kind: "prefixList"; list: string };

/**
 * One security group per segment with members in the VPC, and the VPC's baseline group: no rules,
 * carried by every workload placed there, so that a workload in no segment still has a group (an
 * interface with none runs with the VPC's default group, which lets everything out).
 */
export interface AwsGroup {
  /** The segment; for the baseline group, `BASELINE_KEY`. */
  segment: string;
  /** Logical-name suffix (the segment name, or `BASELINE_KEY`). */
  key: string;
  /** True for the VPC's baseline group. */
  baseline?: boolean;
  description: string;
  tags: Record<string, string>;
  /** The segment's workloads placed in this VPC: they must carry this group. */
  members: string[];
}

/** One `aws.vpc.SecurityGroupIngressRule` / `SecurityGroupEgressRule`. */
export interface AwsSgRule {
  /** Logical-name suffix: segment, direction, path, peer and service; unique within the rendering. */
  key: string;
  segment: string;
  direction: "ingress" | "egress";
  path: string;
  /** "tcp", "udp", "icmp", "icmpv6", "-1" (all) or a protocol number. */
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  peer: AwsRulePeer;
  description: string;
  tags: Record<string, string>;
}

/** An `aws.ec2.ManagedPrefixList` holding the exact CIDRs of a large address set (the internet). */
export interface AwsPrefixList {
  key: string;
  name: string;
  addressFamily: "IPv4" | "IPv6";
  entries: string[];
  maxEntries: number;
  tags: Record<string, string>;
}

/** One `aws.ec2.NetworkAclRule`. */
export interface AwsNaclEntry {
  key: string;
  egress: boolean;
  ruleNumber: number;
  ruleAction: "allow" | "deny";
  /** Protocol number as text, "-1" for all. */
  protocol: string;
  cidrBlock?: string;
  ipv6CidrBlock?: string;
  fromPort?: number;
  toPort?: number;
  icmpType?: number;
  icmpCode?: number;
  /** The forbid path a deny entry enforces. */
  path?: string;
}

export interface AwsRendering {
  policy: string;
  vpc: string;
  groups: AwsGroup[];
  rules: AwsSgRule[];
  prefixLists: AwsPrefixList[];
  nacl?: { tags: Record<string, string>; entries: AwsNaclEntry[] };
}

/** A rendering that does not fit an AWS quota even after merging ports and CIDRs. */
export class AwsQuotaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AwsQuotaError";
  }
}

/** A policy the AWS target cannot render exactly (it would have to widen or drop a rule). */
export class AwsRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AwsRenderError";
  }
}

export const AWS_DEFAULT_QUOTA: Required<AwsQuota> = {
  rulesPerGroup: 60,
  groupsPerInterface: 5,
  naclRulesPerDirection: 20,
};

/** The ephemeral ports AWS documents for NACL return traffic (covers Linux, Windows, ELB, NAT gateway). */
export const EPHEMERAL_PORTS: readonly [number, number] = [1024, 65535];

const INTERNET = "internet";
/**
 * The baseline group's key: segment names never hold "_" (NAME_PATTERN), so it cannot collide with
 * a segment's, and AWS accepts "_" in group names.
 */
export const BASELINE_KEY = "_baseline";
/** NACL allow-all entries, after every deny (rule numbers 1-32766; `*` is 32767). */
const NACL_ALLOW_ALL = { 4: 32700, 6: 32701 } as const;

const inVpc = (p: Party, vpc: string) => p.kind === "workload" && p.workload.placements.aws?.vpc === vpc;

/** Protocol number of a ServiceSet entry as a real IP protocol in `family` (ICMP is per family). */
function realProtocol(n: number, family: 4 | 6): number {
  if (family === 4) return n;
  return n === Protocol.ICMP ? Protocol.ICMPV6 : n === Protocol.ICMPV6 ? Protocol.ICMP : n;
}

function sgProtocolName(real: number): string {
  switch (real) {
    case Protocol.TCP:
      return "tcp";
    case Protocol.UDP:
      return "udp";
    case Protocol.ICMP:
      return "icmp";
    case Protocol.ICMPV6:
      return "icmpv6";
    default:
      return String(real);
  }
}

interface ProtoPorts {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
}

const ALL_PORTS = IntervalSet.range(0n, BigInt(MAX_PORT));

/**
 * A service set as security-group protocol/port entries for one family: "-1" for every service,
 * merged port ranges for tcp/udp, whole-protocol entries otherwise. AWS ignores ports for every
 * protocol but tcp/udp/icmp/icmpv6, so ports on other port-carrying protocols (sctp) cannot be
 * rendered exactly and are an error rather than a silent widening.
 */
function sgServices(services: ServiceSet, family: 4 | 6, path: string): ProtoPorts[] {
  if (services.equals(ServiceSet.ALL)) return [{ ipProtocol: "-1" }];
  const out: ProtoPorts[] = [];
  for (const { protocol, ports } of services.entries()) {
    const real = realProtocol(protocol, family);
    const ipProtocol = sgProtocolName(real);
    if (real === Protocol.TCP || real === Protocol.UDP) {
      for (const [lo, hi] of ports.ranges) out.push({ ipProtocol, fromPort: Number(lo), toPort: Number(hi) });
    } else if (real === Protocol.ICMP || real === Protocol.ICMPV6) {
      out.push({ ipProtocol, fromPort: -1, toPort: -1 });
    } else {
      if (hasPorts(real) && !ports.equals(ALL_PORTS))
        throw new AwsRenderError(
          `path "${path}": AWS security groups cannot restrict ports of protocol ${real} (only tcp and udp have ports there); ` +
            `write the whole protocol (e.g. "sctp") or narrow the path to tcp/udp`,
        );
      out.push({ ipProtocol });
    }
  }
  return out;
}

function serviceToken(p: ProtoPorts): string {
  if (p.ipProtocol === "-1") return "all";
  if (p.fromPort === undefined || p.fromPort < 0) return p.ipProtocol;
  return p.fromPort === p.toPort
    ? `${p.ipProtocol}-${p.fromPort}`
    : `${p.ipProtocol}-${p.fromPort}-${p.toPort}`;
}

const cidrTokens = new Map<string, string>();

function peerToken(peer: AwsRulePeer): string {
  switch (peer.kind) {
    case "group":
      return `sg-${peer.segment}`;
    case "prefixList":
      return `pl-${peer.list}`;
    case "cidr": {
      let token = cidrTokens.get(peer.cidr);
      if (token === undefined) {
        token = peer.cidr.replace(/\//g, "_").replace(/:/g, ".");
        if (cidrTokens.size > 100_000) cidrTokens.clear();
        cidrTokens.set(peer.cidr, token);
      }
      return token;
    }
  }
}

function describeServices(p: ProtoPorts): string {
  return serviceToken(p).replace(/^all$/, "all traffic");
}

/** Keeps only characters AWS accepts in rule descriptions (a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$*). */
function awsText(s: string): string {
  const safe = AWS_UNSAFE.test(s) ? s.replace(AWS_UNSAFE_ALL, "_") : s;
  return safe.length > 255 ? safe.slice(0, 255) : safe;
}
const AWS_UNSAFE = /[^a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]/;
const AWS_UNSAFE_ALL = new RegExp(AWS_UNSAFE.source, "g");

/** A rule's tags (a literal: built for every rule). */
function ruleTags(policy: string, vpc: string, segment: string, path: string): Record<string, string> {
  return {
    "blastradius:policy": policy,
    "blastradius:vpc": vpc,
    "blastradius:segment": segment,
    "blastradius:path": path,
  } satisfies Record<(typeof AWS_TAGS)[keyof typeof AWS_TAGS], string>;
}

/** What every VPC's rendering reads of a plan, computed once per plan (renderings are per VPC). */
interface AwsPlanIndex {
  /** VPC → segments with members placed there (policy order), with those members (member order). */
  groupsByVpc: Map<string, Array<{ segment: string; members: readonly string[] }>>;
  /** VPC → allow paths with an end grouped there, by name (the first path by name owns a shared rule). */
  allowsByVpc: Map<string, CompiledPath[]>;
  /** CIDRs of a far end, by end name (+ the VPC whose members a group reference covers). */
  cidrs: Map<string, EndCidrs>;
  /** Paths' services as rule protocol/ports, per family of the rule's peer (by service set). */
  services: Map<string, PathServices>;
  /** The built-in `internet` peer's addresses. */
  internet: AddressSet;
}

/** A far end's addresses and their minimal CIDRs per family. */
interface EndCidrs {
  addresses: AddressSet;
  v4: string[];
  v6: string[];
}

interface RuleService {
  pp: ProtoPorts;
  /** The service in rule names and identities ("tcp-443", "all"). */
  svc: string;
  described: string;
}

/** Rule services of a path for an IPv4 peer, an IPv6 peer, and a group reference (both, deduplicated). */
interface PathServices {
  4: RuleService[];
  6: RuleService[];
  both: RuleService[];
}

const planIndexes = new WeakMap<Plan, AwsPlanIndex>();

function planIndex(plan: Plan): AwsPlanIndex {
  let index = planIndexes.get(plan);
  if (index) return index;
  const groupsByVpc = new Map<string, Array<{ segment: string; members: string[] }>>();
  for (const segment of plan.policy.segments) {
    const byVpc = new Map<string, string[]>();
    for (const n of plan.members.get(segment.name) ?? []) {
      const p = plan.party(`workload:${n}`);
      const vpc = p?.kind === "workload" ? p.workload.placements.aws?.vpc : undefined;
      if (vpc === undefined) continue;
      let members = byVpc.get(vpc);
      if (!members) byVpc.set(vpc, (members = []));
      members.push(n);
    }
    for (const [vpc, members] of byVpc) {
      let list = groupsByVpc.get(vpc);
      if (!list) groupsByVpc.set(vpc, (list = []));
      list.push({ segment: segment.name, members });
    }
  }
  const vpcsOf = new Map<string, string[]>();
  for (const [vpc, list] of groupsByVpc)
    for (const { segment } of list) {
      let vpcs = vpcsOf.get(segment);
      if (!vpcs) vpcsOf.set(segment, (vpcs = []));
      vpcs.push(vpc);
    }
  const allowsByVpc = new Map<string, CompiledPath[]>();
  const byName = [...plan.allows].sort((a, b) =>
    a.path.name < b.path.name ? -1 : a.path.name > b.path.name ? 1 : 0,
  );
  for (const c of byName) {
    const vpcs = new Set([...(vpcsOf.get(c.path.from) ?? []), ...(vpcsOf.get(c.path.to) ?? [])]);
    for (const vpc of vpcs) {
      let list = allowsByVpc.get(vpc);
      if (!list) allowsByVpc.set(vpc, (list = []));
      list.push(c);
    }
  }
  const internetParty = plan.parties.find((p) => p.kind === "peer" && p.peer.builtin && p.name === INTERNET);
  index = {
    groupsByVpc,
    allowsByVpc,
    cidrs: new Map(),
    services: new Map(),
    internet: internetParty?.addresses ?? AddressSet.EMPTY,
  };
  planIndexes.set(plan, index);
  return index;
}

/**
 * Renders the plan into native AWS objects for one VPC: one security group per segment with members
 * placed there, one rule per (path, peer, merged CIDR, merged port range) on each AWS side of each
 * allow path, exact prefix lists for `internet`, and optional NACL guardrails. Deterministic; names
 * derive from segment and path names. Throws AwsQuotaError / AwsRenderError instead of dropping or
 * widening anything.
 */
export function renderAws(plan: Plan, options: AwsRenderOptions): AwsRendering {
  const vpc = options.vpc;
  const quota = { ...AWS_DEFAULT_QUOTA, ...options.quota };
  const policy = plan.policy.name;
  const baseTags = { [AWS_TAGS.policy]: policy, [AWS_TAGS.vpc]: vpc };

  // Segments with members in this VPC, in policy order: one group each.
  const index = planIndex(plan);
  const groups: AwsGroup[] = [];
  const grouped = new Set<string>();
  const segmentsOf = new Map<string, string[]>();
  for (const { segment, members } of index.groupsByVpc.get(vpc) ?? []) {
    grouped.add(segment);
    for (const m of members) {
      let list = segmentsOf.get(m);
      if (!list) segmentsOf.set(m, (list = []));
      list.push(segment);
    }
    groups.push({
      segment,
      key: segment,
      description: awsText(`blastradius ${policy}: segment ${segment}`),
      tags: { Name: `${policy}-${segment}`, ...baseTags, [AWS_TAGS.segment]: segment },
      members: [...members],
    });
  }
  const inThisVpc = plan.policy.workloads.filter((w) => w.placements.aws?.vpc === vpc).map((w) => w.name);
  if (inThisVpc.length > 0)
    groups.unshift({
      segment: BASELINE_KEY,
      key: BASELINE_KEY,
      baseline: true,
      description: awsText(
        `blastradius ${policy}: baseline of VPC ${vpc} (no rules; every workload carries it)`,
      ),
      tags: { Name: `${policy}-${vpc}-baseline`, ...baseTags, [AWS_BASELINE_TAG]: "true" },
      members: inThisVpc,
    });
  for (const [workload, segs] of segmentsOf) {
    // The baseline group counts against the per-interface limit too.
    if (segs.length + 1 > quota.groupsPerInterface)
      throw new AwsQuotaError(
        `workload "${workload}" in VPC "${vpc}" is a member of ${segs.length} segments (${segs.join(", ")}), ` +
          `so its interface would need ${segs.length + 1} security groups (the baseline included); the limit is ${quota.groupsPerInterface} ` +
          `(quota aws.securityGroupsPerInterface). Raise the account quota and say so (the component's quotas, ` +
          `the stack config blastradius:quotas, or review --quota aws.securityGroupsPerInterface=N), or reduce overlapping segments.`,
      );
  }

  const internet = index.internet;
  const prefixLists = new Map<string, AwsPrefixList>();
  const internetList = (family: 4 | 6): string => {
    const key = `internet-ipv${family}`;
    if (!prefixLists.has(key)) {
      const entries = AddressSet.ofFamily(family, internet.family(family)).toCidrs();
      prefixLists.set(key, {
        key,
        name: `${policy}-${vpc}-internet-ipv${family}`,
        addressFamily: family === 4 ? "IPv4" : "IPv6",
        entries,
        maxEntries: entries.length,
        tags: { Name: `${policy}-${vpc}-internet-ipv${family}`, ...baseTags },
      });
    }
    return key;
  };

  const servicesOf = (path: MovementPath): PathServices => {
    const k = path.services.key();
    let hit = index.services.get(k);
    if (hit) return hit;
    const of = (family: 4 | 6) =>
      sgServices(path.services, family, path.name).map((pp) => ({
        pp,
        svc: serviceToken(pp),
        described: describeServices(pp),
      }));
    const v4 = of(4);
    const v6 = of(6);
    const seen = new Set(v4.map((s) => s.svc));
    hit = { 4: v4, 6: v6, both: [...v4, ...v6.filter((s) => !seen.has(s.svc))] };
    index.services.set(k, hit);
    return hit;
  };

  // Rules of one path in one group carry equal tags: one object each (rules are never mutated).
  const tagCache = new Map<string, Map<string, Record<string, string>>>();
  const tagsOf = (segment: string, path: string) => {
    let bySegment = tagCache.get(segment);
    if (!bySegment) tagCache.set(segment, (bySegment = new Map()));
    let tags = bySegment.get(path);
    if (!tags) bySegment.set(path, (tags = ruleTags(policy, vpc, segment, path)));
    return tags;
  };

  const rules = new Map<string, AwsSgRule>();
  const identity = new Set<string>();
  const segmentOf = (end: string) => (grouped.has(end) ? end : undefined);

  /**
   * The CIDRs a rule must name of a path's far end: its addresses, minus the members of this VPC
   * when the rule also references the end's group (they are covered by the reference). Merged
   * minimally; the same for every path with that far end, so computed once per end.
   */
  const cidrsOf = (slices: readonly Slice[], ref: string | undefined, path: MovementPath, end: string) => {
    const k = ref === undefined ? end : `${end}\u0000${vpc}`;
    const hit = index.cidrs.get(k);
    if (hit) return hit;
    const out: AddressSet[] = [];
    for (const s of slices) {
      if (ref !== undefined && inVpc(s.party, vpc)) {
        // The group reference covers its AWS interfaces; its compute elsewhere (another target, at
        // other addresses) is named by address.
        const elsewhere = addressesOutside(s.party, "aws").intersect(s.addresses);
        if (!elsewhere.isEmpty()) out.push(elsewhere);
        continue;
      }
      if (s.party.kind === "workload" && s.party.workload.addresses.isEmpty())
        throw new AwsRenderError(
          `path "${path.name}": workload "${s.party.name}" has no addresses, but AWS VPC "${vpc}" can only see it by address; add cidrs to its placement`,
        );
      out.push(s.addresses);
    }
    const addresses = AddressSet.unionAll(out);
    const v4 = AddressSet.ofFamily(4, addresses.family(4)).toCidrs();
    const v6 = AddressSet.ofFamily(6, addresses.family(6)).toCidrs();
    const entry = { addresses, v4, v6 };
    index.cidrs.set(k, entry);
    return entry;
  };
  const addRules = (
    c: CompiledPath,
    segment: string,
    direction: "ingress" | "egress",
    ref: string | undefined,
    far: Slice[],
    farEnd: string,
  ) => {
    const path = c.path;
    const peers: AwsRulePeer[] = [];
    if (ref !== undefined) peers.push({ kind: "group", segment: ref });
    const cidrs = cidrsOf(far, ref, path, farEnd);
    const addrs = cidrs.addresses;
    if (farEnd === INTERNET && !addrs.isEmpty()) {
      // The exact public space as prefix lists, never 0.0.0.0/0 (see docs/targets/aws.md).
      for (const f of [4, 6] as const)
        if (!addrs.family(f).isEmpty()) peers.push({ kind: "prefixList", list: internetList(f) });
      const listed = AddressSet.unionAll(
        [...prefixLists.values()].map((l) => AddressSet.fromCidrs(l.entries)),
      );
      if (!addrs.isSubsetOf(listed))
        throw new AwsRenderError(
          `path "${path.name}": its internet end is not covered by the internet prefix lists`,
        );
    } else {
      for (const cidr of cidrs.v4) peers.push({ kind: "cidr", family: 4, cidr });
      for (const cidr of cidrs.v6) peers.push({ kind: "cidr", family: 6, cidr });
    }
    const verb = direction === "egress" ? "to" : "from";
    const out = direction === "egress" ? "out" : "in";
    const services = servicesOf(path);
    for (const peer of peers) {
      const token = peerToken(peer);
      const list =
        peer.kind === "cidr"
          ? services[peer.family]
          : peer.kind === "prefixList"
            ? services[prefixLists.get(peer.list)!.addressFamily === "IPv4" ? 4 : 6]
            : services.both;
      const what =
        peer.kind === "group" ? `segment ${peer.segment}` : peer.kind === "cidr" ? peer.cidr : farEnd;
      for (const { pp, svc, described } of list) {
        // AWS rejects duplicate rules in a group: the first path (by name) that needs one owns it.
        const id = `${segment}|${direction}|${token}|${svc}`;
        if (identity.has(id)) continue;
        identity.add(id);
        const key = `${segment}-${out}-${path.name}-${token}-${svc}`;
        rules.set(key, {
          key,
          segment,
          direction,
          path: path.name,
          ...pp,
          peer,
          description: awsText(
            `path ${path.name}: ${path.from} to ${path.to}, ${direction} ${verb} ${what} ${described}`,
          ),
          tags: tagsOf(segment, path.name),
        });
      }
    }
  };

  for (const c of index.allowsByVpc.get(vpc) ?? []) {
    const fromSeg = segmentOf(c.path.from);
    const toSeg = segmentOf(c.path.to);
    if (fromSeg) addRules(c, fromSeg, "egress", toSeg, c.to, c.path.to);
    if (toSeg) addRules(c, toSeg, "ingress", fromSeg, c.from, c.path.from);
  }

  const sortedRules = [...rules.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  checkGroupQuota(sortedRules, prefixLists, vpc, quota.rulesPerGroup);

  const rendering: AwsRendering = {
    policy,
    vpc,
    groups,
    rules: sortedRules,
    prefixLists: [...prefixLists.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
  if (options.nacl) {
    const o = typeof options.nacl === "object" ? options.nacl : {};
    const known = new Set(plan.guardrails.map((g) => g.path.name));
    for (const f of o.forbids ?? [])
      if (!known.has(f))
        throw new AwsRenderError(
          `nacl.forbids: "${f}" is not an enforce forbid path of policy "${policy}" (known: ${[...known].join(", ") || "none"})`,
        );
    rendering.nacl = {
      tags: { Name: `${policy}-${vpc}-guardrails`, ...baseTags },
      entries: renderNacl(plan, vpc, o.firstRuleNumber ?? 100, quota.naclRulesPerDirection, o.forbids),
    };
  }
  return rendering;
}

function checkGroupQuota(
  rules: AwsSgRule[],
  lists: Map<string, AwsPrefixList>,
  vpc: string,
  limit: number,
): void {
  const counts = new Map<string, { n: number; byPath: Map<string, number> }>();
  const bump = (r: AwsSgRule, family: 4 | 6, n: number) => {
    const k = `${r.segment}|${r.direction}|${family}`;
    let c = counts.get(k);
    if (!c) counts.set(k, (c = { n: 0, byPath: new Map() }));
    c.n += n;
    c.byPath.set(r.path, (c.byPath.get(r.path) ?? 0) + n);
  };
  for (const r of rules) {
    if (r.peer.kind === "cidr") bump(r, r.peer.family, 1);
    else if (r.peer.kind === "group") {
      bump(r, 4, 1);
      bump(r, 6, 1);
    } else {
      const l = lists.get(r.peer.list)!;
      bump(r, l.addressFamily === "IPv4" ? 4 : 6, l.maxEntries);
    }
  }
  for (const [k, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (c.n <= limit) continue;
    const [segment, direction, family] = k.split("|");
    const paths = [...c.byPath]
      .sort((a, b) => b[1] - a[1])
      .map(([p, n]) => `${p} (${n})`)
      .join(", ");
    throw new AwsQuotaError(
      `security group for segment "${segment}" in VPC "${vpc}" needs ${c.n} IPv${family} ${direction} rules ` +
        `after merging adjacent ports and CIDRs, over the limit of ${limit} (quota aws.rulesPerSecurityGroup; AWS counts a ` +
        `prefix-list reference as its max entries). Paths: ${paths}. Raise the account's "rules per security group" ` +
        `quota and say so (the component's quotas, the stack config blastradius:quotas, or review --quota ` +
        `aws.rulesPerSecurityGroup=N), or narrow these paths. Nothing was rendered.`,
    );
  }
}

/* ------------------------------------------------------------------ NACL guardrails */

/** Reply services of initiations over `services`: ports become the ephemeral range; other protocols stay. */
function replyServices(services: ServiceSet): ServiceSet {
  const eph = IntervalSet.range(BigInt(EPHEMERAL_PORTS[0]), BigInt(EPHEMERAL_PORTS[1]));
  const parts = services
    .entries()
    .map((e) =>
      hasPorts(e.protocol) ? ServiceSet.protocol(e.protocol, eph) : ServiceSet.protocol(e.protocol),
    );
  return parts.reduce((a, b) => a.union(b), ServiceSet.EMPTY);
}

/**
 * Deny entries for enforce forbids touching this VPC, numbered from `first` in steps of 10 (path
 * name order), then allow-all entries so that the security groups keep deciding everything else.
 *
 * A NACL entry names only the remote CIDR, not the local workload, and it is stateless. So each
 * deny is the forbidden set minus everything any workload of this VPC needs from or to that remote:
 * allowed initiations in both directions and the replies of allowed connections (ephemeral ports
 * 1024-65535). What remains can be denied without breaking an allow; the security groups block
 * the rest anyway.
 */
function renderNacl(
  plan: Plan,
  vpc: string,
  first: number,
  limit: number,
  only: readonly string[] | undefined,
): AwsNaclEntry[] {
  const ALL = AddressSet.ALL;
  const needIn: ConnectionSet[] = [];
  const needOut: ConnectionSet[] = [];
  for (const a of plan.allows) {
    const reply = replyServices(a.path.services);
    for (const f of a.from)
      for (const t of a.to) {
        if (inVpc(t.party, vpc)) {
          needIn.push(ConnectionSet.of(f.addresses, ALL, a.path.services));
          needOut.push(ConnectionSet.of(ALL, f.addresses, reply));
        }
        if (inVpc(f.party, vpc)) {
          needOut.push(ConnectionSet.of(ALL, t.addresses, a.path.services));
          needIn.push(ConnectionSet.of(t.addresses, ALL, reply));
        }
      }
  }
  const nIn = ConnectionSet.unionAll(needIn);
  const nOut = ConnectionSet.unionAll(needOut);
  const entries: AwsNaclEntry[] = [];
  const next = { in: first, out: first };
  const guardrails = plan.guardrails
    .filter((g) => only === undefined || only.includes(g.path.name))
    .sort((a, b) => (a.path.name < b.path.name ? -1 : 1));
  for (const g of guardrails) {
    for (const egress of [false, true]) {
      const here = (egress ? g.from : g.to).some((s) => inVpc(s.party, vpc));
      if (!here) continue;
      const remote = AddressSet.unionAll(
        (egress ? g.to : g.from).filter(addressable).map((s) => s.addresses),
      );
      const forbidden = egress
        ? ConnectionSet.of(ALL, remote, g.path.services)
        : ConnectionSet.of(remote, ALL, g.path.services);
      const needed = forbidden.intersect(egress ? nOut : nIn);
      // Two exact encodings (first match wins): deny (forbidden − needed), or allow the needed
      // exceptions and then deny all of forbidden. Take the one with fewer entries.
      const direct = naclSpecs(forbidden.subtract(needed), egress, "deny");
      const excepted = [...naclSpecs(needed, egress, "allow"), ...naclSpecs(forbidden, egress, "deny")];
      const chosen = needed.equals(forbidden) ? [] : direct.length <= excepted.length ? direct : excepted;
      for (const spec of chosen) {
        const ruleNumber = egress ? next.out : next.in;
        if (egress) next.out += 10;
        else next.in += 10;
        entries.push({
          key: `${egress ? "out" : "in"}-${ruleNumber}`,
          egress,
          ruleNumber,
          ...spec,
          path: g.path.name,
        });
      }
    }
  }
  for (const egress of [false, true]) {
    for (const family of [4, 6] as const) {
      entries.push({
        key: `${egress ? "out" : "in"}-allow-all-ipv${family}`,
        egress,
        ruleNumber: NACL_ALLOW_ALL[family],
        ruleAction: "allow",
        protocol: "-1",
        ...(family === 4 ? { cidrBlock: "0.0.0.0/0" } : { ipv6CidrBlock: "::/0" }),
      });
    }
  }
  for (const egress of [false, true])
    for (const family of [4, 6] as const) {
      // AWS counts the default deny rule (`*`) against the quota too.
      const n =
        entries.filter(
          (e) =>
            e.egress === egress && (family === 4 ? e.cidrBlock !== undefined : e.ipv6CidrBlock !== undefined),
        ).length + 1;
      if (n > limit)
        throw new AwsQuotaError(
          `network ACL guardrails for VPC "${vpc}" need ${n} IPv${family} ${egress ? "outbound" : "inbound"} entries ` +
            `(deny entries for enforce forbids, allow-all, and the default deny AWS counts), over the limit of ${limit} ` +
            `(quota aws.rulesPerNetworkAcl). Raise the account quota and say so (quotas, blastradius:quotas or --quota), choose the forbids to guard ` +
            `(nacl.forbids; a forbid naming the internet needs hundreds of entries), or turn the NACL guardrails off.`,
        );
    }
  if (Math.max(next.in, next.out) >= NACL_ALLOW_ALL[4])
    throw new AwsQuotaError(
      `network ACL guardrails for VPC "${vpc}": deny rule numbers reach ${NACL_ALLOW_ALL[4]}`,
    );
  return entries;
}

/** A NACL names remotes by CIDR: a workload known by identity only (unknown addresses) cannot be denied there. */
const addressable = (s: Slice) => s.party.kind !== "workload" || !s.party.workload.addresses.isEmpty();

type NaclSpec = Omit<AwsNaclEntry, "key" | "egress" | "ruleNumber" | "path">;

/** NACL entries matching exactly `set` (remote side: src for ingress, dst for egress), in one action. */
function naclSpecs(set: ConnectionSet, egress: boolean, ruleAction: "allow" | "deny"): NaclSpec[] {
  const out: NaclSpec[] = [];
  for (const cube of set.cubes()) {
    const remote = egress ? cube.dst : cube.src;
    const services = cube.services;
    for (const cidr of remote.toCidrs()) {
      const family: 4 | 6 = cidr.includes(":") ? 6 : 4;
      const where = family === 4 ? { cidrBlock: cidr } : { ipv6CidrBlock: cidr };
      if (services.equals(ServiceSet.ALL)) {
        out.push({ ruleAction, protocol: "-1", ...where });
        continue;
      }
      for (const { protocol, ports } of services.entries()) {
        const real = realProtocol(protocol, family);
        if (real === Protocol.TCP || real === Protocol.UDP) {
          for (const [lo, hi] of ports.ranges)
            out.push({
              ruleAction,
              protocol: String(real),
              fromPort: Number(lo),
              toPort: Number(hi),
              ...where,
            });
        } else if (real === Protocol.ICMP || real === Protocol.ICMPV6) {
          out.push({ ruleAction, protocol: String(real), icmpType: -1, icmpCode: -1, ...where });
        } else if (!hasPorts(real) || ports.equals(ALL_PORTS) || ruleAction === "allow") {
          // A NACL cannot match ports of other protocols: an allow may widen (the security groups
          // still decide); a deny must not, so that part stays to the security groups.
          out.push({ ruleAction, protocol: String(real), ...where });
        }
      }
    }
  }
  return out;
}
