import type { Plan, Workload } from "../../lib";
import {
  type AzureRuleMode,
  azureAdapter,
  azureName,
  azureRecords,
  azureResources,
  azureVnets,
  renderAzure,
  renderAzureVnet,
} from "../../lib/targets/azure";
import type { OfflineTarget } from "../offline";

/**
 * What `review <policy file>` creates for one VNet: an AzureSegmentation named `azure-<vnet>`, in a
 * placeholder resource group named after the VNet, with one subnet per workload (its Azure CIDRs) so
 * the NSG is associated where the workloads are.
 */
export function azurePlaceholder(plan: Plan, vnet: string) {
  return {
    name: `azure-${vnet}`,
    resourceGroupName: azureName(`rg-${plan.policy.name}-${vnet}`),
    location: "westeurope",
    subnets: (workloadsByVnet(plan).get(vnet) ?? []).map((w) => ({
      name: w.name,
      addressPrefixes: [...w.placements.azure!.cidrs],
    })),
  };
}

const byVnet = new WeakMap<Plan, Map<string, Workload[]>>();
/** The plan's Azure workloads by VNet, in policy order (once per plan: every VNet asks). */
function workloadsByVnet(plan: Plan): Map<string, Workload[]> {
  let m = byVnet.get(plan);
  if (!m) {
    m = new Map();
    for (const w of plan.policy.workloads) {
      const v = w.placements.azure?.vnet;
      if (v === undefined) continue;
      const l = m.get(v);
      if (l) l.push(w);
      else m.set(v, [w]);
    }
    byVnet.set(plan, m);
  }
  return m;
}

/** Options of the placeholder program (the review uses the defaults). */
export interface AzurePlaceholderOptions {
  /** Where the rules go (`AzureSegmentationArgs.rules`). */
  rules?: AzureRuleMode;
}

/** What the placeholder program registers, built from the same resource list without Pulumi. */
export function azurePlaceholderRecords(plan: Plan, options: AzurePlaceholderOptions = {}) {
  return azureVnets(plan).flatMap((vnet) =>
    azureRecords(
      azureResources(renderAzureVnet(plan, vnet), { ...azurePlaceholder(plan, vnet), ...options }),
    ),
  );
}

/** The azure target without Pulumi. */
export const azureOffline: OfflineTarget = {
  target: "azure",
  adapter: azureAdapter(),
  records: (plan) => azurePlaceholderRecords(plan),
  artefacts: (plan) =>
    renderAzure(plan).map((r) => ({
      path: `azure/${azureName(r.vnet)}.json`,
      content: `${JSON.stringify(r, null, 2)}\n`,
    })),
};
