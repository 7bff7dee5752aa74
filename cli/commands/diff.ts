import { readFileSync } from "node:fs";
import { z } from "zod";
import { diffReviews, formatDiff, formatDiffMarkdown, type ReviewDiff, type ReviewJson } from "../../lib";
import { EXIT, type Io } from "../io";
import { type OutputFile, writeOutputs } from "../write";

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
  // Multi-hop (absent in reviews written before it).
  chains: z
    .array(
      z.looseObject({
        path: z.string(),
        mode: z.string(),
        status: z.string(),
        chain: z
          .array(z.looseObject({ from: z.string(), to: z.string(), path: z.string().nullable() }))
          .optional(),
      }),
    )
    .optional(),
  radius: z
    .looseObject({
      parties: z.array(
        z.looseObject({
          name: z.string(),
          kind: z.string(),
          reaches: z.number(),
          critical: z.array(z.string()),
          peers: z.array(z.string()),
        }),
      ),
    })
    .optional(),
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

/**
 * What makes `diff` fail (exit 1), for CI:
 * - `opened`: an enforce-mode forbidden path opened, or an open one widened (it lets through a
 *   service it did not, or went from monitor to enforce while open), on any target; an enforce
 *   `reach: any` forbid's chain opened; or the stack as deployed opened something new (an
 *   `unexplained` opening: an unmodelled endpoint reached, a rule beyond the policy) (the default);
 * - `broken`: an allow path that worked is broken;
 * - `grown`: a workload's or peer's blast radius grew (it reaches more workloads, or a critical
 *   segment or a peer it did not);
 * - `never`: report only (exit 0 whatever changed).
 * A monitored forbid opening is reported, never failing: monitor mode is for that.
 */
export const FAIL_ON = ["opened", "broken", "grown", "never"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** `--fail-on a,b` (or repeated) → the conditions, or a message for invalid input. */
export function parseFailOn(values: readonly string[] | undefined): FailOn[] | string {
  const list = (values ?? ["opened"]).flatMap((v) => v.split(",")).map((v) => v.trim());
  for (const v of list)
    if (!FAIL_ON.includes(v as FailOn))
      return `--fail-on ${v}: expected ${FAIL_ON.join(", ")} (comma-separated), e.g. --fail-on opened,broken,grown`;
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
    for (const c of d.chainsOpened ?? [])
      if (c.mode !== "monitor") out.push(`forbidden path "${c.path}" (reach: any) opened: ${c.chain}`);
    for (const u of d.unexplainedAdded ?? [])
      out.push(
        `the stack as deployed opened ${u.services} from ${u.from} to ${u.to} on ${u.target} (${u.reason === "beyond-policy" ? "beyond the policy" : "unmodelled endpoint"}), let through by ${u.by}`,
      );
  }
  if (failOn.includes("grown"))
    for (const g of d.radiusGrown ?? [])
      out.push(
        `blast radius of ${g.kind} "${g.name}" grew: ${g.old} → ${g.new} workloads${g.critical.length > 0 ? `, now reaching critical ${g.critical.join(", ")}` : ""}${g.peers.length > 0 ? `, now reaching ${g.peers.join(", ")}` : ""}`,
      );
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
  const files: OutputFile[] = [];
  if (options.markdown) files.push({ path: options.markdown, content: formatDiffMarkdown(d) });
  if (options.json) files.push({ path: options.json, content: `${JSON.stringify(d, null, 2)}\n` });
  if (!writeOutputs(files, io)) return EXIT.INVALID;
  const failures = diffFailures(d, failOn);
  if (failures.length === 0) return EXIT.OK;
  io.err(
    `blastradius diff: failing (--fail-on ${failOn.join(",")}):\n${failures.map((f) => `  ${f}`).join("\n")}`,
  );
  return EXIT.PROOF_FAILED;
}
