import { Document, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import type { Diagnostic } from "../model/diagnostics";
import { parsePolicyObject } from "../model/parse";
import { NAME_PATTERN } from "../model/schema";
import { selectorMatches } from "../model/selector";
import { AddressSet, ConnectionSet, ServiceSet } from "../net";
import { compile } from "../plan/compile";
import type { Plan } from "../plan/types";
import { iso } from "./report";
import type { FlowGroup, FlowSample, SimulationResult } from "./simulate";

/** Evidence for one recommended path: what was observed that it would cover. */
export interface Evidence {
  flows: number;
  /** Epoch ms. */
  first: number;
  last: number;
  /** Flows per service. */
  services: Record<string, number>;
  observed: Record<string, number>;
  fromParties: string[];
  toParties: string[];
  samples: FlowSample[];
}

/** A draft allow path. `owner` and `justification` are left empty for a human: it does not pass `check` as is. */
export interface Recommendation {
  name: string;
  from: string;
  to: string;
  services: string[];
  evidence: Evidence;
  /** Monitored forbids this path overlaps: enforcing them would close part of it. */
  monitored: string[];
}

/** Observed traffic that is not recommended, and why. Observed is not allowed. */
export interface Conflict {
  kind: "forbidden" | "generalised" | "no-segment";
  from: string;
  to: string;
  services: string[];
  flows: number;
  /** The enforce forbids involved. */
  forbids: string[];
  message: string;
}

export interface RecommendResult {
  recommendations: Recommendation[];
  conflicts: Conflict[];
  /** New peers holding exactly the observed addresses of a peer end. */
  peers: Record<string, { cidrs: string[]; within: string }>;
  /** New segments isolating a workload no segment holds. */
  segments: Record<string, { matchLabels: Record<string, string>; workload: string }>;
  /** Problems `check` would still report once owners and justifications are filled (other than those). */
  diagnostics: Diagnostic[];
}

interface Candidate {
  from: string;
  to: string;
  groups: FlowGroup[];
  services: ServiceSet;
}

/** FNV-1a, 32 bits, as hex: short deterministic suffixes for generated names. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0").slice(0, 6);
}

/** A valid policy name from `base`, not in `taken`: truncated and suffixed with a hash when needed. */
function uniqueName(base: string, taken: Set<string>): string {
  let name = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  if (!/^[a-z]/.test(name)) name = `p-${name}`;
  if (name.length > 63 || !NAME_PATTERN.test(name) || taken.has(name)) {
    name = `${name.slice(0, 56).replace(/-+$/, "")}-${hash(base)}`;
  }
  let n = 2;
  const root = name;
  while (taken.has(name)) name = `${root.slice(0, 60)}-${n++}`;
  taken.add(name);
  return name;
}

const PLACEHOLDER = "draft";

/**
 * Drafts the narrowest allow paths covering the observed flows the policy would block (docs/design.md:
 * observed is not allowed — these are drafts for a human):
 *
 * - one path per (source end, destination end), with exactly the observed services (ports merged
 *   only where they are adjacent, never widened);
 * - a workload end is the most specific segment holding the workload; a workload no segment holds
 *   gets a new segment selecting exactly its labels (if those labels select it alone; otherwise it is
 *   reported, not recommended);
 * - a peer end (including `internet`) becomes a new peer holding exactly the observed addresses;
 * - flows an enforce forbid names are conflicts, never recommended; and when generalising to a
 *   segment would open an enforce forbid for another member, the overlapping services are removed
 *   from the draft and reported (the draft is compiled to prove it opens no forbid).
 */
export function recommend(plan: Plan, sim: SimulationResult): RecommendResult {
  const policy = plan.policy;
  const taken = new Set<string>([
    ...policy.paths.map((p) => p.name),
    ...policy.segments.map((s) => s.name),
    ...policy.peers.map((p) => p.name),
  ]);
  const conflicts: Conflict[] = [];
  const peers: RecommendResult["peers"] = {};
  const segments: RecommendResult["segments"] = {};
  const workloadSegment = new Map<string, string | null>();

  const isolate = (workload: string): string | undefined => {
    const cached = workloadSegment.get(workload);
    if (cached !== undefined) return cached ?? undefined;
    const w = policy.workloads.find((x) => x.name === workload)!;
    const matchLabels = { ...w.labels };
    const selects = policy.workloads.filter((x) => selectorMatches({ matchLabels }, x.labels));
    if (Object.keys(matchLabels).length === 0 || selects.length !== 1) {
      workloadSegment.set(workload, null);
      return undefined;
    }
    const name = uniqueName(workload, taken);
    segments[name] = { matchLabels, workload };
    workloadSegment.set(workload, name);
    return name;
  };

  const candidates = new Map<string, Candidate>();
  const groupsByPeerEnd = new Map<string, { peer: string; addresses: Set<string> }>();
  for (const g of sim.wouldBlock) {
    const forbids = (g.blockedBy ?? []).filter((b) => b !== "default-deny");
    if (forbids.length > 0) {
      conflicts.push({
        kind: "forbidden",
        from: endName(g.from),
        to: endName(g.to),
        services: [g.service],
        flows: g.count,
        forbids,
        message: `observed traffic that enforce forbid ${forbids.map((f) => `"${f}"`).join(", ")} names: observed is not allowed; investigate it`,
      });
      continue;
    }
    const sides = [
      { end: g.from, parties: g.fromParties, addresses: g.fromAddresses },
      { end: g.to, parties: g.toParties, addresses: g.toAddresses },
    ];
    const ends: Array<string | undefined> = sides.map((s) => {
      if (s.end.kind === "segment") return s.end.name;
      if (s.end.kind === "workload") return isolate(s.end.name);
      // A peer end: a placeholder resolved once all addresses of the candidate are known.
      return `peer:${s.end.name}`;
    });
    const [from, to] = ends;
    if (from === undefined || to === undefined) {
      const w = g.from.kind === "workload" && from === undefined ? g.from.name : g.to.name;
      conflicts.push({
        kind: "no-segment",
        from: endName(g.from),
        to: endName(g.to),
        services: [g.service],
        flows: g.count,
        forbids: [],
        message: `no segment holds workload "${w}" and its labels do not select it alone: add a segment for it, then run recommend again`,
      });
      continue;
    }
    const key = `${from}\u0000${to}`;
    let c = candidates.get(key);
    if (!c) candidates.set(key, (c = { from, to, groups: [], services: ServiceSet.EMPTY }));
    c.groups.push(g);
    c.services = c.services.union(ServiceSet.parse(g.service));
    for (const [i, s] of sides.entries()) {
      if (s.end.kind !== "peer") continue;
      const pk = `${key}\u0000${i}`;
      let e = groupsByPeerEnd.get(pk);
      if (!e) groupsByPeerEnd.set(pk, (e = { peer: s.end.name, addresses: new Set() }));
      for (const a of s.addresses) e.addresses.add(a);
    }
  }

  // Peer ends become peers of exactly the observed addresses.
  const peerByCidrs = new Map<string, string>();
  for (const [key, c] of candidates) {
    for (const i of [0, 1]) {
      const e = groupsByPeerEnd.get(`${key}\u0000${i}`);
      if (!e) continue;
      const cidrs = AddressSet.fromCidrs([...e.addresses]).toCidrs();
      const id = `${e.peer}\u0000${cidrs.join(",")}`;
      let name = peerByCidrs.get(id);
      if (!name) {
        name = uniqueName(`observed-${e.peer}-${hash(id)}`, taken);
        peerByCidrs.set(id, name);
        peers[name] = { cidrs, within: e.peer };
      }
      if (i === 0) c.from = name;
      else c.to = name;
    }
  }

  const drafts = [...candidates.values()]
    .map((c) => ({ ...c, name: uniqueName(`allow-${c.from}-to-${c.to}`, taken) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Prove the drafts open no enforce forbid: compile them and narrow away every overlap.
  let diagnostics: Diagnostic[] = [];
  let monitoredBy = new Map<string, Set<string>>();
  for (let round = 0; round < 8; round++) {
    const live = drafts.filter((d) => !d.services.isEmpty());
    const trial = trialPlan(plan, live, peers, segments);
    diagnostics = trial.diagnostics.filter(
      (d) => d.severity === "error" && !/overlaps enforce forbid/.test(d.message),
    );
    const names = new Set(live.map((d) => d.name));
    const overlaps = new Map<string, Map<string, ServiceSet>>();
    monitoredBy = new Map();
    const scan = (
      forbids: Plan["guardrails"],
      found: (allow: string, forbid: string, s: ServiceSet) => void,
    ) => {
      for (const f of forbids) {
        for (const fs of f.from) {
          for (const ts of f.to) {
            const forbidden = ConnectionSet.of(fs.addresses, ts.addresses, f.path.services);
            for (const a of trial.allowsBetween(fs.party, ts.party)) {
              if (!names.has(a.path.name)) continue;
              const hit = a.connections.intersect(forbidden);
              if (!hit.isEmpty()) found(a.path.name, f.path.name, hit.services());
            }
          }
        }
      }
    };
    scan(trial.guardrails, (allow, forbid, s) => {
      let m = overlaps.get(allow);
      if (!m) overlaps.set(allow, (m = new Map()));
      m.set(forbid, (m.get(forbid) ?? ServiceSet.EMPTY).union(s));
    });
    scan(trial.monitored, (allow, forbid) => {
      let s = monitoredBy.get(allow);
      if (!s) monitoredBy.set(allow, (s = new Set()));
      s.add(forbid);
    });
    if (overlaps.size === 0) break;
    for (const d of live) {
      const m = overlaps.get(d.name);
      if (!m) continue;
      let removed = ServiceSet.EMPTY;
      for (const s of m.values()) removed = removed.union(s);
      const affected = d.groups.filter((g) => ServiceSet.parse(g.service).overlaps(removed));
      d.services = d.services.subtract(removed);
      d.groups = d.groups.filter((g) => !affected.includes(g));
      conflicts.push({
        kind: "generalised",
        from: d.from,
        to: d.to,
        services: removed.toStrings(),
        flows: affected.reduce((n, g) => n + g.count, 0),
        forbids: [...m.keys()].sort(),
        message:
          `allowing ${removed} from "${d.from}" to "${d.to}" would open enforce forbid ${[...m.keys()].map((f) => `"${f}"`).join(", ")} ` +
          "for members that were not observed; removed from the draft — narrow the ends (a segment for the observed workloads) if the traffic is needed",
      });
    }
  }

  const recommendations: Recommendation[] = drafts
    .filter((d) => !d.services.isEmpty() && d.groups.length > 0)
    .map((d) => ({
      name: d.name,
      from: d.from,
      to: d.to,
      services: d.services.toStrings(),
      evidence: evidenceOf(d.groups),
      monitored: [...(monitoredBy.get(d.name) ?? [])].sort(),
    }));
  // Only the peers and segments the remaining drafts use.
  const used = new Set(recommendations.flatMap((r) => [r.from, r.to]));
  for (const n of Object.keys(peers)) if (!used.has(n)) delete peers[n];
  for (const n of Object.keys(segments)) if (!used.has(n)) delete segments[n];
  return { recommendations, conflicts, peers, segments, diagnostics };
}

function endName(e: FlowGroup["from"]): string {
  return e.kind === "workload" ? `workload:${e.name}` : e.name;
}

function evidenceOf(groups: FlowGroup[]): Evidence {
  const services: Record<string, number> = {};
  const observed: Record<string, number> = {};
  const fromParties = new Set<string>();
  const toParties = new Set<string>();
  let samples: FlowSample[] = [];
  let flows = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const g of groups) {
    flows += g.count;
    first = Math.min(first, g.first);
    last = Math.max(last, g.last);
    services[g.service] = (services[g.service] ?? 0) + g.count;
    for (const [k, v] of Object.entries(g.observed)) observed[k] = (observed[k] ?? 0) + v;
    for (const p of g.fromParties) fromParties.add(p);
    for (const p of g.toParties) toParties.add(p);
    samples.push(...g.samples);
  }
  samples = samples
    .sort((a, b) => a.time - b.time || a.file.localeCompare(b.file) || a.line - b.line)
    .slice(0, 3);
  return {
    flows,
    first,
    last,
    services: sortKeys(services),
    observed: sortKeys(observed),
    fromParties: [...fromParties].sort(),
    toParties: [...toParties].sort(),
    samples,
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The policy with the drafts added (placeholder owner and justification), compiled. */
function trialPlan(
  plan: Plan,
  drafts: Array<{ name: string; from: string; to: string; services: ServiceSet }>,
  peers: RecommendResult["peers"],
  segments: RecommendResult["segments"],
): Plan {
  const doc = documentOf(plan.policy);
  for (const [name, p] of Object.entries(peers)) doc.peers[name] = { cidrs: p.cidrs };
  for (const [name, s] of Object.entries(segments)) doc.segments[name] = { matchLabels: s.matchLabels };
  for (const d of drafts)
    doc.paths.push({
      name: d.name,
      from: d.from,
      to: d.to,
      services: d.services.toStrings(),
      owner: PLACEHOLDER,
      justification: PLACEHOLDER,
    });
  const parsed = parsePolicyObject(doc);
  const compiled = compile(parsed.partial ?? plan.policy);
  return { ...compiled, diagnostics: [...parsed.diagnostics, ...compiled.diagnostics] };
}

/** A validated policy back as a document (what `check` reads). */
function documentOf(policy: Plan["policy"]) {
  return {
    name: policy.name,
    workloads: policy.workloads.map((w) => ({ name: w.name, labels: w.labels, placements: w.placements })),
    segments: Object.fromEntries(policy.segments.map((s) => [s.name, s.selector])) as Record<string, unknown>,
    peers: Object.fromEntries(
      policy.peers.filter((p) => !p.builtin).map((p) => [p.name, { cidrs: p.cidrs }]),
    ) as Record<string, unknown>,
    paths: policy.paths.map((p) => {
      const out: Record<string, unknown> = {
        name: p.name,
        from: p.from,
        to: p.to,
        services: p.serviceTexts,
        verdict: p.verdict,
        owner: p.owner,
        justification: p.justification,
      };
      if (p.verdict === "forbid") out.mode = p.mode;
      if (p.expires) out.expires = p.expires;
      if (p.ticket) out.ticket = p.ticket;
      if (p.http) out.http = p.http;
      return out;
    }) as Array<Record<string, unknown>>,
  };
}

function sampleText(s: FlowSample): string {
  const src = s.srcPort !== undefined ? `${s.src}:${s.srcPort}` : s.src;
  const dst = s.dstPort !== undefined ? `${s.dst}:${s.dstPort}` : s.dst;
  return `${src} -> ${dst} ${s.protocol} ${s.observed} (${s.file}:${s.line})`;
}

/** The evidence of a draft as comment lines. */
export function evidenceComment(r: Recommendation): string[] {
  const e = r.evidence;
  const counts = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} x${v}`)
      .join(", ");
  const lines = [
    `DRAFT from ${e.flows} observed flow(s), first ${iso(e.first)}, last ${iso(e.last)}: ${counts(e.services)}`,
    `observed: ${counts(e.observed)}; ${e.fromParties.join(", ")} -> ${e.toParties.join(", ")}`,
    ...e.samples.map((s) => `sample: ${sampleText(s)}`),
  ];
  if (r.monitored.length > 0)
    lines.push(
      `overlaps monitored forbid ${r.monitored.join(", ")}: enforcing it would close part of this path`,
    );
  lines.push("fill in owner and justification after review: observed is not allowed");
  return lines;
}

/**
 * The drafts as YAML: the whole policy (its text kept as written, comments included) with the new
 * peers, segments and paths appended, or with `fragment` only the additions. Never written over the
 * policy file.
 */
export function recommendationYaml(
  result: RecommendResult,
  options: { policyText?: string; fragment?: boolean },
): string {
  const doc =
    options.fragment || options.policyText === undefined
      ? new Document({})
      : parseDocument(options.policyText);
  const section = (key: string, kind: "map" | "seq") => {
    let node = doc.get(key, true) as YAMLMap | YAMLSeq | undefined;
    if (!node || typeof node !== "object" || !("items" in node)) {
      node = doc.createNode(kind === "map" ? {} : []) as YAMLMap | YAMLSeq;
      doc.set(key, node);
    }
    return node;
  };
  const peerNames = Object.keys(result.peers);
  if (peerNames.length > 0) {
    const peers = section("peers", "map") as YAMLMap;
    for (const name of peerNames) {
      const p = result.peers[name]!;
      const node = doc.createNode({ cidrs: p.cidrs }, { flow: false });
      const pair = doc.createPair(name, node);
      (pair.key as { commentBefore?: string }).commentBefore =
        ` DRAFT: the addresses observed within "${p.within}"`;
      peers.items.push(pair as never);
    }
  }
  const segmentNames = Object.keys(result.segments);
  if (segmentNames.length > 0) {
    const segments = section("segments", "map") as YAMLMap;
    for (const name of segmentNames) {
      const s = result.segments[name]!;
      const pair = doc.createPair(name, doc.createNode({ matchLabels: s.matchLabels }));
      (pair.key as { commentBefore?: string }).commentBefore =
        ` DRAFT: selects workload "${s.workload}" alone`;
      segments.items.push(pair as never);
    }
  }
  if (result.recommendations.length > 0) {
    const paths = section("paths", "seq") as YAMLSeq;
    for (const r of result.recommendations) {
      const node = doc.createNode({
        name: r.name,
        from: r.from,
        to: r.to,
        services: r.services,
        owner: "",
        justification: "",
      }) as YAMLMap;
      node.commentBefore = evidenceComment(r)
        .map((l) => ` ${l}`)
        .join("\n");
      (node.get("services", true) as unknown as YAMLSeq).flow = true;
      paths.items.push(node as never);
    }
  }
  return doc.toString({ lineWidth: 0 });
}
