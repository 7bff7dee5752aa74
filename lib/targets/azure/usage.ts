import type { Plan } from "../../plan/types";
import type { QuotaLimits, QuotaUsage, ResourceRecord, TargetUsage } from "../../verify/types";
import { AZURE_TYPES, readModel } from "./evaluate";
import { AZURE_LIMITS } from "./render";

/**
 * The Azure limits a rendering is held to, by quota id, with their defaults (Azure's networking
 * limits, none of which can be raised: see AZURE_LIMITS and docs/targets/azure.md). `limits`
 * overrides them by id.
 */
export const AZURE_QUOTAS = {
  "azure.rulesPerNsg": {
    limit: AZURE_LIMITS.rulesPerNsg,
    description: "security rules per network security group",
  },
  "azure.prioritiesPerDirection": {
    limit: AZURE_LIMITS.priorityMax - AZURE_LIMITS.priorityMin + 1,
    description: "rules of one direction in a network security group (unique priorities 100-4096)",
  },
  "azure.sourcePrefixesPerNsg": {
    limit: AZURE_LIMITS.prefixesPerNsgSide,
    description: "source IP addresses and ranges over all rules of a network security group",
  },
  "azure.destinationPrefixesPerNsg": {
    limit: AZURE_LIMITS.prefixesPerNsgSide,
    description: "destination IP addresses and ranges over all rules of a network security group",
  },
  "azure.asgsPerNsg": {
    limit: AZURE_LIMITS.asgsPerNsg,
    description: "application security groups named in all rules of a network security group",
  },
  "azure.asgsPerRuleSide": {
    limit: AZURE_LIMITS.asgsPerRuleSide,
    description:
      "application security groups as the source or destination of one rule (the largest side in the NSG)",
  },
  "azure.asgsPerNic": {
    limit: AZURE_LIMITS.asgsPerNic,
    description:
      "application security groups per NIC IP configuration (the workload with the most in the VNet)",
  },
  "azure.ipConfigurationsPerAsg": {
    limit: 4000,
    description: "IP configurations (NICs) per application security group (the largest ASG in the VNet)",
  },
  "azure.nsgsPerSubscription": {
    limit: AZURE_LIMITS.nsgsPerSubscription,
    description: "network security groups per subscription and region",
  },
  "azure.asgsPerSubscription": {
    limit: AZURE_LIMITS.asgsPerSubscription,
    description: "application security groups per subscription and region",
  },
} as const;

export type AzureQuotaId = keyof typeof AZURE_QUOTAS;

/** A rule that denies everything (the rendering's deny-all): not a guardrail for a forbid. */
const isCatchAll = (r: {
  protocol: string;
  sourceAddressPrefixes: string[];
  sourceApplicationSecurityGroups: string[];
  destinationAddressPrefixes: string[];
  destinationApplicationSecurityGroups: string[];
  destinationPortRanges: string[];
}) => {
  const any = (prefixes: string[], asgs: string[]) =>
    asgs.length === 0 && prefixes.some((p) => ["*", "any", "0.0.0.0/0"].includes(p.toLowerCase()));
  return (
    r.protocol === "*" &&
    any(r.sourceAddressPrefixes, r.sourceApplicationSecurityGroups) &&
    any(r.destinationAddressPrefixes, r.destinationApplicationSecurityGroups) &&
    r.destinationPortRanges.includes("*")
  );
};

/**
 * What Azure resources cost. `rules` counts security rules (standalone SecurityRules and inline
 * `securityRules` alike, the explicit deny-alls included; Azure's default rules are not counted);
 * `guardrailRules` the Deny rules other than deny-everything rules (the enforce forbids);
 * `resources` every NSG, ASG, SecurityRule and Subnet/NIC/VNet record read. Quotas: per NSG (rules,
 * rules per direction, prefixes per side, ASGs named, largest ASG side of a rule), per VNet (ASGs a
 * workload's NIC must join, NICs per ASG) and per subscription (NSGs, ASGs).
 */
export function azureUsage(
  resources: readonly ResourceRecord[],
  plan: Plan,
  limits: QuotaLimits = {},
): TargetUsage {
  const model = readModel(resources);
  const quotas: QuotaUsage[] = [];
  const add = (quota: AzureQuotaId, scope: string, used: number) =>
    quotas.push({
      target: "azure",
      quota,
      description: AZURE_QUOTAS[quota].description,
      scope,
      used,
      limit: limits[quota] ?? AZURE_QUOTAS[quota].limit,
    });

  let rules = 0;
  let guardrailRules = 0;
  for (const nsg of model.nsgs.values()) {
    const custom = nsg.rules.filter((r) => !r.isDefault);
    rules += custom.length;
    guardrailRules += custom.filter((r) => r.access === "Deny" && !isCatchAll(r)).length;
    const scope = `NSG ${nsg.name}`;
    add("azure.rulesPerNsg", scope, custom.length);
    for (const direction of ["Inbound", "Outbound"] as const)
      add(
        "azure.prioritiesPerDirection",
        `${scope} ${direction.toLowerCase()}`,
        custom.filter((r) => r.direction === direction).length,
      );
    let sources = 0;
    let destinations = 0;
    let widest = 0;
    let widestRule = "";
    const asgs = new Set<string>();
    for (const r of custom) {
      sources += r.sourceAddressPrefixes.length;
      destinations += r.destinationAddressPrefixes.length;
      for (const side of [r.sourceApplicationSecurityGroups, r.destinationApplicationSecurityGroups]) {
        for (const a of side) asgs.add(a);
        // Ties go to the first rule by name, so the scope does not depend on the records' order.
        if (side.length > widest || (side.length === widest && widest > 0 && r.name < widestRule)) {
          widest = side.length;
          widestRule = r.name;
        }
      }
    }
    add("azure.sourcePrefixesPerNsg", scope, sources);
    add("azure.destinationPrefixesPerNsg", scope, destinations);
    add("azure.asgsPerNsg", scope, asgs.size);
    add("azure.asgsPerRuleSide", widestRule ? `${scope}, rule ${widestRule}` : scope, widest);
  }

  // ASG membership the NICs must carry: each workload joins the ASGs tagged with its segments in its
  // VNet (plus what recorded NICs name).
  const asgsByVnetSegment = new Map<string, number>();
  for (const tagged of model.asgSegments.values()) {
    const k = `${tagged.vnet}\u0000${tagged.segment}`;
    asgsByVnetSegment.set(k, (asgsByVnetSegment.get(k) ?? 0) + 1);
  }
  const segmentsOf = new Map<string, string[]>();
  for (const [segment, names] of plan.members)
    for (const n of names) {
      const l = segmentsOf.get(n);
      if (l) l.push(segment);
      else segmentsOf.set(n, [segment]);
    }
  const perVnet = new Map<string, { nic: [string, number]; asg: [string, number] }>();
  const membersOf = new Map<string, number>();
  for (const w of plan.policy.workloads) {
    const vnet = w.placements.azure?.vnet;
    if (vnet === undefined) continue;
    let joined = 0;
    for (const segment of segmentsOf.get(w.name) ?? []) {
      const n = asgsByVnetSegment.get(`${vnet}\u0000${segment}`) ?? 0;
      if (n === 0) continue;
      joined += n;
      const k = `${vnet}\u0000${segment}`;
      membersOf.set(k, (membersOf.get(k) ?? 0) + 1);
    }
    const v = perVnet.get(vnet) ?? { nic: ["", -1] as [string, number], asg: ["", 0] as [string, number] };
    if (joined > v.nic[1]) v.nic = [w.name, joined];
    perVnet.set(vnet, v);
  }
  for (const [k, n] of membersOf) {
    const [vnet, segment] = k.split("\u0000") as [string, string];
    const v = perVnet.get(vnet)!;
    if (n > v.asg[1]) v.asg = [segment, n];
  }
  for (const [vnet, v] of perVnet) {
    add("azure.asgsPerNic", `VNet ${vnet}, workload ${v.nic[0]}`, Math.max(0, v.nic[1]));
    add(
      "azure.ipConfigurationsPerAsg",
      v.asg[0] ? `VNet ${vnet}, segment ${v.asg[0]}` : `VNet ${vnet}`,
      v.asg[1],
    );
  }

  const asgCount = resources.filter((r) => r.type === AZURE_TYPES.asg).length;
  add("azure.nsgsPerSubscription", "subscription (every NSG rendered)", model.nsgs.size);
  add("azure.asgsPerSubscription", "subscription (every ASG rendered)", asgCount);
  return { rules, guardrailRules, resources: resources.length, quotas };
}
