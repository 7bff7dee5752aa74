import type { TargetName } from "../model/types";
import type { Plan } from "../plan/types";
import { type DeploymentProof, proveDeployment } from "./deployment";
import { type Proof, prove } from "./prove";
import type { QuotaLimits, ResourceRecord, TargetAdapter, TargetEvaluator, TargetUsage } from "./types";

/** Each target's evaluator over a stack's recorded resources, with its resource count and usage. */
export interface RecordedTargets {
  evaluators: TargetEvaluator[];
  /** Provider resources per target (components excluded: records without an id are counted too). */
  counts: Partial<Record<TargetName, number>>;
  usage: Partial<Record<TargetName, TargetUsage>>;
  /**
   * Targets the policy places workloads on where the records hold nothing of the target's (its
   * component left out, or switched off): nothing there enforces the policy (`proveDeployment`
   * makes each an `unrendered` error).
   */
  unrendered: TargetName[];
}

export interface RecordedTargetsOptions {
  /** Raised provider limits (`--quota`, pack config). */
  limits?: QuotaLimits;
  /** Whether a record is a custom (provider) resource, for `counts`; default: every owned record. */
  isCustom?: (record: ResourceRecord) => boolean;
  /** Called with the usage before anything is proven (to reject a bad `--quota` early). */
  checkUsage?: (usage: Partial<Record<TargetName, TargetUsage>>) => void;
}

/**
 * The one place where recorded resources become evaluators: for every adapter whose target the plan
 * places workloads on, or that owns some of the records, its evaluator over the records it owns.
 * `review`, the policy pack, `radius` and the benchmarks all go through here, so they prove the
 * same thing.
 */
export function evaluatorsOf(
  plan: Plan,
  records: readonly ResourceRecord[],
  adapters: readonly TargetAdapter[],
  options: RecordedTargetsOptions = {},
): RecordedTargets {
  const evaluators: TargetEvaluator[] = [];
  const counts: Partial<Record<TargetName, number>> = {};
  const usage: Partial<Record<TargetName, TargetUsage>> = {};
  const unrendered: TargetName[] = [];
  for (const a of adapters) {
    const mine = records.filter((r) => a.owns(r));
    if (!plan.targets.includes(a.target) && mine.length === 0) continue;
    if (mine.length === 0) unrendered.push(a.target);
    counts[a.target] = options.isCustom ? mine.filter(options.isCustom).length : mine.length;
    const read = a.reads ? records.filter((r) => a.owns(r) || a.reads!(r)) : mine;
    evaluators.push(a.evaluator(read, plan));
    const u = a.usage?.(mine, plan, options.limits);
    if (u) usage[a.target] = u;
  }
  return { evaluators, counts, usage, unrendered };
}

/** The proof over a stack's recorded resources (see `evaluatorsOf`): the paths, and the stack as deployed. */
export function proveRecords(
  plan: Plan,
  records: readonly ResourceRecord[],
  adapters: readonly TargetAdapter[],
  options: RecordedTargetsOptions = {},
): RecordedTargets & { proof: Proof; deployment: DeploymentProof } {
  const targets = evaluatorsOf(plan, records, adapters, options);
  return {
    ...targets,
    proof: prove(plan, targets.evaluators),
    deployment: proveDeployment(plan, targets.evaluators, { unrendered: targets.unrendered }),
  };
}
