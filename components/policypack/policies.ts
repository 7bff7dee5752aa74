import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
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
  type TargetName,
  type TargetUsage,
} from "../../lib";
import { loadPolicy } from "../policy-file";
import { TARGET_MODULES, type TargetModule } from "../targets";

/**
 * The proof as Pulumi CrossGuard stack policies, for `pulumi preview --policy-pack`. Kept apart
 * from the PolicyPack itself (policypack/index.ts) so tests can call them with resources recorded
 * under mocks: constructing a PolicyPack starts a server.
 */
export interface ProofPolicyOptions {
  /** The compiled plan; otherwise the policy file is read (see `policyFile`). */
  plan?: Plan;
  /**
   * The policy file. Default: the pack config's `policyFile`, else the environment variable
   * BLASTRADIUS_POLICY.
   */
  policyFile?: string;
  /** The targets whose rules are proven (default: every target that has landed). */
  modules?: readonly TargetModule[];
}

function planFor(options: ProofPolicyOptions, args: StackValidationArgs): Plan {
  if (options.plan) return options.plan;
  const file =
    options.policyFile ??
    args.getConfig<{ policyFile?: string }>().policyFile ??
    process.env.BLASTRADIUS_POLICY;
  if (!file)
    throw new Error(
      "blastradius policy pack: no policy file; set policyFile in the pack config (--policy-pack-config) or BLASTRADIUS_POLICY",
    );
  return loadPolicy(file);
}

/** What Pulumi would send, as the evaluators read it: the resource's type, name and inputs. */
export function recordsOf(resources: readonly PolicyResource[]): ResourceRecord[] {
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
    return record;
  });
}

/**
 * Runs the same proof as `blastradius review` over the stack's resources, `reach: any` forbids
 * included (`chains`: over the combined hop graph of the same evaluators).
 */
export function proveStack(
  resources: readonly PolicyResource[],
  plan: Plan,
  modules: readonly TargetModule[],
) {
  const records = recordsOf(resources);
  const { proof, evaluators } = proveRecords(
    plan,
    records,
    modules.map((m) => m.adapter),
  );
  const { chains } = radiusReview(plan, evaluators, { chainsOnly: true });
  return { proof, records, chains };
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
function stackQuotas(options: ProofPolicyOptions, args: StackValidationArgs): QuotaFinding[] {
  const plan = planFor(options, args);
  const limits = args.getConfig<{ quotas?: QuotaLimits }>().quotas ?? {};
  const records = recordsOf(args.resources);
  const usage: Partial<Record<TargetName, TargetUsage>> = {};
  for (const m of options.modules ?? TARGET_MODULES) {
    const mine = records.filter((r) => m.adapter.owns(r));
    if (mine.length === 0) continue;
    const u = m.adapter.usage?.(mine, plan, limits);
    if (u) usage[m.target] = u;
  }
  return quotaFindings(usage);
}

/** Mandatory: no provider limit is exceeded (the provider would reject the update half-way). */
export function quotaLimitsPolicy(options: ProofPolicyOptions = {}): StackValidationPolicy {
  return {
    name: "blastradius-quota-limits",
    description:
      "No target's rendered rules exceed a provider limit (rules per group, per NSG, flows per DPU...).",
    enforcementLevel: "mandatory",
    configSchema: QUOTA_CONFIG_SCHEMA,
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      for (const e of quotaMessages(stackQuotas(options, args)).errors) reportViolation(e);
    },
  };
}

/** Advisory: limits above 80%, so the next paths do not fail a deployment. */
export function quotaHeadroomPolicy(options: ProofPolicyOptions = {}): StackValidationPolicy {
  return {
    name: "blastradius-quota-headroom",
    description: "Warns when a target's rendered rules use more than 80% of a provider limit.",
    enforcementLevel: "advisory",
    configSchema: QUOTA_CONFIG_SCHEMA,
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      for (const w of quotaMessages(stackQuotas(options, args)).warnings) reportViolation(w);
    },
  };
}

const witnessText = (w: { src: string; dst: string; protocol: string; port?: number } | undefined) =>
  w ? ` (witness ${formatPacket(w, "→")})` : "";

/** Mandatory: every enforce forbid is blocked on every target where its endpoints are placed. */
export function noForbiddenPathPolicy(options: ProofPolicyOptions = {}): StackValidationPolicy {
  return {
    name: "blastradius-no-forbidden-path",
    description:
      "Every enforce-mode forbidden movement path is blocked on every target (proven from the rendered rules).",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      const plan = planFor(options, args);
      const { proof, chains } = proveStack(args.resources, plan, options.modules ?? TARGET_MODULES);
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
export function allowedPathsOpenPolicy(options: ProofPolicyOptions = {}): StackValidationPolicy {
  return {
    name: "blastradius-allowed-paths-open",
    description: "Every allowed movement path is open on every target it crosses.",
    enforcementLevel: "advisory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      const plan = planFor(options, args);
      const { proof } = proveStack(args.resources, plan, options.modules ?? TARGET_MODULES);
      for (const a of proof.allowed) {
        if (a.status !== "broken") continue;
        reportViolation(
          `allowed path "${a.path}" is broken on ${a.target}: ${a.missing} does not get through${witnessText(a.witness)}`,
        );
      }
    },
  };
}

/** Every policy, for `new PolicyPack(name, { policies: blastradiusPolicies(options) })`. */
export function blastradiusPolicies(options: ProofPolicyOptions = {}): StackValidationPolicy[] {
  return [
    noForbiddenPathPolicy(options),
    allowedPathsOpenPolicy(options),
    quotaLimitsPolicy(options),
    quotaHeadroomPolicy(options),
  ];
}
