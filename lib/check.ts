import type { Diagnostic } from "./model/diagnostics";
import { PolicyError } from "./model/diagnostics";
import { type ParseResult, parsePolicyObject, parsePolicyText, withPositions } from "./model/parse";
import type { Policy } from "./model/types";
import type { ValidateOptions } from "./model/validate";
import { compile } from "./plan/compile";
import { expressibilityDiagnostics } from "./plan/expressible";
import type { Plan } from "./plan/types";

export interface CheckResult {
  ok: boolean;
  /** Present only when there are no errors: nothing may be rendered otherwise. */
  policy?: Policy;
  plan?: Plan;
  /** Every error and warning of every stage (parse, validation, compile), at once. */
  diagnostics: Diagnostic[];
}

function finish(parsed: ParseResult, file: string | undefined): CheckResult {
  const diagnostics = [...parsed.diagnostics];
  let plan: Plan | undefined;
  if (parsed.partial) {
    // Compile even a partly invalid policy, so that its conflicts are reported in the same run.
    const compiled = compile(parsed.partial, { file, pathLocation: parsed.pathLocation });
    diagnostics.push(...withPositions(compiled.diagnostics, parsed.locate));
    // What a target cannot render exactly is found here, not when `render` or `review` runs.
    const unrenderable = expressibilityDiagnostics(compiled, (name) => ({
      file,
      path: parsed.pathLocation(name),
    }));
    diagnostics.push(...withPositions(unrenderable, parsed.locate));
    plan = compiled;
  }
  const ok = !diagnostics.some((d) => d.severity === "error");
  return ok ? { ok, policy: parsed.policy, plan, diagnostics } : { ok, diagnostics };
}

/** Parse, validate and compile policy text (YAML or JSON). Never throws on bad input. */
export function checkPolicyText(text: string, file?: string, options?: ValidateOptions): CheckResult {
  return finish(parsePolicyText(text, file, options), file);
}

/** The same for an in-memory document, e.g. `PolicyBuilder.toDocument()`. */
export function checkPolicyDocument(doc: unknown, source?: string, options?: ValidateOptions): CheckResult {
  return finish(parsePolicyObject(doc, source, options), source);
}

/** Like `checkPolicyDocument`/`checkPolicyText`, but throws a PolicyError carrying every diagnostic. */
export function compilePolicy(
  input: { text: string; file?: string } | { document: unknown; source?: string },
  options?: ValidateOptions,
): Plan {
  const r =
    "text" in input
      ? checkPolicyText(input.text, input.file, options)
      : checkPolicyDocument(input.document, input.source, options);
  if (!r.ok || !r.plan) throw new PolicyError(r.diagnostics);
  return r.plan;
}
