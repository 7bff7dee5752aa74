import { type RecordedResource, runProgram } from "../../components/runner";
import { TARGET_MODULES } from "../../components/targets";
import { compilePolicy, type Plan, type ReviewJson, reviewRecords } from "../../lib";

/** A plan from a policy document (throws on an invalid one: these tests start from valid policies). */
export function planOf(document: unknown): Plan {
  return compilePolicy({ document });
}

/**
 * Runs a Pulumi program under the recording mocks and reviews what it registered, exactly as
 * `blastradius review <stack dir>` does: every target's evaluator over every recorded resource, the
 * paths' proof and the proof of the stack as deployed.
 */
export async function reviewProgram(
  plan: Plan,
  program: () => unknown,
): Promise<{ review: ReviewJson; resources: RecordedResource[] }> {
  const { resources } = await runProgram(program);
  const review = reviewRecords(
    plan,
    resources,
    TARGET_MODULES.map((m) => m.adapter),
    { isCustom: (r) => (r as RecordedResource).custom },
  );
  return { review, resources };
}

/** The review's verdict on one forbid or allow path on one target. */
export function verdict(review: ReviewJson, path: string, target: string) {
  return [...review.forbidden, ...review.allowed].find((r) => r.path === path && r.target === target);
}

/** Whether the review fails (exit 1): a path verdict or an error. */
export const fails = (review: ReviewJson) => !review.ok || review.errors.length > 0;
