import { readFileSync } from "node:fs";
import { z } from "zod";
import { diffReviews, formatDiff, formatDiffMarkdown, type ReviewJson } from "../../lib";
import { EXIT, InvalidInput, type Io } from "../io";
import { type OutputFile, writeFilesAtomically } from "../write";

/**
 * What the diff reads of a review JSON, checked before it is read: a hand-edited or truncated
 * review is invalid input (exit 2 naming the field), never a crash. Other fields pass through (the
 * review JSON may gain fields).
 */
const entry = z.looseObject({ path: z.string(), target: z.string(), status: z.string() });
const reviewShape = z.looseObject({
  policy: z.string(),
  ok: z.boolean(),
  targets: z.array(z.string()),
  forbidden: z.array(entry.extend({ mode: z.string().optional(), open: z.string().optional() })),
  allowed: z.array(entry.extend({ missing: z.string().optional() })),
  paths: z.array(
    z.looseObject({
      name: z.string(),
      verdict: z.string().optional(),
      mode: z.string().optional(),
      from: z.string(),
      to: z.string(),
      services: z.array(z.string()),
      owner: z.string().optional(),
    }),
  ),
});

function readReview(file: string): ReviewJson | string {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return `${file}: cannot read a review: ${(e as Error).message}`;
  }
  const r = reviewShape.safeParse(data, { reportInput: true });
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    const field = where.replace(/^\./, "") || "the document";
    const missing = issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined;
    return `${file}: not a blastradius review JSON (${missing ? `no "${field}"` : `${field}: ${issue.message}`}); write one with review --json`;
  }
  return data as ReviewJson;
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
