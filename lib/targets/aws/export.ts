import { AddressSet } from "../../net";
import { AWS_BASELINE_TAG, AWS_TAGS } from "./contract";
import { type AwsNetwork, awsPorts, type Nacl, parseAwsProtocol, type SgGroup, type SgRule } from "./model";

/*
 * Live exports: `aws ec2 describe-security-groups --output json` (required),
 * `aws ec2 describe-network-acls --output json` and, per referenced prefix list,
 * `aws ec2 get-managed-prefix-list-entries --prefix-list-id pl-… --output json` (optional).
 * Shapes as documented in the EC2 API reference (SecurityGroup, IpPermission, NetworkAcl).
 */

interface Tag {
  Key: string;
  Value: string;
}

interface IpPermission {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: Array<{ CidrIp: string; Description?: string }>;
  Ipv6Ranges?: Array<{ CidrIpv6: string; Description?: string }>;
  PrefixListIds?: Array<{ PrefixListId: string; Description?: string }>;
  UserIdGroupPairs?: Array<{ GroupId: string; UserId?: string; Description?: string }>;
}

export interface DescribeSecurityGroupsOutput {
  SecurityGroups: Array<{
    GroupId: string;
    GroupName?: string;
    VpcId?: string;
    Tags?: Tag[];
    IpPermissions?: IpPermission[];
    IpPermissionsEgress?: IpPermission[];
  }>;
}

export interface DescribeNetworkAclsOutput {
  NetworkAcls: Array<{
    NetworkAclId: string;
    VpcId?: string;
    Tags?: Tag[];
    Entries?: Array<{
      RuleNumber: number;
      Protocol: string;
      RuleAction: "allow" | "deny";
      Egress: boolean;
      CidrBlock?: string;
      Ipv6CidrBlock?: string;
      PortRange?: { From?: number; To?: number };
    }>;
  }>;
}

export interface GetManagedPrefixListEntriesOutput {
  Entries: Array<{ Cidr: string; Description?: string }>;
}

export interface AwsExportOptions {
  /** `describe-network-acls` output. */
  networkAcls?: DescribeNetworkAclsOutput;
  /** Prefix list id → `get-managed-prefix-list-entries` output. Unknown lists match every address. */
  prefixLists?: Record<string, GetManagedPrefixListEntriesOutput>;
  /**
   * VPC id → placement VPC name (`placements.aws.vpc`). Default: the resource's `blastradius:vpc`
   * tag, else its `Name` tag.
   */
  vpcNames?: Record<string, string>;
  /** Security group id → segment it is attached for. Default: the group's `blastradius:segment` tag. */
  segments?: Record<string, string>;
}

const tag = (tags: Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;

/** Reads a live export into the evaluator's network model. Every rule that is listed is counted. */
export function networkFromExport(
  sgs: DescribeSecurityGroupsOutput,
  options: AwsExportOptions = {},
): AwsNetwork {
  const vpcName = (id: string | undefined, tags: Tag[] | undefined) =>
    (id !== undefined ? options.vpcNames?.[id] : undefined) ?? tag(tags, AWS_TAGS.vpc) ?? tag(tags, "Name");
  const groups: SgGroup[] = [];
  const rules: SgRule[] = [];
  for (const g of sgs.SecurityGroups ?? []) {
    const rendered = tag(g.Tags, AWS_TAGS.policy) !== undefined;
    const group: SgGroup = {
      id: g.GroupId,
      name: g.GroupName ? `${g.GroupId} (${g.GroupName})` : g.GroupId,
      defaultEgress: false, // an export lists the default egress rule itself when it is there
      rendered,
    };
    if (g.VpcId !== undefined) group.vpcId = g.VpcId;
    if (tag(g.Tags, AWS_BASELINE_TAG) === "true") group.baseline = true;
    // An export lists the VPC's default group as a group of its own, rules and all.
    if (g.GroupName === "default") group.isDefault = true;
    const vpc = vpcName(g.VpcId, g.Tags);
    const segment = options.segments?.[g.GroupId] ?? tag(g.Tags, AWS_TAGS.segment);
    if (vpc !== undefined) group.vpc = vpc;
    if (segment !== undefined) group.segment = segment;
    groups.push(group);
    for (const [direction, perms] of [
      ["ingress", g.IpPermissions],
      ["egress", g.IpPermissionsEgress],
    ] as const) {
      (perms ?? []).forEach((p, k) => {
        const protocol = parseAwsProtocol(p.IpProtocol);
        if (protocol === undefined) return;
        const ports = awsPorts(protocol, p.FromPort, p.ToPort);
        // A live rule carries no tags: the rules of a rendered group count as rendered.
        const base = { groupId: g.GroupId, direction, protocol, ...(ports ? { ports } : {}), rendered };
        const at = `${g.GroupId} ${direction === "ingress" ? "IpPermissions" : "IpPermissionsEgress"}[${k}]`;
        for (const r of p.IpRanges ?? [])
          rules.push({
            ...base,
            name: `${at} ${r.CidrIp}`,
            peer: { kind: "cidr", addresses: AddressSet.parse(r.CidrIp) },
          });
        for (const r of p.Ipv6Ranges ?? [])
          rules.push({
            ...base,
            name: `${at} ${r.CidrIpv6}`,
            peer: { kind: "cidr", addresses: AddressSet.parse(r.CidrIpv6) },
          });
        for (const r of p.UserIdGroupPairs ?? [])
          rules.push({ ...base, name: `${at} ${r.GroupId}`, peer: { kind: "group", groupId: r.GroupId } });
        for (const r of p.PrefixListIds ?? [])
          rules.push({
            ...base,
            name: `${at} ${r.PrefixListId}`,
            peer: { kind: "prefixList", id: r.PrefixListId },
          });
      });
    }
  }
  const prefixLists = new Map<string, AddressSet>();
  for (const [id, out] of Object.entries(options.prefixLists ?? {}))
    prefixLists.set(id, AddressSet.fromCidrs(out.Entries.map((e) => e.Cidr)));
  const nacls: Nacl[] = [];
  for (const n of options.networkAcls?.NetworkAcls ?? []) {
    const nacl: Nacl = { id: n.NetworkAclId, name: n.NetworkAclId, entries: [] };
    const vpc = vpcName(n.VpcId, n.Tags);
    if (vpc !== undefined) nacl.vpc = vpc;
    for (const e of n.Entries ?? []) {
      const protocol = parseAwsProtocol(e.Protocol);
      const cidr = e.CidrBlock ?? e.Ipv6CidrBlock;
      if (protocol === undefined || cidr === undefined) continue;
      const ports = awsPorts(protocol, e.PortRange?.From, e.PortRange?.To);
      const number = e.RuleNumber === 32767 ? "*" : String(e.RuleNumber);
      nacl.entries.push({
        name: `${n.NetworkAclId} ${e.Egress ? "outbound" : "inbound"} rule ${number} ${e.RuleAction}`,
        egress: e.Egress,
        ruleNumber: e.RuleNumber,
        action: e.RuleAction,
        protocol,
        ...(ports ? { ports } : {}),
        cidr: AddressSet.parse(cidr),
      });
    }
    nacls.push(nacl);
  }
  return { groups, rules, prefixLists, nacls };
}
