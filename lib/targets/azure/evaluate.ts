import { AddressSet, ConnectionSet, type Packet, parseAddress, ServiceSet } from "../../net";
import { governs } from "../../plan/facets";
import type { Party, Plan } from "../../plan/types";
import { unclaimedAddresses } from "../../plan/universe";
import { UNKNOWN_VALUE, WORKLOAD_TAG } from "../../verify/binding";
import { addressFootprint } from "../../verify/footprint";
import type { BindingFinding, Decision, ResourceRecord, TargetEvaluator } from "../../verify/types";
import {
  allowedByNsg,
  armIdSegment,
  armKey,
  asgKey,
  DEFAULT_RULES,
  type Direction,
  type Nsg,
  type NsgContext,
  type NsgRule,
  ordered,
  parseArmId,
  type RuleParts,
  ruleLabel,
  ruleParts,
} from "./nsg";
import { type Hull, hullOf, hullsApart, restrict } from "./restrict";

/** The component's type token (its inputs map the placement VNet to the Azure VNet name). */
export const AZURE_COMPONENT_TYPE = "blastradius:azure:AzureSegmentation";

/** The azure-native type tokens the evaluator reads. */
export const AZURE_TYPES = {
  nsg: "azure-native:network:NetworkSecurityGroup",
  rule: "azure-native:network:SecurityRule",
  asg: "azure-native:network:ApplicationSecurityGroup",
  subnet: "azure-native:network:Subnet",
  nic: "azure-native:network:NetworkInterface",
  vnet: "azure-native:network:VirtualNetwork",
  vm: "azure-native:compute:VirtualMachine",
  vmss: "azure-native:compute:VirtualMachineScaleSet",
} as const;

/**
 * The classic provider's (`@pulumi/azure`) compute, rule sets and associations, by the resource
 * part of their type token (`azure:<module>/<name>:<Name>`). blastradius does not depend on that
 * provider, so it does not read them: each is an unknown error, so that a stack never passes
 * with compute or associations the proof cannot see.
 */
const CLASSIC = new Set([
  "NetworkInterface",
  "NetworkInterfaceApplicationSecurityGroupAssociation",
  "NetworkInterfaceSecurityGroupAssociation",
  "SubnetNetworkSecurityGroupAssociation",
  "NetworkSecurityGroup",
  "NetworkSecurityRule",
  "ApplicationSecurityGroup",
  "VirtualMachine",
  "LinuxVirtualMachine",
  "WindowsVirtualMachine",
  "ScaleSet",
  "LinuxVirtualMachineScaleSet",
  "WindowsVirtualMachineScaleSet",
  "OrchestratedVirtualMachineScaleSet",
  "VirtualMachineScaleSet",
]);
/** Whether a record is one of the classic provider's types the proof cannot read (see CLASSIC). */
export const isClassicAzure = (type: string): boolean =>
  /^azure:(network|compute)\//.test(type) && CLASSIC.has(type.split(":").pop() ?? "");

/**
 * The resource types the Azure adapter owns (the rule sets and what associates them) and the ones
 * it reads besides (the compute: network interfaces; the VNets' address spaces; the components).
 */
export const OWNED = new Set<string>([
  AZURE_TYPES.nsg,
  AZURE_TYPES.rule,
  AZURE_TYPES.asg,
  AZURE_TYPES.subnet,
]);
export const READ = new Set<string>([
  AZURE_TYPES.nic,
  AZURE_TYPES.vnet,
  AZURE_TYPES.vm,
  AZURE_TYPES.vmss,
  AZURE_COMPONENT_TYPE,
]);

/** Tags blastradius puts on what it renders; the evaluator reads the ASG ones for membership. */
export const TAGS = {
  policy: "blastradius-policy",
  vnet: "blastradius-vnet",
  segment: "blastradius-segment",
} as const;

/** Where an NSG is associated: a subnet (by its prefixes) or a NIC (by its addresses), in a VNet. */
export interface Attachment {
  level: "subnet" | "nic";
  /** The subnet's or NIC's name, for verdicts. */
  name: string;
  vnet: string;
  /** The subnet's prefixes or the NIC's addresses; undefined for a subnet with unknown prefixes (the whole VNet). */
  addresses?: AddressSet;
  nsg: string;
}

/** A network interface as the stack builds it (or an `az network nic` export lists it). */
export interface NicInfo {
  /** Its Pulumi (or Azure) name, for findings. */
  name: string;
  /** The `blastradius:workload` tag. */
  workload?: string;
  /** ASG keys of its IP configurations. */
  asgs: string[];
  /** The NSG associated with the NIC itself (its key), if any. */
  nsg?: string;
  /** The subnet's id, when an IP configuration names it. */
  subnetId?: string;
  /** Its VNet (Azure name, from the subnet id), when known. */
  vnet?: string;
  /** Its private addresses when the stack fixes them; empty when Azure allocates them. */
  addresses: AddressSet;
  /** A value unknown during a preview (an ASG or subnet not created yet). */
  unknown: boolean;
}

/** Everything the interpreter needs, read from resources (or a live export). */
export interface AzureNetworkModel {
  nsgs: Map<string, Nsg>;
  attachments: Attachment[];
  /** Every network interface read (the binding: which compute carries which ASGs). */
  nics: NicInfo[];
  /** Subnet id → its VNet (Azure name) and prefixes, for the NICs that name it. */
  subnets: Map<string, { vnet: string; addresses?: AddressSet; name: string }>;
  /** Azure VNet name → placement VNet name, from the NSGs blastradius rendered (tag) and what associates them. */
  vnetNames: Map<string, string>;
  /** Explicit ASG membership from NICs: ASG key → NIC addresses. */
  asgNics: Map<string, AddressSet>;
  /** ASGs tagged with a blastradius segment and VNet: ASG key → {segment, vnet}. */
  asgSegments: Map<string, { segment: string; vnet: string }>;
  /** Address spaces declared by VirtualNetwork resources: VNet name → addresses. */
  vnetSpaces: Map<string, AddressSet>;
  /** Compute or associations read but not understood (each an unknown error): resource and why. */
  unread: Array<{ resource: string; message: string }>;
}

export interface AzureEvaluatorOptions {
  /**
   * Extra address space per VNet (placement name), for the `VirtualNetwork` tag: peered VNets,
   * on-premises ranges behind a gateway, or the VNet's declared space when no VirtualNetwork
   * resource was recorded.
   */
  addressSpaces?: Record<string, readonly string[]>;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (...vs: unknown[]): string[] => {
  const out: string[] = [];
  for (const v of vs)
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === "string" && x !== "") out.push(x);
    } else if (typeof v === "string" && v !== "") out.push(v);
  return out;
};
/** ARM objects nest their fields under `properties`; Pulumi inputs and `az` output flatten them. */
const flat = (o: unknown): Record<string, unknown> => {
  const r = (o ?? {}) as Record<string, unknown>;
  const p = r.properties;
  return p && typeof p === "object" ? { ...r, ...(p as Record<string, unknown>) } : r;
};
const idOf = (v: unknown): string | undefined => str(flat(v).id);
const canonical = (v: unknown, words: readonly string[]): string => {
  const s = String(v ?? "");
  return words.find((w) => w.toLowerCase() === s.toLowerCase()) ?? s;
};

const asgKeys = new Map<string, string>();
/** ASG keys of a rule side's `[{ id }]` (ids repeat across thousands of rules: each is parsed once). */
const asgsOf = (v: unknown): string[] => {
  const out: string[] = [];
  for (const x of list(v)) {
    const id = idOf(x);
    if (id === undefined) continue;
    let k = asgKeys.get(id);
    if (k === undefined) {
      if (asgKeys.size > 100_000) asgKeys.clear();
      asgKeys.set(id, (k = asgKey(id)));
    }
    out.push(k);
  }
  return out;
};
const portsOf = (one: unknown, many: unknown) => {
  const all = strings(one, many);
  return all.length > 0 ? all : ["*"];
};

/** One security rule from Pulumi inputs or an ARM/`az` JSON object. */
export function readRule(raw: unknown, fallbackName: string): NsgRule {
  const r = flat(raw);
  const asgs = asgsOf;
  const ports = portsOf;
  return {
    rendered: (str(r.description) ?? "").startsWith("blastradius "),
    name: str(r.securityRuleName) ?? str(r.name) ?? fallbackName,
    priority: Number(r.priority),
    direction: canonical(r.direction, ["Inbound", "Outbound"]) as Direction,
    access: canonical(r.access, ["Allow", "Deny"]) as NsgRule["access"],
    protocol: String(r.protocol ?? "*"),
    sourceAddressPrefixes: strings(r.sourceAddressPrefix, r.sourceAddressPrefixes),
    sourceApplicationSecurityGroups: asgs(r.sourceApplicationSecurityGroups),
    sourcePortRanges: ports(r.sourcePortRange, r.sourcePortRanges),
    destinationAddressPrefixes: strings(r.destinationAddressPrefix, r.destinationAddressPrefixes),
    destinationApplicationSecurityGroups: asgs(r.destinationApplicationSecurityGroups),
    destinationPortRanges: ports(r.destinationPortRange, r.destinationPortRanges),
  };
}

/**
 * Reads NSGs (with inline `securityRules`, and `defaultSecurityRules` when an export carries them),
 * standalone SecurityRules, ASGs, and the subnets, NICs and VNets that associate NSGs and declare
 * address spaces. `known` holds address lists already parsed, by their text joined with commas.
 */
export function readModel(
  records: readonly ResourceRecord[],
  known: ReadonlyMap<string, AddressSet> = new Map(),
): AzureNetworkModel {
  const cidrs = (list: string[]) => known.get(list.join(",")) ?? AddressSet.fromCidrs(list);
  const nsgs = new Map<string, Nsg>();
  const pendingRules: Array<{ key: string; rule: NsgRule }> = [];
  const attachments: Attachment[] = [];
  const asgNics = new Map<string, AddressSet>();
  const asgSegments = new Map<string, { segment: string; vnet: string }>();
  const vnetSpaces = new Map<string, AddressSet>();
  const addSpace = (vnet: string, a: AddressSet) =>
    vnetSpaces.set(vnet, (vnetSpaces.get(vnet) ?? AddressSet.EMPTY).union(a));
  const nics: NicInfo[] = [];
  const subnets = new Map<string, { vnet: string; addresses?: AddressSet; name: string }>();
  const nsgTagVnet = new Map<string, string>();
  const nsgAssociations: Array<{ nsg: string; vnet: string }> = [];
  const componentVnets: Array<{ vnet: string; azure: string }> = [];
  const unread: Array<{ resource: string; message: string }> = [];
  /** Ids of the recorded NICs, and the NICs virtual machines name by id. */
  const nicIds = new Set<string>();
  const nicRefs: Array<{ vm: string; id: string }> = [];
  /**
   * A VM's (or a scale set's) network profile: the NICs it creates from inline configurations (each
   * a NIC with the VM's tags: `blastradius:workload` binds it), and the NICs it names by id.
   */
  const readNetworkProfile = (profile: unknown, vm: string, tags: unknown) => {
    const p = flat(profile);
    for (const [k, raw] of list(p.networkInterfaceConfigurations).entries()) {
      const c = flat(raw);
      readNic(
        {
          networkInterfaceName: `${vm}/${str(c.name) ?? `nic${k}`}`,
          ...(tags !== undefined ? { tags } : {}),
          ...(c.networkSecurityGroup !== undefined ? { networkSecurityGroup: c.networkSecurityGroup } : {}),
          ipConfigurations: list(c.ipConfigurations),
        },
        `${vm}/nic${k}`,
      );
    }
    for (const ref of list(p.networkInterfaces)) {
      const id = idOf(ref);
      nicRefs.push({ vm, id: id ?? UNKNOWN_VALUE });
    }
  };

  const subnetOf = (raw: unknown, vnet: string | undefined, fallbackName: string, recordId?: string) => {
    const s = flat(raw);
    const nsgId = idOf(s.networkSecurityGroup);
    const prefixes = strings(s.addressPrefix, s.addressPrefixes);
    const v = str(vnet) ?? armIdSegment(str(s.id) ?? "", "virtualNetworks") ?? "";
    const addresses = prefixes.length > 0 ? cidrs(prefixes) : undefined;
    if (addresses) addSpace(v, addresses);
    const subnetName = str(s.subnetName) ?? str(s.name) ?? fallbackName;
    for (const id of [str(s.id), recordId])
      if (id)
        subnets.set(id.toLowerCase(), { vnet: v, name: subnetName, ...(addresses ? { addresses } : {}) });
    if (!nsgId) return;
    nsgAssociations.push({ nsg: asgKey(nsgId), vnet: v });
    const { resourceGroup, name } = parseArmId(nsgId);
    attachments.push({
      level: "subnet",
      name: subnetName,
      vnet: v,
      // Unknown prefixes (an export lists subnets by id only): the NSG guards the whole VNet.
      addresses,
      nsg: armKey(resourceGroup, name),
    });
  };

  for (const rec of records) {
    const i = flat(rec.inputs);
    switch (rec.type) {
      case AZURE_TYPES.nsg: {
        const name = str(i.networkSecurityGroupName) ?? str(i.name) ?? rec.name;
        const key = armKey(str(i.resourceGroupName) ?? str(i.resourceGroup), name);
        const tags = (i.tags ?? {}) as Record<string, unknown>;
        const tagged = str(tags[TAGS.vnet]);
        if (tagged && str(tags[TAGS.policy])) nsgTagVnet.set(key, tagged);
        const custom = list(i.securityRules).map((r, n) => readRule(r, `${name}-rule-${n}`));
        const defaults = list(i.defaultSecurityRules).map((r, n) => ({
          ...readRule(r, `default-${n}`),
          isDefault: true,
        }));
        const prior = nsgs.get(key);
        nsgs.set(key, {
          name,
          key,
          rendered: prior?.rendered || nsgTagVnet.has(key),
          rules: [
            ...(prior?.rules ?? []),
            ...custom,
            ...(defaults.length > 0 ? defaults : DEFAULT_RULES.map((r) => ({ ...r }))),
          ],
        });
        break;
      }
      case AZURE_TYPES.rule: {
        const nsgName = str(i.networkSecurityGroupName);
        if (!nsgName) break;
        pendingRules.push({
          key: armKey(str(i.resourceGroupName), nsgName),
          rule: readRule(i, rec.name),
        });
        break;
      }
      case AZURE_TYPES.asg: {
        const name = str(i.applicationSecurityGroupName) ?? str(i.name) ?? rec.name;
        const tags = (i.tags ?? {}) as Record<string, unknown>;
        const segment = str(tags[TAGS.segment]);
        const vnet = str(tags[TAGS.vnet]);
        if (segment && vnet) asgSegments.set(armKey(str(i.resourceGroupName), name), { segment, vnet });
        break;
      }
      case AZURE_TYPES.subnet:
        subnetOf(i, str(i.virtualNetworkName), rec.name, rec.id);
        break;
      case AZURE_TYPES.nic:
        readNic(i, rec.name);
        for (const id of [rec.id, str(i.id)]) if (id) nicIds.add(id.toLowerCase());
        break;
      case AZURE_TYPES.vm:
        readNetworkProfile(i.networkProfile, `virtual machine ${str(i.vmName) ?? rec.name}`, i.tags);
        break;
      case AZURE_TYPES.vmss:
        readNetworkProfile(
          flat(i.virtualMachineProfile).networkProfile,
          `scale set ${str(i.vmScaleSetName) ?? rec.name}`,
          i.tags,
        );
        break;
      case AZURE_COMPONENT_TYPE: {
        const vnet = str(i.vnet);
        const azure = str(i.virtualNetworkName);
        if (vnet && azure) componentVnets.push({ vnet, azure });
        break;
      }
      case AZURE_TYPES.vnet: {
        const vnet = str(i.virtualNetworkName) ?? str(i.name) ?? rec.name;
        const space = strings(flat(i.addressSpace).addressPrefixes);
        if (space.length > 0) addSpace(vnet, AddressSet.fromCidrs(space));
        for (const s of list(i.subnets)) subnetOf(s, vnet, rec.name);
        break;
      }
    }
  }

  function readNic(i: Record<string, unknown>, fallbackName: string) {
    const configs = list(i.ipConfigurations).map(flat);
    const parsed: AddressSet[] = [];
    for (const a of configs.flatMap((c) => strings(c.privateIPAddress)))
      try {
        parsed.push(AddressSet.parse(a));
      } catch {
        // not an address (an unknown value): Azure allocates it
      }
    const addresses = AddressSet.unionAll(parsed);
    const tags = (i.tags ?? {}) as Record<string, unknown>;
    const subnetId = configs.map((c) => idOf(c.subnet)).find((x) => x !== undefined);
    const nicNsg = idOf(i.networkSecurityGroup);
    const unknown =
      JSON.stringify(i).includes(UNKNOWN_VALUE) ||
      configs.some((c) => list(c.applicationSecurityGroups).some((a) => idOf(a) === undefined));
    const info: NicInfo = {
      name: str(i.networkInterfaceName) ?? str(i.name) ?? fallbackName,
      asgs: [...new Set(configs.flatMap((c) => asgsOf(c.applicationSecurityGroups)))].sort(),
      addresses,
      unknown,
    };
    const workload = typeof tags[WORKLOAD_TAG] === "string" ? (tags[WORKLOAD_TAG] as string) : undefined;
    if (workload !== undefined) info.workload = workload;
    if (nicNsg) info.nsg = asgKey(nicNsg);
    if (subnetId) {
      info.subnetId = subnetId;
      const v = armIdSegment(subnetId, "virtualNetworks");
      if (v) info.vnet = v;
    }
    nics.push(info);
    for (const c of configs)
      for (const a of list(c.applicationSecurityGroups)) {
        const id = idOf(a);
        if (!id) continue;
        const k = asgKey(id);
        asgNics.set(k, (asgNics.get(k) ?? AddressSet.EMPTY).union(addresses));
      }
    const nsgId = idOf(i.networkSecurityGroup);
    if (!nsgId) return;
    const { resourceGroup, name } = parseArmId(nsgId);
    attachments.push({
      level: "nic",
      name: str(i.networkInterfaceName) ?? str(i.name) ?? fallbackName,
      vnet: (subnetId && armIdSegment(subnetId, "virtualNetworks")) ?? "",
      addresses,
      nsg: armKey(resourceGroup, name),
    });
  }

  for (const rec of records)
    if (isClassicAzure(rec.type))
      unread.push({
        resource: rec.name,
        message: `${rec.type} ${rec.name} is a resource of the classic azure provider (@pulumi/azure), which the proof does not read: the compute, rules or associations it makes are unseen (build them with azure-native, or audit the deployed NSGs and NICs with --azure and --azure-nics)`,
      });
  for (const { vm, id } of nicRefs)
    if (id === UNKNOWN_VALUE)
      unread.push({
        resource: vm,
        message: `${vm} names a network interface whose id is unknown until apply: the proof cannot see what it carries`,
      });
    else if (!nicIds.has(id.toLowerCase()))
      unread.push({
        resource: vm,
        message: `${vm} uses network interface ${id}, which this stack does not record: the proof cannot see its subnet, ASGs or NSG (create the NIC in the stack and tag it ${WORKLOAD_TAG}=<workload>)`,
      });

  for (const { key, rule } of pendingRules) {
    let nsg = nsgs.get(key);
    if (!nsg) {
      // A rule whose NSG was not recorded still belongs to an NSG with Azure's defaults.
      nsg = { name: key.split("/")[1]!, key, rules: DEFAULT_RULES.map((r) => ({ ...r })) };
      nsgs.set(key, nsg);
    }
    nsg.rules.push(rule);
  }
  // Which placement VNet each Azure VNet is: what the components say, then the VNets whose subnets
  // associate an NSG blastradius rendered for a placement VNet (tagged), then the name itself.
  const vnetNames = new Map<string, string>();
  for (const c of componentVnets) vnetNames.set(c.azure, c.vnet);
  for (const a of nsgAssociations) {
    const placement = nsgTagVnet.get(a.nsg);
    if (placement && a.vnet !== "" && !vnetNames.has(a.vnet)) vnetNames.set(a.vnet, placement);
  }
  const normal = (v: string) => vnetNames.get(v) ?? v;
  for (const a of attachments) a.vnet = normal(a.vnet);
  for (const n of nics) if (n.vnet !== undefined) n.vnet = normal(n.vnet);
  for (const s of subnets.values()) s.vnet = normal(s.vnet);
  const spaces = new Map<string, AddressSet>();
  for (const [v, a] of vnetSpaces)
    spaces.set(normal(v), (spaces.get(normal(v)) ?? AddressSet.EMPTY).union(a));
  return { nsgs, attachments, asgNics, asgSegments, vnetSpaces: spaces, nics, subnets, vnetNames, unread };
}

/** The addresses a workload has in Azure (its `azure` placement), or undefined when not placed there. */
export function azureAddresses(party: Party): AddressSet | undefined {
  if (party.kind !== "workload" || !party.workload.placements.azure) return undefined;
  const w = party.workload;
  let a = azureAddressCache.get(w);
  if (!a) {
    // A workload placed on Azure only has its Azure CIDRs as its addresses, already parsed.
    const only = Object.keys(w.placements).length === 1 && !w.addresses.isEmpty();
    azureAddressCache.set(w, (a = only ? w.addresses : AddressSet.fromCidrs(w.placements.azure!.cidrs)));
  }
  return a;
}
const azureAddressCache = new WeakMap<object, AddressSet>();

/** The evaluator, with the model it read (for tests and for `decide` explanations). */
export interface AzureEvaluator extends TargetEvaluator {
  readonly model: AzureNetworkModel;
  /** Packets whose source is in the VNet and that pass its NIC-then-subnet outbound NSGs. */
  passOut(vnet: string): ConnectionSet;
  /** Packets whose destination is in the VNet and that pass its subnet-then-NIC inbound NSGs. */
  passIn(vnet: string): ConnectionSet;
  /**
   * Parties Azure cannot tell apart: workloads in the same VNet and segments (whose addresses are
   * their Azure CIDRs) share a key; everything outside Azure is seen by address only ("address").
   */
  partyKey(party: Party): string;
}

/** A rule with what it matches in its NSG's context. */
interface CompiledRule {
  rule: NsgRule;
  parts: RuleParts;
  /** It matches every service (so it decides all of a product it covers). */
  allServices: boolean;
  /** Hulls of its sides, to skip it cheaply for a party its other side cannot reach. */
  srcHull: Hull;
  dstHull: Hull;
  /** Its set, built when `decide` needs it. */
  set?: ConnectionSet;
}

/** A party's addresses at one level: the part each NSG guards, and the part none does. */
interface Split {
  parts: Array<[string, AddressSet]>;
  unguarded: AddressSet;
}

/** Collects sets per key and unions each key's sets once (not pairwise as they come). */
function unionsByKey<K>(entries: Iterable<[K, AddressSet]>): Map<K, AddressSet> {
  const lists = new Map<K, AddressSet[]>();
  for (const [k, a] of entries) {
    const l = lists.get(k);
    if (l) l.push(a);
    else lists.set(k, [a]);
  }
  return new Map([...lists].map(([k, l]) => [k, l.length === 1 ? l[0]! : AddressSet.unionAll(l)]));
}

/**
 * The Azure evaluator over recorded resources (or a live export read into records) and the plan's
 * topology: a workload with an `azure` placement is a NIC in its VNet with its placement's
 * addresses, and is a member of the ASGs tagged with its segments and VNet (plus any ASG a recorded
 * NIC names). NSGs apply where subnets and NICs associate them.
 *
 * Everything an NSG decides depends on a packet's addresses only (ASGs resolve to their members'
 * addresses), so the verdicts are computed once per VNet and direction, and a party's are a slice of
 * them. A party stands for its Azure addresses: its placement's CIDRs, or for a class representative
 * (`partyKey`), the addresses the proof gives it, which are the union of its class's Azure CIDRs.
 */
export function azureEvaluator(
  records: readonly ResourceRecord[],
  plan: Plan,
  options: AzureEvaluatorOptions = {},
): AzureEvaluator {
  // Subnets and NICs repeat the workloads' CIDRs: reuse the plan's parsed addresses for the same text.
  const known = new Map<string, AddressSet>();
  for (const p of plan.parties)
    if (p.kind === "workload" && p.workload.placements.azure)
      known.set(p.workload.placements.azure.cidrs.join(","), azureAddresses(p)!);
  const model = readModel(records, known);
  const segmentsOf = new Map<string, string[]>();
  for (const [segment, names] of plan.members)
    for (const n of names) {
      const l = segmentsOf.get(n);
      if (l) l.push(segment);
      else segmentsOf.set(n, [segment]);
    }
  const azureWorkloads: Array<{ party: Party; vnet: string; addresses: AddressSet }> = [];
  for (const party of plan.parties) {
    const vnet = party.kind === "workload" ? party.workload.placements.azure?.vnet : undefined;
    if (vnet) azureWorkloads.push({ party, vnet, addresses: azureAddresses(party)! });
  }
  const vnetAddresses = unionsByKey(azureWorkloads.map((w) => [w.vnet, w.addresses]));
  const segmentMembers = unionsByKey(
    azureWorkloads.flatMap((w) =>
      (segmentsOf.get(w.party.name) ?? []).map(
        (s) => [`${s}\u0000${w.vnet}`, w.addresses] as [string, AddressSet],
      ),
    ),
  );

  // ---------------------------------------------------------------- binding (network interfaces)
  const bound = model.nics.length > 0;
  const findings: BindingFinding[] = [];
  const finding = (f: Omit<BindingFinding, "target">) => findings.push({ target: "azure", ...f });
  const workloads = new Map(plan.policy.workloads.map((w) => [w.name, w] as const));
  const unclaimed = unclaimedAddresses(plan);
  /** ASG key → the addresses of the NICs that carry it (bound mode). */
  const asgBound = new Map<string, AddressSet>();
  /** Workload → the identity (ASGs and NIC NSG) its NICs carry; several are a finding. */
  const nicIdentity = new Map<string, string>();
  /** Workload → the ASGs its (first) NIC carries. */
  const nicAsgs = new Map<string, readonly string[]>();
  const others = new Map<string, { party: Party; vnet: string | undefined }>();
  const nicAttachments: Attachment[] = [];
  for (const u of model.unread)
    finding({ kind: "unknown", severity: "error", resource: u.resource, message: u.message });
  for (const n of model.nics) {
    const w = n.workload !== undefined ? workloads.get(n.workload) : undefined;
    const subnet = n.subnetId ? model.subnets.get(n.subnetId.toLowerCase()) : undefined;
    if (n.unknown)
      finding({
        kind: "unknown",
        severity: "error",
        resource: n.name,
        message: `network interface ${n.name}: an attachment is unknown until apply (an ASG, subnet or NSG not created yet); the proof cannot see what it will carry`,
      });
    if (n.workload !== undefined && !w)
      finding({
        kind: "unbound-compute",
        severity: "error",
        resource: n.name,
        message: `network interface ${n.name} is tagged ${WORKLOAD_TAG}=${n.workload}, but policy "${plan.policy.name}" has no workload of that name`,
      });
    else if (w && !w.placements.azure)
      finding({
        kind: "unbound-compute",
        severity: "error",
        resource: n.name,
        workload: w.name,
        message: `network interface ${n.name} is bound to workload "${w.name}", which is not placed on azure`,
      });
    const placed = w?.placements.azure ? w : undefined;
    let addresses: AddressSet;
    if (placed) {
      const cidrs = AddressSet.fromCidrs(placed.placements.azure!.cidrs);
      addresses = n.addresses.isEmpty() ? cidrs : n.addresses;
      const vnet = placed.placements.azure!.vnet;
      if (n.vnet !== undefined && n.vnet !== vnet)
        finding({
          kind: "unbound-compute",
          severity: "error",
          resource: n.name,
          workload: placed.name,
          message: `network interface ${n.name} of workload "${placed.name}" (placed in VNet ${vnet}) sits in VNet ${n.vnet}`,
        });
      if (!n.addresses.isEmpty() && !n.addresses.isSubsetOf(cidrs))
        finding({
          kind: "unbound-compute",
          severity: "error",
          resource: n.name,
          workload: placed.name,
          message: `network interface ${n.name} of workload "${placed.name}" has addresses (${n.addresses}) outside the workload's cidrs (${placed.placements.azure!.cidrs.join(", ")}): the NSGs decide by address, so the proof would be about other addresses`,
        });
      // Its subnet decides which subnet NSG guards it and, with dynamic addresses, which addresses
      // Azure allocates it: a subnet this stack does not record (an existing one of the VNet)
      // hides both, and its workload's addresses may sit under another subnet's NSG in the model.
      if (!subnet && !n.unknown)
        finding({
          kind: "unknown",
          severity: "error",
          resource: n.name,
          workload: placed.name,
          message: n.subnetId
            ? `network interface ${n.name} of workload "${placed.name}" is in subnet ${n.subnetId}, which this stack does not record: the proof cannot see its prefixes or the NSG associated with it (create the subnet in the stack, e.g. through the component's subnets)`
            : `network interface ${n.name} of workload "${placed.name}" names no subnet: the proof cannot see which subnet NSG guards it`,
        });
      else if (subnet && n.addresses.isEmpty() && !subnet.addresses)
        finding({
          kind: "unknown",
          severity: "error",
          resource: n.name,
          workload: placed.name,
          message: `network interface ${n.name} of workload "${placed.name}" takes a dynamic address in subnet ${subnet.name}, whose prefixes are unknown: the proof cannot tell whether Azure allocates it one of the workload's cidrs (${placed.placements.azure!.cidrs.join(", ")})`,
        });
      else if (subnet?.addresses && n.addresses.isEmpty() && !subnet.addresses.isSubsetOf(cidrs))
        finding({
          kind: "unbound-compute",
          severity: "error",
          resource: n.name,
          workload: placed.name,
          message: `network interface ${n.name} of workload "${placed.name}" takes a dynamic address in subnet ${subnet.name} (${subnet.addresses}), which reaches beyond the workload's cidrs (${placed.placements.azure!.cidrs.join(", ")}): Azure may allocate it an address the proof does not check (make the subnet lie within the cidrs, or fix privateIPAddress)`,
        });
      if (subnet?.addresses && !cidrs.isSubsetOf(subnet.addresses))
        finding({
          kind: "unbound-compute",
          severity: "error",
          resource: n.name,
          workload: placed.name,
          message: `network interface ${n.name} of workload "${placed.name}" is in subnet ${subnet.name} (${subnet.addresses}), which does not hold the workload's cidrs (${placed.placements.azure!.cidrs.join(", ")}): the subnet's NSG guards other addresses`,
        });
      const identity = `${n.asgs.join(",")}|${n.nsg ?? ""}`;
      const had = nicIdentity.get(placed.name);
      if (had === undefined) {
        nicIdentity.set(placed.name, identity);
        nicAsgs.set(placed.name, n.asgs);
      } else if (had !== identity)
        finding({
          kind: "unbound-compute",
          severity: "error",
          resource: n.name,
          workload: placed.name,
          message: `the network interfaces of workload "${placed.name}" carry different application security groups or NSGs (${n.name}: ${n.asgs.join(", ") || "none"}${n.nsg ? `, NSG ${n.nsg}` : ""}); NSGs decide by address and the proof cannot tell its NICs apart: give every NIC of a workload the same ASGs and NSG, or make them two workloads`,
        });
    } else {
      // A NIC bound to no workload: an endpoint the model does not name, somewhere in its subnet
      // (Azure allocates it an address there, even one a workload's cidrs claim).
      addresses = !n.addresses.isEmpty() ? n.addresses : (subnet?.addresses ?? unclaimed);
      const key = `other:azure:nic:${n.name}`;
      others.set(key, {
        vnet: n.vnet,
        party: {
          kind: "other",
          name: `network interface ${n.name}`,
          key,
          addresses,
          scope: `VNet ${n.vnet ?? "unknown"}`,
          targets: ["azure"],
        },
      });
      if (n.workload === undefined)
        finding({
          kind: "unbound-compute",
          severity: "warning",
          resource: n.name,
          message: `network interface ${n.name} (VNet ${n.vnet ?? "unknown"}) is bound to no workload; tag it ${WORKLOAD_TAG}=<workload> if it is one. The proof treats it as an unmodelled endpoint: default deny must hold between it and every workload`,
        });
    }
    for (const k of n.asgs) asgBound.set(k, (asgBound.get(k) ?? AddressSet.EMPTY).union(addresses));
    if (n.nsg)
      nicAttachments.push({
        level: "nic",
        name: n.name,
        vnet: n.vnet ?? placed?.placements.azure?.vnet ?? "",
        addresses,
        nsg: n.nsg,
      });
  }
  if (bound) {
    // What the NICs carry replaces the contract's assumption (ASG membership by segment).
    model.attachments = [...model.attachments.filter((a) => a.level !== "nic"), ...nicAttachments];
    for (const w of plan.policy.workloads)
      if (w.placements.azure && !nicIdentity.has(w.name))
        finding({
          kind: "unbound-workload",
          severity: "error",
          workload: w.name,
          message: `workload "${w.name}" is placed in VNet ${w.placements.azure.vnet} but no network interface of this stack is bound to it (tag its NICs ${WORKLOAD_TAG}=${w.name}); the proof takes its addresses (${w.placements.azure.cidrs.join(", ")}) in no application security group`,
        });
    for (const [key, tagged] of model.asgSegments)
      if (
        !asgBound.has(key) &&
        (segmentMembers.get(`${tagged.segment}\u0000${tagged.vnet}`) ?? AddressSet.EMPTY).isEmpty() === false
      )
        finding({
          kind: "unattached",
          severity: "error",
          resource: key,
          message: `application security group ${key} (segment ${tagged.segment}, VNet ${tagged.vnet}) is carried by no network interface: put the NICs of its workloads in it (applicationSecurityGroupsFor(<workload>))`,
        });
  }
  for (const nsg of model.nsgs.values())
    if (nsg.rendered && !model.attachments.some((a) => a.nsg === nsg.key))
      finding({
        kind: "unattached",
        severity: "error",
        resource: nsg.name,
        message: `network security group ${nsg.name} is associated with no subnet and no network interface: it enforces nothing (create the subnets through the component, or set networkSecurityGroup on them)`,
      });

  const vnetOf = (party: Party): string | undefined => {
    if (party.kind === "other") return others.get(party.key)?.vnet;
    if (party.kind !== "workload" || !governs(party, "azure")) return undefined;
    return party.workload.placements.azure?.vnet;
  };

  // Parties in the same VNet with the same ASG membership are alike to every rule (NSGs decide by
  // address, and a class's representative carries its members' addresses); a facet of a workload
  // placed elsewhere too has Azure addresses only.
  const keys = new WeakMap<Party, string>();
  const partyKey = (party: Party): string => {
    let k = keys.get(party);
    if (k === undefined) {
      const vnet = vnetOf(party);
      if (vnet === undefined) k = "address";
      else if (party.kind === "other") k = `other\u0000${party.key}`;
      else if (bound) k = `vnet\u0000${vnet}\u0000nic\u0000${nicIdentity.get(party.name) ?? ""}`;
      else {
        const segments = [...(segmentsOf.get(party.name) ?? [])].sort();
        k = `vnet\u0000${vnet}\u0000${segments.join("\u0000")}`;
      }
      keys.set(party, k);
    }
    return k;
  };
  /** The addresses a party stands for in Azure: all of its own (a facet holds its Azure addresses only). */
  const addressesIn = (party: Party): AddressSet => party.addresses;

  const asgMemberCache = new Map<string, AddressSet>();
  const asgMembers = (key: string): AddressSet => {
    let m = asgMemberCache.get(key);
    if (!m && bound) asgMemberCache.set(key, (m = asgBound.get(key) ?? AddressSet.EMPTY));
    if (!m) {
      const tagged = model.asgSegments.get(key);
      m = (model.asgNics.get(key) ?? AddressSet.EMPTY).union(
        tagged
          ? (segmentMembers.get(`${tagged.segment}\u0000${tagged.vnet}`) ?? AddressSet.EMPTY)
          : AddressSet.EMPTY,
      );
      asgMemberCache.set(key, m);
    }
    return m;
  };
  const contexts = new Map<string, NsgContext>();
  const context = (vnet: string): NsgContext => {
    let c = contexts.get(vnet);
    if (!c) {
      const extra = options.addressSpaces?.[vnet] ?? [];
      c = {
        virtualNetwork: AddressSet.unionAll([
          vnetAddresses.get(vnet) ?? AddressSet.EMPTY,
          model.vnetSpaces.get(vnet) ?? AddressSet.EMPTY,
          AddressSet.fromCidrs(extra),
        ]),
        asgMembers,
      };
      contexts.set(vnet, c);
    }
    return c;
  };
  const vnetSpace = (vnet: string) => context(vnet).virtualNetwork;
  // An attachment without a known VNet (a NIC without a subnet id) belongs to the VNet holding its addresses.
  for (const a of model.attachments) {
    if (a.vnet !== "") continue;
    for (const [vnet, space] of vnetAddresses) if (a.addresses?.overlaps(space)) a.vnet = vnet;
  }
  const addressesOf = (a: Attachment) => a.addresses ?? vnetSpace(a.vnet);
  const attachmentIndex = new Map<string, Attachment[]>();
  for (const a of model.attachments) {
    const k = `${a.level}|${a.vnet}`;
    const l = attachmentIndex.get(k);
    if (l) l.push(a);
    else attachmentIndex.set(k, [a]);
  }
  const attachmentsIn = (vnet: string, level: Attachment["level"]) =>
    attachmentIndex.get(`${level}|${vnet}`) ?? [];

  const nsgSets = new Map<string, ConnectionSet>();
  const nsgAllowed = (nsgKey: string, direction: Direction, vnet: string): ConnectionSet => {
    const key = `${nsgKey}|${direction}|${vnet}`;
    let s = nsgSets.get(key);
    if (!s) {
      // An association to an NSG that was not recorded: only its default rules are known.
      s = allowedByNsg(nsgOf(nsgKey), direction, context(vnet));
      nsgSets.set(key, s);
    }
    return s;
  };
  const nsgOf = (key: string): Nsg =>
    model.nsgs.get(key) ?? { name: key, key, rules: DEFAULT_RULES.map((r) => ({ ...r })) };

  /** Packets that pass one level (subnet or NIC NSGs) of a VNet on the given side. */
  const levelPass = (vnet: string, level: Attachment["level"], direction: Direction): ConnectionSet => {
    const side = (a: AddressSet) =>
      direction === "Outbound"
        ? ConnectionSet.of(a, AddressSet.ALL, ServiceSet.ALL)
        : ConnectionSet.of(AddressSet.ALL, a, ServiceSet.ALL);
    const atts = attachmentsIn(vnet, level);
    const covered = AddressSet.unionAll(atts.map(addressesOf));
    const parts = [side(AddressSet.ALL.subtract(covered))];
    // Attachments sharing an NSG are taken together: one intersection per NSG, not per subnet.
    const byNsg = new Map<string, AddressSet[]>();
    for (const a of atts) {
      let l = byNsg.get(a.nsg);
      if (!l) byNsg.set(a.nsg, (l = []));
      l.push(addressesOf(a));
    }
    for (const [nsg, addresses] of byNsg)
      parts.push(side(AddressSet.unionAll(addresses)).intersect(nsgAllowed(nsg, direction, vnet)));
    return ConnectionSet.unionAll(parts);
  };
  const passCache = new Map<string, ConnectionSet>();
  const pass = (vnet: string, direction: Direction) => {
    const key = `${direction}|${vnet}`;
    let s = passCache.get(key);
    if (!s) {
      s = levelPass(vnet, "subnet", direction).intersect(levelPass(vnet, "nic", direction));
      passCache.set(key, s);
    }
    return s;
  };

  const orderedRules = new WeakMap<Nsg, Map<Direction, NsgRule[]>>();
  const rulesInOrder = (nsg: Nsg, direction: Direction): NsgRule[] => {
    let byDirection = orderedRules.get(nsg);
    if (!byDirection) orderedRules.set(nsg, (byDirection = new Map()));
    let list = byDirection.get(direction);
    if (!list) byDirection.set(direction, (list = ordered(nsg, direction)));
    return list;
  };

  // Per pair of parties, the four stages a connection passes (source NIC and subnet outbound,
  // destination subnet and NIC inbound), each decided by first match over only the rules whose own
  // side (sources outbound, destinations inbound) overlaps the party's addresses. Every rule matches
  // a product (sources × destinations × services), so restricted to a pair it stays one product and
  // first match costs a few small set operations. `passOut`/`passIn` compute the same verdicts VNet-
  // wide (the property test checks they agree).
  const compiledRules = new Map<string, CompiledRule[]>();
  const compiled = (nsgKey: string, direction: Direction, vnet: string): CompiledRule[] => {
    const key = `${nsgKey}|${direction}|${vnet}`;
    let list = compiledRules.get(key);
    if (!list) {
      const ctx = context(vnet);
      list = [];
      for (const rule of rulesInOrder(nsgOf(nsgKey), direction)) {
        const parts = ruleParts(rule, ctx);
        if (parts)
          list.push({
            rule,
            parts,
            allServices: parts.services.equals(ServiceSet.ALL),
            srcHull: hullOf(parts.src),
            dstHull: hullOf(parts.dst),
          });
      }
      compiledRules.set(key, list);
    }
    return list;
  };
  /** Per VNet and level: the addresses each NSG guards there, and all the addresses guarded. */
  const guarded = new Map<string, { byNsg: Array<[string, AddressSet]>; covered: AddressSet }>();
  const guardedIn = (vnet: string, level: Attachment["level"]) => {
    const key = `${level}|${vnet}`;
    let g = guarded.get(key);
    if (!g) {
      const atts = attachmentsIn(vnet, level);
      const byNsg = [...unionsByKey(atts.map((x) => [x.nsg, addressesOf(x)]))];
      g = { byNsg, covered: AddressSet.unionAll(byNsg.map(([, a]) => a)) };
      guarded.set(key, g);
    }
    return g;
  };
  /** A party's addresses split by the NSG guarding them at one level, and the unguarded rest. */
  const splits = new WeakMap<AddressSet, Map<string, Split>>();
  const splitOf = (own: AddressSet, vnet: string, level: Attachment["level"]): Split => {
    let byLevel = splits.get(own);
    if (!byLevel) splits.set(own, (byLevel = new Map()));
    const key = `${level}|${vnet}`;
    let split = byLevel.get(key);
    if (!split) {
      const g = guardedIn(vnet, level);
      const parts: Array<[string, AddressSet]> = [];
      for (const [nsg, a] of g.byNsg) {
        const part = own.intersect(a);
        if (!part.isEmpty()) parts.push([nsg, part]);
      }
      split = { parts, unguarded: parts.length === 0 ? own : own.subtract(g.covered) };
      byLevel.set(key, split);
    }
    return split;
  };
  /** The rules of an NSG whose own side overlaps these addresses, in evaluation order. */
  const relevant = new WeakMap<AddressSet, Map<string, CompiledRule[]>>();
  const rulesFor = (own: AddressSet, nsgKey: string, direction: Direction, vnet: string): CompiledRule[] => {
    let byNsg = relevant.get(own);
    if (!byNsg) relevant.set(own, (byNsg = new Map()));
    const key = `${nsgKey}|${direction}|${vnet}`;
    let list = byNsg.get(key);
    if (!list) {
      list = compiled(nsgKey, direction, vnet).filter((c) =>
        (direction === "Outbound" ? c.parts.src : c.parts.dst).overlaps(own),
      );
      byNsg.set(key, list);
    }
    return list;
  };
  /**
   * First match over rules, restricted to src × dst: what they allow there. Consecutive rules with
   * the same access are taken together (a rule only decides what no earlier rule matched, and among
   * rules of one access the order does not matter).
   */
  const firstMatch = (
    rules: readonly CompiledRule[],
    src: AddressSet,
    dst: AddressSet,
    outbound: boolean,
  ): ConnectionSet => {
    let decided = ConnectionSet.EMPTY;
    const allowedParts: ConnectionSet[] = [];
    const otherHull = hullOf(outbound ? dst : src);
    let i = 0;
    let done = false;
    while (i < rules.length && !done) {
      const access = rules[i]!.rule.access;
      const run: ConnectionSet[] = [];
      for (; i < rules.length && rules[i]!.rule.access === access; i++) {
        const c = rules[i]!;
        // The other side first: most rules of a party's own side name other peers.
        if (hullsApart(outbound ? c.dstHull : c.srcHull, otherHull)) continue;
        let s: AddressSet;
        let d: AddressSet;
        if (outbound) {
          d = restrict(c.parts.dst, dst);
          if (d.isEmpty()) continue;
          s = restrict(c.parts.src, src);
        } else {
          s = restrict(c.parts.src, src);
          if (s.isEmpty()) continue;
          d = restrict(c.parts.dst, dst);
        }
        if (s.isEmpty() || d.isEmpty()) continue;
        // A rule matching all of src × dst decides everything left: later rules cannot matter.
        done = c.allServices && s === src && d === dst;
        if (!done || access === "Allow") run.push(ConnectionSet.of(s, d, c.parts.services));
        if (done) break;
      }
      if (run.length === 0) continue;
      const matched = run.length === 1 ? run[0]! : ConnectionSet.unionAll(run);
      if (access === "Allow") allowedParts.push(decided.isEmpty() ? matched : matched.subtract(decided));
      if (!done) decided = decided.isEmpty() ? matched : decided.union(matched);
    }
    return allowedParts.length === 1 ? allowedParts[0]! : ConnectionSet.unionAll(allowedParts);
  };

  /** What one stage lets through of src × dst, or undefined when no NSG guards that side there. */
  const stage = (
    src: AddressSet,
    dst: AddressSet,
    vnet: string,
    level: Attachment["level"],
    direction: Direction,
  ): ConnectionSet | undefined => {
    const outbound = direction === "Outbound";
    const split = splitOf(outbound ? src : dst, vnet, level);
    if (split.parts.length === 0) return undefined;
    const pieces: ConnectionSet[] = [];
    if (!split.unguarded.isEmpty())
      pieces.push(
        outbound
          ? ConnectionSet.of(split.unguarded, dst, ServiceSet.ALL)
          : ConnectionSet.of(src, split.unguarded, ServiceSet.ALL),
      );
    for (const [nsg, part] of split.parts) {
      const rules = rulesFor(part, nsg, direction, vnet);
      pieces.push(outbound ? firstMatch(rules, part, dst, true) : firstMatch(rules, src, part, false));
    }
    return pieces.length === 1 ? pieces[0]! : ConnectionSet.unionAll(pieces);
  };

  const pairCache = new WeakMap<Party, WeakMap<Party, ConnectionSet>>();
  const allowed = (from: Party, to: Party): ConnectionSet => {
    let byTo = pairCache.get(from);
    if (!byTo) pairCache.set(from, (byTo = new WeakMap()));
    let s = byTo.get(to);
    if (s) return s;
    const fromVnet = vnetOf(from);
    const toVnet = vnetOf(to);
    if (!fromVnet && !toVnet) s = ConnectionSet.EMPTY;
    else {
      const src = addressesIn(from);
      const dst = addressesIn(to);
      const stages: Array<[string, Attachment["level"], Direction]> = [];
      if (fromVnet) stages.push([fromVnet, "nic", "Outbound"], [fromVnet, "subnet", "Outbound"]);
      if (toVnet) stages.push([toVnet, "subnet", "Inbound"], [toVnet, "nic", "Inbound"]);
      for (const [vnet, level, direction] of stages) {
        const x = stage(src, dst, vnet, level, direction);
        if (x) s = s ? s.intersect(x) : x;
        if (s?.isEmpty()) break;
      }
      s ??= ConnectionSet.of(src, dst, ServiceSet.ALL);
    }
    byTo.set(to, s);
    return s;
  };

  /** The NSG that guards an address at one level of a VNet, if any. */
  const nsgAt = (vnet: string, level: Attachment["level"], address: { family: 4 | 6; value: bigint }) =>
    guardedIn(vnet, level).byNsg.find(([, a]) => a.family(address.family).has(address.value))?.[0];

  const decide = (from: Party, to: Party, packet: Packet): Decision => {
    const stages: Array<{ vnet: string; level: Attachment["level"]; direction: Direction; address: string }> =
      [];
    const fromVnet = vnetOf(from);
    const toVnet = vnetOf(to);
    if (!fromVnet && !toVnet) return { verdict: "deny", by: "not-azure-traffic" };
    if (fromVnet) {
      stages.push({ vnet: fromVnet, level: "nic", direction: "Outbound", address: packet.src });
      stages.push({ vnet: fromVnet, level: "subnet", direction: "Outbound", address: packet.src });
    }
    if (toVnet) {
      stages.push({ vnet: toVnet, level: "subnet", direction: "Inbound", address: packet.dst });
      stages.push({ vnet: toVnet, level: "nic", direction: "Inbound", address: packet.dst });
    }
    const src = parseAddress(packet.src);
    const dst = parseAddress(packet.dst);
    const allowedBy: string[] = [];
    for (const st of stages) {
      const nsgKey = nsgAt(st.vnet, st.level, st.direction === "Outbound" ? src : dst);
      if (nsgKey === undefined) continue;
      const nsg = nsgOf(nsgKey);
      const c = compiled(nsgKey, st.direction, st.vnet).find(
        (x) =>
          x.parts.src.family(src.family).has(src.value) &&
          x.parts.dst.family(dst.family).has(dst.value) &&
          (x.set ??= ConnectionSet.of(x.parts.src, x.parts.dst, x.parts.services)).has(packet),
      );
      if (!c) continue;
      if (c.rule.access === "Deny") return { verdict: "deny", by: ruleLabel(nsg, c.rule) };
      allowedBy.push(ruleLabel(nsg, c.rule));
    }
    return {
      verdict: "allow",
      by: allowedBy.length > 0 ? allowedBy.join("; ") : "no NSG associated (Azure allows everything)",
    };
  };

  // Other NICs of each VNet the policy places workloads in: at the VNet's addresses no one claims
  // (known from its subnets and address space), guarded by whatever NSG guards those addresses.
  for (const vnet of [...new Set(azureWorkloads.map((w) => w.vnet))].sort()) {
    const space = AddressSet.unionAll([
      model.vnetSpaces.get(vnet) ?? AddressSet.EMPTY,
      AddressSet.fromCidrs(options.addressSpaces?.[vnet] ?? []),
    ]).intersect(unclaimed);
    if (space.isEmpty()) continue;
    const key = `other:azure:vnet:${vnet}`;
    others.set(key, {
      vnet,
      party: {
        kind: "other",
        name: `other NICs of VNet ${vnet}`,
        key,
        addresses: space,
        scope: `VNet ${vnet}`,
        targets: ["azure"],
      },
    });
  }

  /**
   * ASGs blastradius rendered for a segment (or a VNet) that a workload's NICs carry though the
   * workload is not its member there: every rule naming the ASG now admits the workload's addresses.
   */
  const misattached = (name: string): string[] => {
    const vnet = workloads.get(name)?.placements.azure?.vnet;
    const own = segmentsOf.get(name) ?? [];
    return (nicAsgs.get(name) ?? []).filter((k) => {
      const tagged = model.asgSegments.get(k);
      return tagged !== undefined && (tagged.vnet !== vnet || !own.includes(tagged.segment));
    });
  };
  if (bound)
    for (const name of nicAsgs.keys()) {
      const extra = misattached(name);
      if (extra.length > 0)
        finding({
          kind: "foreign-rules",
          severity: "warning",
          workload: name,
          message: `the network interfaces of workload "${name}" carry application security groups rendered for other segments (${extra.join(", ")}); the proof checks everything the rules naming them open against the policy (pass applicationSecurityGroupsFor("${name}") alone)`,
        });
    }

  /**
   * Whether an NSG guarding some of the party's addresses holds rules blastradius did not render,
   * or the party's NICs carry another segment's ASG.
   */
  const foreign = (party: Party): boolean => {
    const vnet = vnetOf(party);
    if (vnet === undefined) return false;
    if (bound && party.kind === "workload" && misattached(party.name).length > 0) return true;
    for (const a of model.attachments) {
      if (a.vnet !== vnet || !addressesOf(a).overlaps(party.addresses)) continue;
      const nsg = nsgOf(a.nsg);
      if (!nsg.rendered || nsg.rules.some((r) => !r.isDefault && !r.rendered)) return true;
    }
    return false;
  };

  return {
    target: "azure",
    binding: bound ? "bound" : "assumed",
    universe: () => [...others.values()].map((o) => o.party),
    // NSG verdicts depend on addresses only (ASGs resolve to their members' addresses).
    footprint: (party, direction) => addressFootprint(allowed, party, direction),
    identityNames: () => [],
    // NSGs decide by address: the other NICs of a VNet (at unclaimed addresses) are what the
    // unmodelled-address party already is to a workload. An unbound NIC may sit at a workload's
    // addresses, and carries ASGs: checked.
    relevant: (u) => !u.key.startsWith("other:azure:vnet:"),
    findings: () => findings,
    foreign,
    model,
    enforces: (party) => vnetOf(party) !== undefined,
    allowed,
    decide,
    partyKey,
    passOut: (vnet) => pass(vnet, "Outbound"),
    passIn: (vnet) => pass(vnet, "Inbound"),
  };
}
