import type { BroadReason } from "./broad";
import type { FileReport } from "./read";
import { endLabel, type FlowGroup, type FlowSample, type SimulationResult } from "./simulate";
import type { FlowProblem } from "./types";

/** What was read, across files: per-file counts and the malformed lines (the first `keep` per file listed). */
export interface ImportSummary {
  files: FileReport[];
  problems: FlowProblem[];
  malformed: number;
}

/** Collects problems, keeping the first `keep` of each file in full and counting the rest. */
export class ProblemLog {
  readonly problems: FlowProblem[] = [];
  private readonly perFile = new Map<string, number>();
  total = 0;
  constructor(private readonly keep = 50) {}
  add(p: FlowProblem): void {
    this.total++;
    const n = this.perFile.get(p.file) ?? 0;
    this.perFile.set(p.file, n + 1);
    if (n < this.keep) this.problems.push(p);
  }
}

/** ECMAScript dates end at ±8.64e15 ms: a flow log's absurd timestamp is shown as unknown, never thrown on. */
const MAX_DATE_MS = 8.64e15;

export const iso = (ms: number): string =>
  Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString().replace(".000Z", "Z") : "-";

const n = (x: number) => x.toLocaleString("en-US");

function sample(s: FlowSample): string {
  const src = s.srcPort !== undefined ? `${s.src}:${s.srcPort}` : s.src;
  const dst = s.dstPort !== undefined ? `${s.dst}:${s.dstPort}` : s.dst;
  return `${src} -> ${dst} ${s.protocol} ${s.observed} (${s.file}:${s.line})`;
}

function observed(g: FlowGroup): string {
  return Object.entries(g.observed)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(", ");
}

const BROAD_TEXT: Record<BroadReason, string> = {
  internet: "an end is internet",
  "wide-peer": "an end is a peer wider than /16 (IPv4) or /64 (IPv6)",
  "any-service": "services: any",
  "all-ports": "every port of the protocol",
};

function groupLines(
  title: string,
  groups: FlowGroup[],
  detail: (g: FlowGroup) => string,
  limit: number,
): string[] {
  const total = groups.reduce((s, g) => s + g.count, 0);
  const out = [`${title}: ${n(total)} flow(s) in ${n(groups.length)} group(s)`];
  if (groups.length === 0) return [...out, "  none"];
  for (const g of groups.slice(0, limit)) {
    out.push(
      `  ${endLabel(g.from)} -> ${endLabel(g.to)}  ${g.service}  ${n(g.count)} flow(s)  first ${iso(g.first)}  last ${iso(g.last)}  ${detail(g)}`,
    );
    out.push(
      `      observed: ${observed(g)}; parties: ${g.fromParties.join(", ") || g.fromAddresses.slice(0, 3).join(", ")} -> ${g.toParties.join(", ") || g.toAddresses.slice(0, 3).join(", ")}`,
    );
    for (const s of g.samples) out.push(`      e.g. ${sample(s)}`);
  }
  if (groups.length > limit) out.push(`  … and ${n(groups.length - limit)} more group(s) (see --json)`);
  return out;
}

/** The terminal report of `blastradius simulate`. */
export function formatSimulation(r: SimulationResult, imp: ImportSummary, limit = 20): string[] {
  const skipped = imp.files.reduce(
    (s, f) => ({ reply: s.reply + f.skipped.reply, noData: s.noData + f.skipped["no-data"] }),
    { reply: 0, noData: 0 },
  );
  const out: string[] = [
    `simulate: policy "${r.policy}" against ${imp.files.length} file(s): ${n(r.flows)} flow(s) ` +
      `(${n(skipped.reply)} reply record(s) and ${n(skipped.noData)} no-data record(s) skipped, ${n(imp.malformed)} malformed line(s))`,
  ];
  for (const f of imp.files)
    out.push(
      `  ${f.file}: ${f.formats.join("+") || "empty"}, ${n(f.lines)} line(s), ${n(f.flows)} flow(s), ${n(f.skipped.reply)} repl(ies), ${n(f.skipped["no-data"])} no-data, ${n(f.malformed)} malformed`,
    );
  out.push(`allowed by the policy: ${n(r.allowed)} flow(s)`);
  out.push("");
  out.push(
    ...groupLines(
      "WOULD BE BLOCKED when enforced (what enforcing would break)",
      r.wouldBlock,
      (g) => {
        const by = `blocked by ${g.blockedBy!.join(", ")}`;
        return g.monitored ? `${by}; also hits monitored ${g.monitored.join(", ")}` : by;
      },
      limit,
    ),
  );
  out.push("");
  out.push(
    ...groupLines(
      "HIT A MONITORED FORBID (what switching it to enforce would break)",
      r.monitored,
      (g) => `forbid ${g.monitored!.join(", ")}; now open by ${g.allowedBy!.join(", ")}`,
      limit,
    ),
  );
  out.push("");
  out.push(
    ...groupLines(
      "ALLOWED ONLY BY BROAD RULES",
      r.broad,
      (g) =>
        Object.entries(g.broad!)
          .map(([p, reasons]) => `${p} (${reasons.map((x) => BROAD_TEXT[x]).join("; ")})`)
          .join(", "),
      limit,
    ),
  );
  out.push("");
  out.push(
    ...groupLines(
      "UNMAPPED (an end no workload or peer claims)",
      r.unmapped,
      (g) =>
        [g.from, g.to].some((e) => e.kind === "segment" || e.kind === "workload")
          ? "default deny would block it (name the address in a workload or peer to see its path)"
          : "outside the policy",
      limit,
    ),
  );
  const outside = r.outside.reduce((s, g) => s + g.count, 0);
  if (outside > 0)
    out.push("", `between two peers (no workload on either end, outside the policy): ${n(outside)} flow(s)`);
  if (imp.malformed > 0) {
    out.push("", `MALFORMED: ${n(imp.malformed)} line(s) could not be read as flows`);
    for (const p of imp.problems) out.push(`  ${p.file}:${p.line}: ${p.message}`);
    if (imp.problems.length < imp.malformed)
      out.push(`  … and ${n(imp.malformed - imp.problems.length)} more (counted, first 50 per file listed)`);
  }
  return out;
}

/** Caps an address list for reports. */
function capped(list: string[], max = 100): { addresses: string[]; total: number } {
  return { addresses: list.slice(0, max), total: list.length };
}

function jsonGroup(g: FlowGroup) {
  const { fromAddresses, toAddresses, ...rest } = g;
  return {
    ...rest,
    from: endLabel(g.from),
    to: endLabel(g.to),
    first: iso(g.first),
    last: iso(g.last),
    samples: g.samples.map((s) => ({ ...s, time: iso(s.time) })),
    fromAddresses: capped(fromAddresses),
    toAddresses: capped(toAddresses),
  };
}

/** The `--json` report of `blastradius simulate`. */
export function simulationJson(r: SimulationResult, imp: ImportSummary) {
  return {
    policy: r.policy,
    files: imp.files,
    flows: r.flows,
    allowed: r.allowed,
    wouldBlock: r.wouldBlock.map(jsonGroup),
    monitored: r.monitored.map(jsonGroup),
    broad: r.broad.map(jsonGroup),
    unmapped: r.unmapped.map(jsonGroup),
    outside: r.outside.map(jsonGroup),
    malformed: { total: imp.malformed, lines: imp.problems },
  };
}
