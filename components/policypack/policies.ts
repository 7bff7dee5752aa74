import { isAbsolute, resolve } from "node:path";
import {
  describeHop,
  formatPacket,
  type Plan,
  printable,
  proveRecords,
  type QuotaFinding,
  type QuotaLimits,
  quotaFindings,
  quotaMessages,
  type ResourceRecord,
  radiusReview,
  type TargetAdapter,
  type TargetName,
  type TargetUsage,
  unexplainedMessage,
} from "../../lib";
import { type OfflineTarget, TARGET_ADAPTERS } from "../offline";
import { loadPolicy } from "../policy-file";

/*
 * The proof as Pulumi CrossGuard stack policies, for `pulumi preview --policy-pack`. Kept apart
 * from the PolicyPack itself (components/policypack/pack.ts) so tests can call them with resources
 * recorded under mocks: constructing a PolicyPack starts a server.
 *
 * The types below are the part of @pulumi/policy's API these policies use, written out so that
 * importing blastradius never loads @pulumi/policy's declarations into a user's compilation (they
 * do not compile under every tsconfig). The policies are assignable to @pulumi/policy's
 * `StackValidationPolicy` (policypack's own compilation checks it).
 */

/** A resource as a stack policy receives it (@pulumi/policy's `PolicyResource`, the fields read here). */
export interface StackPolicyResource {
  type: string;
  name: string;
  urn: string;
  // biome-ignore lint/suspicious/noExplicitAny: the provider's properties, as @pulumi/policy types them
  props: Record<string, any>;
  parent?: { urn: string };
  /** The resources each property's value came from. */
  propertyDependencies?: Record<string, ReadonlyArray<{ urn: string }>>;
}

/** What `validateStack` receives (@pulumi/policy's `StackValidationArgs`, the fields read here). */
export interface StackPolicyArgs {
  resources: readonly StackPolicyResource[];
  getConfig<T extends object>(): T;
}

/** @pulumi/policy's `ReportViolation`. */
export type ReportStackViolation = (message: string, urn?: string) => void;

/** A JSON Schema for a policy's config, in the subset @pulumi/policy's `PolicyConfigSchema` takes. */
export interface StackPolicyConfigSchema {
  properties: Record<
    string,
    {
      type: "string" | "object" | "integer";
      description?: string;
      additionalProperties?: { type: "integer"; minimum?: number };
    }
  >;
}

/** A stack validation policy (@pulumi/policy's `StackValidationPolicy`). */
export interface StackPolicy {
  name: string;
  description: string;
  enforcementLevel: "advisory" | "mandatory";
  configSchema: StackPolicyConfigSchema;
  validateStack(args: StackPolicyArgs, reportViolation: ReportStackViolation): void;
}

export interface ProofPolicyOptions {
  /** The compiled plan; otherwise the policy file is read (see `policyFile`). */
  plan?: Plan;
  /**
   * The policy file. Default, in order: the pack config's `policyFile`, the stack config
   * `blastradius:policyFile` (see `stackConfig`), the environment variable BLASTRADIUS_POLICY.
   */
  policyFile?: string;
  /**
   * The directory a relative policy file is resolved against (default: the working directory). The
   * shipped pack passes the directory `pulumi` was started in: the Pulumi CLI runs a policy pack in
   * the pack's own directory, not the project's.
   */
  baseDir?: string;
  /**
   * The stack's configuration (`<namespace>:<key>` → value, as the Pulumi CLI hands it to a policy
   * pack in PULUMI_CONFIG). Default: none.
   */
  stackConfig?: () => Record<string, string>;
  /** The targets whose rules are proven (default: every target). */
  modules?: readonly Pick<OfflineTarget, "target" | "adapter">[];
}

/** Where the policy file was named, for messages. */
function policyFileOf(
  options: ProofPolicyOptions,
  args: StackPolicyArgs,
): { file: string; from: string } | undefined {
  if (options.policyFile) return { file: options.policyFile, from: "the policy options" };
  const packConfig = args.getConfig<{ policyFile?: string }>().policyFile;
  if (packConfig) return { file: packConfig, from: "the pack config (policyFile)" };
  const stack = options.stackConfig?.()["blastradius:policyFile"];
  if (stack) return { file: stack, from: "the stack config (blastradius:policyFile)" };
  const env = process.env.BLASTRADIUS_POLICY;
  if (env) return { file: env, from: "BLASTRADIUS_POLICY" };
  return undefined;
}

function planFor(options: ProofPolicyOptions, args: StackPolicyArgs): Plan {
  if (options.plan) return options.plan;
  const named = policyFileOf(options, args);
  if (!named)
    throw new Error(
      "blastradius policy pack: no policy file; set it in the stack config (pulumi config set blastradius:policyFile policy.yaml), in the pack config (policyFile, --policy-pack-config) or in BLASTRADIUS_POLICY",
    );
  const file = isAbsolute(named.file) ? named.file : resolve(options.baseDir ?? process.cwd(), named.file);
  try {
    return loadPolicy(file);
  } catch (e) {
    throw new Error(
      `blastradius policy pack: the policy file ${named.file} (from ${named.from}, read as ${file}): ${(e as Error).message}`,
    );
  }
}

/** What Pulumi would send, as the evaluators read it: the resource's type, name and inputs. */
export function recordsOf(resources: readonly StackPolicyResource[]): ResourceRecord[] {
  return resources.map((r) => {
    const record: ResourceRecord = {
      type: r.type,
      name: r.name,
      inputs: r.props,
      urn: r.urn,
      parent: r.parent?.urn,
    };
    // Rules reference other resources by id (e.g. a security group rule's securityGroupId). In a
    // preview, the id of a resource not created yet is unknown, and so is every reference to it.
    if (typeof r.props?.id === "string") record.id = r.props.id;
    // Which resource each input came from: a reference unknown in a preview is still tied to it.
    const deps = Object.entries(r.propertyDependencies ?? {}).filter(([, list]) => list.length > 0);
    if (deps.length > 0)
      record.propertyDependencies = Object.fromEntries(deps.map(([k, list]) => [k, list.map((d) => d.urn)]));
    return record;
  });
}

/**
 * Runs the same proof as `blastradius review` over the stack's resources, `reach: any` forbids
 * included (`chains`: over the combined hop graph of the same evaluators).
 */
export function proveStack(
  resources: readonly StackPolicyResource[],
  plan: Plan,
  adapters: readonly TargetAdapter[] = TARGET_ADAPTERS,
) {
  const records = recordsOf(resources);
  const { proof, deployment, evaluators } = proveRecords(plan, records, adapters);
  const { chains } = radiusReview(plan, evaluators, { chainsOnly: true });
  return { proof, deployment, records, chains };
}

const CONFIG_SCHEMA = {
  properties: {
    policyFile: { type: "string" as const, description: "The blastradius policy file of the stack." },
  },
};

const QUOTA_CONFIG_SCHEMA = {
  properties: {
    ...CONFIG_SCHEMA.properties,
    quotas: {
      type: "object" as const,
      description: 'Raised provider limits by quota id, e.g. { "aws.rulesPerSecurityGroup": 200 }.',
      additionalProperties: { type: "integer" as const, minimum: 1 },
    },
  },
};

/** The quota findings of the stack's resources, as `blastradius review` computes them. */
function stackQuotas(options: ProofPolicyOptions, args: StackPolicyArgs): QuotaFinding[] {
  const plan = planFor(options, args);
  // One vocabulary: the stack config's blastradius:quotas (what the components rendered with), the
  // pack config's `quotas` over it.
  const limits = { ...stackConfigQuotas(options), ...args.getConfig<{ quotas?: QuotaLimits }>().quotas };
  const records = recordsOf(args.resources);
  const usage: Partial<Record<TargetName, TargetUsage>> = {};
  for (const adapter of adaptersOf(options)) {
    const mine = records.filter((r) => adapter.owns(r));
    if (mine.length === 0) continue;
    const u = adapter.usage?.(mine, plan, limits);
    if (u) usage[adapter.target] = u;
  }
  return quotaFindings(usage);
}

function stackConfigQuotas(options: ProofPolicyOptions): QuotaLimits {
  const text = options.stackConfig?.()["blastradius:quotas"];
  if (text === undefined) return {};
  const value = JSON.parse(text) as unknown;
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new Error(
      `blastradius policy pack: the stack config blastradius:quotas must map quota ids to limits (got ${text})`,
    );
  return value as QuotaLimits;
}

const adaptersOf = (options: ProofPolicyOptions): readonly TargetAdapter[] =>
  options.modules?.map((m) => m.adapter) ?? TARGET_ADAPTERS;

/** Mandatory: no provider limit is exceeded (the provider would reject the update half-way). */
export function quotaLimitsPolicy(options: ProofPolicyOptions = {}): StackPolicy {
  return {
    name: "blastradius-quota-limits",
    description:
      "No target's rendered rules exceed a provider limit (rules per group, per NSG, flows per DPU...).",
    enforcementLevel: "mandatory",
    configSchema: QUOTA_CONFIG_SCHEMA,
    validateStack: (args: StackPolicyArgs, reportViolation: ReportStackViolation) => {
      for (const e of quotaMessages(stackQuotas(options, args)).errors) reportViolation(e);
    },
  };
}

/** Advisory: limits above 80%, so the next paths do not fail a deployment. */
export function quotaHeadroomPolicy(options: ProofPolicyOptions = {}): StackPolicy {
  return {
    name: "blastradius-quota-headroom",
    description: "Warns when a target's rendered rules use more than 80% of a provider limit.",
    enforcementLevel: "advisory",
    configSchema: QUOTA_CONFIG_SCHEMA,
    validateStack: (args: StackPolicyArgs, reportViolation: ReportStackViolation) => {
      for (const w of quotaMessages(stackQuotas(options, args)).warnings) reportViolation(w);
    },
  };
}

const witnessText = (w: { src: string; dst: string; protocol: string; port?: number } | undefined) =>
  w ? ` (witness ${formatPacket(w, "→")})` : "";

/** Mandatory: every enforce forbid is blocked on every target where its endpoints are placed. */
export function noForbiddenPathPolicy(options: ProofPolicyOptions = {}): StackPolicy {
  return {
    name: "blastradius-no-forbidden-path",
    description:
      "Every enforce-mode forbidden movement path is blocked on every target (proven from the rendered rules).",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args: StackPolicyArgs, reportViolation: ReportStackViolation) => {
      const plan = planFor(options, args);
      const { proof, chains } = proveStack(args.resources, plan, adaptersOf(options));
      for (const f of proof.forbidden) {
        if (f.mode !== "enforce" || f.status !== "open") continue;
        reportViolation(
          `forbidden path "${f.path}" is open on ${f.target}: ${f.open ?? "traffic"} gets through, let in by ${f.by}${witnessText(f.witness)}`,
        );
      }
      for (const c of chains) {
        if (c.mode !== "enforce" || c.status !== "open") continue;
        reportViolation(
          printable(
            `forbidden path "${c.path}" (reach: any) is open through a chain of ${c.chain!.length} hop${c.chain!.length === 1 ? "" : "s"}: ${c.chain!.map(describeHop).join("; ")}${c.cut ? `; closing ${c.cut.map((h) => `${h.from} → ${h.to}`).join(", ")} disconnects it` : ""}`,
          ),
        );
      }
    },
  };
}

/** Advisory: every allow path is open (a broken allow is an outage, not a breach). */
export function allowedPathsOpenPolicy(options: ProofPolicyOptions = {}): StackPolicy {
  return {
    name: "blastradius-allowed-paths-open",
    description: "Every allowed movement path is open on every target it crosses.",
    enforcementLevel: "advisory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args: StackPolicyArgs, reportViolation: ReportStackViolation) => {
      const plan = planFor(options, args);
      const { proof } = proveStack(args.resources, plan, adaptersOf(options));
      for (const a of proof.allowed) {
        if (a.status !== "broken") continue;
        reportViolation(
          `allowed path "${a.path}" is broken on ${a.target}: ${a.missing} does not get through${witnessText(a.witness)}`,
        );
      }
    },
  };
}

/**
 * Mandatory: the stack as deployed holds default deny (DESIGN.md rules 2, 7, 8): no opening to or
 * from an endpoint the model does not name, none that rules outside the library make beyond the
 * policy, and no binding error (a segment's group attached to no compute, a workload with no
 * compute bound...). What cannot be known yet (an attachment to a resource not created yet during a
 * preview) is left to `blastradius-deployed-stack-unknown`, never counted as proven.
 */
export function deployedStackPolicy(options: ProofPolicyOptions = {}): StackPolicy {
  return {
    name: "blastradius-deployed-stack",
    description:
      "Default deny holds for the stack as deployed: what its compute really carries, every unmodelled endpoint, rules added outside the library.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args: StackPolicyArgs, reportViolation: ReportStackViolation) => {
      const plan = planFor(options, args);
      const { deployment } = proveStack(args.resources, plan, adaptersOf(options));
      for (const u of deployment.unexplained) reportViolation(unexplainedMessage(u));
      for (const f of deployment.findings)
        if (f.severity === "error" && f.kind !== "unknown") reportViolation(`${f.target}: ${f.message}`);
    },
  };
}

/** Advisory: attachments the proof cannot see yet (unknown until apply) and binding warnings. */
export function deployedStackUnknownPolicy(options: ProofPolicyOptions = {}): StackPolicy {
  return {
    name: "blastradius-deployed-stack-unknown",
    description:
      "Reports what the deployed-stack proof cannot see yet (unknown until apply: not proven) and binding warnings.",
    enforcementLevel: "advisory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args: StackPolicyArgs, reportViolation: ReportStackViolation) => {
      const plan = planFor(options, args);
      const { deployment } = proveStack(args.resources, plan, adaptersOf(options));
      for (const f of deployment.findings)
        if (f.kind === "unknown") reportViolation(`${f.target}: not proven: ${f.message}`);
        else if (f.severity === "warning") reportViolation(`${f.target}: ${f.message}`);
    },
  };
}

/** Every policy, for `new PolicyPack(name, { policies: blastradiusPolicies(options) })`. */
export function blastradiusPolicies(options: ProofPolicyOptions = {}): StackPolicy[] {
  return [
    noForbiddenPathPolicy(options),
    allowedPathsOpenPolicy(options),
    deployedStackPolicy(options),
    deployedStackUnknownPolicy(options),
    quotaLimitsPolicy(options),
    quotaHeadroomPolicy(options),
  ];
}
