import type { ResourceRecord } from "../../verify/types";
import { AZURE_TYPES, TAGS } from "./evaluate";
import type { AzureSecurityRule, AzureVnetRendering } from "./render";

/*
 * The provider resources of one `AzureSegmentation`, as plain data: the component creates exactly
 * these (resolving `refs` to outputs of the resources it created before), and `azureRecords` turns
 * them into the records the runner would have recorded, without the Pulumi engine. One list, so
 * the two cannot drift.
 */

/** The provider type tokens the component creates. */
export type AzureResourceType =
  | typeof AZURE_TYPES.nsg
  | typeof AZURE_TYPES.asg
  | typeof AZURE_TYPES.rule
  | typeof AZURE_TYPES.subnet;

/**
 * An input that takes an earlier resource's output: its Azure name (`name`), `{ id }` (`id`), or a
 * list of `{ id }` (`ids`), each naming resources by logical name.
 */
export type AzureRef = { name: string } | { id: string } | { ids: string[] };

/**
 * Where the component puts the security rules:
 * - `"resources"` (the default): one standalone `SecurityRule` resource per rule, each its own line in
 *   `pulumi preview`;
 * - `"inline"`: in the NSG's `securityRules`, one resource for the whole rule set, updated at once.
 *   The Pulumi SDK's cost per azure-native resource (docs/targets/azure.md) then stays flat however
 *   many rules there are. Switching an existing stack between the two needs care (same document).
 */
export type AzureRuleMode = "resources" | "inline";

export const AZURE_RULE_MODES: readonly AzureRuleMode[] = ["resources", "inline"];

/** What is wrong with a `rules` value (undefined is the default), or undefined when it is fine. */
export function ruleModeProblem(mode: unknown): string | undefined {
  if (mode === undefined || AZURE_RULE_MODES.includes(mode as AzureRuleMode)) return undefined;
  return `is ${JSON.stringify(mode)}: use ${AZURE_RULE_MODES.map((m) => `"${m}"`).join(" or ")}`;
}

/** One provider resource: type token, logical name, inputs, and the inputs that reference earlier resources. */
export interface AzureResourceSpec {
  type: AzureResourceType;
  name: string;
  /** Every input except those in `refs`. Values of `AzureResourceContext` are passed through as given. */
  inputs: Record<string, unknown>;
  /**
   * Input → the earlier resource (by logical name) whose output that input takes. The key is an
   * input's name or a dotted path into it (`securityRules.3.sourceApplicationSecurityGroups`).
   */
  refs: Record<string, AzureRef>;
  /** For an ASG: the segment it stands for. */
  segment?: string;
}

/** A subnet the component creates with the NSG associated. */
export interface AzureSubnetSpec {
  name: string;
  addressPrefixes: string[];
}

/** What the component gets from its caller and passes through untouched (plain values or Pulumi inputs). */
export interface AzureResourceContext {
  /** The component's name: every resource is named `${name}-…`. */
  name: string;
  resourceGroupName: unknown;
  location?: unknown;
  /** Azure name of the virtual network the subnets are created in (default: the placement VNet name). */
  virtualNetworkName?: unknown;
  subnets?: readonly AzureSubnetSpec[];
  /** Extra tags on the NSG and ASGs. */
  tags?: Readonly<Record<string, string>>;
  /** Standalone SecurityRules (default) or the NSG's inline `securityRules`. */
  rules?: AzureRuleMode;
}

/** Subnet properties the azure-native SDK fills in when they are not given: set explicitly, so records match. */
const SUBNET_DEFAULTS = {
  privateEndpointNetworkPolicies: "Disabled",
  privateLinkServiceNetworkPolicies: "Enabled",
} as const;

/**
 * A rule's properties, without the ASG references (those are `refs`): a standalone SecurityRule's
 * inputs (with its resource group and `securityRuleName`), or an inline rule of the NSG (`name`).
 */
function ruleInputs(
  r: AzureSecurityRule,
  resourceGroupName: unknown,
  inline: boolean,
): Record<string, unknown> {
  const i: Record<string, unknown> = inline
    ? { name: r.name }
    : { resourceGroupName, securityRuleName: r.name };
  Object.assign(i, {
    description: r.description,
    priority: r.priority,
    direction: r.direction,
    access: r.access,
    protocol: r.protocol,
    sourcePortRange: r.sourcePortRange,
  });
  if (r.sourceAddressPrefix !== undefined) i.sourceAddressPrefix = r.sourceAddressPrefix;
  if (r.sourceAddressPrefixes) i.sourceAddressPrefixes = r.sourceAddressPrefixes;
  if (r.destinationAddressPrefix !== undefined) i.destinationAddressPrefix = r.destinationAddressPrefix;
  if (r.destinationAddressPrefixes) i.destinationAddressPrefixes = r.destinationAddressPrefixes;
  if (r.destinationPortRange !== undefined) i.destinationPortRange = r.destinationPortRange;
  if (r.destinationPortRanges) i.destinationPortRanges = r.destinationPortRanges;
  return i;
}

/** The ASG references of a rule, under `prefix` (`""` for a standalone rule, `securityRules.<i>.` inline). */
function asgRefs(
  r: AzureSecurityRule,
  asgName: (segment: string) => string,
  prefix: string,
  refs: Record<string, AzureRef>,
): void {
  if (r.sourceApplicationSecurityGroups)
    refs[`${prefix}sourceApplicationSecurityGroups`] = {
      ids: r.sourceApplicationSecurityGroups.map(asgName),
    };
  if (r.destinationApplicationSecurityGroups)
    refs[`${prefix}destinationApplicationSecurityGroups`] = {
      ids: r.destinationApplicationSecurityGroups.map(asgName),
    };
}

/**
 * The resources of a rendering in creation order. With standalone rules (the default): the NSG, the
 * ASGs (one per segment the rules name), the rules (referencing the NSG by name and the ASGs by
 * id), then the subnets with the NSG associated. With inline rules: the ASGs, the NSG carrying
 * every rule in `securityRules` (referencing the ASGs by id), then the subnets. Every reference
 * points to an earlier resource.
 */
export function azureResources(
  rendering: AzureVnetRendering,
  ctx: AzureResourceContext,
): AzureResourceSpec[] {
  const name = ctx.name;
  const problem = ruleModeProblem(ctx.rules);
  if (problem) throw new RangeError(`rules ${problem}`);
  const mode = ctx.rules ?? "resources";
  const out: AzureResourceSpec[] = [];
  const rg = { resourceGroupName: ctx.resourceGroupName };
  const location = ctx.location !== undefined ? { location: ctx.location } : {};
  const tags = { ...ctx.tags, [TAGS.policy]: rendering.policy, [TAGS.vnet]: rendering.vnet };
  const nsg = `${name}-nsg`;
  const asgName = (segment: string) => `${name}-asg-${segment}`;
  const nsgSpec: AzureResourceSpec = {
    type: AZURE_TYPES.nsg,
    name: nsg,
    // No `networkSecurityGroupName`: Pulumi names the NSG (logical name + suffix) so that stacks
    // sharing a resource group do not collide; the rules take its name from the NSG itself.
    inputs: { ...rg, ...location, tags },
    refs: {},
  };
  if (mode === "inline") {
    nsgSpec.inputs.securityRules = rendering.rules.map((r) => ruleInputs(r, ctx.resourceGroupName, true));
    rendering.rules.forEach((r, i) => {
      asgRefs(r, asgName, `securityRules.${i}.`, nsgSpec.refs);
    });
  } else out.push(nsgSpec);
  for (const a of rendering.applicationSecurityGroups)
    out.push({
      type: AZURE_TYPES.asg,
      name: asgName(a.segment),
      // Named by Pulumi too (see the NSG); the segment is in the tags.
      inputs: {
        ...rg,
        ...location,
        tags: { ...tags, [TAGS.segment]: a.segment },
      },
      refs: {},
      segment: a.segment,
    });
  if (mode === "inline") out.push(nsgSpec);
  else
    for (const r of rendering.rules) {
      const refs: Record<string, AzureRef> = { networkSecurityGroupName: { name: nsg } };
      asgRefs(r, asgName, "", refs);
      out.push({
        type: AZURE_TYPES.rule,
        name: `${name}-rule-${r.name}`,
        inputs: ruleInputs(r, ctx.resourceGroupName, false),
        refs,
      });
    }
  for (const s of ctx.subnets ?? [])
    out.push({
      type: AZURE_TYPES.subnet,
      name: `${name}-subnet-${s.name}`,
      inputs: {
        ...rg,
        virtualNetworkName: ctx.virtualNetworkName ?? rendering.vnet,
        subnetName: s.name,
        addressPrefixes: [...s.addressPrefixes],
        ...SUBNET_DEFAULTS,
      },
      refs: { networkSecurityGroup: { id: nsg } },
    });
  return out;
}

/**
 * `inputs` with each reference filled in by `resolve`: a copy, and a copy of every object or array
 * along a dotted path (the spec's own inputs are never changed).
 */
export function withRefs(
  inputs: Record<string, unknown>,
  refs: Record<string, AzureRef>,
  resolve: (ref: AzureRef, key: string) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = Object.assign({}, inputs);
  // The objects and arrays copied so far (a path shared by several references is copied once).
  const copies = new Set<unknown>();
  for (const key in refs) {
    const value = resolve(refs[key]!, key);
    if (!key.includes(".")) {
      out[key] = value;
      continue;
    }
    const path = key.split(".");
    let node = out;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      let child = node[k];
      if (child === null || typeof child !== "object")
        throw new Error(`azure resources: reference ${key} does not lead into an input (at ${k})`);
      if (!copies.has(child)) {
        child = Array.isArray(child) ? [...child] : { ...(child as Record<string, unknown>) };
        copies.add(child);
        node[k] = child;
      }
      node = child as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}

/** The subscription offline ids are built in (the runner's mock subscription). */
export const OFFLINE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";

const NAME_INPUT: Record<AzureResourceType, string> = {
  [AZURE_TYPES.nsg]: "networkSecurityGroupName",
  [AZURE_TYPES.asg]: "applicationSecurityGroupName",
  [AZURE_TYPES.rule]: "securityRuleName",
  [AZURE_TYPES.subnet]: "subnetName",
};
const COLLECTION: Record<AzureResourceType, string> = {
  [AZURE_TYPES.nsg]: "networkSecurityGroups",
  [AZURE_TYPES.asg]: "applicationSecurityGroups",
  [AZURE_TYPES.rule]: "securityRules",
  [AZURE_TYPES.subnet]: "subnets",
};

/**
 * The records the runner would record for these resources (same types, names, inputs), with ARM-style
 * ids (`/subscriptions/…/resourceGroups/<rg>/providers/Microsoft.Network/<collection>/<name>`) that
 * references resolve to. Context values must be plain strings here.
 */
export function azureRecords(
  specs: readonly AzureResourceSpec[],
  subscription: string = OFFLINE_SUBSCRIPTION,
): ResourceRecord[] {
  const byName = new Map<string, { id: string; azureName: string }>();
  const out: ResourceRecord[] = [];
  const get = (n: string, where: string) => {
    const r = byName.get(n);
    if (!r) throw new Error(`azure resources: ${where} references "${n}", which is not an earlier resource`);
    return r;
  };
  for (const s of specs) {
    const inputs = withRefs(s.inputs, s.refs, (ref, key) => {
      if ("name" in ref) return get(ref.name, `${s.name}.${key}`).azureName;
      if ("id" in ref) return { id: get(ref.id, `${s.name}.${key}`).id };
      const ids: Array<{ id: string }> = [];
      for (const n of ref.ids) ids.push({ id: get(n, `${s.name}.${key}`).id });
      return ids;
    });
    // A resource named by Pulumi has no name input: the runner's mocks name it by its logical name.
    const azureName = String(inputs[NAME_INPUT[s.type]] ?? s.name);
    const id = `/subscriptions/${subscription}/resourceGroups/${String(inputs.resourceGroupName)}/providers/Microsoft.Network/${COLLECTION[s.type]}/${azureName}`;
    byName.set(s.name, { id, azureName });
    out.push({ type: s.type, name: s.name, inputs, id });
  }
  return out;
}
