import type { LabelSelector } from "./types";

/** Kubernetes label-selector semantics: every matchLabels entry and every expression must hold. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    // Own labels only: "constructor" or "toString" must not be found on Object.prototype.
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case "In":
        if (!has || !req.values!.includes(value!)) return false;
        break;
      case "NotIn":
        // As in Kubernetes: a workload without the key satisfies NotIn.
        if (has && req.values!.includes(value!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}
