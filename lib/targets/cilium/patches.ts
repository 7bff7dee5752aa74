import { UNKNOWN_VALUE } from "../../verify/binding";
import type { ResourceRecord } from "../../verify/types";

/*
 * Pulumi's server-side apply patches (`kubernetes.apps.v1.DeploymentPatch`, `…NamespacePatch`, type
 * token `<type>Patch`) change an object the API server already holds, identified by kind, namespace
 * and name. Server-side apply merges a patch's maps into the object key by key; a field two
 * managers set to different values is a conflict the API server refuses (or, forced, decides by who
 * applied last), so the result is not known from the stack.
 *
 * The proof applies every recorded patch of a kind it reads to the recorded object it names (same
 * type, provider, namespace and name) before binding. It cannot apply exactly, and reports, a patch
 * naming an object the stack does not create (its other labels are unknown) or one whose name is
 * unknown until apply, one that sets a field the proof reads to null, and two sources (the object
 * and a patch, or two patches) setting such a field to different values.
 */

/** A patch the proof cannot apply exactly, for an `unknown` error finding. */
export interface KubernetesProblem {
  resource: string;
  message: string;
}

export const PATCH_SUFFIX = "Patch";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** Whether a path (dot-joined) is one the proof reads, per patched type (see `readPaths`). */
export type ReadPaths = (type: string) => (path: string) => boolean;

/** Merges `patch` into `target` (a copy), reporting read leaves set to null or to another value. */
function merge(
  target: Obj,
  patch: Obj,
  path: string,
  reads: (path: string) => boolean,
  problems: string[],
): Obj {
  // Keys are hostile (a label named `__proto__`): own properties only, defined, never assigned.
  const out: Obj = { ...target };
  const set = (k: string, v: unknown) =>
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(patch)) {
    const p = path ? `${path}.${k}` : k;
    const cur = Object.hasOwn(out, k) ? out[k] : undefined;
    if (v === null) {
      if (reads(p)) problems.push(`sets ${p} to null (server-side apply removal is not modelled)`);
      continue;
    }
    if (isObj(v) && (cur === undefined || isObj(cur))) {
      set(k, merge(cur ?? {}, v, p, reads, problems));
      continue;
    }
    if (cur !== undefined && reads(p) && JSON.stringify(cur) !== JSON.stringify(v))
      problems.push(`sets ${p} to ${JSON.stringify(v)} where another source sets ${JSON.stringify(cur)}`);
    set(k, v);
  }
  return out;
}

function identity(r: ResourceRecord, type: string, namespaced: (type: string) => boolean) {
  const meta = isObj(r.inputs.metadata) ? r.inputs.metadata : {};
  const name =
    typeof meta.name === "string" && meta.name !== "" && meta.name !== UNKNOWN_VALUE ? meta.name : undefined;
  const ns = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default";
  const namespace = namespaced(type) ? ns : "";
  return {
    name,
    namespaceUnknown: meta.namespace === UNKNOWN_VALUE,
    shown: namespace ? `${namespace}/${name ?? "<unknown>"}` : (name ?? "<unknown>"),
    key: `${type}\u0000${r.provider ?? ""}\u0000${namespace}\u0000${name}`,
  };
}

/**
 * The records with each patch of a `patchable` type applied to the object it names (patches
 * themselves dropped), and the patches that could not be applied exactly.
 */
export function applyPatches(
  records: readonly ResourceRecord[],
  patchable: ReadonlySet<string>,
  reads: ReadPaths,
  namespaced: (type: string) => boolean,
): { records: ResourceRecord[]; problems: KubernetesProblem[] } {
  const problems: KubernetesProblem[] = [];
  const targets = new Map<string, number>();
  const out: ResourceRecord[] = [];
  for (const r of records) {
    if (r.type.endsWith(PATCH_SUFFIX) && patchable.has(r.type.slice(0, -PATCH_SUFFIX.length))) continue;
    if (patchable.has(r.type)) {
      const id = identity(r, r.type, namespaced);
      if (id.name !== undefined && !id.namespaceUnknown) targets.set(id.key, out.length);
    }
    out.push(r);
  }
  for (const r of records) {
    if (!r.type.endsWith(PATCH_SUFFIX)) continue;
    const type = r.type.slice(0, -PATCH_SUFFIX.length);
    if (!patchable.has(type)) continue;
    const kind = type.slice(type.lastIndexOf(":") + 1);
    const id = identity(r, type, namespaced);
    const resource = `${kind}${PATCH_SUFFIX} "${r.name}"`;
    if (id.name === undefined || id.namespaceUnknown) {
      problems.push({
        resource,
        message: `${resource}: the ${kind} it patches is unknown until apply (its metadata.name or namespace); the proof cannot tell which object it changes`,
      });
      continue;
    }
    const at = targets.get(id.key);
    if (at === undefined) {
      problems.push({
        resource,
        message: `${resource} patches ${kind} ${id.shown}, which this stack does not create (with the same provider); the proof cannot know that object's other labels: create it in this stack, or set the labels where it is created`,
      });
      continue;
    }
    const base = out[at]!;
    const issues: string[] = [];
    const { metadata: _ignored, ...rest } = r.inputs;
    const meta = isObj(r.inputs.metadata) ? r.inputs.metadata : {};
    // The patch's identity fields name the object; the rest merges into it.
    const { name: _n, namespace: _ns, ...metaRest } = meta;
    const merged = merge(base.inputs, { ...rest, metadata: metaRest }, "", reads(type), issues);
    if (issues.length > 0) {
      problems.push({
        resource,
        message: `${resource} cannot be applied exactly to ${kind} ${id.shown}: it ${issues.join("; ")}; the proof cannot tell the object's resulting labels`,
      });
      continue;
    }
    out[at] = { ...base, inputs: merged };
  }
  return { records: out, problems };
}
