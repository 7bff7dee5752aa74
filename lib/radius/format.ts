import { formatPacket } from "../review/packet";
import type { HopJson } from "./explain";
import type { RadiusJson } from "./query";

/** Control characters (terminal escapes, newlines) in names and rule texts shown as "?". */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** A Markdown table cell: printable, pipes escaped, no backticks (they would open code spans). */
export function mdCell(s: string): string {
  return printable(s).replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/`/g, "'");
}

/** A Mermaid label: printable, quotes as entities, no brackets that end a node. */
export function mermaidLabel(s: string): string {
  return printable(s)
    .replace(/"/g, "#quot;")
    .replace(/[[\]{}()<>]/g, " ");
}

/** `a → b ("allow-path")` or, with no allow path, `a → b (no allow path: <rules>)`. */
export function describeHop(h: HopJson): string {
  const why = h.path !== null ? `"${h.path}"` : `no allow path: ${Object.values(h.decidedBy).join("; ")}`;
  return `${h.from} → ${h.to} ${formatPacket(h.packet)} (${why})`;
}

/** The chain as names: `a → b → c`, marking hops no allow path explains with `⇢`. */
export function chainNames(chain: readonly HopJson[]): string {
  if (chain.length === 0) return "";
  return [chain[0]!.from, ...chain.map((h) => `${h.path === null ? "⇢" : "→"} ${h.to}`)].join(" ");
}

/** `blastradius radius` for a terminal. */
export function formatRadius(r: RadiusJson, options: { hops?: number; to?: string } = {}): string {
  const workloads = r.reached.filter((x) => x.kind === "workload").length;
  const peers = r.reached.length - workloads;
  const scope = `${options.hops !== undefined ? ` in at most ${options.hops} hop${options.hops === 1 ? "" : "s"}` : ""}${options.to !== undefined ? ` among ${options.to}` : ""}`;
  const out = [
    printable(
      `blastradius radius: a compromise of ${r.from} reaches ${workloads} workload${workloads === 1 ? "" : "s"} and ${peers} peer${peers === 1 ? "" : "s"}${scope}`,
    ),
  ];
  if (r.reached.length === 0) return out.join("\n");
  out.push("");
  const unexplained = r.reached.some((x) => x.chain.some((h) => h.path === null));
  for (const x of r.reached)
    out.push(
      printable(`  ${String(x.hops).padStart(3)}  ${x.kind.padEnd(8)} ${x.name}: ${chainNames(x.chain)}`),
    );
  if (unexplained)
    out.push(
      "",
      "  ⇢ a hop no allow path explains (a rule outside the policy, or an unmodelled party): see --json for its rule",
    );
  return out.join("\n");
}

/** How many reached parties the Markdown graph draws; the table lists all. */
export const MERMAID_LIMIT = 80;

/** `blastradius radius --markdown`: a table of everything reached and a Mermaid graph of the shortest chains. */
export function formatRadiusMarkdown(r: RadiusJson): string {
  const out = [`## blastradius radius: a compromise of \`${mdCell(r.from)}\``, ""];
  if (r.reached.length === 0) {
    out.push("It reaches nothing.", "");
    return out.join("\n");
  }
  out.push("| hops | kind | reached | shortest chain | last hop |", "|---:|---|---|---|---|");
  for (const x of r.reached) {
    const last = x.chain[x.chain.length - 1]!;
    out.push(
      `| ${x.hops} | ${x.kind} | ${mdCell(x.name)} | ${mdCell(chainNames(x.chain))} | ${mdCell(describeHop(last))} |`,
    );
  }
  const drawn = r.reached.slice(0, MERMAID_LIMIT);
  out.push("", "```mermaid", "flowchart LR");
  const ids = new Map<string, string>();
  const id = (name: string) => {
    let v = ids.get(name);
    if (!v) {
      ids.set(name, (v = `n${ids.size}`));
      out.push(`  ${v}["${mermaidLabel(name)}"]`);
    }
    return v;
  };
  id(r.from);
  const edges = new Set<string>();
  const styles: string[] = [];
  for (const x of drawn)
    for (const h of x.chain) {
      const key = `${h.from}\u0000${h.to}`;
      if (edges.has(key)) continue;
      const line = `  ${id(h.from)} -->|"${mermaidLabel(h.path ?? "no allow path")}"| ${id(h.to)}`;
      if (h.path === null) styles.push(`  linkStyle ${edges.size} stroke:#d00000,stroke-width:3px`);
      edges.add(key);
      out.push(line);
    }
  out.push(...styles, "```", "");
  if (r.reached.length > drawn.length)
    out.push(
      `The graph draws the ${drawn.length} nearest of ${r.reached.length} parties reached; the table lists all.`,
      "",
    );
  return out.join("\n");
}
