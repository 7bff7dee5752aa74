import { readFileSync } from "node:fs";
import { type CheckResult, checkPolicyText, type Plan, PolicyError, type ValidateOptions } from "../lib";

/** Reads, validates and compiles a policy file; never throws on bad policy content (see diagnostics). */
export function checkPolicyFile(file: string, options?: ValidateOptions): CheckResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return {
      ok: false,
      diagnostics: [
        {
          severity: "error",
          file,
          path: [],
          message: `cannot read the policy file: ${(e as Error).message}`,
        },
      ],
    };
  }
  return checkPolicyText(text, file, options);
}

/**
 * For Pulumi programs: the compiled plan of a policy file, or a PolicyError listing every problem
 * (so `pulumi preview` fails before anything is registered).
 */
export function loadPolicy(file: string, options?: ValidateOptions): Plan {
  const r = checkPolicyFile(file, options);
  if (!r.ok || !r.plan) throw new PolicyError(r.diagnostics);
  return r.plan;
}
