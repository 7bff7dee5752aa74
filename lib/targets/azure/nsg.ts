import {
  AddressSet,
  ConnectionSet,
  INTERNET,
  IntervalSet,
  MAX_PORT,
  NetParseError,
  type Packet,
  Protocol,
  parseAddress,
  ServiceSet,
} from "../../net";

/**
 * An interpreter of Azure network security groups, written from Azure's documentation
 * ("Network security groups", "How network security groups filter network traffic",
 * "Application security groups"), independent of how blastradius renders them:
 *
 * - Rules are processed in priority order (lower number first); the first rule that matches a
 *   packet decides (Allow or Deny) and processing stops.
 * - Every NSG also holds Azure's default rules: AllowVNetInBound / AllowVnetOutBound (65000),
 *   AllowAzureLoadBalancerInBound / AllowInternetOutBound (65001), DenyAllInBound / DenyAllOutBound (65500).
 * - Service tags: `VirtualNetwork` (the address space of the VNet the NSG is evaluated in),
 *   `Internet` (the public address space), `AzureLoadBalancer` (168.63.129.16); `*` / `Any` is every
 *   address. Application security groups resolve to the addresses of their member NICs.
 * - Inbound traffic passes the subnet's NSG, then the NIC's; outbound the NIC's, then the subnet's.
 *   A level without an NSG lets everything through; both levels must allow.
 */

export type Direction = "Inbound" | "Outbound";
export type Access = "Allow" | "Deny";

/** One security rule as Azure stores it (ARM property names, singular and plural forms merged). */
export interface NsgRule {
  name: string;
  priority: number;
  direction: Direction;
  access: Access;
  /** Tcp, Udp, Icmp, Esp, Ah or `*` (case-insensitive, as Azure accepts it). */
  protocol: string;
  /** Address prefixes, service tags or `*`; empty when the side names application security groups. */
  sourceAddressPrefixes: string[];
  /** Keys of application security groups (see {@link asgKey}). */
  sourceApplicationSecurityGroups: string[];
  sourcePortRanges: string[];
  destinationAddressPrefixes: string[];
  destinationApplicationSecurityGroups: string[];
  destinationPortRanges: string[];
  /** True for Azure's built-in default rules. */
  isDefault?: boolean;
  /** Rendered by blastradius (its description says so); anything else was added outside the library. */
  rendered?: boolean;
}

export interface Nsg {
  /** The NSG's name, as shown in verdicts. */
  name: string;
  /** Resource group and name, lower-cased (ARM names are case-insensitive). */
  key: string;
  /** Custom rules and default rules, in any order. */
  rules: NsgRule[];
  /** Rendered by blastradius (tagged with its policy). */
  rendered?: boolean;
}

/** The lookup key of an NSG or ASG: `<resource group>/<name>`, lower-cased. */
export function armKey(resourceGroup: string | undefined, name: string): string {
  return `${(resourceGroup ?? "").toLowerCase()}/${name.toLowerCase()}`;
}

/** An ARM id's resource group and last name segment, e.g. `.../resourceGroups/rg/.../networkSecurityGroups/nsg1`. */
export function parseArmId(id: string): { resourceGroup?: string; name: string; parts: string[] } {
  const parts = id.split("/").filter((p) => p !== "");
  const rgAt = parts.findIndex((p) => p.toLowerCase() === "resourcegroups");
  return {
    resourceGroup: rgAt >= 0 ? parts[rgAt + 1] : undefined,
    name: parts[parts.length - 1] ?? id,
    parts,
  };
}

/** The segment after `collection` in an ARM id (e.g. the VNet name after `virtualNetworks`). */
export function armIdSegment(id: string, collection: string): string | undefined {
  const { parts } = parseArmId(id);
  const at = parts.findIndex((p) => p.toLowerCase() === collection.toLowerCase());
  return at >= 0 ? parts[at + 1] : undefined;
}

export const asgKey = (id: string): string => {
  const { resourceGroup, name } = parseArmId(id);
  return armKey(resourceGroup, name);
};

const rule = (
  name: string,
  priority: number,
  direction: Direction,
  access: Access,
  source: string,
  destination: string,
): NsgRule => ({
  name,
  priority,
  direction,
  access,
  protocol: "*",
  sourceAddressPrefixes: [source],
  sourceApplicationSecurityGroups: [],
  sourcePortRanges: ["*"],
  destinationAddressPrefixes: [destination],
  destinationApplicationSecurityGroups: [],
  destinationPortRanges: ["*"],
  isDefault: true,
});

/** Azure's default security rules, present in every NSG and impossible to remove. */
export const DEFAULT_RULES: readonly NsgRule[] = [
  rule("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
  rule("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
  rule("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
  rule("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
  rule("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
  rule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
];

/** The address of Azure's load balancer health probes (the `AzureLoadBalancer` tag). */
export const AZURE_LOAD_BALANCER = AddressSet.fromCidrs(["168.63.129.16/32"]);

/** What the service tags and application security groups stand for where an NSG is evaluated. */
export interface NsgContext {
  /** The `VirtualNetwork` tag: the VNet's address space (plus peered spaces, if configured). */
  virtualNetwork: AddressSet;
  /** Addresses of the NICs in an application security group (by {@link asgKey}). */
  asgMembers(key: string): AddressSet;
}

/**
 * A prefix as Azure reads it: CIDR, single address, `*`/`Any`, or a service tag. Host bits in a
 * CIDR are ignored (Azure keeps the network). Returns undefined for a service tag this interpreter
 * does not know (callers decide how to bound it).
 */
export function prefixAddresses(prefix: string, ctx: NsgContext): AddressSet | undefined {
  const p = prefix.trim();
  const lower = p.toLowerCase();
  if (lower === "*" || lower === "any" || lower === "0.0.0.0/0") return AddressSet.ALL;
  if (lower === "virtualnetwork") return ctx.virtualNetwork;
  if (lower === "internet") return INTERNET;
  if (lower === "azureloadbalancer") return AZURE_LOAD_BALANCER;
  if (!/^[0-9a-f:.]+(\/\d{1,3})?$/i.test(p)) return undefined;
  try {
    return AddressSet.parse(p);
  } catch (e) {
    if (!(e instanceof NetParseError) || !p.includes("/")) throw e;
    const [addr, len] = p.split("/") as [string, string];
    const a = parseAddress(addr);
    const bits = a.family === 4 ? 32n : 128n;
    const host = bits - BigInt(Number(len));
    const lo = (a.value >> host) << host;
    return AddressSet.ofFamily(a.family, IntervalSet.range(lo, lo + (1n << host) - 1n));
  }
}

/** Port ranges as Azure writes them ("*", "80", "8000-8100"). */
export function portRanges(ranges: readonly string[]): IntervalSet {
  if (ranges.length === 0 || ranges.some((r) => r.trim() === "*"))
    return IntervalSet.range(0n, BigInt(MAX_PORT));
  return IntervalSet.of(
    ranges.map((r) => {
      const [lo, hi] = r.split("-").map((x) => BigInt(Number(x.trim())));
      return [lo!, hi ?? lo!] as const;
    }),
  );
}

const allPorts = (s: IntervalSet) => s.equals(IntervalSet.range(0n, BigInt(MAX_PORT)));

/**
 * The services a rule's protocol and destination ports cover. `*` with specific ports covers the
 * ported protocols on those ports; for an Allow rule it also covers every protocol without ports
 * (an over-approximation, so a proof of blocking stays sound), for a Deny rule it does not.
 */
export function ruleServices(protocol: string, destinationPorts: IntervalSet, access: Access): ServiceSet {
  switch (protocol.trim().toLowerCase()) {
    case "tcp":
      return ServiceSet.protocol(Protocol.TCP, destinationPorts);
    case "udp":
      return ServiceSet.protocol(Protocol.UDP, destinationPorts);
    case "icmp":
      return ServiceSet.icmp();
    case "esp":
      return ServiceSet.protocol(50);
    case "ah":
      return ServiceSet.protocol(51);
    default: {
      if (allPorts(destinationPorts)) return ServiceSet.ALL;
      const ported = [Protocol.TCP, Protocol.UDP, Protocol.SCTP].map((p) =>
        ServiceSet.protocol(p, destinationPorts),
      );
      const portedAll = [Protocol.TCP, Protocol.UDP, Protocol.SCTP].map((p) => ServiceSet.protocol(p));
      let out = ported.reduce((a, b) => a.union(b));
      if (access === "Allow")
        out = out.union(ServiceSet.ALL.subtract(portedAll.reduce((a, b) => a.union(b))));
      return out;
    }
  }
}

/** A rule's match as a product: sources × destinations × services (every rule is one). */
export interface RuleParts {
  src: AddressSet;
  dst: AddressSet;
  services: ServiceSet;
}

// Rules repeat the same prefixes, ports and protocols many times over: parse each text once.
const parsedPrefixes = new Map<string, AddressSet | undefined>();
const parsedServices = new Map<string, ServiceSet>();
const parsedSides = new Map<string, AddressSet>();
const remember = <V>(cache: Map<string, V>, key: string, make: () => V): V => {
  if (cache.has(key)) return cache.get(key) as V;
  if (cache.size > 100_000) cache.clear();
  const v = make();
  cache.set(key, v);
  return v;
};
/** A prefix that names no service tag or context-dependent set (CIDR or address), parsed once. */
const literalPrefix = (p: string) => !/^(\*|any|virtualnetwork|internet|azureloadbalancer)$/i.test(p.trim());

/**
 * What a rule matches in a context, as sources × destinations × services, or undefined when it
 * matches nothing. A side naming unknown service tags is bounded soundly: every address for an
 * Allow rule, none for a Deny rule. A rule restricted to some source ports matches (Allow) or does
 * not match (Deny) whole connections, for the same reason: the initiator chooses its source port.
 */
export function ruleParts(r: NsgRule, ctx: NsgContext): RuleParts | undefined {
  const prefixSet = (p: string): AddressSet => {
    let a = parsedPrefixes.get(p);
    if (a === undefined && !parsedPrefixes.has(p)) {
      if (!literalPrefix(p)) a = prefixAddresses(p, ctx);
      else a = remember(parsedPrefixes, p, () => prefixAddresses(p, ctx));
    }
    return a ?? (r.access === "Allow" ? AddressSet.ALL : AddressSet.EMPTY);
  };
  const side = (prefixes: string[], asgs: string[]): AddressSet => {
    if (asgs.length === 0 && prefixes.length === 1) return prefixSet(prefixes[0]!);
    if (asgs.length === 1 && prefixes.length === 0) return ctx.asgMembers(asgs[0]!);
    // Lists of literal prefixes repeat across rules (one remote segment in every rule towards it).
    if (asgs.length === 0 && prefixes.every(literalPrefix))
      return remember(parsedSides, `${r.access}|${prefixes.join(",")}`, () =>
        AddressSet.unionAll(prefixes.map(prefixSet)),
      );
    return AddressSet.unionAll([...asgs.map((k) => ctx.asgMembers(k)), ...prefixes.map(prefixSet)]);
  };
  if (r.access === "Deny" && !allPorts(portRanges(r.sourcePortRanges))) return undefined;
  const src = side(r.sourceAddressPrefixes, r.sourceApplicationSecurityGroups);
  if (src.isEmpty()) return undefined;
  const dst = side(r.destinationAddressPrefixes, r.destinationApplicationSecurityGroups);
  if (dst.isEmpty()) return undefined;
  const services = remember(
    parsedServices,
    `${r.protocol}|${r.access}|${r.destinationPortRanges.join(",")}`,
    () => ruleServices(r.protocol, portRanges(r.destinationPortRanges), r.access),
  );
  return { src, dst, services };
}

/** The packets a rule matches in a context, as a set (see {@link ruleParts}). */
export function ruleSet(r: NsgRule, ctx: NsgContext): ConnectionSet {
  const p = ruleParts(r, ctx);
  return p ? ConnectionSet.of(p.src, p.dst, p.services) : ConnectionSet.EMPTY;
}

/** The rules of one direction in evaluation order (priority, then name for a stable display). */
export function ordered(nsg: Nsg, direction: Direction): NsgRule[] {
  return nsg.rules
    .filter((r) => r.direction === direction)
    .sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Every packet the NSG allows in one direction: first match wins, so a rule only decides what no
 * earlier rule matched. Consecutive rules with the same access are merged before applying.
 */
export function allowedByNsg(nsg: Nsg, direction: Direction, ctx: NsgContext): ConnectionSet {
  const rules = ordered(nsg, direction);
  let decided = ConnectionSet.EMPTY;
  const allowed: ConnectionSet[] = [];
  let i = 0;
  while (i < rules.length) {
    const access = rules[i]!.access;
    const run: ConnectionSet[] = [];
    while (i < rules.length && rules[i]!.access === access) run.push(ruleSet(rules[i++]!, ctx));
    const matched = ConnectionSet.unionAll(run);
    if (access === "Allow") allowed.push(matched.subtract(decided));
    decided = decided.union(matched);
    if (decided.equals(ConnectionSet.ALL)) break;
  }
  return ConnectionSet.unionAll(allowed);
}

/** The deciding rule of one NSG for one packet (undefined only for an NSG without its default rules). */
export function decideByNsg(
  nsg: Nsg,
  direction: Direction,
  packet: Packet,
  ctx: NsgContext,
  setOf: (r: NsgRule) => ConnectionSet = (r) => ruleSet(r, ctx),
): NsgRule | undefined {
  return ordered(nsg, direction).find((r) => setOf(r).has(packet));
}

/** How a verdict names a rule: `<nsg>/<rule> (<direction> <priority>)`. */
export function ruleLabel(nsg: Nsg, r: NsgRule): string {
  return `${nsg.name}/${r.name} (${r.direction.toLowerCase()} ${r.priority})`;
}
