import { AddressSet, IntervalSet, MAX_PORT, Protocol, ServiceSet } from "../../net";
import { addressesOutside } from "../../plan/facets";
import type { CompiledPath, Party, Plan, Slice } from "../../plan/types";

/**
 * Azure rendering: per VNet (the scope in which Azure names workloads by identity), one network
 * security group and one application security group per segment the VNet's rules name. Rules:
 *
 * - `deny-all-inbound` / `deny-all-outbound` at 4096: Azure's defaults allow all VNet traffic
 *   (AllowVnetInBound/AllowVnetOutBound 65000), load-balancer probes and internet egress (65001);
 *   this explicit deny overrides them (fail closed).
 * - enforce forbids as Deny rules in the deny band (100–1599): they outrank every allow, so an allow
 *   added later outside the library cannot reopen them.
 * - allow paths as Allow rules in the allow band (1600–4095).
 *
 * A workload in the VNet is named by its segment's ASG; anything else (other VNets, other targets,
 * peers) by address prefixes, one rule per address family. One rule per path, direction, side kind
 * (asg / v4 / v6) and protocol; ports and prefixes are merged within it. Priorities are derived from
 * the rule's name (hash, then linear probing, rules claiming slots in policy order), so appending a
 * path leaves other rules' priorities alone.
 */

export type AzureProtocol = "Tcp" | "Udp" | "Icmp" | "Esp" | "Ah" | "*";

/** One security rule, with ASGs named by segment (the component resolves them to ids). */
export interface AzureSecurityRule {
  /** Unique in the NSG (≤ 80 characters): `<path>-<in|out>-<asg|v4|v6>-<protocol>`. */
  name: string;
  priority: number;
  direction: "Inbound" | "Outbound";
  access: "Allow" | "Deny";
  protocol: AzureProtocol;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  /** Segment names whose ASGs are the source. */
  sourceApplicationSecurityGroups?: string[];
  sourcePortRange: "*";
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  /** Segment names whose ASGs are the destination. */
  destinationApplicationSecurityGroups?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  /** ≤ 140 characters: the policy and path. */
  description: string;
  /** The movement path the rule renders (absent for the deny-all rules). */
  path?: string;
}

/** Everything rendered for one VNet. */
export interface AzureVnetRendering {
  policy: string;
  vnet: string;
  /** Azure name of the network security group. */
  networkSecurityGroupName: string;
  /** Segments that get an ASG (those the rules name), in policy order, with the ASG's Azure name. */
  applicationSecurityGroups: Array<{ segment: string; name: string }>;
  /** The VNet's workloads, their Azure addresses and the segments (ASGs) their NICs must join. */
  workloads: Array<{ name: string; cidrs: string[]; segments: string[] }>;
  /** Rules sorted by direction, then priority. */
  rules: AzureSecurityRule[];
}

/**
 * Azure's networking limits (per region and subscription; none adjustable):
 * https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-resource-manager-virtual-networking-limits
 * and the priority range of https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview.
 * The 4,000 "IP addresses and ranges specified for source or destination in a security group" are
 * counted over all the NSG's rules, separately for sources and destinations (the stricter reading,
 * and what Azure enforces: SecurityRuleAddressesOrPortsPerSecurityGroupLimitReached).
 */
export const AZURE_LIMITS = {
  rulesPerNsg: 1000,
  prefixesPerNsgSide: 4000,
  asgsPerRuleSide: 10,
  asgsPerNsg: 100,
  asgsPerNic: 20,
  priorityMin: 100,
  priorityMax: 4096,
  nsgsPerSubscription: 5000,
  asgsPerSubscription: 3000,
} as const;

/** The priority bands: deny guardrails first (highest precedence), allows after, deny-all last. */
export const BANDS = { deny: [100, 1599], allow: [1600, 4095], denyAll: 4096 } as const;

export class AzureRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AzureRenderError";
  }
}

/** The VNets the plan places workloads in, in policy order. */
export function azureVnets(plan: Plan): string[] {
  const known = indexes.get(plan);
  if (known) return [...known.vnets];
  const out = new Set<string>();
  for (const w of plan.policy.workloads) {
    const v = w.placements.azure?.vnet;
    if (v !== undefined) out.add(v);
  }
  return [...out];
}

/** FNV-1a, 32 bits: a stable hash for priority slots and name shortening. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** An Azure resource name (1–80 characters of word characters, `.`, `-`, `_`, ending in a word character). */
export function azureName(text: string, max = 80): string {
  let s = text.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  if (s.length > max) s = `${s.slice(0, max - 9)}-${fnv1a(text).toString(16).padStart(8, "0")}`;
  s = s.replace(/[.-]+$/, "");
  return s === "" ? `n${fnv1a(text).toString(16)}` : s;
}

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

interface ProtocolGroup {
  protocol: AzureProtocol;
  /** "*" or Azure port ranges. */
  ports: string[];
}

function portTexts(ports: IntervalSet): string[] {
  if (ports.min() === 0n && ports.max() === BigInt(MAX_PORT) && ports.ranges.length === 1) return ["*"];
  return ports.ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`));
}

const AZURE_PROTOCOL: ReadonlyMap<number, AzureProtocol> = new Map([
  [Protocol.TCP, "Tcp"],
  [Protocol.UDP, "Udp"],
  [Protocol.ICMP, "Icmp"],
  [50, "Esp"],
  [51, "Ah"],
]);

/**
 * The services of a path as Azure protocol groups. Azure cannot name other protocols (sctp, gre…):
 * an allow naming one is an error (rendering `*` would open more than the path); for a forbid they
 * are left to the explicit deny-all at 4096, which already drops them.
 */
function protocolGroups(c: CompiledPath): ProtocolGroup[] {
  let groups = protocolGroupCache.get(c);
  if (!groups) protocolGroupCache.set(c, (groups = protocolGroupsOf(c)));
  return groups;
}
const protocolGroupCache = new WeakMap<CompiledPath, ProtocolGroup[]>();

function protocolGroupsOf(c: CompiledPath): ProtocolGroup[] {
  const services = c.path.services;
  if (services.equals(ServiceSet.ALL)) return [{ protocol: "*", ports: ["*"] }];
  const out: ProtocolGroup[] = [];
  for (const e of services.entries()) {
    const protocol = AZURE_PROTOCOL.get(e.protocol);
    if (!protocol) {
      if (c.path.verdict === "allow")
        throw new AzureRenderError(
          `path "${c.path.name}": Azure NSG rules can only name Tcp, Udp, Icmp, Esp, Ah or any protocol, not ${ServiceSet.protocol(e.protocol).toString()}; narrow the path's services or place these workloads elsewhere`,
        );
      continue;
    }
    out.push({ protocol, ports: protocol === "Tcp" || protocol === "Udp" ? portTexts(e.ports) : ["*"] });
  }
  return out;
}

/** One side of a rule: a segment's ASG, or prefixes of one family. */
type Side = { kind: "asg"; segment: string } | { kind: "v4" | "v6"; prefixes: string[] };

function addressSides(addresses: AddressSet): Side[] {
  const out: Side[] = [];
  const v4 = addresses.intersect(AddressSet.ALL_V4).toCidrs();
  const v6 = addresses.intersect(AddressSet.ALL_V6).toCidrs();
  if (v4.length > 0) out.push({ kind: "v4", prefixes: v4 });
  if (v6.length > 0) out.push({ kind: "v6", prefixes: v6 });
  return out;
}

/** A compiled path with its position in the policy (guardrails first, then allows). */
interface IndexedPath {
  c: CompiledPath;
  /** Position among the policy's paths: breaks priority collisions (see assignPriorities). */
  order: number;
  toHere: boolean;
  fromHere: boolean;
}

/**
 * What every VNet's rendering needs from the plan, computed once per plan (a Pulumi program renders
 * each VNet in its own component): the paths that touch each VNet, each workload's segments, and the
 * sides an end of a path shows a VNet (memoised per end, since paths that share an end share its
 * slices).
 */
interface AzureIndex {
  vnets: string[];
  paths: Map<string, IndexedPath[]>;
  segmentOrder: Map<string, number>;
  segmentsOf: Map<string, string[]>;
  sides: WeakMap<readonly Slice[], Map<string, Side[]>>;
}

const indexes = new WeakMap<Plan, AzureIndex>();

const vnetOfParty = (p: Party) => (p.kind === "workload" ? p.workload.placements.azure?.vnet : undefined);

/** The VNets an end's slices have workloads in. */
function vnetsOf(slices: readonly Slice[]): Set<string> {
  const out = new Set<string>();
  for (const s of slices) {
    const v = vnetOfParty(s.party);
    if (v !== undefined) out.add(v);
  }
  return out;
}

function indexOf(plan: Plan): AzureIndex {
  let index = indexes.get(plan);
  if (index) return index;
  const paths = new Map<string, IndexedPath[]>();
  const endVnets = new WeakMap<readonly Slice[], Set<string>>();
  const vnetsOfEnd = (slices: readonly Slice[]) => {
    let v = endVnets.get(slices);
    if (!v) endVnets.set(slices, (v = vnetsOf(slices)));
    return v;
  };
  let order = 0;
  const add = (vnet: string, entry: IndexedPath) => {
    const list = paths.get(vnet);
    if (list) list.push(entry);
    else paths.set(vnet, [entry]);
  };
  for (const list of [plan.guardrails, plan.allows])
    for (const c of list) {
      const to = vnetsOfEnd(c.to);
      const from = vnetsOfEnd(c.from);
      const n = order++;
      if (to.size === 0 && from.size === 0) continue;
      for (const vnet of to) add(vnet, { c, order: n, toHere: true, fromHere: from.has(vnet) });
      for (const vnet of from) if (!to.has(vnet)) add(vnet, { c, order: n, toHere: false, fromHere: true });
    }
  const segmentsOf = new Map<string, string[]>();
  for (const [segment, names] of plan.members)
    for (const n of names) {
      let list = segmentsOf.get(n);
      if (!list) segmentsOf.set(n, (list = []));
      list.push(segment);
    }
  index = {
    vnets: azureVnets(plan),
    paths,
    segmentOrder: new Map(plan.policy.segments.map((s, i) => [s.name, i])),
    segmentsOf,
    sides: new WeakMap(),
  };
  indexes.set(plan, index);
  return index;
}

/**
 * What the other end of a path is, seen from a VNet: its ASG for members there, prefixes otherwise.
 * A forbid end known by identity only (no addresses) has no address Azure could deny; default deny
 * covers it, so it is left out of forbids.
 */
function sidesOf(
  index: AzureIndex,
  vnet: string,
  endpoint: string,
  slices: readonly Slice[],
  forbid: boolean,
): Side[] {
  let byVnet = index.sides.get(slices);
  if (!byVnet) index.sides.set(slices, (byVnet = new Map()));
  const here = slices.some((s) => vnetOfParty(s.party) === vnet);
  // An end with no workload in this VNet looks the same from every VNet: its prefixes, computed once.
  const key = `${forbid ? "forbid" : "allow"} ${here ? `in:${vnet}` : "outside"}`;
  let sides = byVnet.get(key);
  if (sides) return sides;
  const outside: AddressSet[] = [];
  for (const s of slices) {
    if (here && vnetOfParty(s.party) === vnet) {
      // The ASG names its NICs in this VNet; its compute on other targets (other addresses) is
      // named by prefix.
      const elsewhere = addressesOutside(s.party, "azure").intersect(s.addresses);
      if (!elsewhere.isEmpty()) outside.push(elsewhere);
      continue;
    }
    if (forbid && s.party.kind === "workload" && s.party.workload.addresses.isEmpty()) continue;
    outside.push(s.addresses);
  }
  sides = [];
  if (here && index.segmentOrder.has(endpoint)) sides.push({ kind: "asg", segment: endpoint });
  sides.push(...addressSides(outside.length === 1 ? outside[0]! : AddressSet.unionAll(outside)));
  byVnet.set(key, sides);
  return sides;
}

/**
 * Renders one VNet. Throws AzureRenderError when Azure cannot hold the result (rule, prefix or ASG
 * limits), naming the VNet, the segment or path, the count and the limit; nothing is ever dropped.
 */
export function renderAzureVnet(plan: Plan, vnet: string): AzureVnetRendering {
  const policy = plan.policy.name;
  const index = indexOf(plan);
  const rules: Unprioritised[] = [];
  const orderOf = new Map<Unprioritised, number>();
  const asgSegments = new Set<string>();

  const emit = (
    c: CompiledPath,
    order: number,
    direction: "Inbound" | "Outbound",
    source: Side,
    destination: Side,
    groups: ProtocolGroup[],
  ) => {
    const dir = direction === "Inbound" ? "in" : "out";
    const peerSide = direction === "Inbound" ? source : destination;
    for (const side of [source, destination]) {
      if (side.kind === "asg") asgSegments.add(side.segment);
      else if (side.prefixes.length > AZURE_LIMITS.prefixesPerNsgSide)
        throw new AzureRenderError(
          `VNet "${vnet}", path "${c.path.name}": ${side.prefixes.length} address prefixes on one side of a rule, more than Azure's ${AZURE_LIMITS.prefixesPerNsgSide} per network security group; narrow the path's ${side === source ? "from" : "to"} ("${side === source ? c.path.from : c.path.to}") or give its workloads contiguous CIDRs`,
        );
    }
    const description = clip(
      `blastradius ${policy}: ${c.path.verdict} "${c.path.name}" ${c.path.from} -> ${c.path.to} (${c.path.serviceTexts.join(", ")})`,
      140,
    );
    for (const g of groups) {
      const proto = g.protocol === "*" ? "any" : g.protocol.toLowerCase();
      const rule: Unprioritised = {
        name: `${c.path.name}-${dir}-${peerSide.kind}-${proto}`,
        direction,
        access: c.path.verdict === "allow" ? "Allow" : "Deny",
        protocol: g.protocol,
        sourcePortRange: "*",
        description,
        path: c.path.name,
      };
      if (source.kind === "asg") rule.sourceApplicationSecurityGroups = [source.segment];
      else rule.sourceAddressPrefixes = source.prefixes;
      if (destination.kind === "asg") rule.destinationApplicationSecurityGroups = [destination.segment];
      else rule.destinationAddressPrefixes = destination.prefixes;
      if (g.ports.length === 1 && g.ports[0] === "*") rule.destinationPortRange = "*";
      else rule.destinationPortRanges = g.ports;
      rules.push(rule);
      orderOf.set(rule, order);
    }
  };

  for (const { c, order, toHere, fromHere } of index.paths.get(vnet) ?? []) {
    const groups = protocolGroups(c);
    if (groups.length === 0) continue;
    const forbid = c.path.verdict === "forbid";
    if (toHere) {
      const dst: Side = { kind: "asg", segment: c.path.to };
      for (const src of sidesOf(index, vnet, c.path.from, c.from, forbid))
        emit(c, order, "Inbound", src, dst, groups);
    }
    if (fromHere) {
      const src: Side = { kind: "asg", segment: c.path.from };
      for (const dst of sidesOf(index, vnet, c.path.to, c.to, forbid))
        emit(c, order, "Outbound", src, dst, groups);
    }
  }

  for (const direction of ["Inbound", "Outbound"] as const)
    rules.push({
      name: `deny-all-${direction.toLowerCase()}`,
      direction,
      access: "Deny",
      protocol: "*",
      sourceAddressPrefix: "*",
      sourcePortRange: "*",
      destinationAddressPrefix: "*",
      destinationPortRange: "*",
      description: clip(
        `blastradius ${policy}: default deny ${direction.toLowerCase()} (overrides Azure's AllowVnet${direction === "Inbound" ? "InBound" : "OutBound"}/${direction === "Inbound" ? "AllowAzureLoadBalancerInBound" : "AllowInternetOutBound"})`,
        140,
      ),
    });

  const segments = [...asgSegments].sort((a, b) => index.segmentOrder.get(a)! - index.segmentOrder.get(b)!);
  // Within the limits, one rule set per path keeps every path's rules (and priorities) its own. Over
  // them, rules are merged across paths (exactly: same endpoints → union of ports; same destination
  // and service → union of sources, and the converse for outbound), at the cost of that stability.
  const fits =
    rules.length <= AZURE_LIMITS.rulesPerNsg &&
    prefixCounts(rules).every((n) => n <= AZURE_LIMITS.prefixesPerNsgSide);
  const fitted = fits ? rules : mergeRules(rules);
  checkLimits(plan, vnet, rules, fitted, segments);

  const asgOf = new Set(segments);
  const workloads = plan.policy.workloads
    .filter((w) => w.placements.azure?.vnet === vnet)
    .map((w) => ({
      name: w.name,
      cidrs: [...w.placements.azure!.cidrs],
      segments: (index.segmentsOf.get(w.name) ?? [])
        .filter((s) => asgOf.has(s))
        .sort((a, b) => index.segmentOrder.get(a)! - index.segmentOrder.get(b)!),
    }));
  for (const w of workloads)
    if (w.segments.length > AZURE_LIMITS.asgsPerNic)
      throw new AzureRenderError(
        `VNet "${vnet}": workload "${w.name}" is in ${w.segments.length} segments that need an ASG (${w.segments.join(", ")}), but a NIC's IP configuration can join at most ${AZURE_LIMITS.asgsPerNic}; merge segments or split the workload`,
      );

  const prioritised = assignPriorities(vnet, fitted, (r) => orderOf.get(r));
  return {
    policy,
    vnet,
    networkSecurityGroupName: azureName(`nsg-${policy}-${vnet}`),
    applicationSecurityGroups: segments.map((segment) => ({
      segment,
      name: azureName(`asg-${policy}-${vnet}-${segment}`),
    })),
    workloads,
    rules: prioritised,
  };
}

/** Address prefixes (and `*`) the rules name, summed over the NSG: [sources, destinations]. */
export function prefixCounts(rules: ReadonlyArray<Omit<AzureSecurityRule, "priority">>): [number, number] {
  let src = 0;
  let dst = 0;
  for (const r of rules) {
    src += r.sourceAddressPrefixes?.length ?? (r.sourceAddressPrefix !== undefined ? 1 : 0);
    dst += r.destinationAddressPrefixes?.length ?? (r.destinationAddressPrefix !== undefined ? 1 : 0);
  }
  return [src, dst];
}

/** Every VNet's rendering, in policy order. */
export function renderAzure(plan: Plan): AzureVnetRendering[] {
  return indexOf(plan).vnets.map((v) => renderAzureVnet(plan, v));
}

type Unprioritised = Omit<AzureSecurityRule, "priority">;

const sideKey = (prefixes?: string[], asgs?: string[], single?: string) =>
  asgs ? `asg:${asgs.join(",")}` : prefixes ? `cidr:${prefixes.join(",")}` : `one:${single}`;
const portKey = (r: Unprioritised) => (r.destinationPortRanges ?? [r.destinationPortRange]).join(",");

type Part = "source" | "destination" | "ports";

/** Everything a rule matches, except `omit`, as a grouping key. */
function ruleKey(r: Unprioritised, omit?: Part): string {
  const parts: string[] = [r.direction, r.access, r.protocol];
  if (omit !== "source")
    parts.push(sideKey(r.sourceAddressPrefixes, r.sourceApplicationSecurityGroups, r.sourceAddressPrefix));
  else parts.push(r.sourceApplicationSecurityGroups ? "asg" : `cidr${familyOf(r.sourceAddressPrefixes)}`);
  if (omit !== "destination")
    parts.push(
      sideKey(
        r.destinationAddressPrefixes,
        r.destinationApplicationSecurityGroups,
        r.destinationAddressPrefix,
      ),
    );
  else
    parts.push(
      r.destinationApplicationSecurityGroups ? "asg" : `cidr${familyOf(r.destinationAddressPrefixes)}`,
    );
  if (omit !== "ports") parts.push(portKey(r));
  return parts.join("|");
}
const familyOf = (prefixes?: string[]) => (prefixes?.[0]?.includes(":") ? 6 : 4);
const chunks = <T>(xs: T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/**
 * Merges rules across paths without changing what they match (see renderAzureVnet): rules equal
 * but for their ports get the union of the ports; equal but for one side get the union of that
 * side (ASGs up to Azure's 10 per side, prefixes up to 4,000). Repeated until nothing merges.
 */
export function mergeRules(rules: readonly Unprioritised[]): Unprioritised[] {
  const fixed = rules.filter((r) => r.path === undefined);
  let list = rules.filter((r) => r.path !== undefined);
  for (let round = 0; round < 4; round++) {
    const before = list.length;
    for (const part of ["ports", "destination", "source"] as const) {
      list = group(list, (r) => ruleKey(r, part)).flatMap((g) => (g.length === 1 ? g : mergeGroup(g, part)));
    }
    if (list.length === before) break;
  }
  // Merged rules are named after what they match, so the same merge renders the same names.
  const named = list.map((r) => {
    if (!r.path!.includes("+")) return r;
    const paths = [...new Set(r.path!.split("+"))];
    return {
      ...r,
      name: `merged-${r.direction === "Inbound" ? "in" : "out"}-${r.access.toLowerCase()}-${fnv1a(ruleKey(r)).toString(16).padStart(8, "0")}`,
      description: clip(`${r.description.split(":")[0]}: ${r.access.toLowerCase()} ${paths.join(", ")}`, 140),
      path: paths.join("+"),
    };
  });
  return [...named, ...fixed];
}

function mergeGroup(g: Unprioritised[], part: Part): Unprioritised[] {
  const path = g.map((r) => r.path).join("+");
  const first = g[0]!;
  if (part === "ports") {
    const ports = portUnion(g.map((r) => r.destinationPortRanges ?? [r.destinationPortRange!]));
    const { destinationPortRange: _a, destinationPortRanges: _b, ...base } = first;
    return [
      {
        ...base,
        ...(ports.length === 1 && ports[0] === "*"
          ? { destinationPortRange: "*" }
          : { destinationPortRanges: ports }),
        path,
      },
    ];
  }
  const asgKeyName = `${part}ApplicationSecurityGroups` as const;
  const prefixKeyName = `${part}AddressPrefixes` as const;
  if (first[asgKeyName]) {
    const asgs = [...new Set(g.flatMap((r) => r[asgKeyName]!))].sort();
    return chunks(asgs, AZURE_LIMITS.asgsPerRuleSide).map((c) => ({ ...first, [asgKeyName]: c, path }));
  }
  if (first[prefixKeyName]) {
    const prefixes = AddressSet.fromCidrs(g.flatMap((r) => r[prefixKeyName]!)).toCidrs();
    return chunks(prefixes, AZURE_LIMITS.prefixesPerNsgSide).map((c) => ({
      ...first,
      [prefixKeyName]: c,
      path,
    }));
  }
  return g;
}

function group<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    let g = m.get(k);
    if (!g) m.set(k, (g = []));
    g.push(i);
  }
  return [...m.values()];
}

function portUnion(lists: string[][]): string[] {
  if (lists.some((l) => l.includes("*"))) return ["*"];
  const ranges = lists.flat().map((t) => {
    const [lo, hi] = t.split("-").map((x) => BigInt(x));
    return [lo!, hi ?? lo!] as const;
  });
  return portTexts(IntervalSet.of(ranges));
}

function checkLimits(
  plan: Plan,
  vnet: string,
  unmerged: readonly Unprioritised[],
  rules: readonly Unprioritised[],
  segments: string[],
) {
  if (rules.length > AZURE_LIMITS.rulesPerNsg) {
    // Name the segments whose paths take the most rules, so the author knows where to merge.
    const bySegment = new Map<string, number>();
    const paths = new Map([...plan.allows, ...plan.guardrails].map((c) => [c.path.name, c.path]));
    for (const r of unmerged) {
      const p = r.path ? paths.get(r.path) : undefined;
      if (!p) continue;
      for (const s of new Set([p.from, p.to])) bySegment.set(s, (bySegment.get(s) ?? 0) + 1);
    }
    const top = [...bySegment]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 5)
      .map(([s, n]) => `"${s}" (${n})`);
    throw new AzureRenderError(
      `VNet "${vnet}": the network security group needs ${rules.length} rules after merging (${unmerged.length} before), more than Azure's ${AZURE_LIMITS.rulesPerNsg} per NSG; segments with the most rules: ${top.join(", ")}. Merge paths between the same segments, use wider services, or split the VNet`,
    );
  }
  const [sources, destinations] = prefixCounts(rules);
  for (const [side, n] of [
    ["source", sources],
    ["destination", destinations],
  ] as const)
    if (n > AZURE_LIMITS.prefixesPerNsgSide)
      throw new AzureRenderError(
        `VNet "${vnet}": the network security group's rules name ${n} ${side} address prefixes after merging, more than Azure's ${AZURE_LIMITS.prefixesPerNsgSide} per NSG; give the workloads outside the VNet contiguous CIDRs, narrow the paths to peers with many ranges, or split the VNet`,
      );
  if (segments.length > AZURE_LIMITS.asgsPerNsg)
    throw new AzureRenderError(
      `VNet "${vnet}": the rules name ${segments.length} application security groups (segments ${segments.slice(0, 5).join(", ")}, …), more than Azure's ${AZURE_LIMITS.asgsPerNsg} per NSG; merge segments or split the VNet`,
    );
}

/** Sets a rule's priority in place: rules are the rendering's own objects, built for this call. */
function prioritise(r: Omit<AzureSecurityRule, "priority">, priority: number): AzureSecurityRule {
  const p = r as AzureSecurityRule;
  p.priority = priority;
  return p;
}

/**
 * Stable priorities: each rule's home slot is a hash of its name within its band (deny or allow); a
 * taken slot is resolved by probing upward. Rules claim slots in policy order (the position of their
 * path, then name), so a path appended to the policy never moves an existing rule, and one inserted
 * earlier moves only a later path's rule whose home slot it takes. Priorities are unique per direction.
 */
function assignPriorities(
  vnet: string,
  rules: ReadonlyArray<Omit<AzureSecurityRule, "priority">>,
  orderOf: (r: Omit<AzureSecurityRule, "priority">) => number | undefined,
): AzureSecurityRule[] {
  const out: AzureSecurityRule[] = [];
  for (const direction of ["Inbound", "Outbound"] as const) {
    const used = new Set<number>();
    const mine = rules.filter((r) => r.direction === direction);
    for (const r of mine.filter((x) => x.path === undefined)) {
      used.add(BANDS.denyAll);
      out.push(prioritise(r, BANDS.denyAll));
    }
    for (const band of ["deny", "allow"] as const) {
      const [lo, hi] = BANDS[band];
      const size = hi - lo + 1;
      const list = mine
        .filter((r) => r.path !== undefined && (r.access === "Deny") === (band === "deny"))
        .map((r) => ({ r, slot: fnv1a(r.name) % size, order: orderOf(r) ?? Number.MAX_SAFE_INTEGER }))
        .sort((a, b) => a.order - b.order || (a.r.name < b.r.name ? -1 : a.r.name > b.r.name ? 1 : 0));
      if (list.length > size)
        throw new AzureRenderError(
          `VNet "${vnet}": ${list.length} ${direction.toLowerCase()} ${band} rules do not fit the ${size} priorities ${lo}-${hi}`,
        );
      for (const { r, slot } of list) {
        let s = slot;
        while (used.has(lo + s)) s = (s + 1) % size;
        used.add(lo + s);
        out.push(prioritise(r, lo + s));
      }
    }
  }
  return out.sort(
    (a, b) => (a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0) || a.priority - b.priority,
  );
}
