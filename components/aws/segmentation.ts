import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { compile, type Plan, type Policy, type QuotaLimits } from "../../lib";
import {
  AWS_TYPES,
  type AwsQuota,
  type AwsRendering,
  type AwsResourceType,
  awsResources,
  BASELINE_KEY,
  renderAws,
} from "../../lib/targets/aws";
import { WORKLOAD_TAG } from "../../lib/verify/binding";
import { childOptions, stackQuotas } from "../child-options";
import { awsRenderQuota, targetQuotas } from "../quotas";
import { awsVpcs } from "./offline";

/** NACL guardrails: deny entries for enforce forbids, at top precedence, on the given subnets. */
export interface AwsNaclGuardrailArgs {
  /**
   * The subnets the VPC's workloads live in. The network ACL is associated with each of them (a
   * subnet has exactly one NACL: this replaces its current association).
   */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Rule number of the first deny entry (default 100; entries step by 10). */
  firstRuleNumber?: number;
  /** The enforce forbid paths to guard (default: every one touching the VPC). */
  forbids?: string[];
}

export interface AwsSegmentationArgs {
  /** The placement VPC name (`placements.aws.vpc` in the policy) whose workloads this component segments. */
  vpc: string;
  /** The id of that VPC (e.g. `vpc.id`): every security group and the NACL are created in it. */
  vpcId: pulumi.Input<string>;
  /** The compiled policy (`loadPolicy(file)` / `compilePolicy(...)`). Give this or `policy`. */
  plan?: Plan;
  /** A validated policy, compiled here. Give this or `plan`. */
  policy?: Policy;
  /**
   * Raised provider limits by quota id, as `blastradius review --quota` and the policy pack take them
   * (`aws.rulesPerSecurityGroup`, `aws.securityGroupsPerInterface`, `aws.rulesPerNetworkAcl`);
   * default: the stack config `blastradius:quotas`, else AWS's defaults (60 rules per group per
   * direction per family, 5 groups per interface, 20 NACL rules).
   */
  quotas?: QuotaLimits;
  /** @deprecated The same limits under the renderer's own names; use `quotas` (quota ids). */
  quota?: AwsQuota;
  /** Optional defence in depth in front of the security groups. */
  guardrails?: { nacl?: AwsNaclGuardrailArgs };
}

/** Thrown before anything is registered when the component's arguments are wrong. */
export class AwsSegmentationArgsError extends Error {
  constructor(name: string, argument: string, problem: string) {
    super(`AwsSegmentation "${name}": args.${argument} ${problem}`);
    this.name = "AwsSegmentationArgsError";
  }
}

export { awsVpcs } from "./offline";

function planOf(name: string, args: AwsSegmentationArgs): Plan {
  if (args.plan && args.policy)
    throw new AwsSegmentationArgsError(name, "plan", "and args.policy are both set; give one");
  if (args.plan) return args.plan;
  if (!args.policy)
    throw new AwsSegmentationArgsError(name, "plan", "is missing: pass the compiled policy (or args.policy)");
  const plan = compile(args.policy);
  const errors = plan.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0)
    throw new AwsSegmentationArgsError(
      name,
      "policy",
      `does not compile: ${errors.map((d) => d.message).join("; ")}`,
    );
  return plan;
}

/** The renderer's quota: `quotas` (or the stack's) by id, or the older `quota`; never both for one limit. */
function quotaOf(name: string, args: AwsSegmentationArgs): AwsQuota {
  const byId = awsRenderQuota(
    targetQuotas("aws", { ...stackQuotas(), ...args.quotas }, `AwsSegmentation "${name}"`),
  );
  for (const k of Object.keys(byId) as Array<keyof AwsQuota>)
    if (args.quota?.[k] !== undefined)
      throw new AwsSegmentationArgsError(
        name,
        `quota.${k}`,
        "and a quota id in args.quotas (or the stack config blastradius:quotas) set the same limit; give it once, in args.quotas",
      );
  return { ...args.quota, ...byId };
}

function validate(name: string, args: AwsSegmentationArgs): Plan {
  if (args === undefined || args === null)
    throw new AwsSegmentationArgsError(name, "vpc", "is missing (no args given)");
  const plan = planOf(name, args);
  const known = awsVpcs(plan);
  if (typeof args.vpc !== "string" || args.vpc === "")
    throw new AwsSegmentationArgsError(
      name,
      "vpc",
      `is missing: name the placement VPC (one of: ${known.join(", ") || "none"})`,
    );
  if (!known.includes(args.vpc))
    throw new AwsSegmentationArgsError(
      name,
      "vpc",
      `"${args.vpc}" is not a VPC any workload of policy "${plan.policy.name}" is placed in (known: ${known.join(", ") || "none"})`,
    );
  if (args.vpcId === undefined || args.vpcId === null || args.vpcId === "")
    throw new AwsSegmentationArgsError(
      name,
      "vpcId",
      `is missing: pass the id of VPC "${args.vpc}" (e.g. vpc.id)`,
    );
  for (const [k, v] of Object.entries(args.quota ?? {}))
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new AwsSegmentationArgsError(name, `quota.${k}`, `must be a positive integer (got ${String(v)})`);
  const nacl = args.guardrails?.nacl;
  if (nacl) {
    const ids = nacl.subnetIds as unknown;
    if (
      ids === undefined ||
      ids === null ||
      (Array.isArray(ids) && (ids.length === 0 || ids.some((s) => s === "" || s == null)))
    )
      throw new AwsSegmentationArgsError(
        name,
        "guardrails.nacl.subnetIds",
        "must list the subnets of the VPC's workloads",
      );
    const first = nacl.firstRuleNumber;
    if (first !== undefined && (!Number.isInteger(first) || first < 1 || first > 32000))
      throw new AwsSegmentationArgsError(
        name,
        "guardrails.nacl.firstRuleNumber",
        `must be an integer 1-32000 (got ${first})`,
      );
  }
  return plan;
}

/**
 * Micro-segmentation of one VPC: one security group per segment with members there, one
 * `aws.vpc.SecurityGroupIngressRule`/`SecurityGroupEgressRule` per rule (never inline rules), exact
 * managed prefix lists for `internet`, and optional NACL guardrails. Attach `securityGroupIds[s]`
 * to every interface of every workload in segment `s`.
 *
 * AWS's default allow-all egress: the provider revokes it right after creating each group (the
 * groups set no inline `egress`/`ingress`, which would make the provider fight the rule resources).
 */
export class AwsSegmentation extends pulumi.ComponentResource {
  /** Security group id per segment name (the groups `securityGroupIdsFor` attaches). */
  readonly securityGroupIds: pulumi.Output<Record<string, string>>;
  /**
   * The VPC's baseline group: no rules, carried by every workload of the VPC so that a workload in no
   * segment is closed (an interface with no group runs with the VPC's default group, which is open).
   */
  readonly baselineSecurityGroupId: pulumi.Output<string>;
  /** Managed prefix list id per key (`internet-ipv4`, `internet-ipv6`), when a path names the internet. */
  readonly prefixListIds: pulumi.Output<Record<string, string>>;
  /** The guardrail network ACL, when `guardrails.nacl` is set. */
  readonly networkAclId?: pulumi.Output<string>;
  /** The plain rendering the resources were created from. */
  readonly rendering: AwsRendering;
  private readonly plan: Plan;
  private readonly vpc: string;
  private readonly created: Map<string, Created>;
  private readonly componentName: string;

  /** The workload placed in this VPC, or an error naming the ones that are (a typo must not type-check into nothing). */
  private workloadHere(workload: string) {
    const here = this.plan.policy.workloads.filter((w) => w.placements.aws?.vpc === this.vpc);
    const w = here.find((x) => x.name === workload);
    if (!w)
      throw new AwsSegmentationArgsError(
        this.componentName,
        "workload",
        `"${workload}" is not a workload placed in VPC "${this.vpc}" (placed there: ${here.map((x) => x.name).join(", ") || "none"})`,
      );
    return w;
  }

  /**
   * Every security group a workload's interfaces must carry: the VPC's baseline group and the group
   * of each of its segments here. Pass it as `vpcSecurityGroupIds` (instances, launch templates) or
   * `securityGroups` (network interfaces), with `tagsFor(workload)` in their tags.
   */
  securityGroupIdsFor(workload: string): pulumi.Output<string[]> {
    const w = this.workloadHere(workload);
    const keys = [BASELINE_KEY];
    for (const [segment, members] of this.plan.members)
      if (members.includes(w.name) && this.created.has(`${this.componentName}-${segment}`))
        keys.push(segment);
    return pulumi.all(keys.map((k) => this.created.get(`${this.componentName}-${k}`)!.id));
  }

  /** The binding tag for a workload's compute: `{ "blastradius:workload": workload }`. */
  tagsFor(workload: string): WorkloadTags {
    return { [WORKLOAD_TAG]: this.workloadHere(workload).name };
  }

  constructor(name: string, args: AwsSegmentationArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = validate(name, args);
    const naclArgs = args.guardrails?.nacl;
    const quota = quotaOf(name, args);
    const rendering = renderAws(plan, {
      vpc: args.vpc,
      ...(Object.keys(quota).length > 0 ? { quota } : {}),
      ...(naclArgs
        ? {
            nacl: {
              firstRuleNumber: naclArgs.firstRuleNumber ?? 100,
              ...(naclArgs.forbids ? { forbids: naclArgs.forbids } : {}),
            },
          }
        : {}),
    });
    super("blastradius:aws:AwsSegmentation", name, {}, opts);
    this.rendering = rendering;
    const parent = childOptions(this, opts);

    // One list of plain resource specs (shared with `awsModule.records`), created in order: each
    // reference points to a resource created before it.
    const created = new Map<string, Created>();
    const specs = awsResources(rendering, {
      name,
      vpcId: args.vpcId,
      ...(naclArgs ? { subnetIds: naclArgs.subnetIds } : {}),
    });
    for (const s of specs) {
      const inputs: Record<string, unknown> = { ...s.inputs };
      for (const k in s.refs) inputs[k] = created.get(s.refs[k]!)!.id;
      // A NACL entry is identified by its rule number: replacing one must free the number first.
      const o = s.type === AWS_TYPES.networkAclRule ? { ...parent, deleteBeforeReplace: true } : parent;
      created.set(s.name, createResource(s.type, s.name, inputs, o));
    }
    const idsOf = (keys: string[]) =>
      pulumi.output(Object.fromEntries(keys.map((k) => [k, created.get(`${name}-${k}`)!.id])));
    if (rendering.nacl) this.networkAclId = created.get(`${name}-nacl`)!.id;

    this.securityGroupIds = idsOf(rendering.groups.filter((g) => !g.baseline).map((g) => g.key));
    this.baselineSecurityGroupId = created.get(`${name}-${BASELINE_KEY}`)!.id;
    this.prefixListIds = idsOf(rendering.prefixLists.map((l) => l.key));
    this.plan = plan;
    this.vpc = args.vpc;
    this.componentName = name;
    this.created = created;
    this.registerOutputs({
      securityGroupIds: this.securityGroupIds,
      baselineSecurityGroupId: this.baselineSecurityGroupId,
      prefixListIds: this.prefixListIds,
      ...(this.networkAclId ? { networkAclId: this.networkAclId } : {}),
    });
  }
}

type Created = pulumi.CustomResource & { id: pulumi.Output<string> };

/** The binding tag of a workload's compute (the contract works without the helpers too). */
export type WorkloadTags = { [WORKLOAD_TAG]: string };

/** The provider resource for one spec (inputs already hold resolved ids). */
function createResource(
  type: AwsResourceType,
  name: string,
  inputs: Record<string, unknown>,
  opts: pulumi.CustomResourceOptions,
): Created {
  switch (type) {
    case AWS_TYPES.securityGroup:
      return new aws.ec2.SecurityGroup(name, inputs as aws.ec2.SecurityGroupArgs, opts);
    case AWS_TYPES.prefixList:
      return new aws.ec2.ManagedPrefixList(name, inputs as unknown as aws.ec2.ManagedPrefixListArgs, opts);
    case AWS_TYPES.ingressRule:
      return new aws.vpc.SecurityGroupIngressRule(
        name,
        inputs as unknown as aws.vpc.SecurityGroupIngressRuleArgs,
        opts,
      );
    case AWS_TYPES.egressRule:
      return new aws.vpc.SecurityGroupEgressRule(
        name,
        inputs as unknown as aws.vpc.SecurityGroupEgressRuleArgs,
        opts,
      );
    case AWS_TYPES.networkAcl:
      return new aws.ec2.NetworkAcl(name, inputs as unknown as aws.ec2.NetworkAclArgs, opts);
    case AWS_TYPES.networkAclRule:
      return new aws.ec2.NetworkAclRule(name, inputs as unknown as aws.ec2.NetworkAclRuleArgs, opts);
  }
}
