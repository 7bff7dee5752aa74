import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parse } from "yaml";
import { CiliumSegmentation } from "../../../components/cilium";
import { runProgram } from "../../../components/runner";
import { AddressSet, checkPolicyDocument, type Party, type Plan, type ResourceRecord } from "../../../lib";
import {
  type CiliumEvaluator,
  ciliumAdapter,
  clustersOf,
  type GuardrailMode,
} from "../../../lib/targets/cilium";

export const REPO = join(__dirname, "..", "..", "..");
/** Cilium's own CRD, vendored with its provenance in vendor/cilium (SOURCE.md). */
export const CRD_PATH = join(REPO, "vendor", "cilium", "ciliumnetworkpolicies.yaml");

/** Go RE2 `\pX` / `\PX` → JavaScript `\p{X}` / `\P{X}` (compiled with the `u` flag). */
export function re2ToJs(pattern: string): string {
  return pattern.replace(/\\([pP])([A-Za-z])/g, "\\$1{$2}");
}

let validator: ValidateFunction | undefined;

/** A validator for one policy object against the CRD's openAPIV3Schema (non-strict, formats registered). */
export function crdValidator(): ValidateFunction {
  if (validator) return validator;
  const crd = parse(readFileSync(CRD_PATH, "utf8"));
  const schema = crd.spec.versions[0].schema.openAPIV3Schema;
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    code: {
      regExp: Object.assign(
        (pattern: string, flags: string) =>
          new RegExp(re2ToJs(pattern), flags.includes("u") ? flags : `${flags}u`),
        { code: "new RegExp" },
      ),
    },
  });
  const cidr = (s: string) => {
    try {
      return AddressSet.parse(s) !== undefined && /\/\d+$/.test(s);
    } catch {
      return false;
    }
  };
  ajv.addFormat("cidr", { type: "string", validate: cidr });
  ajv.addFormat("int32", {
    type: "number",
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat("idn-hostname", true);
  ajv.addFormat("date-time", true);
  validator = ajv.compile(schema);
  return validator;
}

/** Compiles a policy document; throws with the diagnostics when invalid. */
export function planOf(doc: unknown): Plan {
  const r = checkPolicyDocument(doc, "test policy");
  if (!r.ok || !r.plan)
    throw new Error(
      r.diagnostics.map((d) => `${d.severity}: ${d.message} (${JSON.stringify(d.path)})`).join("\n"),
    );
  return r.plan;
}

/** Runs one CiliumSegmentation per cluster of the plan under the recording mocks. */
export async function renderRecords(
  plan: Plan,
  options: { guardrails?: GuardrailMode; extra?: () => void } = {},
): Promise<ResourceRecord[]> {
  const { resources } = await runProgram(() => {
    for (const cluster of clustersOf(plan))
      new CiliumSegmentation(`cilium-${cluster}`, { cluster, plan, guardrails: options.guardrails });
    options.extra?.();
  });
  return resources as ResourceRecord[];
}

export function evaluatorOf(records: readonly ResourceRecord[], plan: Plan): CiliumEvaluator {
  return ciliumAdapter.evaluator(
    records.filter((r) => ciliumAdapter.owns(r)),
    plan,
  ) as CiliumEvaluator;
}

export function party(plan: Plan, name: string): Party {
  const p = plan.party(`workload:${name}`) ?? plan.party(`peer:${name}`);
  if (!p) throw new Error(`no party ${name}`);
  return p;
}
