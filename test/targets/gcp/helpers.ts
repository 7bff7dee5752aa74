import { gcpModule } from "../../../components/gcp/module";
import { runProgram } from "../../../components/runner";
import { checkPolicyDocument, type Plan, type ResourceRecord } from "../../../lib";

/** A compiled plan from a policy document; fails the test with the diagnostics when invalid. */
export function planOf(doc: Record<string, unknown>): Plan {
  const r = checkPolicyDocument(doc, "test");
  if (!r.ok || !r.plan) throw new Error(r.diagnostics.map((d) => `${d.severity}: ${d.message}`).join("\n"));
  return r.plan;
}

/** Runs the gcp placeholder program under the runner and returns what it recorded. */
export async function recordGcp(plan: Plan): Promise<ResourceRecord[]> {
  const { resources } = await runProgram(() => gcpModule.placeholderProgram(plan));
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    inputs: r.inputs,
    parent: r.parent,
    urn: r.urn,
  }));
}

export const meta = { owner: "sec@example.com", justification: "test" };

/** A gcp workload document. */
export function gcpWorkload(
  name: string,
  labels: Record<string, string>,
  network: string,
  cidrs: string[],
  serviceAccount?: string,
) {
  return {
    name,
    labels,
    placements: { gcp: { network, cidrs, ...(serviceAccount ? { serviceAccount } : {}) } },
  };
}
