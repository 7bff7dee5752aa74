import { AddressSet } from "../../net";
import type { ResourceRecord } from "../../verify/types";
import { AWS_COMPUTE_TYPES, AWS_TAGS, BINDING_TAG, UNKNOWN_VALUE } from "./contract";

/*
 * Which compute a stack really builds in AWS, and which security groups each piece carries: the
 * binding contract read from recorded resources (or from `aws ec2 describe-network-interfaces`).
 * A compute resource is bound to a workload by the tag `blastradius:workload = <workload name>`
 * (on the instance, launch template or network interface; an interface attached to a tagged
 * instance is bound with it). Nothing here knows how blastradius renders: it states what AWS
 * attaches.
 *
 * - An instance's interfaces carry `vpcSecurityGroupIds` (and `securityGroups` by name); an
 *   instance given network interfaces (`networkInterfaces`, `primaryNetworkInterface`) carries what
 *   those interfaces carry; one given only a launch template carries the template's groups.
 * - A launch template's instances carry `vpcSecurityGroupIds`/`securityGroupNames`, or per
 *   interface the `networkInterfaces[].securityGroups`.
 * - A network interface carries `securityGroups` plus every
 *   `NetworkInterfaceSecurityGroupAttachment` naming it.
 * - An interface that ends up with no group runs with its VPC's default security group (AWS).
 */

/** One network interface (or the interfaces of one launch template spec) as the stack builds it. */
export interface AwsCompute {
  /** The resource's Pulumi name and a short kind, for findings ("instance trainer-0"). */
  resource: string;
  kind: "instance" | "launch template" | "network interface";
  /** The `blastradius:workload` tag (of the resource, or of the instance an interface is attached to). */
  workload?: string;
  /** Security group ids (or `name:<group name>` when named), sorted; empty: the VPC's default group. */
  groups: string[];
  /** The VPC id, when the stack says (a group's `vpcId`, the subnet's `vpcId`). */
  vpcId?: string;
  /** Its private addresses, when the stack fixes them. */
  addresses?: AddressSet;
  /** Attachments the stack leaves unknown (a value unknown during a preview). */
  unknown: string[];
}

type Inputs = Record<string, unknown>;
const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" && v !== UNKNOWN_VALUE ? v : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const isUnknown = (v: unknown): boolean => v === UNKNOWN_VALUE;

/** Tags as a map or as a list of `{key, value}`; user keys go into a Map (never an object). */
export function tagMap(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(v)) {
    for (const e of v as Inputs[]) {
      const k = e?.key ?? e?.Key;
      const val = e?.value ?? e?.Value;
      if (typeof k === "string" && typeof val === "string") out.set(k, val);
    }
  } else if (v && typeof v === "object") {
    for (const [k, val] of Object.entries(v as Inputs)) if (typeof val === "string") out.set(k, val);
  }
  return out;
}

function addressesOf(values: unknown[]): AddressSet | undefined {
  const parsed: AddressSet[] = [];
  for (const v of values) {
    const s = str(v);
    if (!s) continue;
    try {
      parsed.push(AddressSet.parse(s));
    } catch {
      // Not an address (an unknown or malformed value): the interface's addresses stay unknown.
    }
  }
  return parsed.length > 0 ? AddressSet.unionAll(parsed) : undefined;
}

/** A record's id as the engine assigned it (the runner records it), else its URN or name. */
const idOf = (r: ResourceRecord) => r.id ?? r.urn ?? r.name;

/** Every AWS compute the records hold, with what each interface carries. */
export function awsComputes(records: readonly ResourceRecord[]): AwsCompute[] {
  const groupByName = new Map<string, string>();
  const groupVpc = new Map<string, string>();
  const subnetVpc = new Map<string, string>();
  const instances: ResourceRecord[] = [];
  const templates: ResourceRecord[] = [];
  const enis: ResourceRecord[] = [];
  const sgAttachments: Inputs[] = [];
  const eniAttachments: Inputs[] = [];
  for (const r of records) {
    const i = r.inputs;
    switch (r.type) {
      case AWS_COMPUTE_TYPES.securityGroup:
      case AWS_COMPUTE_TYPES.nativeSecurityGroup: {
        const name = str(i.name) ?? str(i.groupName);
        if (name) groupByName.set(name, idOf(r));
        const vpc = str(i.vpcId);
        if (vpc) groupVpc.set(idOf(r), vpc);
        break;
      }
      case AWS_COMPUTE_TYPES.subnet: {
        const vpc = str(i.vpcId);
        if (vpc) subnetVpc.set(idOf(r), vpc);
        break;
      }
      case AWS_COMPUTE_TYPES.instance:
        instances.push(r);
        break;
      case AWS_COMPUTE_TYPES.launchTemplate:
        templates.push(r);
        break;
      case AWS_COMPUTE_TYPES.networkInterface:
        enis.push(r);
        break;
      case AWS_COMPUTE_TYPES.sgAttachment:
        sgAttachments.push(i);
        break;
      case AWS_COMPUTE_TYPES.eniAttachment:
        eniAttachments.push(i);
        break;
    }
  }

  /** Groups by id, and by name (resolved to the recorded group's id when the stack has it). */
  const groupsFrom = (ids: unknown, names: unknown, unknown: string[], where: string): string[] => {
    const out: string[] = [];
    for (const v of list(ids)) {
      if (isUnknown(v)) unknown.push(`${where}: a security group id unknown until it is created`);
      const id = str(v);
      if (id) out.push(id);
    }
    if (isUnknown(ids)) unknown.push(`${where}: the security group list is unknown until apply`);
    for (const v of list(names)) {
      const n = str(v);
      if (n) out.push(groupByName.get(n) ?? `name:${n}`);
    }
    return out;
  };
  const vpcOfGroups = (groups: readonly string[]) => groups.map((g) => groupVpc.get(g)).find((v) => v);
  const vpcOfSubnet = (v: unknown) => {
    const id = str(v);
    return id ? subnetVpc.get(id) : undefined;
  };
  const workloadTag = (tags: unknown) => tagMap(tags).get(BINDING_TAG);
  const sorted = (g: string[]) => [...new Set(g)].sort();

  const out: AwsCompute[] = [];
  // Interfaces bound through the instance they are attached to.
  const eniWorkload = new Map<string, string>();
  const instanceWorkload = new Map<string, string>();
  for (const r of instances) {
    const w = workloadTag(r.inputs.tags);
    if (w !== undefined) instanceWorkload.set(idOf(r), w);
    const i = r.inputs;
    for (const ni of [...list(i.networkInterfaces), i.primaryNetworkInterface]) {
      const id = str((ni as Inputs | undefined)?.networkInterfaceId);
      if (id && w !== undefined) eniWorkload.set(id, w);
    }
  }
  for (const a of eniAttachments) {
    const eni = str(a.networkInterfaceId);
    const w = str(a.instanceId) ? instanceWorkload.get(str(a.instanceId)!) : undefined;
    if (eni && w !== undefined) eniWorkload.set(eni, w);
  }
  const templateGroups = new Map<string, { groups: string[]; vpcId?: string; unknown: string[] }>();

  for (const r of templates) {
    const i = r.inputs;
    const where = `launch template ${r.name}`;
    const specs = list(i.tagSpecifications) as Inputs[];
    const w =
      workloadTag(i.tags) ??
      specs
        .filter((s) => s?.resourceType === "instance" || s?.resourceType === "network-interface")
        .map((s) => workloadTag(s.tags))
        .find((x) => x !== undefined);
    const nis = list(i.networkInterfaces) as Inputs[];
    const base: string[] = [];
    const unknown: string[] = [];
    const top = groupsFrom(i.vpcSecurityGroupIds, i.securityGroupNames, unknown, where);
    const variants =
      nis.length > 0 ? nis.map((ni) => groupsFrom(ni?.securityGroups, undefined, unknown, where)) : [top];
    for (const [k, groups] of variants.entries()) {
      const g = sorted([...base, ...groups]);
      const subnet = nis[k]?.subnetId;
      const compute: AwsCompute = {
        resource: nis.length > 1 ? `${r.name} (interface ${k})` : r.name,
        kind: "launch template",
        groups: g,
        unknown: [...unknown],
      };
      const vpcId = vpcOfGroups(g) ?? vpcOfSubnet(subnet);
      if (vpcId) compute.vpcId = vpcId;
      if (w !== undefined) compute.workload = w;
      const addresses = addressesOf([
        nis[k]?.privateIpAddress,
        ...list(nis[k]?.ipv4Addresses),
        ...list(nis[k]?.ipv6Addresses),
      ]);
      if (addresses) compute.addresses = addresses;
      out.push(compute);
      if (k === 0)
        templateGroups.set(idOf(r), { groups: g, unknown: [...unknown], ...(vpcId ? { vpcId } : {}) });
    }
  }

  for (const r of enis) {
    const i = r.inputs;
    const id = idOf(r);
    const where = `network interface ${r.name}`;
    const unknown: string[] = [];
    const attached = sgAttachments
      .filter((a) => str(a.networkInterfaceId) === id)
      .map((a) => a.securityGroupId);
    const groups = sorted([
      ...groupsFrom(i.securityGroups, undefined, unknown, where),
      ...groupsFrom(attached, undefined, unknown, where),
    ]);
    const compute: AwsCompute = { resource: r.name, kind: "network interface", groups, unknown };
    const w = workloadTag(i.tags) ?? eniWorkload.get(id);
    if (w !== undefined) compute.workload = w;
    const vpcId = vpcOfGroups(groups) ?? vpcOfSubnet(i.subnetId);
    if (vpcId) compute.vpcId = vpcId;
    const addresses = addressesOf([
      i.privateIp,
      ...list(i.privateIps),
      ...list(i.privateIpList),
      ...list(i.ipv6Addresses),
    ]);
    if (addresses) compute.addresses = addresses;
    out.push(compute);
  }

  for (const r of instances) {
    const i = r.inputs;
    // Interfaces given to the instance are computes of their own (above).
    const nis = [
      ...list(i.networkInterfaces),
      ...(i.primaryNetworkInterface ? [i.primaryNetworkInterface] : []),
    ];
    if (nis.length > 0) continue;
    const where = `instance ${r.name}`;
    const unknown: string[] = [];
    let groups = groupsFrom(i.vpcSecurityGroupIds, i.securityGroups, unknown, where);
    let vpcId = vpcOfGroups(groups) ?? vpcOfSubnet(i.subnetId);
    const lt = (i.launchTemplate ?? {}) as Inputs;
    const template =
      str(lt.id) ??
      (str(lt.name) ? templates.find((t) => str(t.inputs.name) === str(lt.name)) : undefined)?.id;
    if (groups.length === 0 && template !== undefined) {
      const t = templateGroups.get(template);
      if (t) {
        groups = t.groups;
        unknown.push(...t.unknown);
        vpcId ??= t.vpcId;
      }
    }
    const compute: AwsCompute = { resource: r.name, kind: "instance", groups: sorted(groups), unknown };
    const w = workloadTag(i.tags);
    if (w !== undefined) compute.workload = w;
    if (vpcId) compute.vpcId = vpcId;
    const addresses = addressesOf([i.privateIp, ...list(i.secondaryPrivateIps), ...list(i.ipv6Addresses)]);
    if (addresses) compute.addresses = addresses;
    out.push(compute);
  }
  return out;
}

/** The VPC id of each placement VPC, from the groups blastradius rendered (tagged with it). */
export function placementVpcIds(records: readonly ResourceRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of records) {
    if (r.type !== AWS_COMPUTE_TYPES.securityGroup) continue;
    const vpc = tagMap(r.inputs.tags).get(AWS_TAGS.vpc);
    const id = str(r.inputs.vpcId);
    if (vpc && id && !out.has(id)) out.set(id, vpc);
  }
  return out;
}

/* ------------------------------------------------------------------ from live exports */

interface ExportTag {
  Key?: string;
  Value?: string;
}
interface ExportGroup {
  GroupId?: string;
}
interface ExportInterface {
  NetworkInterfaceId?: string;
  VpcId?: string;
  Groups?: ExportGroup[];
  PrivateIpAddress?: string;
  PrivateIpAddresses?: Array<{ PrivateIpAddress?: string }>;
  Ipv6Addresses?: Array<{ Ipv6Address?: string }>;
  TagSet?: ExportTag[];
  Attachment?: { InstanceId?: string };
}

/** `aws ec2 describe-instances` output (the parts the binding reads). */
export interface DescribeInstancesOutput {
  Reservations?: Array<{
    Instances?: Array<{
      InstanceId?: string;
      VpcId?: string;
      Tags?: ExportTag[];
      NetworkInterfaces?: ExportInterface[];
      SecurityGroups?: ExportGroup[];
      PrivateIpAddress?: string;
    }>;
  }>;
}

/** `aws ec2 describe-network-interfaces` output (the parts the binding reads). */
export interface DescribeNetworkInterfacesOutput {
  NetworkInterfaces?: ExportInterface[];
}

const exportTag = (tags: ExportTag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;

/**
 * The compute of a live account: every network interface (from `describe-network-interfaces`, and
 * those `describe-instances` lists), with the groups it carries, its addresses, and the workload its
 * tag (or its instance's tag) binds it to. An interface listed by both is read once.
 */
export function awsComputesFromExport(
  instances?: DescribeInstancesOutput,
  interfaces?: DescribeNetworkInterfacesOutput,
): AwsCompute[] {
  const instanceTag = new Map<string, string>();
  const seen = new Set<string>();
  const out: AwsCompute[] = [];
  const push = (eni: ExportInterface, fallback: string, workload: string | undefined, vpc?: string) => {
    const id = eni.NetworkInterfaceId ?? fallback;
    if (seen.has(id)) return;
    seen.add(id);
    const compute: AwsCompute = {
      resource: id,
      kind: "network interface",
      groups: [...new Set((eni.Groups ?? []).map((g) => g.GroupId).filter((g): g is string => !!g))].sort(),
      unknown: [],
    };
    const w = exportTag(eni.TagSet, BINDING_TAG) ?? workload;
    if (w !== undefined) compute.workload = w;
    const vpcId = eni.VpcId ?? vpc;
    if (vpcId) compute.vpcId = vpcId;
    const addresses = addressesOf([
      eni.PrivateIpAddress,
      ...(eni.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress),
      ...(eni.Ipv6Addresses ?? []).map((a) => a.Ipv6Address),
    ]);
    if (addresses) compute.addresses = addresses;
    out.push(compute);
  };
  for (const r of instances?.Reservations ?? [])
    for (const i of r.Instances ?? []) {
      const w = exportTag(i.Tags, BINDING_TAG);
      if (i.InstanceId && w !== undefined) instanceTag.set(i.InstanceId, w);
      const enis = i.NetworkInterfaces ?? [];
      if (enis.length === 0)
        push(
          { Groups: i.SecurityGroups ?? [], PrivateIpAddress: i.PrivateIpAddress },
          i.InstanceId ?? "instance",
          w,
          i.VpcId,
        );
      for (const e of enis) push(e, `${i.InstanceId}-eni`, w, i.VpcId);
    }
  for (const e of interfaces?.NetworkInterfaces ?? [])
    push(e, "interface", e.Attachment?.InstanceId ? instanceTag.get(e.Attachment.InstanceId) : undefined);
  return out;
}
