import type { HttpRule } from "../../model/types";
import type { Plan } from "../../plan/types";
import { podsOf } from "./selectors";

/** An allow path with an HTTP allowlist, and the clusters whose Cilium policies enforce it at L7. */
export interface L7Path {
  path: string;
  http: HttpRule[];
  /** Clusters where one end of the path has pods the library selects (egress or ingress proxy). */
  clusters: string[];
}

/**
 * Allow paths that carry `http` rules and that Cilium enforces at L7 (an end has selected pods).
 * Every other target enforces these paths at L4 only: the review says "L7 enforced on cilium only".
 */
export function l7Paths(plan: Plan): L7Path[] {
  const pods = podsOf(plan);
  const out: L7Path[] = [];
  for (const c of plan.allows) {
    if (!c.path.http) continue;
    const clusters = new Set<string>();
    for (const s of [...c.from, ...c.to]) {
      const pod = s.party.kind === "workload" ? pods.get(s.party.name) : undefined;
      if (pod && !pod.referenceOnly) clusters.add(pod.cluster);
    }
    if (clusters.size > 0) out.push({ path: c.path.name, http: c.path.http, clusters: [...clusters].sort() });
  }
  return out;
}
