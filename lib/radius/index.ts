/**
 * lib/radius — multi-hop movement (DESIGN.md rule 10): the hop graph over parties from the
 * targets' evaluators, what a compromise reaches in any number of hops (or at most k), shortest
 * chains with a witness and the deciding rules, `reach: any` forbids with minimum cuts, and every
 * party's blast radius for reviews.
 */
import type { TargetName } from "../model/types";
import type { Party, Plan } from "../plan/types";
import type { TargetEvaluator } from "../verify/types";
import { type BlastRadius, blastRadii, type CrownJewel, crownJewels } from "./blast";
import { type ChainResult, proveChains } from "./forbids";
import { HopGraph, type HopGraphOptions } from "./graph";
import { radiusParties } from "./parties";

export { type BlastRadius, blastRadii, type CrownJewel, crownJewels } from "./blast";
export { explainHop, type HopJson, type HopWithin } from "./explain";
export { type ChainResult, CUT_EDGE_LIMIT, CUT_SHOWN_LIMIT, proveChains } from "./forbids";
export {
  chainNames,
  describeHop,
  formatRadius,
  formatRadiusMarkdown,
  MERMAID_LIMIT,
  mdCell,
  mermaidLabel,
  printable,
} from "./format";
export { type Biclique, HopGraph, type HopGraphOptions, type HopGraphStats, type RadiusNode } from "./graph";
export { radiusParties } from "./parties";
export { type RadiusJson, RadiusNameError, type RadiusRequest, radius, resolveName } from "./query";
export { chainTo, type ReachOptions, type ReachResult, reach } from "./reach";

/**
 * The hop graph of each target on its own: what that target lets through between the parties it
 * enforces (a hop on one target's graph needs only its verdict). The combined graph
 * (`HopGraph.build` with every evaluator) has a hop only where each of these graphs that enforces
 * either end has it.
 */
export function perTargetGraphs(
  plan: Plan,
  evaluators: readonly TargetEvaluator[],
  options: HopGraphOptions = {},
): Map<TargetName, HopGraph> {
  return new Map(evaluators.map((ev) => [ev.target, HopGraph.build(plan, [ev], options)]));
}

/** What a review shows of multi-hop movement (review JSON `chains` and `radius`). */
export interface RadiusReview {
  /** Every `reach: any` forbid: blocked, or open with its shortest chain and a minimum cut. */
  chains: ChainResult[];
  /** Every workload's and peer's blast radius. */
  parties: BlastRadius[];
  /** Per critical segment, who reaches it. */
  critical: CrownJewel[];
}

export interface RadiusReviewOptions {
  /** The parties of the graph (default: `radiusParties`, the stack as deployed). */
  parties?: readonly Party[];
  /** Only the `reach: any` forbids (the policy pack's question): no blast radii. */
  chainsOnly?: boolean;
}

/** The multi-hop part of a review, from the evaluators of what was rendered. */
export function radiusReview(
  plan: Plan,
  evaluators: readonly TargetEvaluator[],
  options: RadiusReviewOptions = {},
): RadiusReview {
  const anyReach = [...plan.guardrails, ...plan.monitored].some((f) => f.path.reach === "any");
  if (options.chainsOnly && !anyReach) return { chains: [], parties: [], critical: [] };
  const g = HopGraph.build(plan, evaluators, { parties: options.parties ?? radiusParties(plan, evaluators) });
  return {
    chains: proveChains(g),
    parties: options.chainsOnly ? [] : blastRadii(g),
    critical: options.chainsOnly ? [] : crownJewels(g),
  };
}
