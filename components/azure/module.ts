import type { Plan } from "../../lib";
import { azureAdapter, azureName, azureVnets, renderAzure } from "../../lib/targets/azure";
import type { TargetModule } from "../targets";
import { AzureSegmentation } from "./segmentation";

/**
 * The program `review <policy file>` runs: one AzureSegmentation per VNet, in a placeholder
 * resource group named after the VNet, with one subnet per workload (its Azure CIDRs) so the NSG is
 * associated where the workloads are.
 */
export function azurePlaceholderProgram(plan: Plan): void {
  for (const vnet of azureVnets(plan)) {
    new AzureSegmentation(`azure-${vnet}`, {
      vnet,
      plan,
      resourceGroupName: azureName(`rg-${plan.policy.name}-${vnet}`),
      location: "westeurope",
      subnets: plan.policy.workloads
        .filter((w) => w.placements.azure?.vnet === vnet)
        .map((w) => ({ name: w.name, addressPrefixes: [...w.placements.azure!.cidrs] })),
    });
  }
}

/** The azure target's module for the CLI and the proof. */
export const azureModule: TargetModule | undefined = {
  target: "azure",
  adapter: azureAdapter(),
  placeholderProgram: azurePlaceholderProgram,
  artefacts: (plan) =>
    renderAzure(plan).map((r) => ({
      path: `azure/${azureName(r.vnet)}.json`,
      content: `${JSON.stringify(r, null, 2)}\n`,
    })),
};
