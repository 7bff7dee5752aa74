import * as pulumi from "@pulumi/pulumi";
import type { QuotaLimits } from "../lib";

type DependsOn = pulumi.ResourceOptions["dependsOn"];

/** `dependsOn` as one Input of a list, whatever form it was given in. */
function dependencyList(d: DependsOn): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
  if (d === undefined) return [];
  if (Array.isArray(d)) return d;
  if (pulumi.Resource.isInstance(d)) return [d];
  return pulumi
    .output(d as pulumi.Input<pulumi.Resource | pulumi.Resource[]>)
    .apply((x) => (Array.isArray(x) ? x : [x])) as pulumi.Output<pulumi.Resource[]>;
}

/** Both dependency lists in one (a list of plain Inputs stays a plain list). */
export function mergeDependsOn(a: DependsOn, b: DependsOn): DependsOn {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const x = dependencyList(a);
  const y = dependencyList(b);
  if (Array.isArray(x) && Array.isArray(y)) return [...x, ...y];
  return pulumi.all([x, y]).apply(([p, q]) => [...p, ...q]) as pulumi.Output<pulumi.Resource[]>;
}

/**
 * The options of a resource a component creates: the component as parent, and the component's
 * own `dependsOn`. Pulumi passes a parent's providers and `protect` to its children, but not its
 * `dependsOn`: without this, a component told to wait (for a namespace, a VPC peering, …) would
 * create its children at once.
 */
export function childOptions(
  parent: pulumi.ComponentResource,
  componentOptions: pulumi.ComponentResourceOptions | undefined,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  const dependsOn = mergeDependsOn(componentOptions?.dependsOn, extra.dependsOn);
  return { ...extra, parent, ...(dependsOn !== undefined ? { dependsOn } : {}) };
}

/**
 * The stack's raised provider limits: the stack config `blastradius:quotas` (quota id → limit, as
 * `pulumi config set --path 'blastradius:quotas["aws.rulesPerSecurityGroup"]' 200` writes it).
 * `blastradius review --quota` sets it for the run.
 */
export function stackQuotas(): QuotaLimits {
  const value = new pulumi.Config("blastradius").getObject<unknown>("quotas");
  if (value === undefined) return {};
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new Error(
      `stack config blastradius:quotas must map quota ids to limits, e.g. {"aws.rulesPerSecurityGroup": 200} (got ${JSON.stringify(value)})`,
    );
  return value as QuotaLimits;
}
