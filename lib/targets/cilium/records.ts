import type { Plan } from "../../plan/types";
import type { ResourceRecord } from "../../verify/types";
import { CCNP_TYPE, CNP_TYPE, COMPONENT_TYPE } from "./evaluate";
import { type GuardrailMode, type RenderedPolicy, renderCilium } from "./render";
import { clustersOf } from "./selectors";

/** One provider resource a CiliumSegmentation creates: the component and `records` share this list. */
export interface SegmentationChild {
  /** The Pulumi resource name: `<component name>-<rendered key>`. */
  name: string;
  type: typeof CNP_TYPE | typeof CCNP_TYPE;
  /** `<namespace>/<name>` (namespaced) or `<name>`: what the API server (and Pulumi) call it. */
  id: string;
  rendered: RenderedPolicy;
}

/** The children of the CiliumSegmentation named `component`, in creation order. */
export function segmentationChildren(
  component: string,
  rendered: readonly RenderedPolicy[],
): SegmentationChild[] {
  return rendered.map((r) => {
    const m = r.object.metadata;
    return {
      name: `${component}-${r.key}`,
      type: r.object.kind === "CiliumNetworkPolicy" ? CNP_TYPE : CCNP_TYPE,
      id: m.namespace ? `${m.namespace}/${m.name}` : m.name,
      rendered: r,
    };
  });
}

/** The component name the CLI's placeholder program gives a cluster's CiliumSegmentation. */
export const segmentationName = (cluster: string) => `cilium-${cluster}`;

/** URNs as the offline runner's engine forms them (its default project and stack). */
const URN_PREFIX = "urn:pulumi:dev::blastradius-offline::";

/**
 * The resources one CiliumSegmentation per cluster (named `cilium-<cluster>`) registers, built
 * without the Pulumi engine: the component (inputs `{ cluster }`) and its policy objects, with the
 * ids the API server gives them and the component as parent.
 */
export function ciliumRecords(plan: Plan, options: { guardrails?: GuardrailMode } = {}): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const cluster of clustersOf(plan)) {
    const name = segmentationName(cluster);
    const urn = `${URN_PREFIX}${COMPONENT_TYPE}::${name}`;
    out.push({ type: COMPONENT_TYPE, name, urn, inputs: { cluster } });
    const rendered = renderCilium(plan, { cluster, guardrails: options.guardrails });
    for (const child of segmentationChildren(name, rendered))
      out.push({
        type: child.type,
        name: child.name,
        urn: `${URN_PREFIX}${COMPONENT_TYPE}$${child.type}::${child.name}`,
        id: child.id,
        parent: urn,
        inputs: child.rendered.object as unknown as Record<string, unknown>,
      });
  }
  return out;
}
