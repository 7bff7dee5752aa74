import type { Plan } from "../plan/types";
import { radiusReview } from "../radius";
import { proveDeployment } from "../verify/deployment";
import { prove } from "../verify/prove";
import { evaluatorsOf, type RecordedTargetsOptions } from "../verify/records";
import type { ResourceRecord, TargetAdapter } from "../verify/types";
import { type ReviewJson, type ReviewOptions, reviewJson } from "./json";

/**
 * The whole review of a stack's recorded resources: every target's evaluator (`evaluatorsOf`), the
 * proof of the policy's paths, the proof of the stack as deployed, multi-hop movement (chains of
 * `reach: any` forbids, blast radii) over the same evaluators, and the review JSON. What
 * `blastradius review` prints, as a function of the records.
 */
export function reviewRecords(
  plan: Plan,
  records: readonly ResourceRecord[],
  adapters: readonly TargetAdapter[],
  options: RecordedTargetsOptions & Omit<ReviewOptions, "usage" | "deployment" | "binding" | "radius"> = {},
): ReviewJson {
  const { evaluators, counts, usage, unrendered } = evaluatorsOf(plan, records, adapters, options);
  options.checkUsage?.(usage);
  const proof = prove(plan, evaluators);
  const deployment = proveDeployment(plan, evaluators, { unrendered });
  const binding = Object.fromEntries(
    evaluators.filter((e) => e.binding !== undefined).map((e) => [e.target, e.binding!] as const),
  );
  const radius = radiusReview(plan, evaluators);
  return reviewJson(plan, proof, counts, { ...options, usage, deployment, binding, radius });
}
