import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { Plan, QuotaLimits } from "../../lib";
import {
  COMPONENT_TYPE,
  firewallInputs,
  type GcpFirewallRule,
  type GcpRenderOptions,
  gcpNetworks,
  renderGcpNetwork,
} from "../../lib/targets/gcp";
import { childOptions, stackQuotas } from "../child-options";
import { gcpRenderLimits, targetQuotas } from "../quotas";

export interface GcpSegmentationArgs {
  /** The placement network name (`placements.gcp.network` in the policy) whose workloads this renders. */
  network: string;
  /** The real VPC network, as `gcp.compute.Firewall` takes it: name, id or self link. */
  networkId: pulumi.Input<string>;
  /** The project the firewall rules live in (default: the provider's project). */
  project?: pulumi.Input<string>;
  /** The compiled policy (`compilePolicy(...)`). */
  plan: Plan;
  /** Priority bands, per-rule limits and logging (see docs/targets/gcp.md). */
  options?: GcpRenderOptions;
  /**
   * The start of every firewall rule's name (default `br-<policy>-<network>`). Rule names are
   * unique per project: give each stack its own when two render one policy into one project
   * (e.g. `namePrefix: \`br-\${pulumi.getStack()}\``).
   */
  namePrefix?: string;
  /**
   * Raised provider limits by quota id (`gcp.firewallRulesPerProject`, `gcp.sourceRangesPerRule`,
   * …), as `blastradius review --quota` takes them; default: the stack config `blastradius:quotas`.
   */
  quotas?: QuotaLimits;
}

function bad(argument: string, why: string): Error {
  return new Error(`GcpSegmentation: args.${argument} ${why}`);
}

/** Validates the args and renders; throws before anything is registered. */
function prepare(args: GcpSegmentationArgs | undefined, name: string): GcpFirewallRule[] {
  if (!args) throw bad("", "are required: { network, networkId, plan }");
  const plan = args.plan as Plan | undefined;
  if (!plan || typeof plan !== "object" || !plan.policy || !Array.isArray(plan.allows))
    throw bad("plan", "is required: pass the compiled policy (compilePolicy(...))");
  if (typeof args.network !== "string" || args.network.trim() === "")
    throw bad("network", "is required: the placement network name the policy's gcp placements use");
  const known = gcpNetworks(plan);
  if (!known.includes(args.network))
    throw bad(
      "network",
      `is "${args.network}", but no workload of policy "${plan.policy.name}" is placed in that network; ` +
        (known.length > 0 ? `known networks: ${known.join(", ")}` : "the policy places no workload on GCP"),
    );
  if (
    args.networkId === undefined ||
    args.networkId === null ||
    (typeof args.networkId === "string" && args.networkId.trim() === "")
  )
    throw bad("networkId", "is required: the VPC network's name, id or self link (e.g. network.selfLink)");
  if (typeof args.project === "string" && args.project.trim() === "")
    throw bad("project", "is empty: omit it to use the provider's project");
  if (
    args.namePrefix !== undefined &&
    (typeof args.namePrefix !== "string" || !/[a-z0-9]/i.test(args.namePrefix))
  )
    throw bad("namePrefix", `must contain a letter or digit (got ${JSON.stringify(args.namePrefix)})`);
  const limits = gcpRenderLimits(
    targetQuotas("gcp", { ...stackQuotas(), ...args.quotas }, `GcpSegmentation "${name}"`),
  );
  for (const k of Object.keys(limits) as Array<keyof typeof limits>)
    if (args.options?.limits?.[k] !== undefined)
      throw bad(
        `options.limits.${k}`,
        "and a quota id in args.quotas set the same limit; give it once, in args.quotas",
      );
  return renderGcpNetwork(plan, args.network, {
    ...args.options,
    limits: { ...args.options?.limits, ...limits },
    ...(args.namePrefix !== undefined ? { namePrefix: args.namePrefix } : {}),
  });
}

/**
 * Micro-segmentation of one GCP VPC network: `gcp.compute.Firewall` rules targeting the workloads'
 * service accounts (never network tags), with a deny-all baseline that overrides the implied
 * allow-egress, deny guardrails at the top priority for every enforce forbid, and one allow rule
 * per path, direction and list chunk. Run each workload's instances as the service account its
 * placement names (`serviceAccountsBySegment`).
 */
export class GcpSegmentation extends pulumi.ComponentResource {
  /** GCP rule name → firewall id. */
  readonly firewallIds: pulumi.Output<Record<string, string>>;
  /** Segment (or peer) → ids of the firewall rules applying to its instances in this network. */
  readonly firewallIdsBySegment: pulumi.Output<Record<string, string[]>>;
  /** Segment → the service accounts its instances in this network run as (what the rules target). */
  readonly serviceAccountsBySegment: Record<string, string[]>;
  /** The rendered rules (plain data), for inspection. */
  readonly rules: readonly GcpFirewallRule[];

  constructor(name: string, args: GcpSegmentationArgs, opts?: pulumi.ComponentResourceOptions) {
    const rules = prepare(args, name);
    super(COMPONENT_TYPE, name, { network: args.network, networkId: args.networkId }, opts);
    this.rules = rules;
    // Keyed by policy names ("constructor" is a valid segment name): no prototype to read through.
    const ids: Record<string, pulumi.Output<string>> = Object.create(null);
    const bySegment: Record<string, pulumi.Output<string>[]> = Object.create(null);
    for (const r of rules) {
      // A rule's name is fixed (it identifies the rule in the project): replacing it must delete
      // the old one first.
      const fw = new gcp.compute.Firewall(
        `${name}-${r.key}`,
        firewallInputs(r, args.networkId, args.project),
        childOptions(this, opts, { deleteBeforeReplace: true }),
      );
      ids[r.name] = fw.id;
      if (r.segment) (bySegment[r.segment] ??= []).push(fw.id);
    }
    this.firewallIds = pulumi.output(ids);
    this.firewallIdsBySegment = pulumi.output(bySegment);
    const plan = args.plan;
    const accounts: Record<string, string[]> = Object.create(null);
    const byName = new Map(plan.policy.workloads.map((w) => [w.name, w]));
    for (const [segment, members] of plan.members) {
      const list = members
        .map((m) => byName.get(m)?.placements.gcp)
        .filter((g) => g?.network === args.network && g.serviceAccount !== undefined)
        .map((g) => g!.serviceAccount!);
      if (list.length > 0) accounts[segment] = [...new Set(list)].sort();
    }
    this.serviceAccountsBySegment = accounts;
    this.registerOutputs({
      firewallIds: this.firewallIds,
      firewallIdsBySegment: this.firewallIdsBySegment,
      serviceAccountsBySegment: this.serviceAccountsBySegment,
    });
  }
}

// Reading the policy file, so that a program needs only this target's entry point.
export { checkPolicyFile, loadPolicy } from "../policy-file";
