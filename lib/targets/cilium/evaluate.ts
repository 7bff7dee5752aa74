import type { Workload } from "../../model/types";
import {
  AddressSet,
  ConnectionSet,
  IntervalSet,
  type Packet,
  Protocol,
  parseAddress,
  ServiceSet,
} from "../../net";
import type { Party, Plan } from "../../plan/types";
import type { Decision, ResourceRecord, TargetAdapter, TargetEvaluator } from "../../verify/types";
import { ciliumUsage } from "./usage";

/**
 * An independent interpreter of Cilium's policy language (CiliumNetworkPolicy and
 * CiliumClusterwideNetworkPolicy, cilium.io/v2) over policy objects as the API server holds them:
 * recorded Pulumi inputs or a `kubectl get cnp -A -o json` export. It reads only those objects and
 * the plan's topology (which workload runs where, with which pod labels and addresses).
 *
 * Semantics implemented (Cilium docs "Policy Enforcement Modes", "Deny Policies", "Layer 3/4/7
 * Examples"; pkg/policy/api rule_validation.go):
 * - A rule selects the endpoints its endpointSelector matches; in a CiliumNetworkPolicy only those
 *   of the policy's namespace.
 * - Per direction, an endpoint is in default deny when any rule selecting it enables it
 *   (`enableDefaultDeny`, else true when the rule's allow or deny list for that direction is
 *   non-empty). Otherwise that direction allows everything but what deny rules drop.
 * - Allowed traffic is the union of the allow rules selecting the endpoint; any matching deny rule
 *   wins over every allow. A connection passes when the source's egress and the destination's
 *   ingress both pass (an endpoint outside the cluster enforces nothing here).
 * - Peers: endpoint selectors match pods of the cluster by identity labels (in a namespaced policy a
 *   selector without a namespace label means the policy's namespace); CIDR rules match only peers
 *   outside the cluster; entities: `world` = everything outside the cluster, `cluster` = every pod,
 *   `all` = both. A rule without any peer field selects every peer when it has ports or ICMP
 *   types, and nothing otherwise (`ingress: [{}]` allows nothing).
 * - L4: no toPorts/icmps = every protocol; port "0" = every port; protocol ANY/empty = TCP, UDP,
 *   SCTP. ICMP types are coarser than the model (which has no ICMP types): an allow of some ICMP
 *   types counts as ICMP open, a deny counts only when it names every type (sound for forbids).
 * - L7: `allowed` answers at L4 (a port with HTTP rules is open at L4); `allowsHttp` answers for
 *   one request, which every HTTP-constrained side must match.
 */

export const CNP_TYPE = "kubernetes:cilium.io/v2:CiliumNetworkPolicy";
export const CCNP_TYPE = "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy";
export const COMPONENT_TYPE = "blastradius:cilium:CiliumSegmentation";
const CLUSTER_LABEL = "blastradius.io/cluster";

/** A policy object as applied to one cluster, with the name `by` reports use. */
export interface ClusterPolicy {
  cluster: string;
  /** The object (apiVersion, kind, metadata, spec/specs), loosely typed: read defensively. */
  object: Record<string, unknown>;
  /** Where it came from (the Pulumi resource name, or "kubectl"). */
  source: string;
}

/** A policy the evaluator cannot interpret exactly (a field it does not model). */
export class CiliumEvaluateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CiliumEvaluateError";
  }
}

// ---------------------------------------------------------------------------------------------
// Identity labels and selectors

interface IdLabel {
  source: string;
  key: string;
  value: string;
}

interface Requirement {
  source: string;
  key: string;
  op: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values: string[];
}

const NS_KEY = "io.kubernetes.pod.namespace";

function splitKey(raw: string): { source: string; key: string } {
  const i = raw.indexOf(":");
  if (i > 0) {
    const source = raw.slice(0, i);
    if (["k8s", "any", "reserved", "container", "cidr", "unspec", "fqdn", "cilium"].includes(source))
      return { source, key: raw.slice(i + 1) };
  }
  return { source: "any", key: raw };
}

type Selector = Requirement[];

function compileSelector(raw: unknown, where: string, namespace: string | undefined): Selector {
  if (raw === null || typeof raw !== "object") throw new CiliumEvaluateError(`${where}: not a selector`);
  const r = raw as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(r.matchLabels ?? {}))
    reqs.push({ ...splitKey(k), op: "In", values: [String(v)] });
  for (const e of r.matchExpressions ?? []) {
    const x = e as { key: string; operator: Requirement["op"]; values?: string[] };
    if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(x.operator))
      throw new CiliumEvaluateError(`${where}: unknown selector operator "${x.operator}"`);
    reqs.push({ ...splitKey(x.key), op: x.operator, values: x.values ?? [] });
  }
  // Namespace defaulting: a namespaced policy's selector without a namespace requirement selects the
  // policy's own namespace (reserved-identity selectors are left alone).
  if (
    namespace !== undefined &&
    !reqs.some((q) => q.key === NS_KEY) &&
    !reqs.some((q) => q.source === "reserved")
  )
    reqs.push({ source: "k8s", key: NS_KEY, op: "In", values: [namespace] });
  return reqs;
}

function matches(sel: Selector, labels: readonly IdLabel[]): boolean {
  for (const q of sel) {
    const found = labels.filter((l) => l.key === q.key && (q.source === "any" || q.source === l.source));
    switch (q.op) {
      case "In":
        if (!found.some((l) => q.values.includes(l.value))) return false;
        break;
      case "NotIn":
        if (found.some((l) => q.values.includes(l.value))) return false;
        break;
      case "Exists":
        if (found.length === 0) return false;
        break;
      case "DoesNotExist":
        if (found.length > 0) return false;
        break;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * A selector as used by the loaded policies, interned by its requirements: its members (per cluster)
 * are computed once, and a pod's key lists the peer selectors that pick it.
 */
interface SelectorRef {
  id: number;
  requirements: Selector;
  /** Whether it matches `reserved:world` (parties outside the cluster). */
  world: boolean;
  /** Endpoints it picks, per cluster (computed on first use). */
  members: Map<string, Set<Endpoint>>;
}

/** The peers a rule names. `everything`: a rule with ports and no peer field. */
interface Peer {
  everything: boolean;
  endpoints: SelectorRef[];
  cidrs: AddressSet;
  entities: Set<string>;
}

interface HttpMatcher {
  method?: RegExp;
  path?: RegExp;
  /** As written. */
  text: { method?: string; path?: string };
}

/** L4 of a rule: services for both families plus per-family ICMP, and HTTP rules per TCP port set. */
interface L4 {
  both: ServiceSet;
  v4: ServiceSet;
  v6: ServiceSet;
  /** What IPv4 (IPv6) packets may use: `both` plus the family's ICMP. */
  s4: ServiceSet;
  s6: ServiceSet;
  /** Per PortRule with HTTP rules: the TCP ports it covers and the rules. */
  http: Array<{ ports: ServiceSet; rules: HttpMatcher[] }>;
}

interface Rule {
  ref: string;
  peer: Peer;
  l4: L4;
}

const PEER_FIELDS = {
  ingress: { endpoints: "fromEndpoints", cidr: "fromCIDR", cidrSet: "fromCIDRSet", entities: "fromEntities" },
  egress: { endpoints: "toEndpoints", cidr: "toCIDR", cidrSet: "toCIDRSet", entities: "toEntities" },
} as const;

const UNSUPPORTED = [
  "toFQDNs",
  "toServices",
  "toGroups",
  "toNodes",
  "fromNodes",
  "toRequires",
  "fromRequires",
  "fromGroups",
];

const ENTITIES = new Set([
  "all",
  "world",
  "world-ipv4",
  "world-ipv6",
  "cluster",
  "host",
  "init",
  "ingress",
  "unmanaged",
  "remote-node",
  "health",
  "none",
  "kube-apiserver",
]);

function parseCidr(text: string, where: string): AddressSet {
  try {
    return AddressSet.parse(text);
  } catch (e) {
    throw new CiliumEvaluateError(`${where}: bad CIDR "${text}": ${(e as Error).message}`);
  }
}

function parsePeer(
  rule: Record<string, unknown>,
  dir: "ingress" | "egress",
  where: string,
  namespace: string | undefined,
  intern: (s: Selector) => SelectorRef,
): Peer {
  for (const f of UNSUPPORTED)
    if (rule[f] !== undefined)
      throw new CiliumEvaluateError(
        `${where}: "${f}" is not interpreted by the blastradius evaluator, so it cannot prove what this rule allows; remove it or review it by hand`,
      );
  const names = PEER_FIELDS[dir];
  const present = [names.endpoints, names.cidr, names.cidrSet, names.entities].filter(
    (f) => rule[f] !== undefined && rule[f] !== null,
  );
  const hasL4 = asList(rule.toPorts).length > 0 || asList(rule.icmps).length > 0;
  const peer: Peer = {
    everything: present.length === 0 && hasL4,
    endpoints: [],
    cidrs: AddressSet.EMPTY,
    entities: new Set(),
  };
  asList(rule[names.endpoints]).forEach((s, i) => {
    peer.endpoints.push(intern(compileSelector(s, `${where}.${names.endpoints}[${i}]`, namespace)));
  });
  const cidrs: AddressSet[] = [];
  asList(rule[names.cidr]).forEach((c, i) => {
    cidrs.push(parseCidr(String(c), `${where}.${names.cidr}[${i}]`));
  });
  asList(rule[names.cidrSet]).forEach((c, i) => {
    const x = c as { cidr?: string; except?: string[]; cidrGroupRef?: string; cidrGroupSelector?: unknown };
    const at = `${where}.${names.cidrSet}[${i}]`;
    if (x.cidrGroupRef !== undefined || x.cidrGroupSelector !== undefined)
      throw new CiliumEvaluateError(`${at}: CIDR groups are not interpreted by the blastradius evaluator`);
    if (x.cidr === undefined) throw new CiliumEvaluateError(`${at}: no cidr`);
    let set = parseCidr(x.cidr, at);
    for (const e of x.except ?? []) set = set.subtract(parseCidr(e, `${at}.except`));
    cidrs.push(set);
  });
  peer.cidrs = AddressSet.unionAll(cidrs);
  for (const e of asList(rule[names.entities])) {
    if (!ENTITIES.has(String(e))) throw new CiliumEvaluateError(`${where}: unknown entity "${e}"`);
    peer.entities.add(String(e));
  }
  return peer;
}

function asList(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

const PROTO: Record<string, number[]> = {
  TCP: [Protocol.TCP],
  UDP: [Protocol.UDP],
  SCTP: [Protocol.SCTP],
  ANY: [Protocol.TCP, Protocol.UDP, Protocol.SCTP],
  "": [Protocol.TCP, Protocol.UDP, Protocol.SCTP],
};

function fullMatch(re: string, where: string): RegExp {
  try {
    return new RegExp(`^(?:${re})$`);
  } catch {
    throw new CiliumEvaluateError(`${where}: "${re}" is not a regular expression this evaluator can read`);
  }
}

function parseL4(rule: Record<string, unknown>, where: string, deny: boolean): L4 {
  const toPorts = asList(rule.toPorts);
  const icmps = asList(rule.icmps);
  if (toPorts.length === 0 && icmps.length === 0)
    return {
      both: ServiceSet.ALL,
      v4: ServiceSet.EMPTY,
      v6: ServiceSet.EMPTY,
      s4: ServiceSet.ALL,
      s6: ServiceSet.ALL,
      http: [],
    };
  const parts: ServiceSet[] = [];
  const http: L4["http"] = [];
  toPorts.forEach((pr, i) => {
    const at = `${where}.toPorts[${i}]`;
    const x = pr as { ports?: unknown[]; rules?: { http?: unknown[] } };
    let own = ServiceSet.EMPTY;
    const ports = asList(x.ports);
    // A PortRule without ports: L7 only, on every port (rare); treat as every TCP/UDP/SCTP port.
    if (ports.length === 0) own = ServiceSet.tcp(0, 65535).union(ServiceSet.udp(0, 65535));
    ports.forEach((pp, j) => {
      const p = pp as { port?: string | number; endPort?: number; protocol?: string };
      const proto = PROTO[(p.protocol ?? "").toUpperCase()];
      if (!proto)
        throw new CiliumEvaluateError(
          `${at}.ports[${j}]: protocol "${p.protocol}" is not interpreted (TCP, UDP, SCTP, ANY)`,
        );
      const text = String(p.port ?? "0");
      if (!/^[0-9]+$/.test(text))
        throw new CiliumEvaluateError(
          `${at}.ports[${j}]: named port "${text}" depends on pod specs the evaluator cannot see; use a port number`,
        );
      const lo = Number(text);
      const hi = lo === 0 ? 65535 : Math.max(lo, p.endPort ?? lo);
      for (const n of proto)
        own = own.union(ServiceSet.protocol(n, IntervalSet.range(BigInt(lo), BigInt(hi))));
    });
    parts.push(own);
    const rules = x.rules?.http;
    if (!deny && Array.isArray(rules)) {
      http.push({
        ports: own.intersect(ServiceSet.tcp(0, 65535)),
        rules: rules.map((h, k) => {
          const r = h as { method?: string; path?: string };
          const m: HttpMatcher = { text: {} };
          if (r.method) m.text.method = r.method;
          if (r.path) m.text.path = r.path;
          if (r.method) m.method = fullMatch(r.method, `${at}.rules.http[${k}].method`);
          if (r.path) m.path = fullMatch(r.path, `${at}.rules.http[${k}].path`);
          return m;
        }),
      });
    }
  });
  const types = { IPv4: new Set<number>(), IPv6: new Set<number>() };
  icmps.forEach((ir, i) => {
    asList((ir as { fields?: unknown[] }).fields).forEach((f, j) => {
      const x = f as { type: number | string; family?: string };
      const family = (x.family ?? "IPv4") as "IPv4" | "IPv6";
      if (family !== "IPv4" && family !== "IPv6")
        throw new CiliumEvaluateError(`${where}.icmps[${i}].fields[${j}]: unknown family "${x.family}"`);
      const t = icmpType(x.type, family);
      if (t === undefined)
        throw new CiliumEvaluateError(`${where}.icmps[${i}].fields[${j}]: unknown ICMP type "${x.type}"`);
      types[family].add(t);
    });
  });
  // The model has no ICMP types: an allow of any type counts as ICMP, a deny only when complete.
  const icmpOn = (s: Set<number>) => (deny ? s.size === 256 : s.size > 0);
  const both = parts.reduce((a, b) => a.union(b), ServiceSet.EMPTY);
  const v4 = icmpOn(types.IPv4) ? ServiceSet.icmp() : ServiceSet.EMPTY;
  const v6 = icmpOn(types.IPv6) ? ServiceSet.icmp() : ServiceSet.EMPTY;
  return { both, v4, v6, s4: both.union(v4), s6: both.union(v6), http };
}

const ICMP4: Record<string, number> = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  Redirect: 5,
  Echo: 8,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSelection: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
  Photuris: 40,
  ExtendedEchoRequest: 42,
  ExtendedEchoReply: 43,
};
const ICMP6: Record<string, number> = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  MulticastListenerQuery: 130,
  MulticastListenerReport: 131,
  MulticastListenerDone: 132,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  RedirectMessage: 137,
  RouterRenumbering: 138,
  ICMPNodeInformationQuery: 139,
  ICMPNodeInformationResponse: 140,
  InverseNeighborDiscoverySolicitation: 141,
  InverseNeighborDiscoveryAdvertisement: 142,
  HomeAgentAddressDiscoveryRequest: 144,
  HomeAgentAddressDiscoveryReply: 145,
  MobilePrefixSolicitation: 146,
  MobilePrefixAdvertisement: 147,
  DuplicateAddressRequestCodeSuffix: 157,
  DuplicateAddressConfirmationCodeSuffix: 158,
  ExtendedEchoRequest: 160,
  ExtendedEchoReply: 161,
};

function icmpType(t: number | string, family: "IPv4" | "IPv6"): number | undefined {
  if (typeof t === "number") return Number.isInteger(t) && t >= 0 && t <= 255 ? t : undefined;
  if (/^[0-9]+$/.test(t)) return icmpType(Number(t), family);
  return (family === "IPv4" ? ICMP4 : ICMP6)[t];
}

// ---------------------------------------------------------------------------------------------
// Endpoints and the evaluator

interface Side {
  defaultDeny: boolean;
  /** Rules that put the endpoint in default deny (for messages). */
  allows: Rule[];
  denies: Rule[];
}

interface Endpoint {
  workload: Workload;
  cluster: string;
  namespace: string;
  labels: IdLabel[];
  ingress: Side;
  egress: Side;
  /** Ids of the policy rules (specs) selecting it: with `peerOf`, all the evaluator reads of it. */
  specs: number[];
  /** Ids of the peer selectors picking it (filled by `partyKey`). */
  peerOf: number[];
  /** Its party key, once computed. */
  key?: string;
}

/** What a rule's peer fields match of one party: all of its addresses, none, or a part. */
const FULL = "full" as const;
const NONE = "none" as const;
type Match = typeof FULL | typeof NONE | AddressSet;

const WORLD_LABELS: IdLabel[] = [{ source: "reserved", key: "world", value: "" }];

function podLabels(cluster: string, namespace: string, pod: Record<string, string>): IdLabel[] {
  return [
    ...Object.entries(pod).map(([key, value]) => ({ source: "k8s", key, value })),
    { source: "k8s", key: NS_KEY, value: namespace },
    { source: "k8s", key: "io.cilium.k8s.policy.cluster", value: cluster },
    { source: "k8s", key: "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name", value: namespace },
  ];
}

const V4 = AddressSet.ALL_V4;
const V6 = AddressSet.ALL_V6;

/** Services per address family (ICMP differs per family); what a side allows a whole party. */
interface FamilyServices {
  v4: ServiceSet;
  v6: ServiceSet;
}

function familySet(f: FamilyServices, src: AddressSet, dst: AddressSet): ConnectionSet {
  const both = f.v4.intersect(f.v6);
  const parts = [ConnectionSet.of(src, dst, both)];
  const v4 = f.v4.subtract(both);
  const v6 = f.v6.subtract(both);
  if (!v4.isEmpty()) parts.push(ConnectionSet.of(src.intersect(V4), dst.intersect(V4), v4));
  if (!v6.isEmpty()) parts.push(ConnectionSet.of(src.intersect(V6), dst.intersect(V6), v6));
  return parts.length === 1 ? parts[0]! : ConnectionSet.unionAll(parts);
}

function asSet(x: FamilyServices | ConnectionSet, from: Party, to: Party): ConnectionSet {
  return x instanceof ConnectionSet ? x : familySet(x, from.addresses, to.addresses);
}

/** The L4 services of a rule between two address sets, as a connection set. */
function l4Set(l4: L4, src: AddressSet, dst: AddressSet): ConnectionSet {
  const parts = [ConnectionSet.of(src, dst, l4.both)];
  if (!l4.v4.isEmpty()) parts.push(ConnectionSet.of(src.intersect(V4), dst.intersect(V4), l4.v4));
  if (!l4.v6.isEmpty()) parts.push(ConnectionSet.of(src.intersect(V6), dst.intersect(V6), l4.v6));
  return ConnectionSet.unionAll(parts);
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
/** A number per object, for keys. */
function idOf(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = nextObjectId++));
  return id;
}

/** Policy map entries of one rule's L4: each protocol's port ranges, plus ICMP per family; none = 1. */
function l4Entries(l4: L4): number {
  if (l4.both.equals(ServiceSet.ALL)) return 1;
  let n = 0;
  for (const e of l4.both.entries()) n += e.ports.ranges.length;
  if (!l4.v4.isEmpty()) n++;
  if (!l4.v6.isEmpty()) n++;
  return Math.max(n, 1);
}

/**
 * `big` ∩ `small` by binary search of each of small's ranges in big: a rule's few CIDRs against a
 * class of parties with many address ranges.
 */
function intersectSmall(big: IntervalSet, small: IntervalSet): IntervalSet {
  const b = big.ranges;
  const s = small.ranges;
  if (b.length === 0 || s.length === 0) return IntervalSet.EMPTY;
  if (s.length * 8 > b.length) return big.intersect(small);
  const out: Array<[bigint, bigint]> = [];
  for (const [lo, hi] of s) {
    let l = 0;
    let h = b.length;
    while (l < h) {
      const mid = (l + h) >> 1;
      if (b[mid]![1] < lo) l = mid + 1;
      else h = mid;
    }
    for (let i = l; i < b.length && b[i]![0] <= hi; i++) {
      const [blo, bhi] = b[i]!;
      out.push([blo > lo ? blo : lo, bhi < hi ? bhi : hi]);
    }
  }
  return IntervalSet.fromSorted(out);
}

/**
 * Whether a rule's L4 admits a packet. In IPv6 the model's "icmp" (protocol 1) is real ICMPv6 (58),
 * as in ConnectionSet: the two numbers swap.
 */
function l4Has(l4: L4, p: Packet): boolean {
  if (p.family === 4) return l4.s4.has(p.protocol, p.port);
  const protocol =
    p.protocol === Protocol.ICMPV6
      ? Protocol.ICMP
      : p.protocol === Protocol.ICMP
        ? Protocol.ICMPV6
        : p.protocol;
  return l4.s6.has(protocol, p.port);
}

export interface HttpRequest {
  port: number;
  method: string;
  path: string;
}

/** An L7 (HTTP) allow rule as the evaluator read it, for reports. */
export interface HttpRuleInfo {
  rule: string;
  cluster: string;
  workload: string;
  direction: "ingress" | "egress";
  ports: string;
  http: Array<{ method?: string; path?: string }>;
}

export class CiliumEvaluator implements TargetEvaluator {
  readonly target = "cilium" as const;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly byNs = new Map<string, Endpoint[]>();
  private readonly byCluster = new Map<string, Endpoint[]>();
  private readonly cache = new Map<string, { from: AddressSet; to: AddressSet; set: ConnectionSet }>();
  private readonly httpInfo: HttpRuleInfo[] = [];
  private readonly selectors = new Map<string, SelectorRef>();
  /** Peer selectors of rules that select at least one endpoint, per cluster. */
  private readonly peerSelectors = new Map<string, Set<SelectorRef>>();
  private peerOfDone = false;
  private specCount = 0;

  constructor(
    policies: readonly ClusterPolicy[],
    readonly plan: Plan,
  ) {
    for (const w of plan.policy.workloads) {
      const k = w.placements.kubernetes;
      if (!k) continue;
      const ep: Endpoint = {
        workload: w,
        cluster: k.cluster,
        namespace: k.namespace,
        labels: podLabels(k.cluster, k.namespace, k.podLabels),
        ingress: { defaultDeny: false, allows: [], denies: [] },
        egress: { defaultDeny: false, allows: [], denies: [] },
        specs: [],
        peerOf: [],
      };
      this.endpoints.set(w.name, ep);
      const nsKey = `${k.cluster}/${k.namespace}`;
      if (!this.byNs.has(nsKey)) this.byNs.set(nsKey, []);
      this.byNs.get(nsKey)!.push(ep);
      if (!this.byCluster.has(k.cluster)) this.byCluster.set(k.cluster, []);
      this.byCluster.get(k.cluster)!.push(ep);
    }
    for (const p of policies) this.load(p);
  }

  private intern(requirements: Selector): SelectorRef {
    const key = JSON.stringify(requirements);
    let ref = this.selectors.get(key);
    if (!ref)
      this.selectors.set(
        key,
        (ref = {
          id: this.selectors.size,
          requirements,
          world: matches(requirements, WORLD_LABELS),
          members: new Map(),
        }),
      );
    return ref;
  }

  /** The endpoints of `cluster` a selector picks (only the named namespaces' when it names some). */
  private members(sel: SelectorRef, cluster: string): Set<Endpoint> {
    let set = sel.members.get(cluster);
    if (set) return set;
    const ns = sel.requirements.find((q) => q.key === NS_KEY && q.op === "In" && q.source !== "reserved");
    const candidates = ns
      ? ns.values.flatMap((n) => this.byNs.get(`${cluster}/${n}`) ?? [])
      : (this.byCluster.get(cluster) ?? []);
    set = new Set(candidates.filter((ep) => matches(sel.requirements, ep.labels)));
    sel.members.set(cluster, set);
    return set;
  }

  private load(p: ClusterPolicy) {
    const o = p.object;
    const kind = String(o.kind ?? "");
    const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
    const namespaced = kind === "CiliumNetworkPolicy";
    if (!namespaced && kind !== "CiliumClusterwideNetworkPolicy") return;
    const ns = namespaced ? (meta.namespace ?? "default") : undefined;
    const base = `${kind} ${ns ? `${ns}/` : ""}${meta.name ?? p.source}`;
    const rules: Array<[unknown, string]> = [];
    if (o.spec) rules.push([o.spec, `${base} spec`]);
    asList(o.specs).forEach((s, i) => {
      rules.push([s, `${base} specs[${i}]`]);
    });
    for (const [raw, where] of rules) {
      const r = raw as Record<string, unknown>;
      // Host policies (nodeSelector) apply to nodes, never to pods.
      if (r.endpointSelector === undefined) continue;
      const subject = this.subjectOf(r.endpointSelector, `${where}.endpointSelector`, ns);
      // A CiliumNetworkPolicy selects pods of its own namespace only.
      const selected = [...this.members(subject, p.cluster)].filter(
        (ep) => ns === undefined || ep.namespace === ns,
      );
      const spec = this.specCount++;
      if (selected.length === 0) continue;
      for (const ep of selected) ep.specs.push(spec);
      let uses = this.peerSelectors.get(p.cluster);
      if (!uses) this.peerSelectors.set(p.cluster, (uses = new Set()));
      for (const dir of ["ingress", "egress"] as const) {
        const allowList = asList(r[dir]);
        const denyList = asList(r[`${dir}Deny`]);
        const dd = (r.enableDefaultDeny as Record<string, unknown> | undefined)?.[dir];
        const enables = typeof dd === "boolean" ? dd : allowList.length > 0 || denyList.length > 0;
        const allows = allowList.map((x, i) => this.rule(x, `${where}.${dir}[${i}]`, dir, ns, false));
        const denies = denyList.map((x, i) => this.rule(x, `${where}.${dir}Deny[${i}]`, dir, ns, true));
        for (const rule of [...allows, ...denies]) for (const sel of rule.peer.endpoints) uses.add(sel);
        for (const ep of selected) {
          const side = ep[dir];
          if (enables) side.defaultDeny = true;
          for (const a of allows) side.allows.push(a);
          for (const d of denies) side.denies.push(d);
          for (const a of allows)
            for (const h of a.l4.http)
              this.httpInfo.push({
                rule: a.ref,
                cluster: p.cluster,
                workload: ep.workload.name,
                direction: dir,
                ports: h.ports.toString(),
                http: h.rules.map((m) => ({ ...m.text })),
              });
        }
      }
    }
  }

  /** A rule's endpointSelector, interned (memoised by object identity: specs share selectors). */
  private readonly subjectMemo = new WeakMap<object, Map<string, SelectorRef>>();

  private subjectOf(raw: unknown, where: string, ns: string | undefined): SelectorRef {
    if (raw === null || typeof raw !== "object") return this.intern(compileSelector(raw, where, ns));
    let m = this.subjectMemo.get(raw);
    if (!m) this.subjectMemo.set(raw, (m = new Map()));
    let ref = m.get(ns ?? "");
    if (!ref) m.set(ns ?? "", (ref = this.intern(compileSelector(raw, where, ns))));
    return ref;
  }

  private rule(
    raw: unknown,
    ref: string,
    dir: "ingress" | "egress",
    ns: string | undefined,
    deny: boolean,
  ): Rule {
    const r = (raw ?? {}) as Record<string, unknown>;
    return { ref, peer: this.peerOf(r, ref, dir, ns), l4: this.l4Of(r, ref, deny) };
  }

  /**
   * Parsed peers and L4 by object identity: renderings share one peer list or port list among many
   * rules, and parsing each once keeps building the evaluator linear in the distinct rule parts.
   */
  private readonly peerMemo = new WeakMap<object, Map<string, Peer>>();
  private readonly l4Memo = new WeakMap<object, Map<boolean, L4>>();

  private peerOf(
    r: Record<string, unknown>,
    ref: string,
    dir: "ingress" | "egress",
    ns: string | undefined,
  ): Peer {
    const names = PEER_FIELDS[dir];
    const present = [names.endpoints, names.cidr, names.cidrSet, names.entities].filter(
      (f) => r[f] !== undefined && r[f] !== null,
    );
    const only = present.length === 1 ? r[present[0]!] : undefined;
    // Memoised only when the rule names one peer field (the shape blastradius renders).
    if (!only || typeof only !== "object" || Object.keys(r).some((k) => UNSUPPORTED.includes(k)))
      return parsePeer(r, dir, ref, ns, (s) => this.intern(s));
    const hasL4 = asList(r.toPorts).length > 0 || asList(r.icmps).length > 0;
    let m = this.peerMemo.get(only);
    if (!m) this.peerMemo.set(only, (m = new Map()));
    // Only endpoint selectors depend on the policy's namespace (namespace defaulting).
    const field = present[0]!;
    const key = `${field}\u0000${field === names.endpoints ? (ns ?? "") : ""}\u0000${hasL4}`;
    let peer = m.get(key);
    if (!peer) m.set(key, (peer = parsePeer(r, dir, ref, ns, (s) => this.intern(s))));
    return peer;
  }

  private l4Of(r: Record<string, unknown>, ref: string, deny: boolean): L4 {
    const hasPorts = r.toPorts !== undefined && r.toPorts !== null;
    const hasIcmps = r.icmps !== undefined && r.icmps !== null;
    const only = hasPorts && !hasIcmps ? r.toPorts : hasIcmps && !hasPorts ? r.icmps : undefined;
    if (!only || typeof only !== "object") return parseL4(r, ref, deny);
    let m = this.l4Memo.get(only);
    if (!m) this.l4Memo.set(only, (m = new Map()));
    let l4 = m.get(deny);
    if (!l4) m.set(deny, (l4 = parseL4(r, ref, deny)));
    return l4;
  }

  /** The pod of a party in a cluster, if the party is a workload placed there. */
  private endpointOf(party: Party): Endpoint | undefined {
    return party.kind === "workload" ? this.endpoints.get(party.name) : undefined;
  }

  enforces(party: Party): boolean {
    return this.endpointOf(party) !== undefined;
  }

  /**
   * Parties outside every cluster are seen by address only: one key. A pod is seen by the rules
   * selecting it (its specs) and by the peer selectors picking it in its cluster (elsewhere it is
   * seen by address): pods with the same of both are alike to every rule, whatever their labels.
   */
  partyKey(party: Party): string {
    const ep = this.endpointOf(party);
    if (!ep) return "address";
    if (!this.peerOfDone) {
      this.peerOfDone = true;
      for (const [cluster, sels] of this.peerSelectors)
        for (const sel of [...sels].sort((a, b) => a.id - b.id))
          for (const member of this.members(sel, cluster)) member.peerOf.push(sel.id);
    }
    ep.key ??= `pod\u0000${ep.cluster}\u0000${ep.specs.join(",")}\u0000${ep.peerOf.join(",")}`;
    return ep.key;
  }

  /** What a rule of an endpoint in `cluster` matches of `peer`. */
  private peerMatch(rule: Rule, peer: Party, cluster: string): Match {
    const p = rule.peer;
    if (p.everything || p.entities.has("all")) return FULL;
    const ep = this.endpointOf(peer);
    if (ep !== undefined && ep.cluster === cluster) {
      if (p.entities.has("cluster")) return FULL;
      for (const s of p.endpoints) if (this.members(s, cluster).has(ep)) return FULL;
      return NONE;
    }
    // Outside the cluster: world, CIDR rules, and selectors on reserved:world.
    if (p.entities.has("world") || p.endpoints.some((s) => s.world)) return FULL;
    return this.outsideMatch(p, peer.addresses);
  }

  /** Per address set (a party's, or a class's union): what each peer's CIDRs and world-ipvX match of it. */
  private readonly outside = new WeakMap<AddressSet, Map<Peer, Match>>();

  private outsideMatch(p: Peer, addresses: AddressSet): Match {
    let m = this.outside.get(addresses);
    if (!m) this.outside.set(addresses, (m = new Map()));
    let hit = m.get(p);
    if (hit !== undefined) return hit;
    let set = AddressSet.fromIntervals(
      intersectSmall(addresses.family(4), p.cidrs.family(4)),
      intersectSmall(addresses.family(6), p.cidrs.family(6)),
    );
    if (p.entities.has("world-ipv4")) set = set.union(addresses.intersect(V4));
    if (p.entities.has("world-ipv6")) set = set.union(addresses.intersect(V6));
    hit = set.isEmpty() ? NONE : set.equals(addresses) ? FULL : set;
    m.set(p, hit);
    return hit;
  }

  /**
   * What `rules` let through between the pair: per-family services when every matching rule
   * matches the whole other party (identity, or CIDRs covering it), else an exact connection set.
   */
  private union(
    rules: readonly Rule[],
    ep: Endpoint,
    dir: "ingress" | "egress",
    from: Party,
    to: Party,
  ): FamilyServices | ConnectionSet {
    const other = dir === "egress" ? to : from;
    let v4 = ServiceSet.EMPTY;
    let v6 = ServiceSet.EMPTY;
    const partial: ConnectionSet[] = [];
    const seen = new Set<L4>();
    for (const rule of rules) {
      const m = this.peerMatch(rule, other, ep.cluster);
      if (m === NONE) continue;
      if (m === FULL) {
        // Rules often repeat the same ports: union each L4 once.
        if (seen.has(rule.l4)) continue;
        seen.add(rule.l4);
        v4 = v4.union(rule.l4.s4);
        v6 = v6.union(rule.l4.s6);
      } else
        partial.push(dir === "egress" ? l4Set(rule.l4, from.addresses, m) : l4Set(rule.l4, m, to.addresses));
    }
    if (partial.length === 0) return { v4, v6 };
    return ConnectionSet.unionAll([familySet({ v4, v6 }, from.addresses, to.addresses), ...partial]);
  }

  /** What one side (source egress or destination ingress) lets through. */
  private side(
    ep: Endpoint,
    dir: "ingress" | "egress",
    from: Party,
    to: Party,
  ): FamilyServices | ConnectionSet {
    const s = ep[dir];
    const open = s.defaultDeny
      ? this.union(s.allows, ep, dir, from, to)
      : { v4: ServiceSet.ALL, v6: ServiceSet.ALL };
    if (s.denies.length === 0) return open;
    const denied = this.union(s.denies, ep, dir, from, to);
    if (!(open instanceof ConnectionSet) && !(denied instanceof ConnectionSet))
      return { v4: open.v4.subtract(denied.v4), v6: open.v6.subtract(denied.v6) };
    return asSet(open, from, to).subtract(asSet(denied, from, to));
  }

  /**
   * Every connection `from` may open to `to`. Exact for any addresses a party is given, so a class
   * of parties with one key can be asked once with the union of its members' addresses.
   */
  allowed(from: Party, to: Party): ConnectionSet {
    const key = `${from.key}\u0000${to.key}`;
    const hit = this.cache.get(key);
    if (hit && hit.from === from.addresses && hit.to === to.addresses) return hit.set;
    const src = this.endpointOf(from);
    const dst = this.endpointOf(to);
    const sides = [
      ...(src ? [this.side(src, "egress", from, to)] : []),
      ...(dst ? [this.side(dst, "ingress", from, to)] : []),
    ];
    let set: ConnectionSet;
    if (sides.every((x) => !(x instanceof ConnectionSet))) {
      // The fast path: intersect services, build one set.
      let v4 = ServiceSet.ALL;
      let v6 = ServiceSet.ALL;
      for (const x of sides as FamilyServices[]) {
        v4 = v4.intersect(x.v4);
        v6 = v6.intersect(x.v6);
      }
      set = familySet({ v4, v6 }, from.addresses, to.addresses);
    } else if (sides.length === 1) {
      // A side's set already lies within from × to.
      set = sides[0] as ConnectionSet;
    } else {
      set = asSet(sides[0]!, from, to).intersect(asSet(sides[1]!, from, to));
    }
    this.cache.set(key, { from: from.addresses, to: to.addresses, set });
    return set;
  }

  /** Whether `rule` of `ep` matches the packet (its peer, its ports, the pair's addresses). */
  private ruleHas(
    rule: Rule,
    ep: Endpoint,
    dir: "ingress" | "egress",
    from: Party,
    to: Party,
    packet: Packet,
  ): boolean {
    const m = this.peerMatch(rule, dir === "egress" ? to : from, ep.cluster);
    if (m === NONE) return false;
    const src = parseAddress(packet.src);
    const dst = parseAddress(packet.dst);
    if (src.family !== packet.family || dst.family !== packet.family) return false;
    if (!from.addresses.family(src.family).has(src.value) || !to.addresses.family(dst.family).has(dst.value))
      return false;
    const other = dir === "egress" ? dst : src;
    if (m !== FULL && !m.family(other.family).has(other.value)) return false;
    return l4Has(rule.l4, packet);
  }

  decide(from: Party, to: Party, packet: Packet): Decision {
    const sides: Array<[Endpoint, "ingress" | "egress"]> = [];
    const src = this.endpointOf(from);
    const dst = this.endpointOf(to);
    if (src) sides.push([src, "egress"]);
    if (dst) sides.push([dst, "ingress"]);
    for (const [ep, dir] of sides) {
      const deny = ep[dir].denies.find((r) => this.ruleHas(r, ep, dir, from, to, packet));
      if (deny) return { verdict: "deny", by: deny.ref };
    }
    const by: string[] = [];
    const open: string[] = [];
    for (const [ep, dir] of sides) {
      if (!ep[dir].defaultDeny) {
        open.push(`allow-all: no policy puts ${ep.namespace}/${ep.workload.name} in default deny at ${dir}`);
        continue;
      }
      const allow = ep[dir].allows.find((r) => this.ruleHas(r, ep, dir, from, to, packet));
      if (!allow)
        return { verdict: "deny", by: `default-deny (${dir} of ${ep.namespace}/${ep.workload.name})` };
      by.push(allow.ref);
    }
    // Name the rules that let the packet through; an unselected side only when no rule decided.
    const names = by.length > 0 ? by : open;
    return { verdict: "allow", by: names.length > 0 ? names.join(" + ") : "not enforced by cilium" };
  }

  /**
   * Whether an HTTP request from `from` to `to` on TCP `request.port` gets through: open at L4,
   * and on each side in default deny, some allow rule matching the connection either has no HTTP
   * rules on that port or has one matching the method and the whole path.
   */
  allowsHttp(from: Party, to: Party, request: HttpRequest): boolean {
    const l4 = this.allowed(from, to).intersect(
      ConnectionSet.of(from.addresses, to.addresses, ServiceSet.tcp(request.port)),
    );
    const packet = l4.sample();
    if (!packet) return false;
    const sides: Array<[Endpoint, "ingress" | "egress"]> = [];
    const src = this.endpointOf(from);
    const dst = this.endpointOf(to);
    if (src) sides.push([src, "egress"]);
    if (dst) sides.push([dst, "ingress"]);
    for (const [ep, dir] of sides) {
      if (!ep[dir].defaultDeny) continue;
      const rules = ep[dir].allows.filter((r) => this.ruleHas(r, ep, dir, from, to, packet));
      const ok = rules.some((r) => {
        const l7 = r.l4.http.filter((h) => h.ports.has(Protocol.TCP, request.port));
        if (l7.length === 0) return true;
        return l7.some((h) =>
          h.rules.some(
            (m) => (!m.method || m.method.test(request.method)) && (!m.path || m.path.test(request.path)),
          ),
        );
      });
      if (!ok) return false;
    }
    return true;
  }

  /**
   * An estimate of each modelled pod's policy map entries (Cilium keeps one per allowed or denied
   * identity + protocol + port for each endpoint): per distinct rule selecting the pod, the peer
   * identities it names (pods picked by its selectors, each CIDR prefix, each entity; "every peer"
   * is one wildcard) times its L4 entries (each protocol's port ranges, ICMP per family; none is
   * one wildcard). Overlapping rules count twice and a port range counts once, so it is an estimate.
   */
  policyMapEntries(): Array<{ cluster: string; namespace: string; workload: string; entries: number }> {
    const out: Array<{ cluster: string; namespace: string; workload: string; entries: number }> = [];
    const l4Count = new Map<L4, number>();
    const peerCount = new Map<Peer, number>();
    for (const ep of this.endpoints.values()) {
      let entries = 0;
      const seen = new Set<string>();
      for (const dir of ["ingress", "egress"] as const)
        for (const [kind, rules] of [
          ["allow", ep[dir].allows],
          ["deny", ep[dir].denies],
        ] as const)
          for (const rule of rules) {
            let ids = peerCount.get(rule.peer);
            if (ids === undefined) peerCount.set(rule.peer, (ids = this.identities(rule.peer, ep.cluster)));
            let keys = l4Count.get(rule.l4);
            if (keys === undefined) l4Count.set(rule.l4, (keys = l4Entries(rule.l4)));
            // The same peer and ports from several specs (one per path) are one set of entries.
            const k = `${dir}\u0000${kind}\u0000${idOf(rule.peer)}\u0000${idOf(rule.l4)}`;
            if (seen.has(k)) continue;
            seen.add(k);
            entries += ids * keys;
          }
      out.push({ cluster: ep.cluster, namespace: ep.namespace, workload: ep.workload.name, entries });
    }
    return out;
  }

  private identities(p: Peer, cluster: string): number {
    if (p.everything) return 1;
    let n = 0;
    for (const e of p.entities) n += e === "cluster" ? (this.byCluster.get(cluster)?.length ?? 0) + 1 : 1;
    for (const s of p.endpoints) n += s.world ? 1 : this.members(s, cluster).size;
    n += p.cidrs.toCidrs().length;
    return n;
  }

  /** Every allow rule carrying HTTP rules, per selected workload. */
  httpRules(): HttpRuleInfo[] {
    return [...this.httpInfo];
  }
}

// ---------------------------------------------------------------------------------------------
// Sources: recorded Pulumi resources and kubectl exports

/**
 * Policies from recorded resources. A policy's cluster is its `blastradius.io/cluster` label, else
 * the `cluster` input of the CiliumSegmentation component it belongs to, else the plan's only
 * cluster; anything else is an error naming the resource.
 */
export function policiesFromRecords(records: readonly ResourceRecord[], plan: Plan): ClusterPolicy[] {
  const components = new Map<string, string>();
  for (const r of records)
    if (r.type === COMPONENT_TYPE && r.urn && typeof r.inputs.cluster === "string")
      components.set(r.urn, r.inputs.cluster);
  const clusters = [
    ...new Set(
      plan.policy.workloads.flatMap((w) =>
        w.placements.kubernetes ? [w.placements.kubernetes.cluster] : [],
      ),
    ),
  ];
  const out: ClusterPolicy[] = [];
  for (const r of records) {
    if (r.type !== CNP_TYPE && r.type !== CCNP_TYPE) continue;
    const meta = (r.inputs.metadata ?? {}) as { labels?: Record<string, string> };
    const cluster =
      meta.labels?.[CLUSTER_LABEL] ??
      (r.parent ? components.get(r.parent) : undefined) ??
      (clusters.length === 1 ? clusters[0] : undefined);
    if (cluster === undefined)
      throw new CiliumEvaluateError(
        `${r.type} "${r.name}": cannot tell which cluster it applies to; label it ${CLUSTER_LABEL} or create it inside a CiliumSegmentation`,
      );
    out.push({ cluster, object: r.inputs, source: r.name });
  }
  return out;
}

/**
 * Policies from `kubectl get cnp -A -o json` (a List) or `kubectl get ccnp -o json`, or one object,
 * as applied to `cluster`.
 */
export function policiesFromKubectl(json: unknown, cluster: string): ClusterPolicy[] {
  const doc = (typeof json === "string" ? JSON.parse(json) : json) as Record<string, unknown>;
  const items = Array.isArray(doc.items) ? doc.items : [doc];
  return items.map((o) => ({ cluster, object: o as Record<string, unknown>, source: "kubectl" }));
}

export function ciliumEvaluator(policies: readonly ClusterPolicy[], plan: Plan): CiliumEvaluator {
  return new CiliumEvaluator(policies, plan);
}

/** How the proof finds Cilium policies among recorded resources. */
export const ciliumAdapter: TargetAdapter = {
  target: "cilium",
  owns: (r) => r.type === CNP_TYPE || r.type === CCNP_TYPE || r.type === COMPONENT_TYPE,
  evaluator: (records, plan) => new CiliumEvaluator(policiesFromRecords(records, plan), plan),
  usage: (records, plan, limits) => ciliumUsage(records, plan, limits),
};
