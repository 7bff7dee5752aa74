import { AddressSet, ConnectionSet, IntervalSet, MAX_PORT, Protocol, ServiceSet } from "../../net";
import type { ResourceRecord } from "../../verify/types";
import { AWS_BASELINE_TAG, AWS_COMPUTE_TYPES, AWS_TAGS, AWS_TYPES } from "./contract";

/*
 * The AWS network as the evaluator sees it: security groups with their rules, prefix lists and
 * network ACLs, read from recorded Pulumi resources or from `aws ec2 describe-*` exports. Nothing
 * here knows how blastradius renders; it states what AWS does with these objects.
 */

/** A protocol as AWS rules state it: a real IP protocol number, or every protocol. */
export type AwsProtocol = number | "all";

/** What the far side of a security group rule matches. */
export type SgPeer =
  | { kind: "cidr"; addresses: AddressSet }
  /** Every network interface that carries the group (its private addresses). */
  | { kind: "group"; groupId: string }
  /** The entries of a prefix list (unknown list: every address, to stay sound). */
  | { kind: "prefixList"; id: string };

export interface SgRule {
  /** The rule's name in the target's own terms (resource name, or group id + rule). */
  name: string;
  groupId: string;
  direction: "ingress" | "egress";
  protocol: AwsProtocol;
  /** tcp/udp only: the destination port range (AWS ignores ports of every other protocol). */
  ports?: IntervalSet;
  peer: SgPeer;
  /**
   * Rendered by blastradius (a standalone rule tagged `blastradius:path`; in an export, any rule of
   * a rendered group). Anything else was added outside the library.
   */
  rendered?: boolean;
}

export interface SgGroup {
  id: string;
  name: string;
  /** The placement VPC name (`blastradius:vpc` tag, or an export's mapping). */
  vpc?: string;
  /** The VPC id the group was created in, when known. */
  vpcId?: string;
  segment?: string;
  /** Rendered by blastradius (tagged `blastradius:policy`). */
  rendered?: boolean;
  /** The baseline group blastradius renders per VPC: no rules, carried by every workload there. */
  baseline?: boolean;
  /** A VPC's default security group (`aws:ec2/defaultSecurityGroup`, or AWS's own when not managed). */
  isDefault?: boolean;
  /**
   * AWS gives every new VPC security group an allow-all egress rule (0.0.0.0/0 and ::/0). True when
   * nothing in what we read removed it (see `groupsFromRecords`).
   */
  defaultEgress: boolean;
}

export interface NaclEntry {
  name: string;
  egress: boolean;
  ruleNumber: number;
  action: "allow" | "deny";
  protocol: AwsProtocol;
  /** tcp/udp only. */
  ports?: IntervalSet;
  cidr: AddressSet;
}

export interface Nacl {
  id: string;
  name: string;
  vpc?: string;
  entries: NaclEntry[];
}

export interface AwsNetwork {
  groups: SgGroup[];
  rules: SgRule[];
  /** Prefix list id → its entries. */
  prefixLists: Map<string, AddressSet>;
  nacls: Nacl[];
}

/* ------------------------------------------------------------------ protocol and port semantics */

const ALL_PORTS = IntervalSet.range(0n, BigInt(MAX_PORT));

/** AWS protocol text ("tcp", "6", "-1", "all", "icmpv6", …) → number or "all"; undefined when unreadable. */
const NAMED_PROTOCOLS: ReadonlyMap<string, AwsProtocol> = new Map<string, AwsProtocol>([
  ["-1", "all"],
  ["all", "all"],
  ["tcp", 6],
  ["udp", 17],
  ["icmp", 1],
  ["icmpv6", 58],
]);

export function parseAwsProtocol(value: unknown): AwsProtocol | undefined {
  const named = typeof value === "string" ? NAMED_PROTOCOLS.get(value) : undefined;
  if (named !== undefined) return named;
  const t = String(value ?? "")
    .trim()
    .toLowerCase();
  const again = NAMED_PROTOCOLS.get(t);
  if (again !== undefined) return again;
  if (/^[0-9]{1,3}$/.test(t) && Number(t) <= 255) return Number(t);
  return undefined;
}

/**
 * The destination ports a rule matches: for tcp/udp `from..to` (absent or -1: every port); every
 * other protocol carries every port (AWS ignores ports there; ICMP type/code filters are treated as
 * every ICMP message, an over-approximation that keeps forbid proofs sound).
 */
export function awsPorts(protocol: AwsProtocol, from: unknown, to: unknown): IntervalSet | undefined {
  if (protocol !== Protocol.TCP && protocol !== Protocol.UDP) return undefined;
  const f = typeof from === "number" ? from : Number(from);
  const t = typeof to === "number" ? to : Number(to);
  if (!Number.isInteger(f) || !Number.isInteger(t) || f < 0 || t < 0) return ALL_PORTS;
  if (f > t) return IntervalSet.EMPTY;
  // Rules share few port ranges: one set each (sets are immutable).
  const k = f * 65536 + t;
  let set = portRanges.get(k);
  if (!set) portRanges.set(k, (set = IntervalSet.range(BigInt(f), BigInt(t))));
  return set;
}
const portRanges = new Map<number, IntervalSet>();

/**
 * Packets src → dst of real IP protocol `protocol` (and tcp/udp ports). ICMP is per family in AWS:
 * "icmp" (1) matches IPv4 ICMP only and "icmpv6" (58) IPv6 ICMPv6 only, also in rules that name a
 * security group (which otherwise match both families). The algebra's ServiceSet "icmp" is ICMP of
 * the packet's family, so IPv6 ICMPv6 is ServiceSet protocol 1 on IPv6 addresses.
 */
export function protocolConnections(
  src: AddressSet,
  dst: AddressSet,
  protocol: AwsProtocol,
  ports?: IntervalSet,
): ConnectionSet {
  if (protocol === "all") return ConnectionSet.of(src, dst, ServiceSet.ALL);
  const v4 = () =>
    ConnectionSet.of(
      src.intersect(AddressSet.ALL_V4),
      dst.intersect(AddressSet.ALL_V4),
      ServiceSet.protocol(protocol, ports),
    );
  const v6 = (s: ServiceSet) =>
    ConnectionSet.of(src.intersect(AddressSet.ALL_V6), dst.intersect(AddressSet.ALL_V6), s);
  if (protocol === Protocol.ICMP) return v4();
  if (protocol === Protocol.ICMPV6) return v6(ServiceSet.icmp());
  return v4().union(v6(ServiceSet.protocol(protocol, ports)));
}

/* ------------------------------------------------------------------ from recorded resources */

type Inputs = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
/** Tags as a map (`aws`) or a list of `{key, value}` (`aws-native`, CloudFormation). */
function tagsOf(i: Inputs): Record<string, string> {
  const t = i.tags ?? i.Tags;
  if (Array.isArray(t))
    return Object.fromEntries(
      (t as Inputs[]).map((e) => [String(e.key ?? e.Key), String(e.value ?? e.Value)] as const),
    );
  return (t ?? {}) as Record<string, string>;
}

/** A record's id as the engine assigned it (the runner records it), else its URN or name. */
function idOf(r: ResourceRecord & { id?: string }): string {
  return r.id ?? r.urn ?? r.name;
}

/** Parsed CIDRs: thousands of rules name the same few hundred CIDRs (parse each once). */
const parsedCidrs = new Map<string, AddressSet>();
function parseCidr(cidr: string): AddressSet {
  let set = parsedCidrs.get(cidr);
  if (!set) {
    set = AddressSet.parse(cidr);
    if (parsedCidrs.size > 100_000) parsedCidrs.clear();
    parsedCidrs.set(cidr, set);
  }
  return set;
}

function cidrPeer(i: Inputs, v4Key: string, v6Key: string): AddressSet | undefined {
  const v4 = str(i[v4Key]);
  const v6 = str(i[v6Key]);
  if (v4 && v6) return parseCidr(v4).union(parseCidr(v6));
  return v4 ? parseCidr(v4) : v6 ? parseCidr(v6) : undefined;
}

/**
 * Reads security groups, rules, prefix lists and NACLs from recorded resources (type + inputs).
 *
 * The default egress rule: AWS adds allow-all egress to every new VPC security group. The Pulumi
 * AWS provider's `aws:ec2/securityGroup:SecurityGroup` revokes it right after creating the group
 * (documented "NOTE on Egress rules"; terraform-provider-aws resourceSecurityGroupCreate), whether
 * or not inline `egress` is set, so such a group starts with no egress. Any other way of creating a
 * group (Cloud Control `aws-native:ec2:SecurityGroup` without `securityGroupEgress`, a live export
 * that still lists it) keeps AWS's default egress 0.0.0.0/0 + ::/0, and the evaluator counts it.
 */
export function networkFromRecords(records: readonly ResourceRecord[]): AwsNetwork {
  // The evaluator and the usage of one review read the same (read-only) list: read it once.
  let network = networks.get(records);
  if (!network) networks.set(records, (network = readNetwork(records)));
  return network;
}
const networks = new WeakMap<readonly ResourceRecord[], AwsNetwork>();

function readNetwork(records: readonly ResourceRecord[]): AwsNetwork {
  const groups: SgGroup[] = [];
  const rules: SgRule[] = [];
  const prefixLists = new Map<string, AddressSet>();
  const nacls = new Map<string, Nacl>();
  const naclRules: ResourceRecord[] = [];
  for (const r of records) {
    const i = r.inputs;
    switch (r.type) {
      case AWS_TYPES.securityGroup:
      case AWS_TYPES.nativeSecurityGroup: {
        const tags = tagsOf(i);
        const native = r.type === AWS_TYPES.nativeSecurityGroup;
        const id = idOf(r);
        const inlineEgress = (native ? i.securityGroupEgress : i.egress) as Inputs[] | undefined;
        const inlineIngress = (native ? i.securityGroupIngress : i.ingress) as Inputs[] | undefined;
        const group: SgGroup = {
          id,
          name: r.name,
          vpc: tags[AWS_TAGS.vpc],
          segment: tags[AWS_TAGS.segment],
          defaultEgress: native && !(Array.isArray(inlineEgress) && inlineEgress.length > 0),
          rendered: typeof tags[AWS_TAGS.policy] === "string",
        };
        if (typeof i.vpcId === "string") group.vpcId = i.vpcId;
        if (tags[AWS_BASELINE_TAG] === "true") group.baseline = true;
        groups.push(group);
        for (const [dir, list] of [
          ["ingress", inlineIngress],
          ["egress", inlineEgress],
        ] as const)
          (list ?? []).forEach((rule, k) => {
            rules.push(...inlineRules(rule, `${r.name} inline ${dir}[${k}]`, id, dir, native));
          });
        break;
      }
      case AWS_TYPES.ingressRule:
      case AWS_TYPES.egressRule: {
        const protocol = parseAwsProtocol(i.ipProtocol);
        if (protocol === undefined) break;
        const groupId = String(i.securityGroupId);
        const direction = r.type === AWS_TYPES.ingressRule ? "ingress" : "egress";
        const ports = awsPorts(protocol, i.fromPort, i.toPort);
        const cidr = cidrPeer(i, "cidrIpv4", "cidrIpv6");
        const peer: SgPeer | undefined = cidr
          ? { kind: "cidr", addresses: cidr }
          : str(i.referencedSecurityGroupId)
            ? { kind: "group", groupId: String(i.referencedSecurityGroupId) }
            : str(i.prefixListId)
              ? { kind: "prefixList", id: String(i.prefixListId) }
              : undefined;
        const rendered = typeof tagsOf(i)[AWS_TAGS.path] === "string";
        if (peer)
          rules.push({
            name: r.name,
            groupId,
            direction,
            protocol,
            ...(ports ? { ports } : {}),
            peer,
            rendered,
          });
        break;
      }
      case AWS_COMPUTE_TYPES.defaultSecurityGroup: {
        // Manages the VPC's default group: its rules become exactly the inline ones listed.
        const vpcId = typeof i.vpcId === "string" ? i.vpcId : "unknown";
        const id = defaultGroupId(vpcId);
        groups.push({ id, name: r.name, vpcId, defaultEgress: false, isDefault: true });
        for (const [dir, list] of [
          ["ingress", i.ingress],
          ["egress", i.egress],
        ] as const)
          ((list as Inputs[] | undefined) ?? []).forEach((rule, k) => {
            rules.push(...inlineRules(rule, `${r.name} inline ${dir}[${k}]`, id, dir, false));
          });
        break;
      }
      case AWS_TYPES.legacyRule: {
        const protocol = parseAwsProtocol(i.protocol);
        if (protocol === undefined) break;
        const groupId = String(i.securityGroupId);
        const direction = i.type === "egress" ? "egress" : "ingress";
        const ports = awsPorts(protocol, i.fromPort, i.toPort);
        const base = { groupId, direction, protocol, ...(ports ? { ports } : {}) } as const;
        const cidrs = [...((i.cidrBlocks as string[]) ?? []), ...((i.ipv6CidrBlocks as string[]) ?? [])];
        if (cidrs.length > 0)
          rules.push({
            ...base,
            name: r.name,
            peer: { kind: "cidr", addresses: AddressSet.fromCidrs(cidrs) },
          });
        const ref = i.self === true ? groupId : str(i.sourceSecurityGroupId);
        if (ref) rules.push({ ...base, name: r.name, peer: { kind: "group", groupId: ref } });
        for (const pl of (i.prefixListIds as string[]) ?? [])
          rules.push({ ...base, name: r.name, peer: { kind: "prefixList", id: pl } });
        break;
      }
      case AWS_TYPES.prefixList: {
        const entries = ((i.entries as Inputs[]) ?? []).map((e) => String(e.cidr));
        prefixLists.set(idOf(r), AddressSet.fromCidrs(entries));
        break;
      }
      case AWS_TYPES.networkAcl: {
        nacls.set(idOf(r), { id: idOf(r), name: r.name, vpc: tagsOf(i)[AWS_TAGS.vpc], entries: [] });
        break;
      }
      case AWS_TYPES.networkAclRule:
        naclRules.push(r);
        break;
    }
  }
  for (const r of naclRules) {
    const i = r.inputs;
    const nacl = nacls.get(String(i.networkAclId));
    const protocol = parseAwsProtocol(i.protocol);
    const cidr = cidrPeer(i, "cidrBlock", "ipv6CidrBlock");
    if (!nacl || protocol === undefined || !cidr) continue;
    const ports = awsPorts(protocol, i.fromPort, i.toPort);
    nacl.entries.push({
      name: `${r.name} (rule ${i.ruleNumber} ${i.ruleAction})`,
      egress: i.egress === true,
      ruleNumber: Number(i.ruleNumber),
      action: i.ruleAction === "deny" ? "deny" : "allow",
      protocol,
      ...(ports ? { ports } : {}),
      cidr,
    });
  }
  return { groups, rules, prefixLists, nacls: [...nacls.values()] };
}

/** The id the evaluator gives a VPC's default security group (its real id is AWS's). */
export const defaultGroupId = (vpcId: string) => `default-security-group:${vpcId}`;

/** Inline rules of `aws.ec2.SecurityGroup` (cidrBlocks, …) or `aws-native:ec2:SecurityGroup` (cidrIp, …). */
function inlineRules(
  i: Inputs,
  name: string,
  groupId: string,
  direction: "ingress" | "egress",
  native: boolean,
): SgRule[] {
  const protocol = parseAwsProtocol(native ? i.ipProtocol : i.protocol);
  if (protocol === undefined) return [];
  const ports = awsPorts(protocol, i.fromPort, i.toPort);
  const base = { name, groupId, direction, protocol, ...(ports ? { ports } : {}) };
  const out: SgRule[] = [];
  const cidrs = native
    ? [str(i.cidrIp), str(i.cidrIpv6)].filter((c): c is string => c !== undefined)
    : [...((i.cidrBlocks as string[]) ?? []), ...((i.ipv6CidrBlocks as string[]) ?? [])];
  if (cidrs.length > 0) out.push({ ...base, peer: { kind: "cidr", addresses: AddressSet.fromCidrs(cidrs) } });
  const refs = native
    ? [str(i.sourceSecurityGroupId), str(i.destinationSecurityGroupId)].filter(
        (g): g is string => g !== undefined,
      )
    : [...((i.securityGroups as string[]) ?? []), ...(i.self === true ? [groupId] : [])];
  for (const g of refs) out.push({ ...base, peer: { kind: "group", groupId: g } });
  const lists = native
    ? [str(i.sourcePrefixListId), str(i.destinationPrefixListId)].filter((g): g is string => g !== undefined)
    : ((i.prefixListIds as string[]) ?? []);
  for (const pl of lists) out.push({ ...base, peer: { kind: "prefixList", id: pl } });
  return out;
}
