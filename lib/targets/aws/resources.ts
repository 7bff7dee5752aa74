import type { ResourceRecord } from "../../verify/types";
import { AWS_TYPES } from "./contract";
import type { AwsRendering } from "./render";

/*
 * The provider resources of one `AwsSegmentation`, as plain data: the component creates exactly
 * these (resolving `refs` to the ids of the resources it created before), and `awsRecords` turns
 * them into the records the runner would have recorded, without the Pulumi engine. One list, so
 * the two cannot drift.
 */

/** The provider type tokens the AWS target renders. */
export type AwsResourceType =
  | typeof AWS_TYPES.securityGroup
  | typeof AWS_TYPES.prefixList
  | typeof AWS_TYPES.ingressRule
  | typeof AWS_TYPES.egressRule
  | typeof AWS_TYPES.networkAcl
  | typeof AWS_TYPES.networkAclRule;

/** One provider resource: type token, logical name, inputs, and the inputs that take an earlier resource's id. */
export interface AwsResourceSpec {
  type: AwsResourceType;
  name: string;
  /** Every input except those in `refs`. Values of `AwsResourceContext` are passed through as given. */
  inputs: Record<string, unknown>;
  /** Input key → logical name of an earlier resource in the list whose id that input takes. */
  refs: Record<string, string>;
}

/** What the component gets from its caller and passes through untouched (plain values or Pulumi inputs). */
export interface AwsResourceContext {
  /** The component's name: every resource is named `${name}-…`. */
  name: string;
  /** The VPC id every security group and the NACL are created in. */
  vpcId: unknown;
  /** The subnets the guardrail NACL is associated with (required when the rendering has a NACL). */
  subnetIds?: unknown;
  /**
   * The id of a resource by logical name, when known up front (offline records): references are
   * then also written into `inputs`. The component leaves it out and resolves `refs` as it creates.
   */
  resolve?: (name: string) => unknown;
}

/**
 * The resources of a rendering in creation order: security groups, prefix lists, rules, then the
 * NACL and its entries. Every reference points to an earlier resource.
 */
export function awsResources(rendering: AwsRendering, ctx: AwsResourceContext): AwsResourceSpec[] {
  const name = ctx.name;
  const resolve = ctx.resolve;
  const out: AwsResourceSpec[] = [];
  const groupName = (segment: string) => `${name}-${segment}`;
  for (const g of rendering.groups)
    out.push({
      type: AWS_TYPES.securityGroup,
      name: `${name}-${g.key}`,
      inputs: { vpcId: ctx.vpcId, description: g.description, tags: g.tags, revokeRulesOnDelete: true },
      refs: {},
    });
  for (const l of rendering.prefixLists)
    out.push({
      type: AWS_TYPES.prefixList,
      name: `${name}-${l.key}`,
      // No `name`: Pulumi names the list (logical name + suffix), so stacks sharing an account and
      // Region do not collide; the proof finds lists by id.
      inputs: {
        addressFamily: l.addressFamily,
        maxEntries: l.maxEntries,
        entries: l.entries.map((cidr) => ({ cidr })),
        tags: l.tags,
      },
      refs: {},
    });
  for (const r of rendering.rules) {
    const inputs: Record<string, unknown> = { ipProtocol: r.ipProtocol };
    if (r.fromPort !== undefined) inputs.fromPort = r.fromPort;
    if (r.toPort !== undefined) inputs.toPort = r.toPort;
    const refs: Record<string, string> = { securityGroupId: groupName(r.segment) };
    if (r.peer.kind === "group") refs.referencedSecurityGroupId = groupName(r.peer.segment);
    else if (r.peer.kind === "prefixList") refs.prefixListId = `${name}-${r.peer.list}`;
    else if (r.peer.family === 4) inputs.cidrIpv4 = r.peer.cidr;
    else inputs.cidrIpv6 = r.peer.cidr;
    if (resolve) for (const k in refs) inputs[k] = resolve(refs[k]!);
    inputs.description = r.description;
    inputs.tags = r.tags;
    out.push({
      type: r.direction === "ingress" ? AWS_TYPES.ingressRule : AWS_TYPES.egressRule,
      name: `${name}-${r.key}`,
      inputs,
      refs,
    });
  }
  if (rendering.nacl) {
    if (ctx.subnetIds === undefined)
      throw new Error(
        `AWS resources "${name}": the rendering has NACL guardrails but no subnetIds were given`,
      );
    const acl = `${name}-nacl`;
    out.push({
      type: AWS_TYPES.networkAcl,
      name: acl,
      inputs: { vpcId: ctx.vpcId, subnetIds: ctx.subnetIds, tags: rendering.nacl.tags },
      refs: {},
    });
    for (const e of rendering.nacl.entries) {
      const { key, path: _path, ...entry } = e;
      out.push({
        type: AWS_TYPES.networkAclRule,
        name: `${acl}-${key}`,
        inputs: resolve ? { networkAclId: resolve(acl), ...entry } : entry,
        refs: { networkAclId: acl },
      });
    }
  }
  return out;
}

/** The offline id of a resource: unique per logical name, so references resolve among the records. */
export const offlineId = (name: string) => `id:${name}`;

/**
 * The records the runner would record for one `AwsSegmentation` named `component` creating these
 * resources: the component itself (no inputs), then each resource with its references resolved to
 * `offlineId`s (specs built with `resolve: offlineId` hold them already and are not copied).
 */
export function awsRecords(component: string, specs: readonly AwsResourceSpec[]): ResourceRecord[] {
  const out: ResourceRecord[] = [{ type: AWS_TYPES.component, name: component, inputs: {} }];
  for (const s of specs) {
    let inputs = s.inputs;
    for (const k in s.refs) {
      const id = offlineId(s.refs[k]!);
      if (inputs[k] === id) continue;
      if (inputs === s.inputs) inputs = { ...s.inputs };
      inputs[k] = id;
    }
    out.push({ type: s.type, name: s.name, id: offlineId(s.name), inputs });
  }
  return out;
}
