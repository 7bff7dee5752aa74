import { AddressSet } from "../../net";
import type { ResourceRecord } from "../../verify/types";
import { AWS_COMPUTE_TYPES, AWS_TAGS, BINDING_TAG, UNKNOWN_VALUE } from "./contract";

/*
 * Which compute a stack really builds in AWS, and which security groups each piece carries: the
 * binding contract read from recorded resources (or from `aws ec2 describe-network-interfaces`).
 * A compute resource is bound to a workload by the tag `blastradius:workload = <workload name>`
 * (on the instance or spot instance request, launch template, network interface, Spot Fleet launch
 * specification; an interface attached to a tagged instance is bound with it; an instance launched
 * from a template without the tag gets the template's instance tag; an Auto Scaling group's tag
 * that propagates at launch binds what it launches). Nothing here knows how blastradius renders:
 * it states what AWS attaches.
 *
 * - An instance's interfaces carry `vpcSecurityGroupIds` (and `securityGroups` by name); an
 *   instance given network interfaces (`networkInterfaces`, `primaryNetworkInterface`) carries what
 *   those interfaces carry; one given only a launch template carries the template's groups. A
 *   `SpotInstanceRequest` is read alike.
 * - A launch template's instances carry `vpcSecurityGroupIds`/`securityGroupNames`, or per
 *   interface the `networkInterfaces[].securityGroups`. EC2 Fleets and Spot Fleets launching from
 *   a template are read as the template.
 * - An Auto Scaling group launching from a launch configuration carries its `securityGroups`.
 * - A network interface carries `securityGroups` plus every
 *   `NetworkInterfaceSecurityGroupAttachment` naming it; one naming an instance's primary interface
 *   (`primaryNetworkInterfaceId`) adds the group to that instance.
 * - An interface that ends up with no group runs with its VPC's default security group (AWS).
 *
 * A reference is resolved by id (or name); a value unknown during a preview by the resource it came
 * from (the runner records it per input). What cannot be resolved (an interface, template or
 * configuration the stack does not record) and an instance whose interfaces are bound to different
 * workloads are issues: the evaluator reports them as errors, never passes them silently.
 */

/** One network interface (or the interfaces of one launch template spec) as the stack builds it. */
export interface AwsCompute {
  /** The resource's Pulumi name and a short kind, for findings ("instance trainer-0"). */
  resource: string;
  kind:
    | "instance"
    | "spot instance request"
    | "launch template"
    | "network interface"
    | "auto scaling group"
    | "spot fleet request";
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
/** A reference as a finding shows it. */
function describe(v: unknown): string {
  if (isUnknown(v)) return "(unknown until apply)";
  if (typeof v === "string") return v;
  const s = (v ?? {}) as Inputs;
  const named = [s.id, s.name, s.launchTemplateId, s.launchTemplateName].find((x) => x !== undefined);
  return named === undefined ? "(none)" : describe(named);
}

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

/**
 * What the binding finds beyond the computes: attachments it cannot tie to compute, compute it cannot
 * see, compute that claims two workloads. The evaluator reports each as a finding (an error).
 */
export interface AwsBindingIssue {
  kind: "unknown" | "unbound-compute";
  /** The resource concerned (its Pulumi name). */
  resource: string;
  workload?: string;
  message: string;
}

/** The computes of a stack and what the binding could not read (see `awsBinding`). */
export interface AwsBinding {
  computes: AwsCompute[];
  issues: AwsBindingIssue[];
}

/** Every AWS compute the records hold, with what each interface carries. */
export function awsComputes(records: readonly ResourceRecord[]): AwsCompute[] {
  return awsBinding(records).computes;
}

/**
 * The URNs a recorded input's value came from (the runner records them per input property, as the
 * engine does): how a reference whose value is unknown during a preview (an instance's
 * `primaryNetworkInterfaceId`, a launch configuration's `name`) is still tied to its resource.
 */
function sourcesOf(r: ResourceRecord, property: string): readonly string[] {
  const deps: unknown = r.propertyDependencies?.[property];
  return Array.isArray(deps) ? deps.filter((d): d is string => typeof d === "string") : [];
}

/** Every AWS compute the records hold, with what each interface carries, and what cannot be read. */
export function awsBinding(records: readonly ResourceRecord[]): AwsBinding {
  const groupByName = new Map<string, string>();
  const groupVpc = new Map<string, string>();
  const subnetVpc = new Map<string, string>();
  const byUrn = new Map<string, ResourceRecord>();
  const instances: ResourceRecord[] = [];
  const templates: ResourceRecord[] = [];
  const enis: ResourceRecord[] = [];
  const sgAttachments: ResourceRecord[] = [];
  const eniAttachments: ResourceRecord[] = [];
  const configurations: ResourceRecord[] = [];
  const autoscalingGroups: ResourceRecord[] = [];
  const fleets: ResourceRecord[] = [];
  const spotFleets: ResourceRecord[] = [];
  for (const r of records) {
    if (r.urn !== undefined) byUrn.set(r.urn, r);
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
      case AWS_COMPUTE_TYPES.spotInstanceRequest:
        instances.push(r);
        break;
      case AWS_COMPUTE_TYPES.launchConfiguration:
        configurations.push(r);
        break;
      case AWS_COMPUTE_TYPES.autoscalingGroup:
        autoscalingGroups.push(r);
        break;
      case AWS_COMPUTE_TYPES.fleet:
        fleets.push(r);
        break;
      case AWS_COMPUTE_TYPES.spotFleetRequest:
        spotFleets.push(r);
        break;
      case AWS_COMPUTE_TYPES.launchTemplate:
        templates.push(r);
        break;
      case AWS_COMPUTE_TYPES.networkInterface:
        enis.push(r);
        break;
      case AWS_COMPUTE_TYPES.sgAttachment:
        sgAttachments.push(r);
        break;
      case AWS_COMPUTE_TYPES.eniAttachment:
        eniAttachments.push(r);
        break;
    }
  }
  const issues: AwsBindingIssue[] = [];

  /**
   * The recorded resource (of `types`) an input names: by its id (or `byName`), or, when the value
   * is unknown during a preview, the one resource of those types it came from.
   */
  const refer = (
    r: ResourceRecord,
    property: string,
    value: unknown,
    types: readonly string[],
    byName?: (name: string) => ResourceRecord | undefined,
  ): ResourceRecord | undefined => {
    const s = str(value);
    if (s !== undefined) return records.find((x) => types.includes(x.type) && idOf(x) === s) ?? byName?.(s);
    if (!isUnknown(value)) return undefined;
    const from = [...new Set(sourcesOf(r, property))]
      .map((u) => byUrn.get(u))
      .filter((x): x is ResourceRecord => x !== undefined && types.includes(x.type));
    return from.length === 1 ? from[0] : undefined;
  };
  const shown = (v: unknown) => (isUnknown(v) ? "(unknown until apply)" : (str(v) ?? "(none)"));

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

  const templateTypes = [AWS_COMPUTE_TYPES.launchTemplate];
  const templateByName = (n: string) => templates.find((t) => str(t.inputs.name) === n);
  /** The launch template a `{id | name}` spec names, or `null` when it names none. */
  const templateOf = (
    r: ResourceRecord,
    property: string,
    spec: unknown,
    idKey: string,
    nameKey: string,
  ): ResourceRecord | undefined | null => {
    const s = (spec ?? {}) as Inputs;
    if (s[idKey] !== undefined && s[idKey] !== null && s[idKey] !== "")
      return refer(r, property, s[idKey], templateTypes);
    if (s[nameKey] !== undefined && s[nameKey] !== null && s[nameKey] !== "")
      return refer(r, property, s[nameKey], templateTypes, templateByName);
    return null;
  };
  const unseen = (r: ResourceRecord, kind: string, what: string, spec: unknown) =>
    issues.push({
      kind: "unknown",
      resource: r.name,
      message: `${kind} ${r.name} launches instances from ${what} ${describe(spec)}, which this stack does not record: the proof cannot see what they carry (create it in the stack, or audit the live instances)`,
    });
  /*
   * An instance launched from a launch template gets the template's instance tags where it sets no
   * tag of that key (as AWS tags it at launch): the template's `tagSpecifications` for instances
   * (or, for its primary interface, for network interfaces). The template's own `tags` stay on it.
   */
  const launchedFrom = new Map<ResourceRecord, ResourceRecord | undefined | null>();
  for (const r of instances)
    launchedFrom.set(r, templateOf(r, "launchTemplate", r.inputs.launchTemplate, "id", "name"));
  const instanceWorkload = (r: ResourceRecord): string | undefined => {
    const own = workloadTag(r.inputs.tags);
    if (own !== undefined) return own;
    const t = launchedFrom.get(r);
    if (!t) return undefined;
    for (const type of ["instance", "network-interface"])
      for (const spec of list(t.inputs.tagSpecifications) as Inputs[])
        if (spec?.resourceType === type) {
          const w = workloadTag(spec.tags);
          if (w !== undefined) return w;
        }
    return undefined;
  };

  const out: AwsCompute[] = [];

  /*
   * Each instance's interfaces: those given to it (`networkInterfaces`, `primaryNetworkInterface`),
   * else its own primary interface; plus those attached by `NetworkInterfaceAttachment`. An interface
   * the stack does not record is compute the proof cannot see.
   */
  const eniTypes = [AWS_COMPUTE_TYPES.networkInterface];
  const instanceTypes = [AWS_COMPUTE_TYPES.instance, AWS_COMPUTE_TYPES.spotInstanceRequest];
  /** "instance" or "spot instance request" (read alike: same inputs, its tags bind it). */
  const kindOf = (r: ResourceRecord): "instance" | "spot instance request" =>
    r.type === AWS_COMPUTE_TYPES.spotInstanceRequest ? "spot instance request" : "instance";
  const given = new Map<ResourceRecord, ResourceRecord[]>();
  /** The interface record an instance's primary interface is (when it is given one). */
  const primaryOf = new Map<ResourceRecord, ResourceRecord>();
  const attachedTo = new Map<ResourceRecord, ResourceRecord[]>();
  for (const r of instances) {
    const i = r.inputs;
    const entries: Array<{ ni: Inputs; property: string }> = [
      ...(list(i.networkInterfaces) as Inputs[]).map((ni) => ({ ni, property: "networkInterfaces" })),
      ...(i.primaryNetworkInterface
        ? [{ ni: i.primaryNetworkInterface as Inputs, property: "primaryNetworkInterface" }]
        : []),
    ];
    const mine: ResourceRecord[] = [];
    for (const { ni, property } of entries) {
      const eni = refer(r, property, ni?.networkInterfaceId, eniTypes);
      if (!eni) {
        issues.push({
          kind: "unknown",
          resource: r.name,
          ...(instanceWorkload(r) !== undefined ? { workload: instanceWorkload(r)! } : {}),
          message: `${kindOf(r)} ${r.name} is given network interface ${shown(ni?.networkInterfaceId)}, which this stack does not record: the proof cannot see what it carries (create the interface in the stack as aws.ec2.NetworkInterface, or audit the live interfaces)`,
        });
        continue;
      }
      mine.push(eni);
      if (property === "primaryNetworkInterface" || Number(ni?.deviceIndex) === 0) primaryOf.set(r, eni);
    }
    given.set(r, mine);
  }
  for (const a of eniAttachments) {
    const instance = refer(a, "instanceId", a.inputs.instanceId, instanceTypes);
    const eni = refer(a, "networkInterfaceId", a.inputs.networkInterfaceId, eniTypes);
    if (!eni)
      issues.push({
        kind: "unknown",
        resource: a.name,
        message: `network interface attachment ${a.name} attaches interface ${shown(a.inputs.networkInterfaceId)}, which this stack does not record, to instance ${instance?.name ?? shown(a.inputs.instanceId)}: the proof cannot see what it carries (create the interface in the stack, or audit the live interfaces)`,
      });
    if (!instance)
      issues.push({
        kind: "unknown",
        resource: a.name,
        message: `network interface attachment ${a.name} attaches ${eni ? `network interface ${eni.name}` : "an interface"} to instance ${shown(a.inputs.instanceId)}, which this stack does not record: the proof cannot tell which workload it serves (create the instance in the stack, or audit the live instances)`,
      });
    if (eni && instance) {
      const list = attachedTo.get(instance) ?? [];
      list.push(eni);
      attachedTo.set(instance, list);
    }
  }

  // Interfaces bound through the instance they are attached to.
  const eniWorkload = new Map<ResourceRecord, string>();
  for (const r of instances) {
    const w = instanceWorkload(r);
    if (w === undefined) continue;
    for (const eni of [...(given.get(r) ?? []), ...(attachedTo.get(r) ?? [])]) eniWorkload.set(eni, w);
  }
  /*
   * One instance is one host: whatever runs on it sends through any of its interfaces, with that
   * interface's groups. Interfaces bound to different workloads (or some to none) on one instance
   * make it all of them at once, which no workload's proof covers: an error.
   */
  for (const r of instances) {
    const w = instanceWorkload(r);
    const enis = [...(given.get(r) ?? []), ...(attachedTo.get(r) ?? [])];
    const claims = new Map<string, string[]>();
    const claim = (workload: string | undefined, what: string) => {
      const k = workload === undefined ? "no workload" : `workload "${workload}"`;
      claims.set(k, [...(claims.get(k) ?? []), what]);
    };
    if (w !== undefined || (given.get(r) ?? []).length === 0) claim(w, `${kindOf(r)} ${r.name}`);
    for (const eni of enis) claim(workloadTag(eni.inputs.tags) ?? w, `network interface ${eni.name}`);
    if (claims.size > 1)
      issues.push({
        kind: "unbound-compute",
        resource: r.name,
        ...(w !== undefined ? { workload: w } : {}),
        message: `${kindOf(r)} ${r.name} has interfaces bound to different workloads (${[...claims].map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ")}): what runs on it sends through any of them, with their groups, so no workload's proof covers it (bind the instance and every interface attached to it to one workload)`,
      });
  }

  /*
   * Groups attached by `NetworkInterfaceSecurityGroupAttachment`: to a recorded interface, or to an
   * instance's primary interface (its `primaryNetworkInterfaceId`: a known id, or during a preview
   * the instance the unknown value comes from). One the proof cannot tie to compute is an error: the
   * group could be on any workload.
   */
  const attachedGroups = new Map<ResourceRecord, unknown[]>();
  for (const a of sgAttachments) {
    const value = a.inputs.networkInterfaceId;
    const id = str(value);
    let target = refer(a, "networkInterfaceId", value, eniTypes);
    if (!target) {
      const instance =
        id !== undefined
          ? instances.find((r) => str(r.inputs.primaryNetworkInterfaceId) === id)
          : refer(a, "networkInterfaceId", value, instanceTypes);
      if (instance) target = primaryOf.get(instance) ?? instance;
    }
    if (!target) {
      issues.push({
        kind: "unknown",
        resource: a.name,
        message: `security group attachment ${a.name} attaches ${shown(a.inputs.securityGroupId)} to network interface ${shown(value)}, which is no interface this stack records nor an instance's primary interface: the proof cannot tell which compute carries the group (attach it to an aws.ec2.NetworkInterface of the stack or to an instance's primaryNetworkInterfaceId, or audit the live interfaces)`,
      });
      continue;
    }
    const list = attachedGroups.get(target) ?? [];
    list.push(a.inputs.securityGroupId);
    attachedGroups.set(target, list);
  }

  /*
   * Launchers: an Auto Scaling group launches from a launch configuration or launch template(s) and
   * tags its instances with its tags that propagate at launch (over the template's); an EC2 Fleet
   * or Spot Fleet launches from launch templates (and a Spot Fleet from launch specifications, read
   * like instances). A launcher naming a configuration or template the stack does not record
   * launches compute the proof cannot see.
   */
  /** Propagated workload tags of Auto Scaling groups, by the template they launch from. */
  const templateLaunchers = new Map<ResourceRecord, Array<{ by: ResourceRecord; workload: string }>>();
  const propagated = (tags: unknown): string | undefined => {
    for (const t of list(tags) as Inputs[])
      if (t?.key === BINDING_TAG && (t.propagateAtLaunch === true || t.propagateAtLaunch === "true"))
        return str(t.value);
    return undefined;
  };
  for (const a of autoscalingGroups) {
    const i = a.inputs;
    const w = propagated(i.tags);
    const mixed = ((i.mixedInstancesPolicy as Inputs | undefined)?.launchTemplate ?? {}) as Inputs;
    const specs: Array<[string, unknown, string, string]> = [
      ["launchTemplate", i.launchTemplate, "id", "name"],
      ["mixedInstancesPolicy", mixed.launchTemplateSpecification, "launchTemplateId", "launchTemplateName"],
      ...(list(mixed.overrides) as Inputs[]).map(
        (o) =>
          [
            "mixedInstancesPolicy",
            o?.launchTemplateSpecification,
            "launchTemplateId",
            "launchTemplateName",
          ] as [string, unknown, string, string],
      ),
    ];
    for (const [property, spec, idKey, nameKey] of specs) {
      const t = templateOf(a, property, spec, idKey, nameKey);
      if (t === null) continue;
      if (!t) unseen(a, "auto scaling group", "launch template", spec);
      else if (w !== undefined)
        templateLaunchers.set(t, [...(templateLaunchers.get(t) ?? []), { by: a, workload: w }]);
    }
    const lcValue = i.launchConfiguration;
    if (lcValue === undefined || lcValue === null || lcValue === "") continue;
    const lc = refer(a, "launchConfiguration", lcValue, [AWS_COMPUTE_TYPES.launchConfiguration], (n) =>
      configurations.find((c) => str(c.inputs.name) === n),
    );
    if (!lc) {
      unseen(a, "auto scaling group", "launch configuration", lcValue);
      continue;
    }
    // The group's instances carry the configuration's groups: one compute per group.
    const where = `auto scaling group ${a.name} (launch configuration ${lc.name})`;
    const unknown: string[] = [];
    const groups = sorted(groupsFrom(lc.inputs.securityGroups, undefined, unknown, where));
    const compute: AwsCompute = { resource: a.name, kind: "auto scaling group", groups, unknown };
    if (w !== undefined) compute.workload = w;
    const vpcId =
      vpcOfGroups(groups) ??
      list(i.vpcZoneIdentifiers)
        .map(vpcOfSubnet)
        .find((v) => v);
    if (vpcId) compute.vpcId = vpcId;
    out.push(compute);
  }
  for (const f of fleets)
    for (const c of list(f.inputs.launchTemplateConfigs) as Inputs[]) {
      const spec = c?.launchTemplateSpecification;
      const t = templateOf(f, "launchTemplateConfigs", spec, "launchTemplateId", "launchTemplateName");
      if (t === undefined) unseen(f, "fleet", "launch template", spec);
    }
  for (const f of spotFleets) {
    for (const c of list(f.inputs.launchTemplateConfigs) as Inputs[]) {
      const spec = c?.launchTemplateSpecification;
      const t = templateOf(f, "launchTemplateConfigs", spec, "id", "name");
      if (t === undefined) unseen(f, "spot fleet request", "launch template", spec);
    }
    const specs = list(f.inputs.launchSpecifications) as Inputs[];
    for (const [k, spec] of specs.entries()) {
      const resource = specs.length > 1 ? `${f.name} (specification ${k})` : f.name;
      const unknown: string[] = [];
      const groups = sorted(
        groupsFrom(spec?.vpcSecurityGroupIds, undefined, unknown, `spot fleet request ${resource}`),
      );
      const compute: AwsCompute = { resource, kind: "spot fleet request", groups, unknown };
      const w = workloadTag(spec?.tags);
      if (w !== undefined) compute.workload = w;
      const vpcId = vpcOfGroups(groups) ?? vpcOfSubnet(spec?.subnetId);
      if (vpcId) compute.vpcId = vpcId;
      out.push(compute);
    }
  }

  const templateGroups = new Map<string, { groups: string[]; vpcId?: string; unknown: string[] }>();

  for (const r of templates) {
    const i = r.inputs;
    const where = `launch template ${r.name}`;
    const specs = list(i.tagSpecifications) as Inputs[];
    const own =
      workloadTag(i.tags) ??
      specs
        .filter((s) => s?.resourceType === "instance" || s?.resourceType === "network-interface")
        .map((s) => workloadTag(s.tags))
        .find((x) => x !== undefined);
    // Auto Scaling groups tag what they launch (over the template's tags).
    let w = own;
    const launchers = templateLaunchers.get(r) ?? [];
    const claimed = [...new Set(launchers.map((l) => l.workload))];
    if (claimed.length > 1 || (own !== undefined && claimed.some((c) => c !== own)))
      issues.push({
        kind: "unbound-compute",
        resource: r.name,
        message: `launch template ${r.name}${own !== undefined ? ` (bound to workload "${own}")` : ""} launches instances that ${launchers.map((l) => `auto scaling group ${l.by.name} tags ${BINDING_TAG}=${l.workload}`).join(", ")}: its instances are bound to different workloads with the same groups (use one template per workload)`,
      });
    else if (claimed.length === 1) w = claimed[0];
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
    const where = `network interface ${r.name}`;
    const unknown: string[] = [];
    const groups = sorted([
      ...groupsFrom(i.securityGroups, undefined, unknown, where),
      ...groupsFrom(attachedGroups.get(r) ?? [], undefined, unknown, where),
    ]);
    const compute: AwsCompute = { resource: r.name, kind: "network interface", groups, unknown };
    const w = workloadTag(i.tags) ?? eniWorkload.get(r);
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
    // Interfaces given to the instance are computes of their own (above); so is one the stack does
    // not record (an issue above).
    if (list(i.networkInterfaces).length > 0 || i.primaryNetworkInterface) continue;
    const where = `${kindOf(r)} ${r.name}`;
    const unknown: string[] = [];
    let groups = groupsFrom(i.vpcSecurityGroupIds, i.securityGroups, unknown, where);
    let vpcId = vpcOfGroups(groups) ?? vpcOfSubnet(i.subnetId);
    const template = launchedFrom.get(r);
    if (template === undefined) unseen(r, kindOf(r), "launch template", i.launchTemplate);
    if (groups.length === 0 && template) {
      const t = templateGroups.get(idOf(template));
      if (t) {
        groups = t.groups;
        unknown.push(...t.unknown);
        vpcId ??= t.vpcId;
      }
    }
    groups = [...groups, ...groupsFrom(attachedGroups.get(r) ?? [], undefined, unknown, where)];
    const compute: AwsCompute = { resource: r.name, kind: kindOf(r), groups: sorted(groups), unknown };
    const w = instanceWorkload(r);
    if (w !== undefined) compute.workload = w;
    if (vpcId) compute.vpcId = vpcId;
    const addresses = addressesOf([i.privateIp, ...list(i.secondaryPrivateIps), ...list(i.ipv6Addresses)]);
    if (addresses) compute.addresses = addresses;
    out.push(compute);
  }
  return { computes: out, issues };
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
