import { parsePolicyObject } from "../../lib/model/parse";
import { compile } from "../../lib/plan/compile";
import type { Plan } from "../../lib/plan/types";

/**
 * A plan compiled from a document that validates but that `check` refuses for a target's sake (what
 * a target cannot render exactly): for tests of the renderers' own refusal, the last line behind
 * `check`.
 */
export function uncheckedPlanOf(doc: unknown): Plan {
  const parsed = parsePolicyObject(doc);
  if (!parsed.policy) throw new Error(parsed.diagnostics.map((d) => d.message).join("; "));
  return compile(parsed.policy);
}
