import { azurePlaceholderProgram, azurePlaceholderRecords } from "../../../components/azure/module";
import { runProgram } from "../../../components/runner";
import { compilePolicy, type Party, type Plan, type ResourceRecord } from "../../../lib";
import { type AzureEvaluator, azureEvaluator } from "../../../lib/targets/azure";

/** Compiles a policy document (throws PolicyError with every diagnostic when it is invalid). */
export function planOf(document: unknown): Plan {
  return compilePolicy({ document });
}

/** The custom resources a Pulumi program registered, as the evaluator sees them. */
export async function recordsOf(program: () => void): Promise<ResourceRecord[]> {
  const { resources } = await runProgram(program, { project: "azure-test" });
  return resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
}

/** Renders the placeholder program under the runner and builds the evaluator over what it recorded. */
export async function renderAndEvaluate(
  plan: Plan,
  extra: () => void = () => {},
): Promise<{ records: ResourceRecord[]; evaluator: AzureEvaluator }> {
  const records = await recordsOf(() => {
    azurePlaceholderProgram(plan);
    extra();
  });
  return { records, evaluator: azureEvaluator(records, plan) };
}

export function party(plan: Plan, name: string): Party {
  const p = plan.party(`workload:${name}`) ?? plan.party(`peer:${name}`);
  if (!p) throw new Error(`no party ${name}`);
  return p;
}

export const tcp = (src: string, dst: string, port: number) => ({
  family: (src.includes(":") ? 6 : 4) as 4 | 6,
  src,
  dst,
  protocol: 6,
  port,
});

/**
 * The records the placeholder program registers, built without Pulumi (`azureModule.records`):
 * the property test uses it, where the runner's per-resource cost would dominate.
 * `component.test.ts` checks it against what the runner actually records, ids included.
 */
export const mirrorRecords = (plan: Plan): ResourceRecord[] => azurePlaceholderRecords(plan);
