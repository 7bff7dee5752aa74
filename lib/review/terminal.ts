import { chainNames, describeHop, printable } from "../radius/format";
import type { ReviewJson } from "./json";
import { formatPacket } from "./packet";

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      .map((c, i) => pad(c, widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * How the proof knows what the stack's compute carries, per target, and how many openings default
 * deny forbids it found (listed with the errors).
 */
function deployedLines(r: ReviewJson): string[] {
  const binding = Object.entries(r.binding ?? {});
  if (binding.length === 0 && (r.unexplained ?? []).length === 0) return [];
  const out = ["The stack as deployed:"];
  for (const [t, mode] of binding)
    out.push(
      mode === "bound"
        ? `  ${t}: read from the stack's compute (what each instance, NIC or pod really carries)`
        : `  ${t}: no compute in this stack: the binding contract is assumed (each workload's compute carries what the component's helpers give it)`,
    );
  const n = (r.unexplained ?? []).length;
  out.push(
    n === 0
      ? "  default deny holds between every workload and every endpoint the policy does not name"
      : `  ${n} opening${n === 1 ? "" : "s"} default deny forbids (see the errors)`,
    "",
  );
  return out;
}

/** The review for a terminal: verdict first, then every forbid and allow per target. */
export function formatReview(r: ReviewJson): string {
  const out: string[] = [];
  const openEnforced = r.forbidden.filter((f) => f.mode === "enforce" && f.status === "open");
  const broken = r.allowed.filter((a) => a.status === "broken");
  out.push(`blastradius review: policy "${r.policy}"`);
  out.push(
    r.targets.length > 0
      ? `proven on: ${r.targets.map((t) => `${t} (${r.resources[t] ?? 0} resources)`).join(", ")}`
      : "proven on: no target (no renderer is available for the targets this policy places workloads on)",
  );
  if (r.unproven.length > 0) out.push(`NOT proven (no renderer yet): ${r.unproven.join(", ")}`);
  out.push("");
  if (r.forbidden.length > 0) {
    out.push("Forbidden paths:");
    const rows = [["path", "mode", "target", "status", "decided by", "witness"]];
    for (const f of r.forbidden) {
      const status = f.status === "open" ? (f.mode === "monitor" ? "open (monitored)" : "OPEN") : "blocked";
      const w = f.witness ? formatPacket(f.witness) : "";
      rows.push([f.path, f.mode, f.target, status, f.by, w]);
    }
    out.push(...table(rows).map((l) => `  ${l}`), "");
  }
  if (r.allowed.length > 0) {
    out.push("Allowed paths:");
    const rows = [["path", "target", "status", "missing"]];
    for (const a of r.allowed)
      rows.push([a.path, a.target, a.status === "open" ? "open" : "BROKEN", a.missing ?? ""]);
    out.push(...table(rows).map((l) => `  ${l}`), "");
  }
  const chains = r.chains ?? [];
  if (chains.length > 0) {
    out.push("Forbidden chains (reach: any, any number of hops):");
    const rows = [["path", "mode", "status", "shortest chain"]];
    for (const c of chains)
      rows.push([
        c.path,
        c.mode,
        c.status === "open" ? (c.mode === "monitor" ? "open (monitored)" : "OPEN") : "blocked",
        printable(chainNames(c.chain ?? [])),
      ]);
    out.push(...table(rows).map((l) => `  ${l}`));
    for (const c of chains.filter((x) => x.status === "open")) {
      for (const h of c.chain ?? []) out.push(printable(`    ${c.path}: ${describeHop(h)}`));
      if (c.cut)
        out.push(
          printable(
            `    ${c.path}: closing ${c.cut.length === 1 ? "this hop" : `these ${c.cut.length} hops`} disconnects it: ${c.cut.map((h) => `${h.from} → ${h.to} (${h.path !== null ? `narrow "${h.path}"` : `live rule ${Object.values(h.decidedBy).join("; ")}`})`).join(", ")}`,
          ),
        );
    }
    out.push("");
  }
  const radius = r.radius;
  if (radius && radius.parties.length > 0) {
    out.push("Blast radius (workloads a compromise reaches in any number of hops):");
    const rows = [["party", "kind", "reaches", "critical", "peers"]];
    for (const b of radius.parties)
      rows.push([b.name, b.kind, String(b.reaches), b.critical.join(", "), b.peers.join(", ")]);
    out.push(...table(rows).map((l) => `  ${printable(l)}`));
    for (const j of radius.critical)
      out.push(
        printable(
          `  critical segment "${j.segment}" is reached by ${j.reachedBy.length === 0 ? "nothing" : j.reachedBy.map((x) => `${x.name} (${x.hops})`).join(", ")}`,
        ),
      );
    out.push("");
  }
  for (const m of r.monitored) {
    if (m.closes.length === 0)
      out.push(`monitored forbid "${m.path}": enforcing it would close nothing that is allowed`);
    else
      for (const c of m.closes)
        out.push(
          `monitored forbid "${m.path}": enforcing it would close ${c.services} from ${c.from} to ${c.to} (allowed by "${c.allow}")`,
        );
  }
  if (r.monitored.length > 0) out.push("");
  out.push(...deployedLines(r));
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.warnings.length > 0) out.push("");
  const headroom = (r.quotas ?? []).filter((q) => q.status === "ok");
  if (headroom.length > 0) {
    out.push("Quota headroom (tightest place per limit):");
    const rows = [["target", "quota", "used", "limit", "where"]];
    for (const q of headroom)
      rows.push([q.target, q.quota, String(q.used), `${q.limit} (${q.percent}%)`, q.scope]);
    out.push(...table(rows).map((l) => `  ${l}`), "");
  }
  const errors = r.errors ?? [];
  for (const e of errors) out.push(`error: ${e}`);
  if (errors.length > 0) out.push("");
  const openChains = chains.filter((c) => c.mode === "enforce" && c.status === "open").length;
  const counts = `${r.forbidden.filter((f) => f.status === "blocked").length} forbid checks blocked, ${openEnforced.length} open; ${r.allowed.filter((a) => a.status === "open").length} allow checks open, ${broken.length} broken${chains.length > 0 ? `; ${chains.filter((c) => c.status === "blocked").length} chain checks blocked, ${openChains} open` : ""}`;
  if (!r.ok) out.push(`FAILED: ${counts}`);
  else if (errors.length > 0) {
    const limits = (r.quotas ?? []).filter((q) => q.status === "exceeded").length;
    const others = errors.length - limits;
    const what = [
      ...(limits > 0 ? [`${limits} limit${limits === 1 ? "" : "s"} exceeded`] : []),
      ...(others > 0 ? [`${others} error${others === 1 ? "" : "s"} in the stack as deployed`] : []),
    ];
    out.push(`FAILED: ${what.join(", ")} (the paths' proof holds: ${counts})`);
  } else if (r.targets.length === 0)
    out.push(`NOTHING PROVEN: no target's rules were rendered (${r.unproven.join(", ") || "no placements"})`);
  else out.push(`OK: ${counts}${r.unproven.length > 0 ? ` (not proven: ${r.unproven.join(", ")})` : ""}`);
  return out.join("\n");
}
