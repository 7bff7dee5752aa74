import type { Plan } from "../../lib";
import { azureVnets } from "../../lib/targets/azure";
import type { TargetModule } from "../targets";
import { type AzurePlaceholderOptions, azureOffline, azurePlaceholder } from "./offline";
import { AzureSegmentation } from "./segmentation";

export { type AzurePlaceholderOptions, azurePlaceholderRecords } from "./offline";

/** The program `review <policy file>` runs: one AzureSegmentation per VNet (see `azurePlaceholder`). */
export function azurePlaceholderProgram(plan: Plan, options: AzurePlaceholderOptions = {}): void {
  for (const vnet of azureVnets(plan)) {
    const { name, ...args } = azurePlaceholder(plan, vnet);
    new AzureSegmentation(name, { vnet, plan, ...args, ...options });
  }
}

/** The azure target's module for the CLI and the proof. */
export const azureModule: TargetModule = {
  ...azureOffline,
  placeholderProgram: (plan) => azurePlaceholderProgram(plan),
};
