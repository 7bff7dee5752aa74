import { ServiceSet } from "../net";
import { chainNames } from "../radius/format";
import type { UnexplainedOpening } from "../verify/unexplained";
import { type ReviewJson, unexplainedMessage } from "./json";

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
  /**
   * Forbidden paths open before and now that let through something they did not (compared as sets
   * of services), or that went from monitor to enforce while open (the forbid now fails the review).
   */
  widened: Array<VerdictChange & { oldServices?: string }>;
  /** Forbidden paths still open that let through only part of what they did. */
  narrowed: Array<VerdictChange & { oldServices?: string }>;
  /**
   * Openings of the stack as deployed (`unexplained`: unmodelled endpoints, rules beyond the policy)
   * new in this review, and gone from it; keyed by target, ends, services and reason.
   */
  unexplainedAdded: UnexplainedOpening[];
  unexplainedRemoved: UnexplainedOpening[];
  /** The review's errors (limits, binding, openings) new in this review. */
  errorsAdded: string[];
  pathsAdded: PathEntry[];
  pathsRemoved: PathEntry[];
  /** Field changes of paths present in both (owner, services, mode, …). */
  changed: FieldChange[];
  targetsAdded: string[];
  targetsRemoved: string[];
  /** `reach: any` forbids open now that were blocked (or not checked), with the new shortest chain. */
  chainsOpened: Array<{ path: string; mode: "enforce" | "monitor"; chain: string }>;
  /** `reach: any` forbids that were open and are blocked now. */
  chainsClosed: Array<{ path: string; mode: "enforce" | "monitor" }>;
  /**
   * Parties whose blast radius grew: they reach more workloads, or a critical segment or a peer they
   * did not reach (`critical`, `peers`: the newly reached ones). Parties new in this review are not
   * compared (they have no radius before).
   */
  radiusGrown: Array<{
    name: string;
    kind: string;
    old: number;
    new: number;
    critical: string[];
    peers: string[];
  }>;
  /** Parties whose blast radius shrank (fewer workloads, and nothing newly reached). */
  radiusShrunk: Array<{ name: string; kind: string; old: number; new: number }>;
}

const key = (path: string, target: string) => `${path}\u0000${target}`;

/** Services as a review prints them ("tcp/22, tcp/443"), or undefined where one cannot be read back. */
function servicesOf(text: string | undefined): ServiceSet | undefined {
  if (text === undefined) return undefined;
  try {
    return text
      .split(",")
      .map((t) => ServiceSet.parse(t))
      .reduce((a, b) => a.union(b));
  } catch {
    return undefined;
  }
}

/** Whether `now` lets through nothing `before` did not (unreadable text: only when equal). */
function subsetOfServices(now: string | undefined, before: string | undefined): boolean {
  if (now === before) return true;
  const a = servicesOf(now);
  const b = servicesOf(before);
  return a !== undefined && b !== undefined && a.isSubsetOf(b);
}

export function diffReviews(oldR: ReviewJson, newR: ReviewJson): ReviewDiff {
  const d: ReviewDiff = {
    policy: { old: oldR.policy, new: newR.policy },
    ok: { old: oldR.ok, new: newR.ok },
    opened: [],
    closed: [],
    broken: [],
    repaired: [],
    widened: [],
    narrowed: [],
    unexplainedAdded: [],
    unexplainedRemoved: [],
    errorsAdded: (newR.errors ?? []).filter((e) => !(oldR.errors ?? []).includes(e)),
    pathsAdded: [],
    pathsRemoved: [],
    changed: [],
    targetsAdded: newR.targets.filter((t) => !oldR.targets.includes(t)),
    targetsRemoved: oldR.targets.filter((t) => !newR.targets.includes(t)),
    chainsOpened: [],
    chainsClosed: [],
    radiusGrown: [],
    radiusShrunk: [],
  };
  const oldChains = new Map((oldR.chains ?? []).map((c) => [c.path, c]));
  for (const c of newR.chains ?? []) {
    const wasOpen = oldChains.get(c.path)?.status === "open";
    if (c.status === "open" && !wasOpen)
      d.chainsOpened.push({ path: c.path, mode: c.mode, chain: chainNames(c.chain ?? []) });
    else if (c.status === "blocked" && wasOpen) d.chainsClosed.push({ path: c.path, mode: c.mode });
  }
  for (const c of oldR.chains ?? [])
    if (c.status === "open" && !(newR.chains ?? []).some((n) => n.path === c.path))
      d.chainsClosed.push({ path: c.path, mode: c.mode });
  const radiusKey = (p: { name: string; kind: string }) => `${p.kind}\u0000${p.name}`;
  const oldRadius = new Map((oldR.radius?.parties ?? []).map((p) => [radiusKey(p), p]));
  for (const p of newR.radius?.parties ?? []) {
    const before = oldRadius.get(radiusKey(p));
    if (!before) continue;
    const critical = p.critical.filter((c) => !before.critical.includes(c));
    const peers = p.peers.filter((x) => !before.peers.includes(x));
    if (p.reaches > before.reaches || critical.length > 0 || peers.length > 0)
      d.radiusGrown.push({
        name: p.name,
        kind: p.kind,
        old: before.reaches,
        new: p.reaches,
        critical,
        peers,
      });
    else if (p.reaches < before.reaches)
      d.radiusShrunk.push({ name: p.name, kind: p.kind, old: before.reaches, new: p.reaches });
  }
  const oldForbid = new Map(oldR.forbidden.map((f) => [key(f.path, f.target), f]));
  for (const f of newR.forbidden) {
    const before = oldForbid.get(key(f.path, f.target));
    const wasOpen = before?.status === "open";
    if (f.status === "open" && !wasOpen)
      d.opened.push({ path: f.path, target: f.target, services: f.open, mode: f.mode });
    else if (f.status === "blocked" && wasOpen)
      d.closed.push({ path: f.path, target: f.target, mode: f.mode });
    else if (f.status === "open" && wasOpen) {
      const change = {
        path: f.path,
        target: f.target,
        services: f.open,
        oldServices: before.open,
        mode: f.mode,
      };
      const grew = !subsetOfServices(f.open, before.open);
      if (grew || (before.mode === "monitor" && f.mode === "enforce")) d.widened.push(change);
      else if (before.open !== f.open) d.narrowed.push(change);
    }
  }
  const unexplainedKey = (u: UnexplainedOpening) =>
    [u.target, u.from, u.to, u.services, u.reason ?? ""].join("\u0000");
  const oldUnexplained = new Set((oldR.unexplained ?? []).map(unexplainedKey));
  const newUnexplained = new Set((newR.unexplained ?? []).map(unexplainedKey));
  d.unexplainedAdded = (newR.unexplained ?? []).filter((u) => !oldUnexplained.has(unexplainedKey(u)));
  d.unexplainedRemoved = (oldR.unexplained ?? []).filter((u) => !newUnexplained.has(unexplainedKey(u)));
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
    "reach",
    "through",
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
  for (const c of d.chainsOpened ?? [])
    out.push(
      `OPENED chain ${code(c.path)} (reach: any): ${c.chain}${c.mode === "monitor" ? " (monitored)" : ""}`,
    );
  for (const g of d.radiusGrown ?? [])
    out.push(
      `GREW blast radius of ${g.kind} ${code(g.name)}: ${g.old} → ${g.new} workload${g.new === 1 ? "" : "s"}${g.critical.length > 0 ? `; now reaches critical ${g.critical.join(", ")}` : ""}${g.peers.length > 0 ? `; now reaches ${g.peers.join(", ")}` : ""}`,
    );
  for (const u of d.unexplainedAdded ?? [])
    out.push(
      `OPENED in the stack as deployed on ${u.target}: ${code(u.from)} → ${code(u.to)} ${u.services} (${u.reason === "beyond-policy" ? "beyond the policy" : "unmodelled endpoint"}), let through by ${u.by}`,
    );
  // An opening is one error of the review too: listed once, above.
  const openings = new Set((d.unexplainedAdded ?? []).map(unexplainedMessage));
  for (const e of d.errorsAdded ?? []) if (!openings.has(e)) out.push(`new error: ${e}`);
  for (const c of d.narrowed ?? [])
    out.push(`narrowed ${code(c.path)} on ${c.target}: open ${c.oldServices ?? "?"} → ${c.services ?? "?"}`);
  for (const c of d.closed) out.push(`closed ${code(c.path)} on ${c.target}`);
  for (const u of d.unexplainedRemoved ?? [])
    out.push(`closed in the stack as deployed on ${u.target}: ${code(u.from)} → ${code(u.to)} ${u.services}`);
  for (const c of d.chainsClosed ?? []) out.push(`closed chain ${code(c.path)} (reach: any)`);
  for (const g of d.radiusShrunk ?? [])
    out.push(
      `shrank blast radius of ${g.kind} ${code(g.name)}: ${g.old} → ${g.new} workload${g.new === 1 ? "" : "s"}`,
    );
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
