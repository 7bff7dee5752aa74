/*
 * The labels Kubernetes controllers add to the pods they create, beside the pod template's own
 * (Kubernetes "Well-Known Labels, Annotations and Taints"; the controllers' sources):
 *
 * - Deployment: `pod-template-hash` (a hash of the template, unknown before apply).
 * - StatefulSet: `statefulset.kubernetes.io/pod-name` = `<name>-<ordinal>`,
 *   `apps.kubernetes.io/pod-index` = `<ordinal>` (Kubernetes 1.28+), `controller-revision-hash`
 *   (unknown). Ordinals start at `spec.ordinals.start` (default 0); replicas can be scaled outside
 *   the stack, so every ordinal from the start is possible.
 * - DaemonSet: `controller-revision-hash` (unknown), `pod-template-generation` (the DaemonSet's
 *   generation, an integer from 1).
 * - Job (unless `spec.manualSelector`): `controller-uid` and `batch.kubernetes.io/controller-uid`
 *   (1.27+) = the Job's uid (unknown), `job-name` and `batch.kubernetes.io/job-name` (1.27+) = its
 *   name; an Indexed Job adds `batch.kubernetes.io/job-completion-index` (1.28+, from 0).
 * - CronJob: its Jobs are named `<cronjob>-<scheduled time in minutes>`, and their pods get the Job's
 *   labels above.
 * - ReplicaSet, ReplicationController, Pod: none.
 *
 * A controller's label replaces a template label of the same key.
 *
 * A value unknown before apply (a hash, a uid, which ordinal) is not "any value at once": each pod
 * has one. So the proof does not let a selector naming such a label "maybe match"; it enumerates
 * the pod's possible label sets as variants (`podLabelVariants`): for each such label a selector
 * names, every value a selector (or a workload's podLabels) names that the label can take, plus one
 * value nothing names, and, for a label only newer Kubernetes versions add, its absence. Each
 * variant is a concrete pod judged exactly; a forbid is open when it is open for any variant and an
 * allow holds only when it holds for every variant. So an unknown value can neither hide an opening
 * (a foreign policy selecting `job-name=db-backup` is seen) nor make an allow look open that a pod
 * with another value would not get (a rule for `controller-uid=<one uid>` does not prove the allow).
 * Labels no selector names get one representative value (what it is cannot change any verdict).
 */

/** One label of a dimension: its key, and the fixed text before the dimension's token. */
export interface ControllerLabel {
  key: string;
  prefix: string;
  /** Added only by newer Kubernetes versions: it may be absent. */
  optional: boolean;
}

/** Labels that carry one value (token) together: `job-name` and `batch.kubernetes.io/job-name`. */
export interface LabelDimension {
  labels: ControllerLabel[];
  /** The token: known exactly, any canonical decimal integer from `min`, or any value. */
  token: { exact: string } | { min: number } | "any";
}

/** A value no selector names (not a valid label value, so none can). */
export const UNNAMED = "<other>";

const label = (key: string, prefix = "", optional = false): ControllerLabel => ({ key, prefix, optional });

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The labels a Job's controller adds to its pods, the Job named `name` (undefined: unknown). */
function jobLabels(
  spec: Record<string, unknown> | undefined,
  name: LabelDimension["token"],
): LabelDimension[] {
  if (spec?.manualSelector === true) return [];
  const out: LabelDimension[] = [
    {
      labels: [label("controller-uid"), label("batch.kubernetes.io/controller-uid", "", true)],
      token: "any",
    },
  ];
  const named = (prefix: string): LabelDimension => ({
    labels: [label("job-name", prefix), label("batch.kubernetes.io/job-name", prefix, true)],
    token: name,
  });
  out.push(named(""));
  if (spec?.completionMode === "Indexed")
    out.push({ labels: [label("batch.kubernetes.io/job-completion-index", "", true)], token: { min: 0 } });
  return out;
}

/**
 * The labels the controller of `kind` adds to the pods of `object` (its spec as the API server
 * holds it), named `name` (undefined when the name is unknown: Pulumi auto-naming).
 */
export function controllerLabels(
  kind: string,
  name: string | undefined,
  object: Record<string, unknown>,
): LabelDimension[] {
  const spec = obj(object.spec);
  switch (kind) {
    case "Deployment":
      return [{ labels: [label("pod-template-hash")], token: "any" }];
    case "StatefulSet": {
      const start = obj(spec?.ordinals)?.start;
      const min = typeof start === "number" && Number.isInteger(start) && start >= 0 ? start : 0;
      const hash: LabelDimension = { labels: [label("controller-revision-hash")], token: "any" };
      const index = label("apps.kubernetes.io/pod-index", "", true);
      if (name === undefined)
        return [
          hash,
          { labels: [label("statefulset.kubernetes.io/pod-name")], token: "any" },
          { labels: [index], token: { min } },
        ];
      return [
        hash,
        { labels: [label("statefulset.kubernetes.io/pod-name", `${name}-`), index], token: { min } },
      ];
    }
    case "DaemonSet":
      return [
        { labels: [label("controller-revision-hash")], token: "any" },
        { labels: [label("pod-template-generation")], token: { min: 1 } },
      ];
    case "Job":
      return jobLabels(spec, name === undefined ? "any" : { exact: name });
    case "CronJob": {
      const job = obj(obj(spec?.jobTemplate)?.spec);
      const dims = jobLabels(job, name === undefined ? "any" : { min: 0 });
      // The Jobs' names: `<cronjob>-<minutes>`.
      if (name !== undefined)
        for (const d of dims)
          if (d.labels[0]!.key === "job-name") d.labels = d.labels.map((l) => ({ ...l, prefix: `${name}-` }));
      return dims;
    }
    default:
      return [];
  }
}

const INTEGER = /^(0|[1-9][0-9]{0,17})$/;

/** The tokens worth trying for a dimension: the named ones it can take, and one nothing names. */
function tokens(d: LabelDimension, named: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  if (typeof d.token === "object" && "exact" in d.token) return [d.token.exact];
  const min = typeof d.token === "object" ? d.token.min : undefined;
  const set = new Set<string>();
  for (const l of d.labels)
    for (const v of named.get(l.key) ?? []) {
      if (!v.startsWith(l.prefix)) continue;
      const t = v.slice(l.prefix.length);
      if (min === undefined ? t !== "" : INTEGER.test(t) && Number(t) >= min) set.add(t);
    }
  const out = [...set].sort();
  if (min === undefined) out.push(UNNAMED);
  else {
    let n = min;
    while (set.has(String(n))) n++;
    out.push(String(n));
  }
  return out;
}

/**
 * Every label set a pod with template labels `known` and the controller's `dims` can carry that the
 * selectors can tell apart (`named`: the values each label key is named with by a selector or a
 * workload's podLabels; a key named only by Exists/DoesNotExist maps to an empty set). Undefined
 * when there would be more than `limit`.
 */
export function podLabelVariants(
  known: ReadonlyMap<string, string>,
  dims: readonly LabelDimension[],
  named: ReadonlyMap<string, ReadonlySet<string>>,
  limit = 64,
): Array<Map<string, string>> | undefined {
  let out: Array<Map<string, string>> = [new Map(known)];
  for (const d of dims) {
    const relevant = d.labels.some((l) => named.has(l.key));
    const ts = relevant ? tokens(d, named) : [tokens(d, new Map()).at(-1)!];
    // Each optional label a selector names may be absent (an older cluster).
    const optional = d.labels.filter((l) => l.optional && named.has(l.key));
    const next: Array<Map<string, string>> = [];
    for (const base of out)
      for (const t of ts)
        for (let mask = 0; mask < 1 << optional.length; mask++) {
          const m = new Map(base);
          for (const l of d.labels) {
            const i = optional.indexOf(l);
            if (i < 0 || !(mask & (1 << i))) m.set(l.key, `${l.prefix}${t}`);
            else if (known.has(l.key)) m.set(l.key, known.get(l.key)!);
            else m.delete(l.key);
          }
          next.push(m);
          if (next.length > limit) return undefined;
        }
    out = next;
  }
  return out;
}
