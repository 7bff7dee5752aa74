import type { TargetName } from "../model/types";
import { ConnectionSet, protocolName, ServiceSet } from "../net";
import { facetParties } from "../plan/facets";
import type { Party, Plan } from "../plan/types";
import type { TargetEvaluator } from "./types";

/**
 * Connectivity a target allows that no allow path of the policy explains: for one ordered pair of
 * parties, what `allowed()` lets through beyond `plan.intended()`, with a witness and the rule the
 * target names for it. This is how live rules that the policy does not explain show up in an audit.
 */
export interface UnexplainedOpening {
  target: TargetName;
  from: string;
  to: string;
  /** The unexplained services, e.g. "tcp/22". */
  services: string;
  /** The rule that lets the witness through, in the target's own terms. */
  by: string;
  witness: { src: string; dst: string; protocol: string; port?: number };
  /**
   * Why it counts (review only): `unmodelled`, an endpoint the model does not name reaches a
   * workload or is reached by one; `beyond-policy`, a rule blastradius did not render opens more
   * than the policy intends. An audit's live rules have no reason.
   */
  reason?: "unmodelled" | "beyond-policy";
}

/** Every ordered pair of parties the evaluator enforces at least one end of, checked for excess. */
export function unexplainedOpenings(
  plan: Plan,
  evaluators: readonly TargetEvaluator[],
): UnexplainedOpening[] {
  const out: UnexplainedOpening[] = [];
  // A workload placed on several targets at different addresses is one party per facet: each
  // target decides only its own facets' packets.
  const parties = plan.parties.flatMap((p) => facetParties(p));
  for (const ev of evaluators) {
    const enforced = new Set(parties.filter((p) => ev.enforces(p)).map((p) => p.key));
    for (const from of parties) {
      for (const to of parties) {
        if (from.kind === "peer" && to.kind === "peer") continue;
        if (!enforced.has(from.key) && !enforced.has(to.key)) continue;
        const excess = ev
          .allowed(from, to)
          .intersect(ConnectionSet.of(from.addresses, to.addresses, ALL_SERVICES))
          .subtract(plan.intended(from, to));
        if (excess.isEmpty()) continue;
        out.push(opening(ev, from, to, excess));
      }
    }
  }
  return out;
}

const ALL_SERVICES = ServiceSet.ALL;

function opening(ev: TargetEvaluator, from: Party, to: Party, excess: ConnectionSet): UnexplainedOpening {
  const packet = excess.sample()!;
  const witness: UnexplainedOpening["witness"] = {
    src: packet.src,
    dst: packet.dst,
    protocol: protocolName(packet.protocol, packet.family),
  };
  if (packet.port !== undefined) witness.port = packet.port;
  return {
    target: ev.target,
    from: from.name,
    to: to.name,
    services: excess.services().toString(),
    by: ev.decide(from, to, packet).by,
    witness,
  };
}
