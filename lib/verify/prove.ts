import type { ForbidMode, TargetName } from "../model/types";
import { ConnectionSet, type Packet, protocolName } from "../net";
import type { CompiledPath, Plan, Slice } from "../plan/types";
import { ClassView, type Group, membersOf } from "./classes";
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

/**
 * The class pairs of a path a target rules on: it enforces at least one end (defense in depth:
 * each target on its own). Every party of a group is in the path's end, so the union over the
 * group's members of (from addresses × to addresses) is exactly (group addresses × group addresses):
 * deciding per pair of groups is exact.
 */
function pairsOn(c: CompiledPath, view: ClassView): Array<[Group, Group]> {
  const out: Array<[Group, Group]> = [];
  const froms = view.groupsOf(c.from);
  const tos = view.groupsOf(c.to);
  for (const f of froms) for (const t of tos) if (view.enforces(f) || view.enforces(t)) out.push([f, t]);
  return out;
}

function proveForbid(c: CompiledPath, view: ClassView): ForbiddenResult | undefined {
  const ev = view.ev;
  const pairs = pairsOn(c, view);
  if (pairs.length === 0) return undefined;
  let firstOpen: { packet: Packet; from: Group; to: Group } | undefined;
  const leaks: ConnectionSet[] = [];
  for (const [f, t] of pairs) {
    let leak: ConnectionSet;
    if (ev.allowedWithin)
      leak = ev.allowedWithin(
        f.representative,
        t.representative,
        ConnectionSet.of(f.addresses, t.addresses, c.path.services),
      );
    else {
      const allowed = view.allowed(f, t);
      // The common case (blocked) only needs the overlap test, asked of the product without
      // building it; the forbidden set and the leak are built when there is one.
      if (!allowed.overlapsProduct(f.addresses, t.addresses, c.path.services)) continue;
      leak = allowed.intersect(ConnectionSet.of(f.addresses, t.addresses, c.path.services));
    }
    if (!leak.isEmpty()) {
      leaks.push(leak);
      if (!firstOpen) firstOpen = { packet: leak.sample()!, from: f, to: t };
    }
  }
  const base = { path: c.path.name, mode: c.path.mode, target: ev.target };
  if (firstOpen) {
    const { packet } = firstOpen;
    const m = membersOf(packet, firstOpen.from, firstOpen.to);
    const decision = ev.decide(m.from.party, m.to.party, packet);
    const result: ForbiddenResult = {
      ...base,
      status: "open",
      by: decision.by,
      witness: witnessOf(packet, m.from, m.to),
      open: ConnectionSet.unionAll(leaks).services().toString(),
    };
    if (c.path.mode === "monitor") result.wouldClose = result.open;
    return result;
  }
  const [fg, tg] = pairs[0]!;
  const f = fg.slices[0]!;
  const t = tg.slices[0]!;
  const sample = ConnectionSet.of(f.addresses, t.addresses, c.path.services).sample();
  const by = sample ? ev.decide(f.party, t.party, sample).by : "default-deny";
  return { ...base, status: "blocked", by };
}

function proveAllow(c: CompiledPath, view: ClassView): AllowedResult | undefined {
  const ev = view.ev;
  const pairs = pairsOn(c, view);
  if (pairs.length === 0) return undefined;
  const gaps: ConnectionSet[] = [];
  let first: { packet: Packet; from: Group; to: Group } | undefined;
  for (const [f, t] of pairs) {
    let required: ConnectionSet | undefined;
    let allowed: ConnectionSet;
    if (ev.allowedWithin) {
      required = ConnectionSet.of(f.addresses, t.addresses, c.path.services);
      allowed = ev.allowedWithin(f.representative, t.representative, required);
      if (required.isSubsetOf(allowed)) continue;
    } else {
      allowed = view.allowed(f, t);
      // The common case (open) only needs the subset test, asked of the product without building
      // it; the required set and the gap are built when there is one.
      if (allowed.containsProduct(f.addresses, t.addresses, c.path.services)) continue;
    }
    required ??= ConnectionSet.of(f.addresses, t.addresses, c.path.services);
    const gap = required.subtract(allowed);
    if (!gap.isEmpty()) {
      gaps.push(gap);
      if (!first) first = { packet: gap.sample()!, from: f, to: t };
    }
  }
  const base = { path: c.path.name, target: ev.target };
  if (!first) return { ...base, status: "open" };
  const m = membersOf(first.packet, first.from, first.to);
  return {
    ...base,
    status: "broken",
    missing: ConnectionSet.unionAll(gaps).services().toString(),
    witness: witnessOf(first.packet, m.from, m.to),
    by: ev.decide(m.from.party, m.to.party, first.packet).by,
  };
}

/**
 * The proof (docs/design.md): on every target, from what was rendered, each enforce forbid is blocked and
 * each allow path is open. Monitored forbids are reported and never fail the proof.
 */
export function prove(plan: Plan, evaluators: readonly TargetEvaluator[]): Proof {
  const views = evaluators.map((ev) => new ClassView(ev));
  const forbids = [...plan.guardrails, ...plan.monitored];
  // Grouped by source end, in the policy's order within a group (see ClassView).
  const bySource = new Map<readonly Slice[], Array<{ c: CompiledPath; forbid: boolean; at: number }>>();
  const add = (c: CompiledPath, forbid: boolean, at: number) => {
    const list = bySource.get(c.from);
    if (list) list.push({ c, forbid, at });
    else bySource.set(c.from, [{ c, forbid, at }]);
  };
  for (const [at, c] of forbids.entries()) add(c, true, at);
  for (const [at, c] of plan.allows.entries()) add(c, false, at);
  const forbidAt: Array<Array<ForbiddenResult | undefined>> = forbids.map(() => []);
  const allowAt: Array<Array<AllowedResult | undefined>> = plan.allows.map(() => []);
  for (const [source, paths] of bySource)
    for (const [i, view] of views.entries()) {
      view.startSource(source);
      for (const { c, forbid, at } of paths) {
        if (forbid) forbidAt[at]![i] = proveForbid(c, view);
        else allowAt[at]![i] = proveAllow(c, view);
      }
    }
  // Reported path by path in the policy's order, each path's targets in the evaluators' order.
  const forbidden = forbidAt.flat().filter((r): r is ForbiddenResult => r !== undefined);
  const allowed = allowAt.flat().filter((r): r is AllowedResult => r !== undefined);
  const targets = [...new Set(evaluators.map((e) => e.target))];
  const ok =
    forbidden.every((r) => r.mode === "monitor" || r.status === "blocked") &&
    allowed.every((r) => r.status === "open");
  return { ok, targets, unproven: plan.targets.filter((t) => !targets.includes(t)), forbidden, allowed };
}
