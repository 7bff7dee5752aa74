/*
 * The pods the model does not name, as classes a cluster's policies cannot tell apart.
 *
 * A pod of a namespace that carries none of the workloads' `podLabels` there can carry any other
 * labels. What a policy sees of it is which selectors (endpoint selectors and peer selectors) match
 * its labels, so the unmodelled pods of a namespace fall into classes, one per set of selectors some
 * label assignment matches while matching no workload's `podLabels`. Each class is found with a
 * witness: labels that realise it. Only the values the selectors and workloads name can matter for
 * a key, plus one value none names and the key's absence, so the search runs over those, key by
 * key, keeping one witness per distinct set of still-satisfiable selectors.
 */

/** One selector requirement, in the evaluator's form (`source` "any" matches every label source). */
export interface LabelRequirement {
  source: string;
  key: string;
  op: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values: readonly string[];
}

/** A value no selector and no workload names (not a valid label value, so none can). */
export const OTHER_VALUE = "<other>";

const ABSENT = Symbol("absent");
type Choice = string | typeof ABSENT;

function holds(reqs: readonly LabelRequirement[], value: Choice): boolean {
  for (const q of reqs) {
    // Pod labels come from Kubernetes: a requirement on another source sees no label.
    const v = q.source === "any" || q.source === "k8s" ? value : ABSENT;
    switch (q.op) {
      case "In":
        if (v === ABSENT || !q.values.includes(v)) return false;
        break;
      case "NotIn":
        if (v !== ABSENT && q.values.includes(v)) return false;
        break;
      case "Exists":
        if (v === ABSENT) return false;
        break;
      case "DoesNotExist":
        if (v !== ABSENT) return false;
        break;
    }
  }
  return true;
}

export interface LabelClass {
  /** The pod's labels (free keys only; fixed ones are the caller's), a witness of the class. */
  labels: Map<string, string>;
  /** The selectors (by index) it matches. */
  matches: number[];
}

/**
 * The classes of pods that carry `fixed` labels (namespace, cluster; a key fixed to `undefined` is
 * absent), match none of `excluded` (workloads' podLabels), and differ in which of `selectors` they
 * match. Undefined when the search would keep more than `limit` states (too many label combinations
 * to enumerate).
 */
export function labelClasses(
  selectors: ReadonlyArray<readonly LabelRequirement[]>,
  excluded: ReadonlyArray<ReadonlyMap<string, string>>,
  fixed: ReadonlyMap<string, string | undefined>,
  limit = 20_000,
): LabelClass[] | undefined {
  // Requirements on fixed keys decide at once; the rest are grouped by key.
  const alive0: boolean[] = [];
  const byKey = new Map<string, Array<{ sel: number; reqs: LabelRequirement[] }>>();
  selectors.forEach((reqs, i) => {
    let ok = true;
    const free = new Map<string, LabelRequirement[]>();
    for (const q of reqs) {
      if (fixed.has(q.key)) {
        if (!holds([q], fixed.get(q.key) ?? ABSENT)) ok = false;
      } else {
        const l = free.get(q.key);
        if (l) l.push(q);
        else free.set(q.key, [q]);
      }
    }
    alive0.push(ok);
    if (!ok) return;
    for (const [key, list] of free) {
      const l = byKey.get(key);
      if (l) l.push({ sel: i, reqs: list });
      else byKey.set(key, [{ sel: i, reqs: list }]);
    }
  });
  const excludedByKey = new Map<string, Array<{ w: number; value: string }>>();
  excluded.forEach((labels, w) => {
    for (const [key, value] of labels) {
      if (fixed.has(key)) continue;
      const l = excludedByKey.get(key);
      if (l) l.push({ w, value });
      else excludedByKey.set(key, [{ w, value }]);
    }
  });
  // A workload whose podLabels disagree with a fixed label can never match: it is no constraint.
  const excludedAlive0 = excluded.map((labels) =>
    [...labels].every(([k, v]) => !fixed.has(k) || fixed.get(k) === v),
  );

  const keys = [...new Set([...byKey.keys(), ...excludedByKey.keys()])].sort();
  interface State {
    sel: boolean[];
    exc: boolean[];
    labels: Map<string, string>;
  }
  let states: State[] = [{ sel: alive0, exc: excludedAlive0, labels: new Map() }];
  for (const key of keys) {
    const reqs = byKey.get(key) ?? [];
    const exc = excludedByKey.get(key) ?? [];
    const values = new Set<string>();
    for (const r of reqs) for (const q of r.reqs) for (const v of q.values) values.add(v);
    for (const e of exc) values.add(e.value);
    const choices: Choice[] = [...[...values].sort(), OTHER_VALUE, ABSENT];
    const next = new Map<string, State>();
    for (const s of states)
      for (const c of choices) {
        const sel = s.sel.slice();
        for (const r of reqs) if (sel[r.sel] && !holds(r.reqs, c)) sel[r.sel] = false;
        const ex = s.exc.slice();
        for (const e of exc) if (ex[e.w] && c !== e.value) ex[e.w] = false;
        const sig = `${sel.map((b) => (b ? 1 : 0)).join("")}|${ex.map((b) => (b ? 1 : 0)).join("")}`;
        if (next.has(sig)) continue;
        const labels = new Map(s.labels);
        if (c !== ABSENT) labels.set(key, c);
        next.set(sig, { sel, exc: ex, labels });
      }
    if (next.size > limit) return undefined;
    states = [...next.values()];
  }
  const out = new Map<string, LabelClass>();
  for (const s of states) {
    if (s.exc.some((b) => b)) continue; // it carries a workload's podLabels: that workload, not unmodelled
    const matches = s.sel.flatMap((b, i) => (b ? [i] : []));
    const sig = matches.join(",");
    if (!out.has(sig)) out.set(sig, { labels: s.labels, matches });
  }
  return [...out.values()];
}
