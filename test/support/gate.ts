import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runReview } from "../../cli/commands/review";
import type { ReviewJson } from "../../lib";
import { captureIo } from "../cli/capture";

export const ROOT = join(__dirname, "..", "..");

/** Every Pulumi project directly under `folder` (a directory with a Pulumi.yaml). */
export function projectsIn(folder: string): string[] {
  const dir = join(ROOT, folder);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "Pulumi.yaml")))
    .map((d) => `${folder}/${d.name}`)
    .sort();
}

/**
 * The gate on one stack: run its program under mocks with its sample config and prove it. Every
 * enforce forbid must be blocked on every target where its endpoints are placed, every allow open,
 * and every target the policy places workloads on must have been proven.
 */
export async function gate(
  dir: string,
  options: { stack?: string } = {},
): Promise<{ review: ReviewJson; failures: string[] }> {
  const { review } = await runReview(join(ROOT, dir), options, captureIo());
  const failures: string[] = [];
  for (const t of review.unproven) failures.push(`${t}: workloads are placed there but no rules were proven`);
  for (const f of review.forbidden)
    if (f.mode === "enforce" && f.status !== "blocked")
      failures.push(
        `forbid "${f.path}" is open on ${f.target} (by ${f.by}, witness ${JSON.stringify(f.witness)})`,
      );
  for (const a of review.allowed)
    if (a.status !== "open")
      failures.push(`allow "${a.path}" is broken on ${a.target} (missing ${a.missing})`);
  for (const c of review.chains ?? [])
    if (c.mode === "enforce" && c.status !== "blocked")
      failures.push(
        `forbid "${c.path}" (reach: any) is open through ${(c.chain ?? []).map((h) => `${h.from} → ${h.to} (${h.path ?? Object.values(h.decidedBy).join("; ")})`).join(", ")}`,
      );
  for (const p of review.paths.filter((p) => p.verdict === "forbid" && p.mode === "enforce"))
    if (!review.forbidden.some((f) => f.path === p.name))
      failures.push(`forbid "${p.name}" was not checked on any target (no placed workload on either end?)`);
  if (review.ok !== (failures.length === 0))
    failures.push(`review.ok is ${review.ok} but the gate found ${failures.length} failure(s)`);
  return { review, failures };
}
