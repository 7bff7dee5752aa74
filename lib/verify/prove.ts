import type { ForbidMode, TargetName } from "../model/types";
import { ConnectionSet, type Packet, protocolName } from "../net";
import type { CompiledPath, Plan, Slice } from "../plan/types";
import type { TargetEvaluator } from "./types";

/** A concrete packet that shows a verdict, with the parties it runs between. */
export interface Witness {
  src: string;
  dst: string;
  protocol: string;
  port?: number;
  from: string;
  to: string;
}

export interface ForbiddenResult {
  path: string;
  mode: ForbidMode;
  target: TargetName;
  /** blocked: no packet of the forbidden set gets through on this target. */
  status: "blocked" | "open";
  /** The rule that decided: for open, the rule letting the witness through; for blocked, what drops a sample. */
  by: string;
  witness?: Witness;
  /** For open paths: everything that gets through, as services (e.g. "tcp/22, tcp/443"). */
  open?: string;
  /** Monitored forbids that are open: what enforcing would close on this target. */
  wouldClose?: string;
}

export interface AllowedResult {
  path: string;
  target: TargetName;
  status: "open" | "broken";
  /** For broken paths: what the target does not let through, as services. */
  missing?: string;
  witness?: Witness;
  by?: string;
}

export interface Proof {
  ok: boolean;
  /** Targets whose rules were proven. */
  targets: TargetName[];
  /** Targets the policy places workloads on but for which no rules were proven. */
  unproven: TargetName[];
  forbidden: ForbiddenResult[];
  allowed: AllowedResult[];
}

function witnessOf(packet: Packet, from: Slice, to: Slice): Witness {
  const w: Witness = {
    src: packet.src,
    dst: packet.dst,
    protocol: protocolName(packet.protocol, packet.family),
    from: from.party.name,
    to: to.party.name,
  };
  if (packet.port !== undefined) w.port = packet.port;
  return w;
}

/** The pairs of a path a target rules on: it enforces at least one end (defense in depth: each target on its own). */
function pairsOn(c: CompiledPath, ev: TargetEvaluator): Array<[Slice, Slice]> {
  const out: Array<[Slice, Slice]> = [];
  for (const f of c.from)
    for (const t of c.to) if (ev.enforces(f.party) || ev.enforces(t.party)) out.push([f, t]);
  return out;
}

function proveForbid(c: CompiledPath, ev: TargetEvaluator): ForbiddenResult | undefined {
  const pairs = pairsOn(c, ev);
  if (pairs.length === 0) return undefined;
  let firstOpen: { packet: Packet; from: Slice; to: Slice } | undefined;
  const leaks: ConnectionSet[] = [];
  for (const [f, t] of pairs) {
    const forbidden = ConnectionSet.of(f.addresses, t.addresses, c.path.services);
    const leak = ev.allowed(f.party, t.party).intersect(forbidden);
    if (!leak.isEmpty()) {
      leaks.push(leak);
      if (!firstOpen) firstOpen = { packet: leak.sample()!, from: f, to: t };
    }
  }
  const base = { path: c.path.name, mode: c.path.mode, target: ev.target };
  if (firstOpen) {
    const decision = ev.decide(firstOpen.from.party, firstOpen.to.party, firstOpen.packet);
    const result: ForbiddenResult = {
      ...base,
      status: "open",
      by: decision.by,
      witness: witnessOf(firstOpen.packet, firstOpen.from, firstOpen.to),
      open: ConnectionSet.unionAll(leaks).services().toString(),
    };
    if (c.path.mode === "monitor") result.wouldClose = result.open;
    return result;
  }
  const [f, t] = pairs[0]!;
  const sample = ConnectionSet.of(f.addresses, t.addresses, c.path.services).sample();
  const by = sample ? ev.decide(f.party, t.party, sample).by : "default-deny";
  return { ...base, status: "blocked", by };
}

function proveAllow(c: CompiledPath, ev: TargetEvaluator): AllowedResult | undefined {
  const pairs = pairsOn(c, ev);
  if (pairs.length === 0) return undefined;
  const gaps: ConnectionSet[] = [];
  let first: { packet: Packet; from: Slice; to: Slice } | undefined;
  for (const [f, t] of pairs) {
    const required = ConnectionSet.of(f.addresses, t.addresses, c.path.services);
    const gap = required.subtract(ev.allowed(f.party, t.party));
    if (!gap.isEmpty()) {
      gaps.push(gap);
      if (!first) first = { packet: gap.sample()!, from: f, to: t };
    }
  }
  const base = { path: c.path.name, target: ev.target };
  if (!first) return { ...base, status: "open" };
  return {
    ...base,
    status: "broken",
    missing: ConnectionSet.unionAll(gaps).services().toString(),
    witness: witnessOf(first.packet, first.from, first.to),
    by: ev.decide(first.from.party, first.to.party, first.packet).by,
  };
}

/**
 * The proof (DESIGN.md): on every target, from what was rendered, each enforce forbid is blocked and
 * each allow path is open. Monitored forbids are reported and never fail the proof.
 */
export function prove(plan: Plan, evaluators: readonly TargetEvaluator[]): Proof {
  const forbidden: ForbiddenResult[] = [];
  const allowed: AllowedResult[] = [];
  for (const c of [...plan.guardrails, ...plan.monitored]) {
    for (const ev of evaluators) {
      const r = proveForbid(c, ev);
      if (r) forbidden.push(r);
    }
  }
  for (const c of plan.allows) {
    for (const ev of evaluators) {
      const r = proveAllow(c, ev);
      if (r) allowed.push(r);
    }
  }
  const targets = [...new Set(evaluators.map((e) => e.target))];
  const ok =
    forbidden.every((r) => r.mode === "monitor" || r.status === "blocked") &&
    allowed.every((r) => r.status === "open");
  return { ok, targets, unproven: plan.targets.filter((t) => !targets.includes(t)), forbidden, allowed };
}
