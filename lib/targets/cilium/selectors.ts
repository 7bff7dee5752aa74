import type { Workload } from "../../model/types";
import type { Plan } from "../../plan/types";
import { type LabelRequirement, labelClasses } from "./label-classes";
import type { EndpointSelector } from "./types";

/** The namespace label Cilium gives every pod identity (`k8s:` source). */
export const NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace";

/**
 * A workload labelled `blastradius.io/reference-only: "true"` is a shared cluster service (kube-dns,
 * an ingress controller) that paths may name as a peer, but that the library never selects: it is
 * never put in default deny, so unmodelled pods that depend on it keep working.
 */
export const REFERENCE_ONLY_LABEL = "blastradius.io/reference-only";

/** A workload placed on Kubernetes: its pods, as Cilium sees them. */
export interface Pod {
  workload: Workload;
  cluster: string;
  namespace: string;
  podLabels: Record<string, string>;
  referenceOnly: boolean;
}

export function podOf(w: Workload): Pod | undefined {
  const k = w.placements.kubernetes;
  if (!k) return undefined;
  return {
    workload: w,
    cluster: k.cluster,
    namespace: k.namespace,
    podLabels: k.podLabels,
    referenceOnly: w.labels[REFERENCE_ONLY_LABEL] === "true",
  };
}

/** The pods of a plan, by workload name. */
export function podsOf(plan: Plan): Map<string, Pod> {
  const out = new Map<string, Pod>();
  for (const w of plan.policy.workloads) {
    const p = podOf(w);
    if (p) out.set(w.name, p);
  }
  return out;
}

/** Cluster names the plan places workloads in, sorted. */
export function clustersOf(plan: Plan): string[] {
  return [...new Set([...podsOf(plan).values()].map((p) => p.cluster))].sort();
}

const isSuperset = (big: Record<string, string>, small: Record<string, string>) =>
  Object.entries(small).every(([k, v]) => big[k] === v);

/**
 * Selectors that pick exactly one workload's pods among the modelled pods of its namespace: its pod
 * labels, plus a `NotIn` for every other workload whose pod labels are a strict superset (those pods
 * carry the labels too). Two workloads with identical pod labels in one namespace cannot be told
 * apart by Cilium: that is an error.
 */
export class PodSelectors {
  private readonly byNamespace = new Map<string, Pod[]>();
  private readonly cache = new Map<string, EndpointSelector>();
  private readonly groups = new Map<string, EndpointSelector | undefined>();

  constructor(pods: Iterable<Pod>) {
    for (const p of pods) {
      const key = `${p.cluster}/${p.namespace}`;
      let list = this.byNamespace.get(key);
      if (!list) this.byNamespace.set(key, (list = []));
      list.push(p);
    }
  }

  /** The selector of `pod` within its own namespace (no namespace label). */
  own(pod: Pod): EndpointSelector {
    const key = pod.workload.name;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const notIn = new Map<string, Set<string>>();
    for (const other of this.byNamespace.get(`${pod.cluster}/${pod.namespace}`) ?? []) {
      if (other === pod || !isSuperset(other.podLabels, pod.podLabels)) continue;
      const extra = Object.keys(other.podLabels)
        .filter((k) => !(k in pod.podLabels))
        .sort();
      if (extra.length === 0)
        throw new Error(
          `workloads "${pod.workload.name}" and "${other.workload.name}" have the same podLabels in cluster "${pod.cluster}", namespace "${pod.namespace}": Cilium cannot tell their pods apart; give one of them a distinguishing pod label`,
        );
      const k = extra[0]!;
      let set = notIn.get(k);
      if (!set) notIn.set(k, (set = new Set()));
      set.add(other.podLabels[k]!);
    }
    const selector: EndpointSelector = { matchLabels: sortedRecord(pod.podLabels) };
    if (notIn.size > 0)
      selector.matchExpressions = [...notIn.keys()].sort().map((k) => ({
        key: k,
        operator: "NotIn" as const,
        values: [...notIn.get(k)!].sort(),
      }));
    this.cache.set(key, selector);
    return selector;
  }

  /**
   * One selector for several pods of one namespace, when an exact one exists: their common labels
   * alone, or those plus `key In [values]` on a key they all carry, checked to select exactly these
   * pods among the namespace's modelled pods. Never the empty selector (it would also select every
   * unmodelled pod of the namespace). Undefined when no such selector exists (render one per pod).
   */
  group(pods: readonly Pod[]): EndpointSelector | undefined {
    if (pods.length === 1) return this.own(pods[0]!);
    // Callers pass the same (cached) arrays again and again: remember the answer per array.
    if (this.groupOfArray.has(pods)) return this.groupOfArray.get(pods);
    const found = this.groupOf(pods);
    this.groupOfArray.set(pods, found);
    return found;
  }

  private readonly groupOfArray = new WeakMap<readonly Pod[], EndpointSelector | undefined>();

  private groupOf(pods: readonly Pod[]): EndpointSelector | undefined {
    const first = pods[0]!;
    const cacheKey = `${first.cluster}/${first.namespace}\u0000${pods.map((p) => p.workload.name).join("\u0000")}`;
    if (this.groups.has(cacheKey)) return this.groups.get(cacheKey);
    const ns = this.byNamespace.get(`${first.cluster}/${first.namespace}`) ?? [];
    const common: Record<string, string> = {};
    for (const [k, v] of Object.entries(first.podLabels))
      if (pods.every((p) => p.podLabels[k] === v)) common[k] = v;
    const commonEntries = Object.entries(common);
    const hasCommon = (p: Pod) => commonEntries.every(([k, v]) => p.podLabels[k] === v);
    const wanted = new Set(pods);
    let found: EndpointSelector | undefined;
    if (
      commonEntries.length > 0 &&
      ns.every((p) => hasCommon(p) === wanted.has(p)) &&
      !admitsUnmodelled({ matchLabels: common }, pods)
    )
      found = { matchLabels: sortedRecord(common) };
    const keys = found
      ? []
      : Object.keys(first.podLabels)
          .filter((k) => !(k in common) && pods.every((p) => k in p.podLabels))
          .sort();
    for (const key of keys) {
      const values = [...new Set(pods.map((p) => p.podLabels[key]!))].sort();
      const inValues = new Set(values);
      const picks = (p: Pod) =>
        hasCommon(p) && p.podLabels[key] !== undefined && inValues.has(p.podLabels[key]!);
      if (ns.every((p) => picks(p) === wanted.has(p))) {
        const candidate: EndpointSelector = { matchExpressions: [{ key, operator: "In", values }] };
        if (commonEntries.length > 0) candidate.matchLabels = sortedRecord(common);
        if (admitsUnmodelled(candidate, pods)) continue;
        found = candidate;
        break;
      }
    }
    this.groups.set(cacheKey, found);
    return found;
  }

  /**
   * Selectors for pods of one namespace as the subject or peer of a rule in a policy of namespace
   * `policyNamespace` (undefined: clusterwide): one selector for all of them when `group` finds one,
   * else one per pod; each with the pods it picks.
   */
  subjects(
    pods: readonly Pod[],
    policyNamespace: string | undefined,
  ): ReadonlyArray<{ selector: EndpointSelector; pods: readonly Pod[] }> {
    let byNs = this.subjectsOf.get(pods);
    if (!byNs) this.subjectsOf.set(pods, (byNs = new Map()));
    const hit = byNs.get(policyNamespace);
    if (hit) return hit;
    const group = this.group(pods);
    const out = group
      ? [{ selector: this.scoped(group, pods[0]!.namespace, policyNamespace), pods: [...pods] }]
      : pods.map((p) => ({ selector: this.peer(p, policyNamespace), pods: [p] }));
    byNs.set(policyNamespace, out);
    return out;
  }

  /** `subjects` per pods array and policy namespace (callers pass cached arrays; results are read-only). */
  private readonly subjectsOf = new WeakMap<
    readonly Pod[],
    Map<string | undefined, ReadonlyArray<{ selector: EndpointSelector; pods: readonly Pod[] }>>
  >();

  /**
   * The selector of `pod` as a peer or subject of a policy in namespace `policyNamespace`
   * (undefined: a clusterwide policy). The namespace label is added unless the policy's own
   * namespace defaulting already scopes it.
   */
  peer(pod: Pod, policyNamespace: string | undefined): EndpointSelector {
    return this.scoped(this.own(pod), pod.namespace, policyNamespace);
  }

  private scoped(selector: EndpointSelector, namespace: string, policyNamespace: string | undefined) {
    if (policyNamespace === namespace) return selector;
    return { ...selector, matchLabels: { ...selector.matchLabels, [NAMESPACE_LABEL]: namespace } };
  }
}

/**
 * Whether some pod the model does not name could match the selector: labels that satisfy it while
 * carrying none of the wanted workloads' podLabels (a pod carrying them is that workload, by the
 * binding contract). A group selector must not, or it admits pods nobody modelled (DESIGN.md rule 8).
 */
function admitsUnmodelled(selector: EndpointSelector, wanted: readonly Pod[]): boolean {
  const reqs: LabelRequirement[] = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, v]) => ({
      source: "any",
      key,
      op: "In" as const,
      values: [v],
    })),
    ...(selector.matchExpressions ?? []).map((e) => ({
      source: "any",
      key: e.key,
      op: e.operator,
      values: e.values ?? [],
    })),
  ];
  const classes = labelClasses(
    [reqs],
    wanted.map((p) => new Map(Object.entries(p.podLabels))),
    new Map(),
  );
  // Too many combinations to tell: take it as admitting (render one selector per workload).
  return classes === undefined || classes.some((c) => c.matches.includes(0));
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
