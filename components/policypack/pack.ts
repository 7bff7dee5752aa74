import { existsSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { PolicyPack } from "@pulumi/policy";
import { blastradiusPolicies, type ProofPolicyOptions } from "./policies";

/**
 * The stack's configuration as the Pulumi CLI hands it to a policy pack: the nodejs language host
 * sets PULUMI_CONFIG to the stack config as JSON (`<namespace>:<key>` → value).
 */
export function stackConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const text = env.PULUMI_CONFIG;
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [
        k,
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    );
  } catch {
    return {};
  }
}

/**
 * The directory `pulumi` was started in. The CLI starts a policy pack in the pack's own directory
 * (its working directory), but passes its environment on, and shells set PWD: a relative policy file
 * is the project's, as the user wrote it.
 */
export function invocationDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const pwd = env.PWD;
  if (pwd && isAbsolute(pwd) && existsSync(pwd) && statSync(pwd).isDirectory()) return pwd;
  return process.cwd();
}

/** The options the shipped pack proves with: the policy file resolved from the project. */
export function packOptions(env: NodeJS.ProcessEnv = process.env): ProofPolicyOptions {
  return { baseDir: invocationDirectory(env), stackConfig: () => stackConfigFromEnv(env) };
}

/**
 * Serves the blastradius policy pack (what `policypack/index.js` runs). Starts @pulumi/policy's
 * analyzer server: call it only in the process the Pulumi CLI starts for the pack.
 */
export function servePolicyPack(): PolicyPack {
  return new PolicyPack("blastradius", { policies: blastradiusPolicies(packOptions()) });
}
