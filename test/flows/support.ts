import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkPolicyText, type Plan } from "../../lib";
import { type FileReport, type Flow, type FlowProblem, readFlows, Simulation } from "../../lib/flows";

export const FIXTURES = join(__dirname, "..", "fixtures", "flows");
export const POLICY = join(FIXTURES, "policy.yaml");
export const ALL_FIXTURES = [
  "aws-default.log",
  "aws-custom.log",
  "gcp.jsonl",
  "hubble.jsonl",
  "azure-nsg.json",
  "azure-vnet.json",
].map((f) => join(FIXTURES, f));

export function planOf(text: string): Plan {
  const r = checkPolicyText(text);
  if (!r.ok || !r.plan) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.plan;
}

export const fixturePlan = (): Plan => planOf(readFileSync(POLICY, "utf8"));

/** Reads text (or a fixture file) as flows, collecting everything. */
export async function read(
  name: string,
  text?: string,
  options?: Parameters<typeof readFlows>[3],
): Promise<{ flows: Flow[]; problems: FlowProblem[]; report: FileReport }> {
  const content = text ?? readFileSync(join(FIXTURES, name), "utf8");
  const flows: Flow[] = [];
  const problems: FlowProblem[] = [];
  const report = await readFlows(
    name,
    content.split("\n"),
    { flow: (f) => flows.push(f), problem: (p) => problems.push(p), skip: () => {} },
    options,
  );
  return { flows, problems, report };
}

export async function simulate(plan: Plan, files: string[]): Promise<Simulation> {
  const sim = new Simulation(plan);
  for (const f of files) {
    const { flows } = await read(f, readFileSync(f, "utf8"));
    for (const flow of flows) sim.add(flow);
  }
  return sim;
}
