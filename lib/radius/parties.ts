import { facetParties } from "../plan/facets";
import type { Party, Plan } from "../plan/types";
import { everythingElse } from "../plan/universe";
import type { TargetEvaluator } from "../verify/types";

/**
 * The parties of the hop graph of a stack as deployed (DESIGN.md rules 8 and 10): the plan's
 * workloads split by facet (a workload placed on several targets at different addresses is one
 * party per placement's addresses; the graph makes them one node again), its peers, every
 * endpoint a target governs that the model does not name (`TargetEvaluator.universe`), and the
 * party for every address no one claims. The same parties the proof of the deployed stack reads.
 */
export function radiusParties(plan: Plan, evaluators: readonly TargetEvaluator[]): Party[] {
  const out = new Map<string, Party>();
  const add = (p: Party) => {
    if (!out.has(p.key)) out.set(p.key, p);
  };
  for (const p of plan.parties) for (const f of facetParties(p)) add(f);
  for (const ev of evaluators) for (const p of ev.universe?.() ?? []) add(p);
  add(everythingElse(plan));
  return [...out.values()];
}
