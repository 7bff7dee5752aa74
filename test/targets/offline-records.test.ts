import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../bench/generate";
import { runProgram } from "../../components/runner";
import { TARGET_MODULES, type TargetModule } from "../../components/targets";
import { compilePolicy, type Plan, type Proof, prove, type ResourceRecord } from "../../lib";

/**
 * `module.records(plan)` builds, without the Pulumi engine, what `placeholderProgram(plan)`
 * registers (benchmarks and large proofs use it). Here it must equal what the runner records,
 * resource for resource: same types, names and inputs once ids are replaced by the name of the
 * resource they identify (offline ids differ from the mock engine's), and the same proof.
 */

const ROOT = join(__dirname, "..", "..");

const POLICIES: Array<{ name: string; plan: () => Plan }> = [
  ...readdirSync(join(ROOT, "stacks")).map((stack) => {
    const file = join(ROOT, "stacks", stack, "policy.yaml");
    return { name: `stacks/${stack}`, plan: () => compilePolicy({ text: readFileSync(file, "utf8"), file }) };
  }),
  {
    name: "generated, 120 workloads",
    plan: () => compilePolicy({ document: generatePolicy({ workloads: 120, segments: 12 }) }),
  },
];

/** Inputs with every id replaced by `<id of TYPE NAME>`, ordered by type and name. */
function normalised(records: readonly ResourceRecord[]) {
  const names = new Map<string, string>();
  for (const r of records) if (r.id) names.set(r.id, `<id of ${r.type} ${r.name}>`);
  const replace = (v: unknown): unknown => {
    if (typeof v === "string") return names.get(v) ?? v;
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  return records
    .map((r) => ({ type: r.type, name: r.name, inputs: replace(r.inputs) }))
    .sort((a, b) => (a.type + a.name < b.type + b.name ? -1 : a.type + a.name > b.type + b.name ? 1 : 0));
}

function verdicts(proof: Proof) {
  return [
    ...proof.forbidden.map((r) => `${r.path} ${r.target} ${r.status} ${r.open ?? ""}`),
    ...proof.allowed.map((r) => `${r.path} ${r.target} ${r.status} ${r.missing ?? ""}`),
  ];
}

async function registered(m: TargetModule, plan: Plan): Promise<ResourceRecord[]> {
  const { resources } = await runProgram(() => m.placeholderProgram(plan));
  return (resources as ResourceRecord[]).filter((r) => m.adapter.owns(r));
}

// Every (target, policy) where the policy places workloads on the target.
const CASES = POLICIES.flatMap(({ name, plan }) => {
  const p = plan();
  return TARGET_MODULES.filter((m) => p.targets.includes(m.target)).map((m) => ({
    target: m.target,
    policy: name,
    m,
    plan: p,
  }));
});

describe("offline records", () => {
  it("cover every target", () => {
    expect(new Set(CASES.map((c) => c.target)).size).toBe(TARGET_MODULES.length);
  });

  it.each(CASES)(
    "$target: equal the registered resources ($policy)",
    async ({ m, plan }) => {
      const live = await registered(m, plan);
      const offline = m.records(plan);
      expect(offline.length).toBeGreaterThan(0);
      expect(normalised(offline)).toEqual(normalised(live));
      const proofOf = (records: readonly ResourceRecord[]) =>
        prove(plan, [m.adapter.evaluator(records, plan)]);
      expect(verdicts(proofOf(offline))).toEqual(verdicts(proofOf(live)));
      expect(proofOf(offline).ok).toBe(true);
    },
    120_000,
  );
});
