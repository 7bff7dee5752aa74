import { readFileSync } from "node:fs";
import { diffReviews, formatDiff, formatDiffMarkdown, type ReviewJson } from "../../lib";
import { EXIT, InvalidInput, type Io } from "../io";
import { type OutputFile, writeFilesAtomically } from "../write";

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

/** `blastradius diff <old.json> <new.json>`: the semantic diff of two reviews. Exit 0, or 2 on bad input. */
export function diffCommand(
  oldFile: string,
  newFile: string,
  options: { markdown?: string; json?: string },
  io: Io,
): number {
  const a = readReview(oldFile);
  const b = readReview(newFile);
  for (const r of [a, b]) if (typeof r === "string") io.err(r);
  if (typeof a === "string" || typeof b === "string") return EXIT.INVALID;
  const d = diffReviews(a, b);
  io.out(formatDiff(d));
  const files: OutputFile[] = [];
  if (options.markdown) files.push({ path: options.markdown, content: formatDiffMarkdown(d) });
  if (options.json) files.push({ path: options.json, content: `${JSON.stringify(d, null, 2)}\n` });
  try {
    writeFilesAtomically(files);
  } catch (e) {
    if (e instanceof InvalidInput) {
      io.err(e.message);
      return EXIT.INVALID;
    }
    throw e;
  }
  return EXIT.OK;
}
