import type { Policy } from "../model/types";

/**
 * Which workloads pivot (DESIGN.md rule 10): a workload reached by an attacker is compromised in
 * turn and starts further hops, unless it says `pivot: false`, or it says nothing and one of its
 * segments says `pivot: false`. A workload's own word wins over its segments' either way: a
 * managed data store in an otherwise ordinary segment can opt out, and a workload that does run
 * code can opt back in. Returns the names of the workloads that do not pivot.
 */
export function nonPivotWorkloads(
  policy: Policy,
  members: ReadonlyMap<string, readonly string[]>,
): Set<string> {
  const out = new Set<string>();
  for (const s of policy.segments) {
    if (s.pivot !== false) continue;
    for (const name of members.get(s.name) ?? []) out.add(name);
  }
  for (const w of policy.workloads) {
    if (w.pivot === false) out.add(w.name);
    else if (w.pivot === true) out.delete(w.name);
  }
  return out;
}

/** The workloads of the segments named, e.g. a forbid's `through` chokepoints. */
export function membersOf(
  members: ReadonlyMap<string, readonly string[]>,
  segments: readonly string[],
): Set<string> {
  const out = new Set<string>();
  for (const s of segments) for (const name of members.get(s) ?? []) out.add(name);
  return out;
}

/** The critical segments (crown jewels) in policy order. */
export function criticalSegments(policy: Policy): string[] {
  return policy.segments.filter((s) => s.critical === true).map((s) => s.name);
}
