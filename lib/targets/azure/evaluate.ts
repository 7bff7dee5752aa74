import { AddressSet, ConnectionSet, type Packet, ServiceSet } from "../../net";
import type { Party, Plan } from "../../plan/types";
import type { Decision, ResourceRecord, TargetAdapter, TargetEvaluator } from "../../verify/types";
import {
  allowedByNsg,
  armIdSegment,
  armKey,
  asgKey,
  DEFAULT_RULES,
  type Direction,
  decideByNsg,
  type Nsg,
  type NsgContext,
  type NsgRule,
  parseArmId,
  ruleLabel,
  ruleSet,
} from "./nsg";

/** The azure-native type tokens the evaluator reads. */
export const AZURE_TYPES = {
  nsg: "azure-native:network:NetworkSecurityGroup",
  rule: "azure-native:network:SecurityRule",
  asg: "azure-native:network:ApplicationSecurityGroup",
  subnet: "azure-native:network:Subnet",
  nic: "azure-native:network:NetworkInterface",
  vnet: "azure-native:network:VirtualNetwork",
} as const;

const OWNED = new Set<string>(Object.values(AZURE_TYPES));

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

/** Everything the interpreter needs, read from resources (or a live export). */
export interface AzureNetworkModel {
  nsgs: Map<string, Nsg>;
  attachments: Attachment[];
  /** Explicit ASG membership from NICs: ASG key → NIC addresses. */
  asgNics: Map<string, AddressSet>;
  /** ASGs tagged with a blastradius segment and VNet: ASG key → {segment, vnet}. */
  asgSegments: Map<string, { segment: string; vnet: string }>;
  /** Address spaces declared by VirtualNetwork resources: VNet name → addresses. */
  vnetSpaces: Map<string, AddressSet>;
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
const strings = (...vs: unknown[]): string[] =>
  vs
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .filter((x): x is string => typeof x === "string" && x !== "");
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

/** One security rule from Pulumi inputs or an ARM/`az` JSON object. */
export function readRule(raw: unknown, fallbackName: string): NsgRule {
  const r = flat(raw);
  const asgs = (v: unknown) =>
    list(v)
      .map(idOf)
      .filter((x): x is string => x !== undefined)
      .map(asgKey);
  const ports = (one: unknown, many: unknown) => {
    const all = strings(one, many);
    return all.length > 0 ? all : ["*"];
  };
  return {
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
 * address spaces.
 */
export function readModel(records: readonly ResourceRecord[]): AzureNetworkModel {
  const nsgs = new Map<string, Nsg>();
  const pendingRules: Array<{ key: string; rule: NsgRule }> = [];
  const attachments: Attachment[] = [];
  const asgNics = new Map<string, AddressSet>();
  const asgSegments = new Map<string, { segment: string; vnet: string }>();
  const vnetSpaces = new Map<string, AddressSet>();
  const addSpace = (vnet: string, a: AddressSet) =>
    vnetSpaces.set(vnet, (vnetSpaces.get(vnet) ?? AddressSet.EMPTY).union(a));

  const subnetOf = (raw: unknown, vnet: string | undefined, fallbackName: string) => {
    const s = flat(raw);
    const nsgId = idOf(s.networkSecurityGroup);
    const prefixes = strings(s.addressPrefix, s.addressPrefixes);
    const v = str(vnet) ?? armIdSegment(str(s.id) ?? "", "virtualNetworks") ?? "";
    if (prefixes.length > 0) addSpace(v, AddressSet.fromCidrs(prefixes));
    if (!nsgId) return;
    const { resourceGroup, name } = parseArmId(nsgId);
    attachments.push({
      level: "subnet",
      name: str(s.subnetName) ?? str(s.name) ?? fallbackName,
      vnet: v,
      // Unknown prefixes (an export lists subnets by id only): the NSG guards the whole VNet.
      addresses: prefixes.length > 0 ? AddressSet.fromCidrs(prefixes) : undefined,
      nsg: armKey(resourceGroup, name),
    });
  };

  for (const rec of records) {
    const i = flat(rec.inputs);
    switch (rec.type) {
      case AZURE_TYPES.nsg: {
        const name = str(i.networkSecurityGroupName) ?? str(i.name) ?? rec.name;
        const key = armKey(str(i.resourceGroupName) ?? str(i.resourceGroup), name);
        const custom = list(i.securityRules).map((r, n) => readRule(r, `${name}-rule-${n}`));
        const defaults = list(i.defaultSecurityRules).map((r, n) => ({
          ...readRule(r, `default-${n}`),
          isDefault: true,
        }));
        const prior = nsgs.get(key);
        nsgs.set(key, {
          name,
          key,
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
        subnetOf(i, str(i.virtualNetworkName), rec.name);
        break;
      case AZURE_TYPES.nic:
        readNic(i, rec.name);
        break;
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
    const addresses = AddressSet.unionAll(
      configs.flatMap((c) => strings(c.privateIPAddress)).map((a) => AddressSet.parse(a)),
    );
    for (const c of configs)
      for (const a of list(c.applicationSecurityGroups)) {
        const id = idOf(a);
        if (!id) continue;
        const k = asgKey(id);
        asgNics.set(k, (asgNics.get(k) ?? AddressSet.EMPTY).union(addresses));
      }
    const nsgId = idOf(i.networkSecurityGroup);
    if (!nsgId) return;
    const subnetId = configs.map((c) => idOf(c.subnet)).find((x) => x !== undefined);
    const { resourceGroup, name } = parseArmId(nsgId);
    attachments.push({
      level: "nic",
      name: str(i.networkInterfaceName) ?? str(i.name) ?? fallbackName,
      vnet: (subnetId && armIdSegment(subnetId, "virtualNetworks")) ?? "",
      addresses,
      nsg: armKey(resourceGroup, name),
    });
  }

  for (const { key, rule } of pendingRules) {
    let nsg = nsgs.get(key);
    if (!nsg) {
      // A rule whose NSG was not recorded still belongs to an NSG with Azure's defaults.
      nsg = { name: key.split("/")[1]!, key, rules: DEFAULT_RULES.map((r) => ({ ...r })) };
      nsgs.set(key, nsg);
    }
    nsg.rules.push(rule);
  }
  return { nsgs, attachments, asgNics, asgSegments, vnetSpaces };
}

/** The addresses a workload has in Azure (its `azure` placement), or undefined when not placed there. */
export function azureAddresses(party: Party): AddressSet | undefined {
  if (party.kind !== "workload" || !party.workload.placements.azure) return undefined;
  let a = azureAddressCache.get(party.workload);
  if (!a)
    azureAddressCache.set(party.workload, (a = AddressSet.fromCidrs(party.workload.placements.azure.cidrs)));
  return a;
}
const azureAddressCache = new WeakMap<object, AddressSet>();

const vnetOf = (party: Party) =>
  party.kind === "workload" ? party.workload.placements.azure?.vnet : undefined;

/** The evaluator, with the model it read (for tests and for `decide` explanations). */
export interface AzureEvaluator extends TargetEvaluator {
  readonly model: AzureNetworkModel;
  /** Packets whose source is in the VNet and that pass its NIC-then-subnet outbound NSGs. */
  passOut(vnet: string): ConnectionSet;
  /** Packets whose destination is in the VNet and that pass its subnet-then-NIC inbound NSGs. */
  passIn(vnet: string): ConnectionSet;
}

/**
 * The Azure evaluator over recorded resources (or a live export read into records) and the plan's
 * topology: a workload with an `azure` placement is a NIC in its VNet with its placement's
 * addresses, and is a member of the ASGs tagged with its segments and VNet (plus any ASG a recorded
 * NIC names). NSGs apply where subnets and NICs associate them.
 */
export function azureEvaluator(
  records: readonly ResourceRecord[],
  plan: Plan,
  options: AzureEvaluatorOptions = {},
): AzureEvaluator {
  const model = readModel(records);
  const vnetAddresses = new Map<string, AddressSet>();
  const segmentMembers = new Map<string, AddressSet>();
  for (const party of plan.parties) {
    const vnet = vnetOf(party);
    if (!vnet) continue;
    const a = azureAddresses(party)!;
    vnetAddresses.set(vnet, (vnetAddresses.get(vnet) ?? AddressSet.EMPTY).union(a));
  }
  for (const [segment, names] of plan.members) {
    for (const n of names) {
      const party = plan.party(`workload:${n}`);
      const vnet = party && vnetOf(party);
      if (!party || !vnet) continue;
      const key = `${segment}\u0000${vnet}`;
      segmentMembers.set(key, (segmentMembers.get(key) ?? AddressSet.EMPTY).union(azureAddresses(party)!));
    }
  }
  const asgMemberCache = new Map<string, AddressSet>();
  const asgMembers = (key: string): AddressSet => {
    let m = asgMemberCache.get(key);
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
  const attachmentsIn = (vnet: string, level: Attachment["level"]) =>
    model.attachments.filter((a) => a.vnet === vnet && a.level === level);

  const nsgSets = new Map<string, ConnectionSet>();
  const nsgAllowed = (nsgKey: string, direction: Direction, vnet: string): ConnectionSet => {
    const key = `${nsgKey}|${direction}|${vnet}`;
    let s = nsgSets.get(key);
    if (!s) {
      const nsg = model.nsgs.get(nsgKey);
      // An association to an NSG that was not recorded: only its default rules are known.
      s = allowedByNsg(
        nsg ?? { name: nsgKey, key: nsgKey, rules: DEFAULT_RULES.map((r) => ({ ...r })) },
        direction,
        context(vnet),
      );
      nsgSets.set(key, s);
    }
    return s;
  };

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

  // What passes for one party's own addresses: small slices of the VNet-wide sets, cached per party
  // so that each pair costs two small intersections.
  const sliceCache = new Map<string, ConnectionSet>();
  const sliced = (party: Party, vnet: string, direction: Direction): ConnectionSet => {
    const key = `${direction}|${party.key}`;
    let s = sliceCache.get(key);
    if (!s) {
      const mine = azureAddresses(party)!;
      s = (
        direction === "Outbound"
          ? ConnectionSet.of(mine, AddressSet.ALL, ServiceSet.ALL)
          : ConnectionSet.of(AddressSet.ALL, mine, ServiceSet.ALL)
      ).intersect(pass(vnet, direction));
      sliceCache.set(key, s);
    }
    return s;
  };
  const outOf = (party: Party, vnet: string) => sliced(party, vnet, "Outbound");
  const inOf = (party: Party, vnet: string) => sliced(party, vnet, "Inbound");

  const pairCache = new Map<string, ConnectionSet>();
  const allowed = (from: Party, to: Party): ConnectionSet => {
    const key = `${from.key}\u0000${to.key}`;
    let s = pairCache.get(key);
    if (s) return s;
    const fromVnet = vnetOf(from);
    const toVnet = vnetOf(to);
    if (!fromVnet && !toVnet) s = ConnectionSet.EMPTY;
    else {
      s = ConnectionSet.of(
        azureAddresses(from) ?? from.addresses,
        azureAddresses(to) ?? to.addresses,
        ServiceSet.ALL,
      );
      if (fromVnet) s = s.intersect(outOf(from, fromVnet));
      if (toVnet) s = s.intersect(inOf(to, toVnet));
    }
    pairCache.set(key, s);
    return s;
  };

  /** The NSG of one level that sees an address in a VNet, if any. */
  const nsgAt = (vnet: string, level: Attachment["level"], address: string) => {
    const a = attachmentsIn(vnet, level).find((x) => addressesOf(x).has(address));
    return a ? { attachment: a, nsg: model.nsgs.get(a.nsg) } : undefined;
  };

  const ruleSets = new WeakMap<NsgRule, Map<string, ConnectionSet>>();
  const cachedRuleSet = (r: NsgRule, vnet: string, ctx: NsgContext): ConnectionSet => {
    let byVnet = ruleSets.get(r);
    if (!byVnet) ruleSets.set(r, (byVnet = new Map()));
    let set = byVnet.get(vnet);
    if (!set) byVnet.set(vnet, (set = ruleSet(r, ctx)));
    return set;
  };

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
    const allowedBy: string[] = [];
    for (const st of stages) {
      const at = nsgAt(st.vnet, st.level, st.address);
      if (!at) continue;
      const nsg = at.nsg ?? {
        name: at.attachment.nsg,
        key: at.attachment.nsg,
        rules: DEFAULT_RULES.map((r) => ({ ...r })),
      };
      const ctx = context(st.vnet);
      const r = decideByNsg(nsg, st.direction, packet, ctx, (x) => cachedRuleSet(x, st.vnet, ctx));
      if (!r) continue;
      if (r.access === "Deny") return { verdict: "deny", by: ruleLabel(nsg, r) };
      allowedBy.push(ruleLabel(nsg, r));
    }
    return {
      verdict: "allow",
      by: allowedBy.length > 0 ? allowedBy.join("; ") : "no NSG associated (Azure allows everything)",
    };
  };

  return {
    target: "azure",
    model,
    enforces: (party) => vnetOf(party) !== undefined,
    allowed,
    decide,
    passOut: (vnet) => pass(vnet, "Outbound"),
    passIn: (vnet) => pass(vnet, "Inbound"),
  };
}

/** How the proof finds the Azure resources and builds the evaluator. */
export function azureAdapter(options: AzureEvaluatorOptions = {}): TargetAdapter {
  return {
    target: "azure",
    owns: (r) => OWNED.has(r.type),
    evaluator: (records, plan) => azureEvaluator(records, plan, options),
  };
}
