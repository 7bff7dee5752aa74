import { readFileSync, writeFileSync } from "node:fs";
import { diffFailures, diffReviews, formatDiff, formatDiffMarkdown, type ReviewJson } from "../../lib";
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
 * `blastradius diff <old.json> <new.json>`: the semantic diff of two reviews. Exit 0, or 2 on bad
 * input; with --exit-code, 1 when the change opens or widens an enforce forbid (direct or a chain)
 * or grows a blast radius.
 */
export function diffCommand(
  oldFile: string,
  newFile: string,
  options: { markdown?: string; json?: string; exitCode?: boolean },
  io: Io,
): number {
  const a = readReview(oldFile);
  const b = readReview(newFile);
  for (const r of [a, b]) if (typeof r === "string") io.err(r);
  if (typeof a === "string" || typeof b === "string") return EXIT.INVALID;
  const d = diffReviews(a, b);
  io.out(formatDiff(d));
  if (options.markdown) writeFileSync(options.markdown, formatDiffMarkdown(d));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(d, null, 2)}\n`);
  if (options.exitCode) {
    const failures = diffFailures(d);
    if (failures.length > 0) {
      io.err(`blastradius diff --exit-code: ${failures.join("; ")}`);
      return EXIT.PROOF_FAILED;
    }
  }
  return EXIT.OK;
}
