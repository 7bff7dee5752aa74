import type { AddressSet } from "../../net";
import type { Plan } from "../../plan/types";
import type { QuotaLimits, QuotaUsage, ResourceRecord, TargetUsage } from "../../verify/types";
import { AWS_TYPES } from "./contract";
import { networkFromRecords, type SgRule } from "./model";

/*
 * What an AWS rendering costs against the account's limits, as AWS counts them (Amazon VPC User
 * Guide, "Amazon VPC quotas" and "Security group rules: Security group size"; docs/targets/aws.md
 * cites them):
 *
 * - a rule naming a CIDR counts as one rule, one naming a security group as one rule whatever the
 *   group's size, one naming a customer-managed prefix list as the list's maximum entries;
 * - "inbound or outbound rules per security group" is enforced per direction and separately for
 *   IPv4 and IPv6 rules; a rule naming a group (or a prefix list we cannot see) has no family of
 *   its own, so it counts in both (conservative);
 * - "rules per network ACL" is one-way, per family, and includes the default deny rule (`*`).
 */

/** The AWS default quotas by quota id (`--quota <id>=<n>` overrides them). */
export const AWS_LIMITS = {
  /** Inbound or outbound rules per security group, per family (adjustable; × groups per interface ≤ 1,000). */
  "aws.rulesPerSecurityGroup": 60,
  /** Security groups per network interface (adjustable up to 16). */
  "aws.securityGroupsPerInterface": 5,
  /** VPC security groups per Region. */
  "aws.securityGroupsPerRegion": 2500,
  /** Rules per network ACL, one way, per family, including the default deny (adjustable up to 40). */
  "aws.rulesPerNetworkAcl": 20,
  /** Network ACLs per VPC. */
  "aws.networkAclsPerVpc": 200,
  /** Maximum number of entries per customer-managed prefix list. */
  "aws.entriesPerPrefixList": 1000,
  /** Customer-managed prefix lists per Region. */
  "aws.prefixListsPerRegion": 100,
  /** References to one prefix list from security group rules. */
  "aws.prefixListReferences": 5000,
} as const;

export type AwsQuotaId = keyof typeof AWS_LIMITS;

const DESCRIPTIONS: Record<AwsQuotaId, string> = {
  "aws.rulesPerSecurityGroup": "rules per security group",
  "aws.securityGroupsPerInterface": "security groups per network interface",
  "aws.securityGroupsPerRegion": "VPC security groups per Region",
  "aws.rulesPerNetworkAcl": "rules per network ACL",
  "aws.networkAclsPerVpc": "network ACLs per VPC",
  "aws.entriesPerPrefixList": "entries per prefix list (max entries)",
  "aws.prefixListsPerRegion": "customer-managed prefix lists per Region",
  "aws.prefixListReferences": "security group rules referencing one prefix list",
};

interface ListInfo {
  name: string;
  family: 4 | 6 | undefined;
  maxEntries: number;
}

/**
 * Rules, resources and quota usage of the AWS target's recorded resources.
 *
 * `rules` counts security-group rules as AWS counts them against the per-group quota (a CIDR or a
 * group reference 1, a prefix-list reference its list's max entries; an inline or legacy rule one
 * per CIDR, group and list it names) plus network ACL entries; `guardrailRules` are the NACL
 * entries other than the allow-all ones (the deny guardrails and the exceptions they need).
 */
export function awsUsage(
  resources: readonly ResourceRecord[],
  plan: Plan,
  limits: QuotaLimits = {},
): TargetUsage {
  const limit = (id: AwsQuotaId) => limits[id] ?? AWS_LIMITS[id];
  const net = networkFromRecords(resources);
  const quotas: QuotaUsage[] = [];
  const push = (quota: AwsQuotaId, scope: string, used: number, detail = "") =>
    quotas.push({
      target: "aws",
      quota,
      description: `${DESCRIPTIONS[quota]}${detail}`,
      scope,
      used,
      limit: limit(quota),
    });

  const lists = new Map<string, ListInfo>();
  for (const r of resources)
    if (r.type === AWS_TYPES.prefixList) {
      const i = r.inputs;
      const family = i.addressFamily === "IPv4" ? 4 : i.addressFamily === "IPv6" ? 6 : undefined;
      const entries = Array.isArray(i.entries) ? i.entries.length : 0;
      const max = Number(i.maxEntries);
      lists.set(r.id ?? r.urn ?? r.name, {
        name: r.name,
        family,
        maxEntries: Number.isInteger(max) && max > 0 ? max : entries,
      });
    }

  // Weight of a rule in each family, as AWS counts it against the per-group quota.
  const weights = (rule: SgRule): [number, number] => {
    switch (rule.peer.kind) {
      case "group":
        return [1, 1];
      case "prefixList": {
        const l = lists.get(rule.peer.id);
        if (!l) return [1, 1];
        return l.family === 4
          ? [l.maxEntries, 0]
          : l.family === 6
            ? [0, l.maxEntries]
            : [l.maxEntries, l.maxEntries];
      }
      case "cidr":
        // A rule resource names one CIDR; an inline or legacy rule may name several (counted merged).
        return cidrCounts(rule.peer.addresses);
    }
  };

  let rules = 0;
  const perGroup = new Map<string, number[]>();
  const referencesTo = new Map<string, number>();
  for (const r of net.rules) {
    const [v4, v6] = weights(r);
    rules += r.peer.kind === "group" ? 1 : r.peer.kind === "prefixList" ? Math.max(v4, v6) : v4 + v6;
    let counts = perGroup.get(r.groupId);
    if (!counts) perGroup.set(r.groupId, (counts = [0, 0, 0, 0]));
    const base = r.direction === "ingress" ? 0 : 2;
    counts[base]! += v4;
    counts[base + 1]! += v6;
    if (r.peer.kind === "prefixList") referencesTo.set(r.peer.id, (referencesTo.get(r.peer.id) ?? 0) + 1);
  }

  const where = (name: string, vpc: string | undefined) =>
    vpc === undefined ? name : `${name} (vpc ${vpc})`;
  for (const g of net.groups) {
    const counts = perGroup.get(g.id) ?? [0, 0, 0, 0];
    const scope = `security group ${where(g.name, g.vpc)}`;
    push("aws.rulesPerSecurityGroup", scope, counts[0]!, ", inbound IPv4");
    push("aws.rulesPerSecurityGroup", scope, counts[1]!, ", inbound IPv6");
    push("aws.rulesPerSecurityGroup", scope, counts[2]!, ", outbound IPv4");
    push("aws.rulesPerSecurityGroup", scope, counts[3]!, ", outbound IPv6");
  }
  if (net.groups.length > 0)
    push("aws.securityGroupsPerRegion", "all VPCs of the rendering (one Region)", net.groups.length);

  // Each workload in a VPC carries the VPC's baseline group and the group of every segment it is
  // in there (the attachment contract).
  const groupsByVpcSegment = new Map<string, number>();
  const baselines = new Map<string, number>();
  for (const g of net.groups)
    if (g.vpc !== undefined && g.baseline) baselines.set(g.vpc, (baselines.get(g.vpc) ?? 0) + 1);
    else if (g.vpc !== undefined && g.segment !== undefined) {
      const k = `${g.vpc}\u0000${g.segment}`;
      groupsByVpcSegment.set(k, (groupsByVpcSegment.get(k) ?? 0) + 1);
    }
  const carried = new Map<string, number>();
  for (const [segment, names] of plan.members)
    for (const n of names) {
      const vpc = vpcOf(plan, n);
      if (vpc === undefined) continue;
      carried.set(n, (carried.get(n) ?? 0) + (groupsByVpcSegment.get(`${vpc}\u0000${segment}`) ?? 0));
    }
  for (const w of plan.policy.workloads) {
    const vpc = w.placements.aws?.vpc;
    if (vpc === undefined) continue;
    push(
      "aws.securityGroupsPerInterface",
      `workload ${w.name} (vpc ${vpc})`,
      (carried.get(w.name) ?? 0) + (baselines.get(vpc) ?? 0),
    );
  }

  // Network ACLs: entries per direction and family, plus the default deny AWS counts.
  let guardrailRules = 0;
  const naclsPerVpc = new Map<string, number>();
  for (const n of net.nacls) {
    const counts = [0, 0, 0, 0];
    for (const e of n.entries) {
      rules++;
      const all =
        e.action === "allow" && e.protocol === "all" && (isEverything(e.cidr, 4) || isEverything(e.cidr, 6));
      if (!all) guardrailRules++;
      const base = e.egress ? 2 : 0;
      if (!e.cidr.family(4).isEmpty()) counts[base]!++;
      if (!e.cidr.family(6).isEmpty()) counts[base + 1]!++;
    }
    const scope = `network ACL ${where(n.name, n.vpc)}`;
    const dirs = [", inbound IPv4", ", inbound IPv6", ", outbound IPv4", ", outbound IPv6"];
    for (const [k, d] of dirs.entries())
      push("aws.rulesPerNetworkAcl", scope, counts[k]! + 1, `${d} (with the default deny)`);
    const vpc = n.vpc ?? "(untagged)";
    naclsPerVpc.set(vpc, (naclsPerVpc.get(vpc) ?? 0) + 1);
  }
  for (const [vpc, n] of naclsPerVpc) push("aws.networkAclsPerVpc", `vpc ${vpc}`, n);

  for (const [id, l] of lists) {
    push("aws.entriesPerPrefixList", `prefix list ${l.name}`, l.maxEntries);
    push("aws.prefixListReferences", `prefix list ${l.name}`, referencesTo.get(id) ?? 0);
  }
  if (lists.size > 0) push("aws.prefixListsPerRegion", "all VPCs of the rendering (one Region)", lists.size);

  const resourceCount = resources.filter((r) => r.type !== AWS_TYPES.component).length;
  return { rules, guardrailRules, resources: resourceCount, quotas };
}

function vpcOf(plan: Plan, workload: string): string | undefined {
  const p = plan.party(`workload:${workload}`);
  return p?.kind === "workload" ? p.workload.placements.aws?.vpc : undefined;
}

/** CIDRs per family of a rule's addresses (rules share parsed sets: counted once per set). */
const cidrCountCache = new WeakMap<AddressSet, [number, number]>();
function cidrCounts(a: AddressSet): [number, number] {
  let counts = cidrCountCache.get(a);
  if (!counts) {
    const cidrs = a.toCidrs();
    const v6 = cidrs.filter((c) => c.includes(":")).length;
    cidrCountCache.set(a, (counts = [cidrs.length - v6, v6]));
  }
  return counts;
}

function isEverything(a: AddressSet, f: 4 | 6): boolean {
  const ranges = a.family(f).ranges;
  return (
    ranges.length === 1 &&
    ranges[0]![0] === 0n &&
    ranges[0]![1] === (f === 4 ? 2n ** 32n - 1n : 2n ** 128n - 1n)
  );
}
