import { stringify } from "yaml";
import type { Plan } from "../../plan/types";
import { type GuardrailMode, renderCilium } from "./render";
import { clustersOf } from "./selectors";

/**
 * The YAML files `blastradius render` writes: `cilium/<namespace>-<name>.yaml` per
 * CiliumNetworkPolicy and `cilium/clusterwide-<name>.yaml` per CiliumClusterwideNetworkPolicy; with
 * several clusters, each cluster's files go under `cilium/<cluster>/`.
 */
export function ciliumArtefacts(
  plan: Plan,
  options: { guardrails?: GuardrailMode } = {},
): Array<{ path: string; content: string }> {
  const clusters = clustersOf(plan);
  const out: Array<{ path: string; content: string }> = [];
  for (const cluster of clusters) {
    const dir = clusters.length === 1 ? "cilium" : `cilium/${cluster.replace(/[^A-Za-z0-9._-]/g, "_")}`;
    for (const r of renderCilium(plan, { cluster, guardrails: options.guardrails })) {
      const m = r.object.metadata;
      const file = m.namespace ? `${m.namespace}-${m.name}.yaml` : `clusterwide-${m.name}.yaml`;
      out.push({ path: `${dir}/${file}`, content: stringify(r.object, { lineWidth: 0 }) });
    }
  }
  return out;
}
