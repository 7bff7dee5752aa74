import type { TargetName } from "../model/types";
import { ServiceSet } from "../net";
import { isPlacedOn } from "./placement";
import type { CompiledPath, Plan } from "./types";

/**
 * The reference count for a target's rule economy: how many rules a rendering needs at the least if
 * one rule names one source, one destination and one protocol with one port range.
 *
 * An edge is a distinct (source end, destination end, protocol and merged port range): the services
 * of every path between the same two ends are merged first (tcp/80 and tcp/81-90 make one range),
 * and an end's addresses count as one however many CIDRs they take. Each edge counts once for each
 * of its ends the target enforces (a stateful target holding both ends needs an egress rule at the
 * source and an ingress rule at the destination). Targets whose rules carry several sources or port
 * ranges can render fewer rules than this; baselines, anti-spoofing and per-host copies make more.
 */
export interface RuleBound {
  /** Allow edges times enforced ends. */
  allows: number;
  /** Enforce-forbid edges times enforced ends: what deny guardrails need. */
  guardrails: number;
}

function enforcedEnds(c: CompiledPath, target: TargetName): number {
  const placed = (slices: CompiledPath["from"]) =>
    slices.some((s) => s.party.kind === "workload" && isPlacedOn(s.party.workload, target));
  return (placed(c.from) ? 1 : 0) + (placed(c.to) ? 1 : 0);
}

function edges(paths: readonly CompiledPath[], target: TargetName): number {
  const byEnds = new Map<string, { services: ServiceSet[]; ends: number }>();
  for (const c of paths) {
    const ends = enforcedEnds(c, target);
    if (ends === 0) continue;
    const key = `${c.path.from}\u0000${c.path.to}`;
    const entry = byEnds.get(key) ?? { services: [], ends };
    entry.services.push(c.path.services);
    byEnds.set(key, entry);
  }
  let n = 0;
  for (const { services, ends } of byEnds.values()) {
    const merged = services.reduce((a, b) => a.union(b), ServiceSet.EMPTY);
    // The canonical form has one entry per protocol and merged port range ("any" and "tcp" are one).
    n += merged.toStrings().length * ends;
  }
  return n;
}

export function ruleBound(plan: Plan, target: TargetName): RuleBound {
  return { allows: edges(plan.allows, target), guardrails: edges(plan.guardrails, target) };
}
