import type { TargetAdapter } from "../../verify/types";
import { type AzureEvaluatorOptions, azureEvaluator, isClassicAzure, OWNED, READ } from "./evaluate";
import { azureUsage } from "./usage";

/** How the proof finds the Azure resources, builds the evaluator and counts what they cost. */
export function azureAdapter(options: AzureEvaluatorOptions = {}): TargetAdapter {
  return {
    target: "azure",
    owns: (r) => OWNED.has(r.type),
    reads: (r) => READ.has(r.type) || isClassicAzure(r.type),
    evaluator: (records, plan) => azureEvaluator(records, plan, options),
    usage: (records, plan, limits) => azureUsage(records, plan, limits),
  };
}
