import { resolve } from "node:path";
import {
  compilePolicy,
  formatPacket,
  type Plan,
  type QuotaLimits,
  type ResourceRecord,
  type ReviewJson,
  reviewRecords,
} from "../../lib";
import { TARGET_ADAPTERS } from "../offline";
import { loadPolicy } from "../policy-file";

export interface ProofOptions {
  /**
   * The policy the stack must satisfy: a policy file (resolved against the working directory), a
   * compiled plan (`loadPolicy`, `compilePolicy`), or a policy document (e.g. `PolicyBuilder#toDocument()`).
   */
  policy: string | Plan | object;
  /** Raised provider limits by quota id, as `review --quota` takes them (`{ "aws.rulesPerSecurityGroup": 200 }`). */
  quotas?: QuotaLimits;
}

/** The proof of a stack's resources, as `blastradius review` reports it. */
export interface StackProof {
  /** The review JSON (`blastradius review --json`). */
  review: ReviewJson;
  /** What makes `blastradius review` exit 1, one sentence each; empty when proven. */
  failures: string[];
  /** The records the proof read. */
  records: ResourceRecord[];
}

function isPlan(p: unknown): p is Plan {
  return typeof p === "object" && p !== null && Array.isArray((p as Plan).parties) && "policy" in p;
}

function planOf(policy: ProofOptions["policy"]): Plan {
  if (typeof policy === "string") return loadPolicy(resolve(policy));
  if (isPlan(policy)) return policy;
  return compilePolicy({ document: policy, source: "the policy document" });
}

/**
 * Each reason the review would fail, as one sentence; and each target the policy places workloads
 * on where the program created no resource (a component forgotten: nothing there is proven).
 */
export function failuresOf(review: ReviewJson, placed: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const t of review.unproven)
    out.push(`${t}: the policy places workloads there but no rules of it could be proven`);
  // A review of records says so itself (an `unrendered` error, in `errors` below): not twice.
  const unrendered = new Set(
    (review.findings ?? []).filter((f) => f.kind === "unrendered").map((f) => f.target),
  );
  for (const t of placed)
    if (
      !review.unproven.includes(t as never) &&
      !unrendered.has(t as never) &&
      !review.resources[t as keyof ReviewJson["resources"]]
    )
      out.push(`${t}: the policy places workloads there but the program created no resources for it`);
  for (const f of review.forbidden)
    if (f.mode === "enforce" && f.status === "open")
      out.push(
        `forbidden path "${f.path}" is open on ${f.target}: ${f.open ?? "traffic"} gets through, let in by ${f.by}${f.witness ? ` (witness ${formatPacket(f.witness, "→")})` : ""}`,
      );
  for (const a of review.allowed)
    if (a.status === "broken")
      out.push(`allowed path "${a.path}" is broken on ${a.target}: ${a.missing} does not get through`);
  out.push(...review.errors);
  return out;
}

/**
 * Proves recorded resources against a policy, as `blastradius review` does: every enforce forbid
 * blocked and every allow open on every target, every provider limit respected, and the stack as
 * deployed (what its compute carries, default deny towards every unmodelled endpoint). Records come from
 * `recordResources`, the runner, or `blastradius review --emit`.
 */
export function proveRecords(records: readonly ResourceRecord[], options: ProofOptions): StackProof {
  const plan = planOf(options.policy);
  // The paths' proof and the proof of the stack as deployed, exactly as `blastradius review`.
  const review = reviewRecords(plan, records, TARGET_ADAPTERS, {
    ...(options.quotas ? { limits: options.quotas } : {}),
    // Components (no id) are not counted as provider resources.
    isCustom: (r) => r.id !== undefined,
  });
  return { review, failures: failuresOf(review, plan.targets), records: [...records] };
}
