import { chainNames, describeHop, MERMAID_LIMIT, mdCell, mermaidLabel } from "../radius/format";
import type { ReviewJson } from "./json";
import { formatPacket } from "./packet";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

const nodeId = (name: string, peers: readonly string[]) =>
  `${peers.includes(name) ? "peer" : "seg"}_${name.replace(/[^a-zA-Z0-9]/g, "_")}`;

/**
 * A Mermaid flowchart of segments (boxes, with member counts), peers (stadiums) and paths: allows
 * as solid arrows; forbids as the proof found them, so that an open one cannot be mistaken for a
 * blocked one: open on any target (enforce) as a thick red arrow labelled OPEN with the targets,
 * blocked on every target checked as a crossed green edge, not checked on any target as a crossed
 * grey edge; monitored forbids dotted orange, an arrow while open, crossed once blocked.
 */
export function mermaidDiagram(r: ReviewJson): string {
  const peers = r.endpoints.peers;
  const used = new Set(r.paths.flatMap((p) => [p.from, p.to]));
  const lines = ["flowchart LR"];
  for (const [name, members] of Object.entries(r.endpoints.segments))
    lines.push(
      `  ${nodeId(name, peers)}["${name}<br/>${members.length} workload${members.length === 1 ? "" : "s"}"]`,
    );
  for (const name of peers) if (used.has(name)) lines.push(`  ${nodeId(name, peers)}(["${name}"])`);
  const styles: string[] = [];
  // Each path's results, indexed once (22k paths and their checks at scale).
  const checksOf = new Map<string, ReviewJson["forbidden"]>();
  for (const f of r.forbidden) {
    const list = checksOf.get(f.path);
    if (list) list.push(f);
    else checksOf.set(f.path, [f]);
  }
  r.paths.forEach((p, i) => {
    const from = nodeId(p.from, peers);
    const to = nodeId(p.to, peers);
    const label = p.services.join(", ");
    const edge = (arrow: string, text: string, style?: string) => {
      lines.push(`  ${from} ${arrow}|"${text}"| ${to}`);
      if (style) styles.push(`  linkStyle ${i} ${style}`);
    };
    if (p.verdict === "allow") {
      edge("-->", label);
      return;
    }
    const checks = checksOf.get(p.name) ?? [];
    const open = [...new Set(checks.filter((f) => f.status === "open").map((f) => f.target))];
    if (p.mode === "monitor") {
      if (open.length > 0)
        edge("-.->", `monitor: open on ${open.join(", ")}: ${label}`, "stroke:#e69500,stroke-dasharray:4");
      else edge("--x", `monitor: blocked: ${label}`, "stroke:#e69500,stroke-dasharray:4");
    } else if (open.length > 0) {
      const through = [...new Set(checks.filter((f) => f.status === "open" && f.open).map((f) => f.open))];
      edge(
        "==>",
        `OPEN on ${open.join(", ")}: ${through.join("; ") || label} gets through (forbid: ${label})`,
        "stroke:#d00000,stroke-width:4px",
      );
    } else if (checks.length > 0) edge("--x", `forbid, blocked: ${label}`, "stroke:#2b8a3e,stroke-width:2px");
    else edge("--x", `forbid, not checked: ${label}`, "stroke:#868e96,stroke-dasharray:2");
  });
  return [...lines, ...styles].join("\n");
}

/** `reach: any` forbids: status, shortest chain hop by hop, and the cut to make. */
function chainsMarkdown(r: ReviewJson): string[] {
  const chains = r.chains ?? [];
  if (chains.length === 0) return [];
  const out = [
    "",
    "### Forbidden chains (reach: any)",
    "",
    "| path | mode | status | shortest chain |",
    "|---|---|---|---|",
  ];
  for (const c of chains) {
    const status =
      c.status === "blocked" ? "blocked" : c.mode === "monitor" ? "open (monitored)" : "**OPEN**";
    out.push(`| ${mdCell(c.path)} | ${c.mode} | ${status} | ${mdCell(chainNames(c.chain ?? []))} |`);
  }
  for (const c of chains.filter((x) => x.status === "open")) {
    out.push("", `\`${mdCell(c.path)}\`:`, "");
    for (const h of c.chain ?? []) out.push(`1. ${mdCell(describeHop(h))}`);
    if (c.cut)
      out.push(
        "",
        `Suggested fix (a minimum cut: closing ${c.cut.length === 1 ? "this hop" : `these ${c.cut.length} hops`} disconnects it):`,
        "",
        ...c.cut.map(
          (h) =>
            `- ${mdCell(`${h.from} → ${h.to}`)}: ${h.path !== null ? `narrow \`${mdCell(h.path)}\`` : `change the live rule ${mdCell(Object.values(h.decidedBy).join("; "))}`}`,
        ),
      );
  }
  return out;
}

/** Every party's blast radius, and per critical segment a Mermaid graph of who reaches it. */
function radiusMarkdown(r: ReviewJson): string[] {
  const radius = r.radius;
  if (!radius || radius.parties.length === 0) return [];
  const out = [
    "",
    "### Blast radius",
    "",
    "Workloads a compromise of each party reaches in any number of hops, from the rendered rules.",
    "",
    "| party | kind | workloads reached | critical segments reached | peers reached |",
    "|---|---|---:|---|---|",
  ];
  for (const b of radius.parties)
    out.push(
      `| ${mdCell(b.name)} | ${b.kind} | ${b.reaches} | ${mdCell(b.critical.join(", "))} | ${mdCell(b.peers.join(", "))} |`,
    );
  for (const j of radius.critical) {
    out.push("", `#### Critical segment \`${mdCell(j.segment)}\``, "");
    if (j.reachedBy.length === 0) {
      out.push("Nothing reaches it.");
      continue;
    }
    const drawn = j.reachedBy.slice(0, MERMAID_LIMIT);
    const ids = new Map<string, string>();
    const nodes: string[] = [];
    const id = (name: string, critical = false) => {
      let v = ids.get(name);
      if (!v) {
        ids.set(name, (v = `n${ids.size}`));
        nodes.push(critical ? `  ${v}[["${mermaidLabel(name)}"]]` : `  ${v}["${mermaidLabel(name)}"]`);
      }
      return v;
    };
    for (const m of j.members) id(m, true);
    const edges: string[] = [];
    const styles: string[] = [];
    for (const x of drawn) {
      if (x.path === null) styles.push(`  linkStyle ${edges.length} stroke:#d00000,stroke-width:3px`);
      edges.push(`  ${id(x.name)} -->|"${mermaidLabel(x.path ?? "no allow path")}"| ${id(x.next)}`);
    }
    out.push("```mermaid", "flowchart LR", ...nodes, ...edges, ...styles, "```");
    out.push(
      "",
      `${j.reachedBy.length} part${j.reachedBy.length === 1 ? "y reaches" : "ies reach"} it; each arrow is the first hop of a shortest chain${j.reachedBy.length > drawn.length ? ` (the ${drawn.length} nearest drawn; \`blastradius radius --to ${mdCell(j.segment)}\` lists all)` : ""}.`,
    );
  }
  return out;
}

/** The review as Markdown for a pull request: verdict, proof tables, monitored forbids, warnings. */
export function formatMarkdown(r: ReviewJson): string {
  const out: string[] = [];
  const errors = r.errors ?? [];
  const limits = (r.quotas ?? []).filter((q) => q.status === "exceeded").length;
  const verdict = !r.ok
    ? "❌ FAILED"
    : errors.length === 0
      ? "✅ proven"
      : limits === errors.length
        ? "❌ limits exceeded"
        : "❌ the stack as deployed fails";
  out.push(`## blastradius review: \`${r.policy}\` — ${verdict}`, "");
  out.push(
    `Proven on: ${r.targets.length > 0 ? r.targets.map((t) => `**${t}** (${r.resources[t] ?? 0} resources)`).join(", ") : "no target"}`,
  );
  if (r.unproven.length > 0) out.push("", `⚠️ Not proven (no renderer yet): ${r.unproven.join(", ")}`);
  out.push(
    "",
    "### Paths",
    "",
    "| path | verdict | from → to | services | owner | justification | expires |",
    "|---|---|---|---|---|---|---|",
  );
  for (const p of r.paths) {
    const verdict = p.verdict === "forbid" ? `forbid (${p.mode})` : "allow";
    out.push(
      `| ${cell(p.name)} | ${verdict} | ${cell(p.from)} → ${cell(p.to)} | ${cell(p.services.join(", "))} | ${cell(p.owner)} | ${cell(p.justification)} | ${p.expires ?? ""} |`,
    );
  }
  if (r.forbidden.length > 0) {
    out.push(
      "",
      "### Forbidden paths",
      "",
      "| path | target | status | decided by | witness |",
      "|---|---|---|---|---|",
    );
    for (const f of r.forbidden) {
      const status =
        f.status === "blocked" ? "blocked" : f.mode === "monitor" ? "open (monitored)" : "**OPEN**";
      const w = f.witness ? formatPacket(f.witness, "→") : "";
      out.push(`| ${cell(f.path)} | ${f.target} | ${status} | \`${cell(f.by)}\` | ${w} |`);
    }
  }
  if (r.allowed.length > 0) {
    out.push("", "### Allowed paths", "", "| path | target | status | missing |", "|---|---|---|---|");
    for (const a of r.allowed)
      out.push(
        `| ${cell(a.path)} | ${a.target} | ${a.status === "open" ? "open" : "**BROKEN**"} | ${a.missing ?? ""} |`,
      );
  }
  out.push(...chainsMarkdown(r), ...radiusMarkdown(r));
  if (r.monitored.length > 0) {
    out.push("", "### Monitored forbids", "");
    for (const m of r.monitored) {
      const mine = m.closes;
      if (mine.length === 0) out.push(`- \`${m.path}\`: enforcing it would close nothing that is allowed.`);
      for (const c of mine)
        out.push(
          `- \`${m.path}\`: enforcing it would close ${c.services} from ${c.from} to ${c.to} (allowed by \`${c.allow}\`).`,
        );
    }
  }
  const unexplained = r.unexplained ?? [];
  const binding = Object.entries(r.binding ?? {});
  if (binding.length > 0 || unexplained.length > 0) {
    out.push("", "### The stack as deployed", "");
    for (const [t, mode] of binding)
      out.push(
        `- **${t}**: ${mode === "bound" ? "read from the stack's compute (what each instance, NIC or pod really carries)" : "no compute in this stack: the binding contract is assumed"}`,
      );
    if (unexplained.length === 0)
      out.push("", "Default deny holds between every workload and every endpoint the policy does not name.");
    else {
      out.push(
        "",
        "| target | from → to | services | why | decided by | witness |",
        "|---|---|---|---|---|---|",
      );
      for (const u of unexplained)
        out.push(
          `| ${u.target} | ${cell(u.from)} → ${cell(u.to)} | ${u.services} | ${u.reason === "beyond-policy" ? "beyond the policy" : "unmodelled endpoint"} | \`${cell(u.by)}\` | ${formatPacket(u.witness, "→")} |`,
        );
    }
  }
  if (errors.length > 0) out.push("", "### Errors", "", ...errors.map((e) => `- ${cell(e)}`));
  if (r.warnings.length > 0) out.push("", "### Warnings", "", ...r.warnings.map((w) => `- ${cell(w)}`));
  const quotas = r.quotas ?? [];
  if (quotas.length > 0) {
    out.push(
      "",
      "### Quota headroom",
      "",
      "| target | quota | where | used | limit | % |",
      "|---|---|---|---:|---:|---:|",
    );
    for (const q of quotas) {
      const pct =
        q.status === "ok" ? `${q.percent}` : q.status === "warning" ? `⚠️ ${q.percent}` : `**${q.percent}**`;
      out.push(`| ${q.target} | ${q.quota} | ${cell(q.scope)} | ${q.used} | ${q.limit} | ${pct} |`);
    }
  }
  out.push(
    "",
    "### Segments and paths",
    "",
    "Solid arrows: allowed paths. Forbidden paths: crossed green when blocked on every target, thick red **OPEN** arrows when open, crossed grey when no target checked them; monitored forbids dotted orange.",
    "",
    "```mermaid",
    mermaidDiagram(r),
    "```",
  );
  return `${out.join("\n")}\n`;
}
