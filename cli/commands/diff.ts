import { readFileSync, writeFileSync } from "node:fs";
import { diffReviews, formatDiff, formatDiffMarkdown, type ReviewDiff, type ReviewJson } from "../../lib";
import { EXIT, type Io } from "../io";

function readReview(file: string): ReviewJson | string {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return `${file}: cannot read a review: ${(e as Error).message}`;
  }
  const r = data as Partial<ReviewJson>;
  for (const field of ["policy", "ok", "targets", "forbidden", "allowed", "paths"] as const)
    if (r?.[field] === undefined)
      return `${file}: not a blastradius review JSON (no "${field}"); write one with review --json`;
  return r as ReviewJson;
}

/**
 * What makes `diff` fail (exit 1), for CI:
 * - `opened`: an enforce-mode forbidden path opened, or an open one widened, on any target (the default);
 * - `broken`: an allow path that worked is broken;
 * - `never`: report only (exit 0 whatever changed).
 * A monitored forbid opening is reported, never failing: monitor mode is for that.
 */
export const FAIL_ON = ["opened", "broken", "never"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** `--fail-on a,b` (or repeated) → the conditions, or a message for invalid input. */
export function parseFailOn(values: readonly string[] | undefined): FailOn[] | string {
  const list = (values ?? ["opened"]).flatMap((v) => v.split(",")).map((v) => v.trim());
  for (const v of list)
    if (!FAIL_ON.includes(v as FailOn))
      return `--fail-on ${v}: expected ${FAIL_ON.join(", ")} (comma-separated), e.g. --fail-on opened,broken`;
  if (list.includes("never") && list.length > 1)
    return "--fail-on never cannot be combined with other conditions";
  return list as FailOn[];
}

/** Why the diff fails under `failOn`, one line per reason; empty when it passes. */
export function diffFailures(d: ReviewDiff, failOn: readonly FailOn[]): string[] {
  const out: string[] = [];
  if (failOn.includes("opened")) {
    for (const c of d.opened)
      if (c.mode !== "monitor")
        out.push(`forbidden path "${c.path}" opened on ${c.target} (${c.services ?? "?"})`);
    for (const c of d.widened)
      if (c.mode !== "monitor")
        out.push(
          `forbidden path "${c.path}" widened on ${c.target} (${c.oldServices ?? "?"} → ${c.services ?? "?"})`,
        );
  }
  if (failOn.includes("broken"))
    for (const c of d.broken) out.push(`allow path "${c.path}" broke on ${c.target} (${c.services ?? "?"})`);
  return out;
}

/**
 * `blastradius diff <old.json> <new.json>`: the semantic diff of two reviews. Exit 1 when a
 * `--fail-on` condition holds (default: an enforce forbid opened or widened), 0 otherwise, 2 on bad
 * input.
 */
export function diffCommand(
  oldFile: string,
  newFile: string,
  options: { markdown?: string; json?: string; failOn?: string[] },
  io: Io,
): number {
  const failOn = parseFailOn(options.failOn);
  if (typeof failOn === "string") {
    io.err(failOn);
    return EXIT.INVALID;
  }
  const a = readReview(oldFile);
  const b = readReview(newFile);
  for (const r of [a, b]) if (typeof r === "string") io.err(r);
  if (typeof a === "string" || typeof b === "string") return EXIT.INVALID;
  const d = diffReviews(a, b);
  io.out(formatDiff(d));
  if (options.markdown) writeFileSync(options.markdown, formatDiffMarkdown(d));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(d, null, 2)}\n`);
  const failures = diffFailures(d, failOn);
  if (failures.length === 0) return EXIT.OK;
  io.err(
    `blastradius diff: failing (--fail-on ${failOn.join(",")}):\n${failures.map((f) => `  ${f}`).join("\n")}`,
  );
  return EXIT.PROOF_FAILED;
}
