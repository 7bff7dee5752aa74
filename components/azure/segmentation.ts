import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../../lib";
import { AddressSet } from "../../lib/net";
import {
  AZURE_TYPES,
  type AzureRef,
  type AzureRuleMode,
  type AzureVnetRendering,
  azureResources,
  azureVnets,
  renderAzureVnet,
  ruleModeProblem,
  withRefs,
} from "../../lib/targets/azure";
import { childOptions } from "../child-options";

/**
 * A subnet the component creates with the network security group associated. azure-native has no
 * standalone NSG-association resource: the association is the `networkSecurityGroup` property of a
 * Subnet (or NetworkInterface). Subnets managed elsewhere set
 * `networkSecurityGroup: { id: segmentation.networkSecurityGroupId }` themselves.
 */
export interface AzureSubnetArgs {
  /** The subnet's name in the VNet. */
  name: string;
  /** The subnet's address prefixes (IPv4 and/or IPv6). */
  addressPrefixes: string[];
}

export interface AzureSegmentationArgs {
  /** The VNet name as the policy's placements spell it (`placements.azure.vnet`). */
  vnet: string;
  /** The compiled policy (`loadPolicy(file)` or `compile(policy)`). */
  plan: Plan;
  /** Resource group that holds the NSG, the ASGs and (when `subnets` are given) the subnets. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region of the NSG and ASGs (default: the resource group's). */
  location?: pulumi.Input<string>;
  /** Azure name of the virtual network the subnets belong to (default: `vnet`). */
  virtualNetworkName?: pulumi.Input<string>;
  /** Subnets to create with the NSG associated (optional; see {@link AzureSubnetArgs}). */
  subnets?: AzureSubnetArgs[];
  /** Extra tags on the NSG and ASGs. */
  tags?: Record<string, string>;
  /**
   * `"resources"` (default): one standalone SecurityRule per rule. `"inline"`: every rule in the
   * NSG's `securityRules`, one resource for the rule set (for large rule sets: the SDK's cost per
   * azure-native resource is high). Read docs/targets/azure.md before switching an existing stack.
   */
  rules?: AzureRuleMode;
}

export const AZURE_SEGMENTATION_TYPE = "blastradius:azure:AzureSegmentation";

/** Validates the arguments and renders, before anything is registered. */
function prepare(name: string, args: AzureSegmentationArgs): AzureVnetRendering {
  const bad = (arg: string, why: string) => new Error(`AzureSegmentation "${name}": args.${arg} ${why}`);
  if (!args || typeof args !== "object") throw bad("", "are required");
  if (!args.plan || !Array.isArray(args.plan.parties))
    throw bad("plan", "is required: pass loadPolicy(file) or compile(policy)");
  const vnets = azureVnets(args.plan);
  if (typeof args.vnet !== "string" || args.vnet === "")
    throw bad("vnet", "is required: the placement VNet name");
  if (!vnets.includes(args.vnet))
    throw bad(
      "vnet",
      `"${args.vnet}" is not a VNet the policy places workloads in (${vnets.length > 0 ? `known: ${vnets.join(", ")}` : "the policy has no azure placements"})`,
    );
  if (
    args.resourceGroupName === undefined ||
    args.resourceGroupName === null ||
    args.resourceGroupName === ""
  )
    throw bad("resourceGroupName", "is required");
  const modeProblem = ruleModeProblem(args.rules);
  if (modeProblem) throw bad("rules", modeProblem);
  const seen = new Set<string>();
  (args.subnets ?? []).forEach((s, i) => {
    if (!s || typeof s.name !== "string" || s.name === "") throw bad(`subnets[${i}].name`, "is required");
    if (seen.has(s.name)) throw bad(`subnets[${i}].name`, `"${s.name}" is given twice`);
    seen.add(s.name);
    if (!Array.isArray(s.addressPrefixes) || s.addressPrefixes.length === 0)
      throw bad(`subnets[${i}].addressPrefixes`, `(subnet "${s.name}") needs at least one prefix`);
    try {
      AddressSet.fromCidrs(s.addressPrefixes);
    } catch (e) {
      throw bad(`subnets[${i}].addressPrefixes`, `(subnet "${s.name}"): ${(e as Error).message}`);
    }
  });
  return renderAzureVnet(args.plan, args.vnet);
}

/**
 * Segments one Azure VNet: one application security group per segment its rules name (attach the
 * NICs of each segment's workloads: `applicationSecurityGroupIds[segment]`), one network security
 * group with its rules (explicit deny-all at 4096, enforce forbids as top-precedence Deny rules,
 * allow paths in between) as standalone SecurityRules or, with `rules: "inline"`, in the NSG's
 * `securityRules`, and optionally subnets with the NSG associated.
 */
export class AzureSegmentation extends pulumi.ComponentResource {
  /** The NSG's id: associate it with the VNet's subnets (or NICs). */
  readonly networkSecurityGroupId: pulumi.Output<string>;
  /** The NSG's Azure name. */
  readonly networkSecurityGroupName: pulumi.Output<string>;
  /** ASG ids keyed by segment: put each workload's NIC IP configuration in the ASGs of its segments. */
  readonly applicationSecurityGroupIds: pulumi.Output<Record<string, string>>;
  /** Ids of the subnets the component created, keyed by subnet name. */
  readonly subnetIds: pulumi.Output<Record<string, string>>;
  /** What was rendered (plain data): rules with priorities, ASGs, the workloads' ASG memberships. */
  readonly rendering: AzureVnetRendering;
  private readonly plan: Plan;
  private readonly vnet: string;
  private asgs = new Map<string, network.ApplicationSecurityGroup>();

  /** The workload placed in this VNet, or an error naming the ones that are (a typo must not type-check into nothing). */
  private workloadHere(workload: string) {
    const here = this.plan.policy.workloads.filter((w) => w.placements.azure?.vnet === this.vnet);
    const w = here.find((x) => x.name === workload);
    if (!w)
      throw new Error(
        `AzureSegmentation: "${workload}" is not a workload placed in VNet "${this.vnet}" (placed there: ${here.map((x) => x.name).join(", ") || "none"})`,
      );
    return w;
  }

  /**
   * The application security groups a workload's NIC IP configurations must be in: one per segment
   * of the workload that the rules name. Pass it as `ipConfigurations[].applicationSecurityGroups`,
   * with `tagsFor(workload)` in the NIC's tags.
   */
  applicationSecurityGroupsFor(workload: string): pulumi.Output<Array<{ id: string }>> {
    const w = this.workloadHere(workload);
    const ids: pulumi.Output<string>[] = [];
    for (const [segment, members] of this.plan.members) {
      const asg = this.asgs.get(segment);
      if (asg && members.includes(w.name)) ids.push(asg.id);
    }
    return pulumi.all(ids).apply((list) => list.map((id) => ({ id })));
  }

  /** The binding tag for a workload's network interfaces: `{ "blastradius:workload": workload }`. */
  tagsFor(workload: string): { "blastradius:workload": string } {
    return { "blastradius:workload": this.workloadHere(workload).name };
  }

  constructor(name: string, args: AzureSegmentationArgs, opts?: pulumi.ComponentResourceOptions) {
    const rendering = prepare(name, args);
    // The inputs say which Azure VNet the placement VNet is (the proof maps subnets and NICs by it).
    super(
      AZURE_SEGMENTATION_TYPE,
      name,
      { vnet: args.vnet, virtualNetworkName: args.virtualNetworkName ?? args.vnet },
      opts,
    );
    this.plan = args.plan;
    this.vnet = args.vnet;
    this.rendering = rendering;
    const parent = childOptions(this, opts);
    // Security rules are named within their NSG and subnets within their VNet: a replacement must
    // delete the old one first. The NSG and ASGs are named by Pulumi and need not.
    const named = childOptions(this, opts, { deleteBeforeReplace: true });
    const specs = azureResources(rendering, {
      name,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      virtualNetworkName: args.virtualNetworkName,
      subnets: args.subnets,
      tags: args.tags,
      rules: args.rules,
    });

    // Every resource comes from the list `records` also builds from (lib/targets/azure/resources.ts).
    const created = new Map<string, pulumi.CustomResource & { name: pulumi.Output<string> }>();
    const resolve = (ref: AzureRef): unknown => {
      const get = (n: string) => created.get(n)!;
      if ("name" in ref) return get(ref.name).name;
      if ("id" in ref) return { id: get(ref.id).id };
      return ref.ids.map((n) => ({ id: get(n).id }));
    };
    let nsg: network.NetworkSecurityGroup | undefined;
    const asgs = new Map<string, network.ApplicationSecurityGroup>();
    const subnets: Record<string, pulumi.Output<string>> = Object.create(null);
    for (const spec of specs) {
      const inputs = withRefs(spec.inputs, spec.refs, resolve);
      switch (spec.type) {
        case AZURE_TYPES.nsg:
          nsg = new network.NetworkSecurityGroup(
            spec.name,
            inputs as unknown as network.NetworkSecurityGroupArgs,
            parent,
          );
          created.set(spec.name, nsg);
          break;
        case AZURE_TYPES.asg: {
          const asg = new network.ApplicationSecurityGroup(
            spec.name,
            inputs as unknown as network.ApplicationSecurityGroupArgs,
            parent,
          );
          asgs.set(spec.segment!, asg);
          created.set(spec.name, asg);
          break;
        }
        case AZURE_TYPES.rule:
          new network.SecurityRule(spec.name, inputs as unknown as network.SecurityRuleArgs, named);
          break;
        case AZURE_TYPES.subnet:
          subnets[inputs.subnetName as string] = new network.Subnet(
            spec.name,
            inputs as unknown as network.SubnetArgs,
            named,
          ).id;
          break;
      }
    }

    this.asgs = asgs;
    this.networkSecurityGroupId = nsg!.id;
    this.networkSecurityGroupName = nsg!.name;
    this.applicationSecurityGroupIds = pulumi.output(
      Object.fromEntries([...asgs].map(([segment, asg]) => [segment, asg.id])),
    ) as pulumi.Output<Record<string, string>>;
    this.subnetIds = pulumi.output(subnets) as pulumi.Output<Record<string, string>>;
    this.registerOutputs({
      networkSecurityGroupId: this.networkSecurityGroupId,
      networkSecurityGroupName: this.networkSecurityGroupName,
      applicationSecurityGroupIds: this.applicationSecurityGroupIds,
      subnetIds: this.subnetIds,
    });
  }
}
