import { UNKNOWN_VALUE } from "../../verify/binding";
import type { ResourceRecord } from "../../verify/types";
import { controllerLabels, type LabelDimension } from "./controller-labels";
import { applyPatches, type KubernetesProblem, PATCH_SUFFIX, type ReadPaths } from "./patches";

/*
 * Which pods a stack really runs, with which labels: the binding contract read from recorded
 * Kubernetes objects (or `kubectl get pods -A -o json`). A pod (or the pod template of a
 * Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job or CronJob) is bound to the workload placed
 * in its cluster and namespace whose `podLabels` its labels carry. Its other labels matter too:
 * every selector of every policy sees them.
 */

/** Kubernetes kinds that run pods, by Pulumi type token, with the path of their pod template. */
const POD_TEMPLATES: Record<string, { kind: string; template: readonly string[] }> = {
  "kubernetes:core/v1:Pod": { kind: "Pod", template: [] },
  "kubernetes:apps/v1:Deployment": { kind: "Deployment", template: ["spec", "template"] },
  "kubernetes:apps/v1:StatefulSet": { kind: "StatefulSet", template: ["spec", "template"] },
  "kubernetes:apps/v1:DaemonSet": { kind: "DaemonSet", template: ["spec", "template"] },
  "kubernetes:apps/v1:ReplicaSet": { kind: "ReplicaSet", template: ["spec", "template"] },
  "kubernetes:core/v1:ReplicationController": {
    kind: "ReplicationController",
    template: ["spec", "template"],
  },
  "kubernetes:batch/v1:Job": { kind: "Job", template: ["spec", "template"] },
  "kubernetes:batch/v1:CronJob": { kind: "CronJob", template: ["spec", "jobTemplate", "spec", "template"] },
};

/** `table[key]` for own keys only (a type named `constructor` is no entry). */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The Pulumi type tokens of what runs pods. */
export const POD_TYPES: ReadonlySet<string> = new Set(Object.keys(POD_TEMPLATES));

/** What the proof reads of an object besides its pod labels (controller-labels.ts). */
const READ_SPEC = new Set([
  "spec.ordinals.start",
  "spec.manualSelector",
  "spec.completionMode",
  "spec.jobTemplate.spec.manualSelector",
  "spec.jobTemplate.spec.completionMode",
]);

/** Whether the proof reads a field (dot-joined path) of an object of `type`: patches must not race on it. */
const readPaths: ReadPaths = (type) => {
  const t = own(POD_TEMPLATES, type);
  // A Namespace's own labels; a pod-running object's pod (template) labels.
  const labels = [...(t?.template ?? []), "metadata", "labels"].join(".");
  return (path) =>
    path === labels || path.startsWith(`${labels}.`) || (t !== undefined && READ_SPEC.has(path));
};

/** Namespaces: their labels are what `namespaceSelector`s match. */
export const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";

/** Kinds the proof reads that live in a namespace (pod-running kinds). */
const namespaced = (type: string) => POD_TYPES.has(type);

/** The Pulumi types whose patches the proof applies. */
const PATCHABLE: ReadonlySet<string> = new Set([...POD_TYPES, NAMESPACE_TYPE]);

/** The Pulumi type tokens of patches the proof applies. */
export const PATCH_TYPES: ReadonlySet<string> = new Set([...PATCHABLE].map((t) => `${t}${PATCH_SUFFIX}`));

function at(o: unknown, path: readonly string[]): unknown {
  let v = o;
  for (const k of path) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Pods (or the pods of one template) as the stack runs them. */
export interface PodCompute {
  /** `<Kind> <namespace>/<name>` for findings. */
  resource: string;
  namespace: string;
  /** The pod labels (user keys, in a Map: never an object built from them). */
  labels: Map<string, string>;
  /** The labels its controller adds (see `controller-labels.ts`); they replace template labels. */
  generated?: LabelDimension[];
  /** The cluster, when the record says (its provider), else undefined. */
  provider?: string;
  /** A label or the namespace unknown during a preview. */
  unknown: boolean;
}

function labelsOf(v: unknown): { labels: Map<string, string>; unknown: boolean } {
  const labels = new Map<string, string>();
  let unknown = v === UNKNOWN_VALUE;
  if (v && typeof v === "object" && !Array.isArray(v))
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (val === UNKNOWN_VALUE) unknown = true;
      else if (typeof val === "string") labels.set(k, val);
    }
  return { labels, unknown };
}

/**
 * Every pod-running object of the records, with its namespace and pod labels, as recorded (patches
 * are not applied: see `readKubernetes`).
 */
export function podComputes(records: readonly ResourceRecord[]): PodCompute[] {
  const out: PodCompute[] = [];
  for (const r of records) {
    const t = own(POD_TEMPLATES, r.type);
    if (!t) continue;
    // What a blastradius component runs itself (the BlueField agent's DaemonSet, on the DPUs) is
    // no application workload.
    if (r.parent?.includes("::blastradius:")) continue;
    out.push(podCompute(t.kind, r.name, r.inputs, at(r.inputs, t.template), r.provider));
  }
  return out;
}

/** A Namespace the stack creates, with its labels. */
export interface NamespaceLabels {
  name: string;
  /** Its labels (the API server's `kubernetes.io/metadata.name` aside). */
  labels: Map<string, string>;
  provider?: string;
  /** A label unknown during a preview. */
  unknown: boolean;
}

/**
 * The Namespaces of the records with a known name (an auto-named one cannot be told from any other
 * namespace: the proof's "other namespaces" may carry any labels).
 */
export function namespacesOf(records: readonly ResourceRecord[]): NamespaceLabels[] {
  const out: NamespaceLabels[] = [];
  for (const r of records) {
    if (r.type !== NAMESPACE_TYPE) continue;
    const meta = (r.inputs.metadata ?? {}) as Record<string, unknown>;
    if (typeof meta.name !== "string" || meta.name === "" || meta.name === UNKNOWN_VALUE) continue;
    const { labels, unknown } = labelsOf(meta.labels);
    labels.delete("kubernetes.io/metadata.name");
    const ns: NamespaceLabels = { name: meta.name, labels, unknown };
    if (r.provider) ns.provider = r.provider;
    out.push(ns);
  }
  return out;
}

/**
 * What deploys Kubernetes objects the recorded stack may not hold, by Pulumi type: a Helm release
 * (Helm, not Pulumi, creates its objects: never recorded), and the components that render charts,
 * manifests or kustomizations into child resources (recorded when the engine ran them, absent when
 * it did not, as under mocks or when rendering failed).
 */
const OPAQUE: Record<string, { what: string; always: boolean }> = {
  "kubernetes:helm.sh/v3:Release": { what: "Helm Release", always: true },
  "kubernetes:helm.sh/v3:Chart": { what: "Helm Chart (v3)", always: false },
  "kubernetes:helm.sh/v4:Chart": { what: "Helm Chart (v4)", always: false },
  "kubernetes:yaml:ConfigFile": { what: "ConfigFile", always: false },
  "kubernetes:yaml:ConfigGroup": { what: "ConfigGroup", always: false },
  "kubernetes:yaml/v2:ConfigFile": { what: "ConfigFile (v2)", always: false },
  "kubernetes:yaml/v2:ConfigGroup": { what: "ConfigGroup (v2)", always: false },
  "kubernetes:kustomize:Directory": { what: "kustomize Directory", always: false },
  "kubernetes:kustomize/v2:Directory": { what: "kustomize Directory (v2)", always: false },
};

/**
 * Patches of network policies: server-side apply can add rules to a policy, and the proof reads
 * policies as they are created (policy patches are not applied): each is an `unknown` error.
 */
const POLICY_PATCHES: Record<string, string> = {
  "kubernetes:networking.k8s.io/v1:NetworkPolicyPatch": "NetworkPolicyPatch",
  "kubernetes:cilium.io/v2:CiliumNetworkPolicyPatch": "CiliumNetworkPolicyPatch",
  "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicyPatch": "CiliumClusterwideNetworkPolicyPatch",
};

/**
 * Each policy patch, Helm release, and chart, manifest or kustomization component none of whose
 * objects is recorded: what it deploys can run pods with any labels and create NetworkPolicies and
 * CiliumNetworkPolicies that open traffic, none of which the proof sees, so it is an `unknown`
 * error naming it (not a warning: the proof would otherwise pass without knowing).
 */
export function opaqueObjects(records: readonly ResourceRecord[]): KubernetesProblem[] {
  const parents = new Set(records.flatMap((r) => (r.parent ? [r.parent] : [])));
  const out: KubernetesProblem[] = [];
  for (const r of records) {
    const patch = own(POLICY_PATCHES, r.type);
    if (patch) {
      const resource = `${patch} "${r.name}"`;
      out.push({
        resource,
        message: `${resource}: the proof reads network policies as they are created and does not apply patches to them; a patch can add rules that open traffic: set the rules where the policy is created`,
      });
      continue;
    }
    const o = own(OPAQUE, r.type);
    if (!o || (!o.always && r.urn !== undefined && parents.has(r.urn))) continue;
    const detail = [
      typeof r.inputs.chart === "string" && r.inputs.chart !== UNKNOWN_VALUE ? `chart ${r.inputs.chart}` : "",
      typeof r.inputs.namespace === "string" && r.inputs.namespace !== UNKNOWN_VALUE
        ? `namespace ${r.inputs.namespace}`
        : "",
    ].filter((x) => x !== "");
    const resource = `${o.what} "${r.name}"`;
    out.push({
      resource,
      message: `${resource}${detail.length > 0 ? ` (${detail.join(", ")})` : ""}: ${
        o.always ? "Helm creates its objects, not Pulumi" : "none of its objects is recorded"
      }; the pods it runs and the network policies it creates can open traffic the proof cannot see: deploy them as recorded resources (helm.v3.Chart renders a chart into them) or check the cluster with \`blastradius audit\``,
    });
  }
  return out;
}

/** What the proof reads of a stack's Kubernetes objects, and what it cannot read exactly. */
export interface KubernetesObjects {
  pods: PodCompute[];
  namespaces: NamespaceLabels[];
  problems: KubernetesProblem[];
}

/** The stack's pods and namespaces, with the server-side apply patches of the stack applied (patches.ts). */
export function readKubernetes(records: readonly ResourceRecord[]): KubernetesObjects {
  const patched = applyPatches(records, PATCHABLE, readPaths, namespaced);
  return {
    pods: podComputes(patched.records),
    namespaces: namespacesOf(patched.records),
    problems: [...patched.problems, ...opaqueObjects(records)],
  };
}

/** One object from its inputs (or a kubectl item) and its pod template. */
export function podCompute(
  kind: string,
  name: string,
  object: Record<string, unknown>,
  template: unknown,
  provider?: string,
): PodCompute {
  const meta = (object.metadata ?? {}) as Record<string, unknown>;
  const ns = meta.namespace;
  const namespace = typeof ns === "string" && ns !== "" && ns !== UNKNOWN_VALUE ? ns : "default";
  const tmeta = ((template as Record<string, unknown> | undefined)?.metadata ?? {}) as Record<
    string,
    unknown
  >;
  const { labels, unknown } = labelsOf(tmeta.labels);
  const known = typeof meta.name === "string" && meta.name !== "" && meta.name !== UNKNOWN_VALUE;
  const objectName = known ? (meta.name as string) : name;
  const c: PodCompute = {
    resource: `${kind} ${namespace}/${objectName}`,
    namespace,
    labels,
    // Without a name, Pulumi auto-names the object (a random suffix): the name is unknown.
    generated: controllerLabels(kind, known ? (meta.name as string) : undefined, object),
    unknown: unknown || ns === UNKNOWN_VALUE,
  };
  if (provider) c.provider = provider;
  return c;
}

/** Pods of `kubectl get pods -A -o json` (a List, or one Pod). */
export function podsFromKubectl(json: unknown): PodCompute[] {
  const doc = (typeof json === "string" ? JSON.parse(json) : json) as Record<string, unknown>;
  const items = Array.isArray(doc.items) ? doc.items : [doc];
  return items.map((o) => {
    const object = o as Record<string, unknown>;
    return podCompute("Pod", "pod", object, object);
  });
}
