import type { ReviewJson } from "./json";

type PathEntry = ReviewJson["paths"][number];

/** One verdict that changed between two reviews, on one target. */
export interface VerdictChange {
  path: string;
  target: string;
  /** forbid paths: what is open now (services); allow paths: what is missing now. */
  services?: string;
  mode?: "enforce" | "monitor";
}

export interface FieldChange {
  path: string;
  field: keyof PathEntry;
  old: unknown;
  new: unknown;
}

/**
 * The semantic diff of two reviews: what a change does to reachability, per target, which is what
 * `pulumi preview` does not show. Entries are keyed by (path, target); a path or target present on
 * one side only is reported as added/removed rather than as a verdict change.
 */
export interface ReviewDiff {
  policy: { old: string; new: string };
  ok: { old: boolean; new: boolean };
  /** Forbidden paths that were blocked (or not proven) and are open now. */
  opened: VerdictChange[];
  /** Forbidden paths that were open and are blocked now. */
  closed: VerdictChange[];
  /** Allow paths that were open and are broken now. */
  broken: VerdictChange[];
  /** Allow paths that were broken and are open now. */
  repaired: VerdictChange[];
  /** Forbidden paths whose open services changed while staying open. */
  widened: Array<VerdictChange & { oldServices?: string }>;
  pathsAdded: PathEntry[];
  pathsRemoved: PathEntry[];
  /** Field changes of paths present in both (owner, services, mode, …). */
  changed: FieldChange[];
  targetsAdded: string[];
  targetsRemoved: string[];
}

const key = (path: string, target: string) => `${path}\u0000${target}`;

export function diffReviews(oldR: ReviewJson, newR: ReviewJson): ReviewDiff {
  const d: ReviewDiff = {
    policy: { old: oldR.policy, new: newR.policy },
    ok: { old: oldR.ok, new: newR.ok },
    opened: [],
    closed: [],
    broken: [],
    repaired: [],
    widened: [],
    pathsAdded: [],
    pathsRemoved: [],
    changed: [],
    targetsAdded: newR.targets.filter((t) => !oldR.targets.includes(t)),
    targetsRemoved: oldR.targets.filter((t) => !newR.targets.includes(t)),
  };
  const oldForbid = new Map(oldR.forbidden.map((f) => [key(f.path, f.target), f]));
  for (const f of newR.forbidden) {
    const before = oldForbid.get(key(f.path, f.target));
    const wasOpen = before?.status === "open";
    if (f.status === "open" && !wasOpen)
      d.opened.push({ path: f.path, target: f.target, services: f.open, mode: f.mode });
    else if (f.status === "blocked" && wasOpen)
      d.closed.push({ path: f.path, target: f.target, mode: f.mode });
    else if (f.status === "open" && wasOpen && before.open !== f.open)
      d.widened.push({
        path: f.path,
        target: f.target,
        services: f.open,
        oldServices: before.open,
        mode: f.mode,
      });
  }
  for (const f of oldR.forbidden) {
    // An open forbid whose path or target disappeared is closed in the sense that matters here.
    if (f.status === "open" && !newR.forbidden.some((n) => n.path === f.path && n.target === f.target))
      d.closed.push({ path: f.path, target: f.target, mode: f.mode });
  }
  const oldAllow = new Map(oldR.allowed.map((a) => [key(a.path, a.target), a]));
  for (const a of newR.allowed) {
    const before = oldAllow.get(key(a.path, a.target));
    if (a.status === "broken" && before?.status !== "broken")
      d.broken.push({ path: a.path, target: a.target, services: a.missing });
    else if (a.status === "open" && before?.status === "broken")
      d.repaired.push({ path: a.path, target: a.target });
  }
  const oldPaths = new Map(oldR.paths.map((p) => [p.name, p]));
  const newPaths = new Map(newR.paths.map((p) => [p.name, p]));
  for (const p of newR.paths) if (!oldPaths.has(p.name)) d.pathsAdded.push(p);
  for (const p of oldR.paths) if (!newPaths.has(p.name)) d.pathsRemoved.push(p);
  const fields: Array<keyof PathEntry> = [
    "verdict",
    "mode",
    "from",
    "to",
    "services",
    "owner",
    "justification",
    "expires",
    "ticket",
    "http",
  ];
  for (const p of newR.paths) {
    const before = oldPaths.get(p.name);
    if (!before) continue;
    for (const field of fields) {
      if (JSON.stringify(before[field]) !== JSON.stringify(p[field]))
        d.changed.push({ path: p.name, field, old: before[field], new: p[field] });
    }
  }
  return d;
}

const show = (v: unknown) =>
  v === undefined
    ? "(none)"
    : Array.isArray(v)
      ? v.join(", ")
      : typeof v === "string"
        ? v
        : JSON.stringify(v);

/** Lines shared by the terminal and Markdown forms. */
function diffLines(d: ReviewDiff, code: (s: string) => string): string[] {
  const out: string[] = [];
  for (const c of d.opened)
    out.push(
      `OPENED ${code(c.path)} on ${c.target}: ${c.services ?? "?"} now gets through${c.mode === "monitor" ? " (monitored)" : ""}`,
    );
  for (const c of d.widened)
    out.push(`WIDENED ${code(c.path)} on ${c.target}: open ${c.oldServices ?? "?"} → ${c.services ?? "?"}`);
  for (const c of d.closed) out.push(`closed ${code(c.path)} on ${c.target}`);
  for (const c of d.broken)
    out.push(`BROKE allow ${code(c.path)} on ${c.target}: ${c.services ?? "?"} no longer gets through`);
  for (const c of d.repaired) out.push(`repaired allow ${code(c.path)} on ${c.target}`);
  for (const p of d.pathsAdded)
    out.push(
      `new ${p.verdict === "forbid" ? `forbid (${p.mode})` : "allow"} ${code(p.name)}: ${p.from} → ${p.to} ${p.services.join(", ")} (owner ${p.owner})`,
    );
  for (const p of d.pathsRemoved)
    out.push(
      `removed ${p.verdict === "forbid" ? `forbid (${p.mode})` : "allow"} ${code(p.name)}: ${p.from} → ${p.to} ${p.services.join(", ")}`,
    );
  for (const c of d.changed) out.push(`changed ${code(c.path)} ${c.field}: ${show(c.old)} → ${show(c.new)}`);
  for (const t of d.targetsAdded) out.push(`target added: ${t}`);
  for (const t of d.targetsRemoved) out.push(`target removed: ${t}`);
  return out;
}

export function formatDiff(d: ReviewDiff): string {
  const lines = diffLines(d, (s) => `"${s}"`);
  const head = `blastradius diff: ${d.policy.old === d.policy.new ? `policy "${d.policy.new}"` : `"${d.policy.old}" → "${d.policy.new}"`}; proof ${d.ok.old ? "ok" : "FAILED"} → ${d.ok.new ? "ok" : "FAILED"}`;
  return [
    head,
    ...(lines.length > 0 ? lines.map((l) => `  ${l}`) : ["  no change in reachability, paths or owners"]),
  ].join("\n");
}

export function formatDiffMarkdown(d: ReviewDiff): string {
  const lines = diffLines(d, (s) => `\`${s}\``);
  return [
    `## blastradius diff: \`${d.policy.new}\` — proof ${d.ok.old ? "✅" : "❌"} → ${d.ok.new ? "✅" : "❌"}`,
    "",
    ...(lines.length > 0 ? lines.map((l) => `- ${l}`) : ["No change in reachability, paths or owners."]),
    "",
  ].join("\n");
}
