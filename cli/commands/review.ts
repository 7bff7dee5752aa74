import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { OFFLINE_TARGETS, TARGET_ADAPTERS } from "../../components/offline";
import { checkPolicyFile } from "../../components/policy-file";
import {
  normalizeConfig,
  type RecordedResource,
  RunTimeoutError,
  readProject,
  runProgram,
  runStackDir,
  StackDirError,
  selectStack,
} from "../../components/runner";
import { readStackConfig } from "../../components/runner/stack-config";
import { loadTargetModules, MissingProviderError } from "../../components/target-loader";
import type { TargetModule } from "../../components/targets";
import {
  type CheckResult,
  checkPolicyDocument,
  formatDiagnostic,
  formatMarkdown,
  formatReview,
  type Plan,
  parseQuotaOverrides,
  type QuotaLimits,
  type ReviewJson,
  reviewRecords,
  type TargetName,
  type TargetUsage,
} from "../../lib";
import { EXIT, InvalidInput, type Io } from "../io";
import { type OutputFile, writeOutputs } from "../write";

export interface ReviewOptions {
  stack?: string;
  /** The targets to render and prove (default: every target that has landed). */
  modules?: readonly TargetModule[];
  /** Policy file of a stack directory (default: policy.yaml/.yml/.json beside Pulumi.yaml). */
  policy?: string;
  json?: string;
  markdown?: string;
  emit?: string;
  /** `--quota <id>=<n>`: raised provider limits (default: each target's documented defaults). */
  quota?: string[];
  /** `--timeout <seconds>`: how long a stack's program may run before it is stopped (default 600). */
  timeout?: string;
  /**
   * For a policy file: build each target's resources offline (`OfflineTarget.records`) instead of
   * registering them through the Pulumi engine under mocks. Default: offline above
   * OFFLINE_REVIEW_WORKLOADS workloads, where the engine would need gigabytes.
   */
  offline?: boolean;
}

/**
 * Above this many workloads a policy file is reviewed from offline records: registering every
 * resource through the Pulumi SDK under mocks costs memory per resource (20,000 workloads ran out of
 * heap after 117 s at 4.3 GB), while the records are built directly, and
 * `test/targets/offline-records.test.ts` holds them equal to what the engine registers.
 */
export const OFFLINE_REVIEW_WORKLOADS = 1000;

/** `--timeout` in ms, or InvalidInput. */
export function timeoutOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new InvalidInput(
      `--timeout ${text}: expected a positive whole number of seconds, e.g. --timeout 900`,
    );
  return Number(text) * 1000;
}

/** The output name a stack program may export its policy document under (e.g. from PolicyBuilder). */
export const POLICY_OUTPUT = "blastradiusPolicy";

const POLICY_FILES = ["policy.yaml", "policy.yml", "policy.json"];

function printDiagnostics(r: CheckResult, io: Io) {
  for (const d of r.diagnostics) (d.severity === "error" ? io.err : io.out)(formatDiagnostic(d));
}

function requirePlan(r: CheckResult, what: string, io: Io): Plan {
  printDiagnostics(r, io);
  if (!r.ok || !r.plan) throw new InvalidInput(`${what}: invalid policy; nothing was rendered or proven`);
  return r.plan;
}

/** What a review proves: the compiled policy and every resource the program (or the placeholder program) recorded. */
export interface ReviewInput {
  plan: Plan;
  resources: RecordedResource[];
  /**
   * The raised provider limits the program rendered with and the review checks against: the stack
   * config `blastradius:quotas` with `--quota` over it (the program reads the same, merged, value).
   */
  limits: QuotaLimits;
}

/** The stack config key the components read raised limits from (quota id → limit). */
export const QUOTAS_CONFIG = "blastradius:quotas";

/** `--quota id=n…`, or InvalidInput. */
function quotaOptions(texts: readonly string[] | undefined): QuotaLimits {
  try {
    return parseQuotaOverrides(texts ?? []);
  } catch (e) {
    throw new InvalidInput((e as Error).message);
  }
}

/** A stack's `blastradius:quotas` (a mapping in the stack file, or its JSON text). */
function stackConfigQuotas(dir: string, stack: string | undefined): QuotaLimits {
  const project = readProject(dir);
  const { file } = selectStack(dir, stack);
  const config = normalizeConfig(readStackConfig(file, project.name), project.name).config;
  const text = config[QUOTAS_CONFIG];
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as QuotaLimits;
  } catch {
    // reported below
  }
  throw new InvalidInput(
    `${file}: ${QUOTAS_CONFIG} must map quota ids to limits, e.g. {"aws.rulesPerSecurityGroup": 200}`,
  );
}

/**
 * Reads a review's input: a stack directory (its program run under mocks with the stack's config,
 * its policy file or exported policy document) or a policy file (every target it places workloads
 * on rendered with placeholder scopes). Throws InvalidInput on bad input; prints the policy's
 * diagnostics.
 */
export async function loadReviewInput(
  input: string,
  options: Pick<ReviewOptions, "stack" | "policy" | "modules" | "timeout" | "quota" | "offline">,
  io: Io,
): Promise<ReviewInput> {
  if (!existsSync(input)) throw new InvalidInput(`${input}: no such file or directory`);
  const raised = quotaOptions(options.quota);
  // Checked whatever the input: a bad value is an error, never silently ignored.
  const timeoutMs = timeoutOf(options.timeout);
  if (statSync(input).isDirectory()) {
    if (!existsSync(join(input, "Pulumi.yaml")))
      throw new InvalidInput(
        `${input}: not a Pulumi project (no Pulumi.yaml); pass a stack directory or a policy file`,
      );
    let run: Awaited<ReturnType<typeof runStackDir>>;
    let limits: QuotaLimits;
    try {
      limits = { ...stackConfigQuotas(input, options.stack), ...raised };
      run = await runStackDir(input, {
        stack: options.stack,
        ...(timeoutMs ? { timeoutMs } : {}),
        // The components render with the raised limits the review checks against.
        ...(Object.keys(limits).length > 0 ? { config: { [QUOTAS_CONFIG]: limits } } : {}),
      });
    } catch (e) {
      if (e instanceof StackDirError) throw new InvalidInput(`${input}: ${e.message}`);
      if (e instanceof RunTimeoutError) throw new InvalidInput(e.message);
      const message = (e as Error).message;
      // A provider package the program imports but the project lacks: say which to install.
      const missing = /Cannot find module '(@pulumi\/[^'/]+)/.exec(message)?.[1];
      throw new InvalidInput(
        `${input}: the Pulumi program failed under mocks: ${message}${missing ? `\n(install it in the project: npm install ${missing})` : ""}`,
      );
    }
    const policyFile = options.policy ?? POLICY_FILES.map((f) => join(input, f)).find((f) => existsSync(f));
    let plan: Plan;
    if (policyFile) plan = requirePlan(checkPolicyFile(policyFile), policyFile, io);
    else if (run.outputs[POLICY_OUTPUT] !== undefined)
      plan = requirePlan(
        checkPolicyDocument(run.outputs[POLICY_OUTPUT], `${input} (output ${POLICY_OUTPUT})`),
        input,
        io,
      );
    else
      throw new InvalidInput(
        `${input}: no policy found: add ${POLICY_FILES.join(" or ")}, pass --policy, or export the document as "${POLICY_OUTPUT}"`,
      );
    return { plan, resources: run.resources, limits };
  }
  for (const [flag, given] of [
    ["--stack", options.stack],
    ["--policy", options.policy],
  ] as const)
    if (given !== undefined)
      throw new InvalidInput(
        `${flag} is for a stack directory; ${input} is a policy file (it is the policy)`,
      );
  const plan = requirePlan(checkPolicyFile(input), input, io);
  if (options.offline ?? plan.policy.workloads.length > OFFLINE_REVIEW_WORKLOADS) {
    try {
      // As the engine records them: our components (type blastradius:…) are not custom resources.
      const targets = options.modules ?? OFFLINE_TARGETS;
      const resources = targets
        .filter((m) => plan.targets.includes(m.target))
        .flatMap((m) =>
          m
            .records(plan)
            .map((r) => ({ urn: "", ...r, custom: !r.type.startsWith("blastradius:") }) as RecordedResource),
        );
      return { plan, resources, limits: raised };
    } catch (e) {
      throw new InvalidInput(`${input}: rendering failed: ${(e as Error).message}`);
    }
  }
  let rendering: TargetModule[];
  try {
    // Only the placed targets' provider packages are loaded (and required).
    rendering = options.modules
      ? options.modules.filter((m) => plan.targets.includes(m.target))
      : await loadTargetModules(plan.targets);
  } catch (e) {
    if (e instanceof MissingProviderError) throw new InvalidInput(`${input}: ${e.message}`);
    throw e;
  }
  try {
    const { resources } = await runProgram(
      () => {
        for (const m of rendering) m.placeholderProgram(plan);
      },
      {
        project: `blastradius-${plan.policy.name}`,
        ...(Object.keys(raised).length > 0 ? { config: { [QUOTAS_CONFIG]: raised } } : {}),
      },
    );
    return { plan, resources, limits: raised };
  } catch (e) {
    throw new InvalidInput(`${input}: rendering under mocks failed: ${(e as Error).message}`);
  }
}

/** Runs the review and returns its JSON plus every recorded resource; throws InvalidInput on bad input. */
export async function runReview(
  input: string,
  options: ReviewOptions,
  io: Io,
): Promise<{ review: ReviewJson; resources: RecordedResource[] }> {
  const adapters = options.modules?.map((m) => m.adapter) ?? TARGET_ADAPTERS;
  const { plan, resources, limits } = await loadReviewInput(input, options, io);
  const review = reviewRecords(plan, resources, adapters, {
    limits,
    isCustom: (r) => (r as RecordedResource).custom,
    checkUsage: (usage) => checkOverrides(quotaOptions(options.quota), usage),
  });
  return { review, resources };
}

/** A raised limit must name a limit a reviewed target reports: a typo must not keep the default. */
function checkOverrides(limits: QuotaLimits, usage: Partial<Record<TargetName, TargetUsage>>) {
  const known = new Set(Object.values(usage).flatMap((u) => u!.quotas.map((q) => q.quota)));
  for (const id of Object.keys(limits))
    if (!known.has(id))
      throw new InvalidInput(
        `--quota ${id}: no reviewed target has this limit; known: ${[...known].sort().join(", ") || "none"}`,
      );
}

/** `blastradius review <stack dir | policy file>`: exit 0 proven, 1 proof failed, 2 invalid input. */
export async function reviewCommand(input: string, options: ReviewOptions, io: Io): Promise<number> {
  let result: Awaited<ReturnType<typeof runReview>>;
  try {
    result = await runReview(input, options, io);
  } catch (e) {
    if (e instanceof InvalidInput) {
      io.err(e.message);
      return EXIT.INVALID;
    }
    throw e;
  }
  const { review, resources } = result;
  io.out(formatReview(review));
  // The JSON, the Markdown and the emitted resources are one set: all written, or none.
  const files: OutputFile[] = [];
  if (options.json) files.push({ path: options.json, content: `${JSON.stringify(review, null, 2)}\n` });
  if (options.markdown) files.push({ path: options.markdown, content: formatMarkdown(review) });
  if (options.emit)
    files.push({
      path: options.emit,
      content: `${JSON.stringify(
        resources.map((r) => ({
          type: r.type,
          name: r.name,
          ...(r.id !== undefined ? { id: r.id } : {}),
          inputs: r.inputs,
        })),
        null,
        2,
      )}\n`,
    });
  if (!writeOutputs(files, io)) return EXIT.INVALID;
  return review.ok && review.errors.length === 0 ? EXIT.OK : EXIT.PROOF_FAILED;
}
