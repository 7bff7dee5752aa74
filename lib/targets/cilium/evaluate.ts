import type { Workload } from "../../model/types";
import { AddressSet, ConnectionSet, IntervalSet, type Packet, Protocol, ServiceSet } from "../../net";
import type { Party, Plan } from "../../plan/types";
import type { Decision, ResourceRecord, TargetAdapter, TargetEvaluator } from "../../verify/types";

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

/** The peers a rule names. `everything`: a rule with ports and no peer field. */
interface Peer {
  everything: boolean;
  endpoints: Selector[];
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
    peer.endpoints.push(compileSelector(s, `${where}.${names.endpoints}[${i}]`, namespace));
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
    return { both: ServiceSet.ALL, v4: ServiceSet.EMPTY, v6: ServiceSet.EMPTY, http: [] };
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
  return {
    both: parts.reduce((a, b) => a.union(b), ServiceSet.EMPTY),
    v4: icmpOn(types.IPv4) ? ServiceSet.icmp() : ServiceSet.EMPTY,
    v6: icmpOn(types.IPv6) ? ServiceSet.icmp() : ServiceSet.EMPTY,
    http,
  };
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
}

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
  private readonly cache = new Map<string, ConnectionSet>();
  private readonly httpInfo: HttpRuleInfo[] = [];

  constructor(
    policies: readonly ClusterPolicy[],
    readonly plan: Plan,
  ) {
    const byNs = new Map<string, Endpoint[]>();
    const byCluster = new Map<string, Endpoint[]>();
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
      };
      this.endpoints.set(w.name, ep);
      const nsKey = `${k.cluster}/${k.namespace}`;
      if (!byNs.has(nsKey)) byNs.set(nsKey, []);
      byNs.get(nsKey)!.push(ep);
      if (!byCluster.has(k.cluster)) byCluster.set(k.cluster, []);
      byCluster.get(k.cluster)!.push(ep);
    }
    for (const p of policies) this.load(p, byNs, byCluster);
  }

  private load(p: ClusterPolicy, byNs: Map<string, Endpoint[]>, byCluster: Map<string, Endpoint[]>) {
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
    const candidates = ns ? (byNs.get(`${p.cluster}/${ns}`) ?? []) : (byCluster.get(p.cluster) ?? []);
    for (const [raw, where] of rules) {
      const r = raw as Record<string, unknown>;
      // Host policies (nodeSelector) apply to nodes, never to pods.
      if (r.endpointSelector === undefined) continue;
      const subject = compileSelector(r.endpointSelector, `${where}.endpointSelector`, ns);
      const selected = candidates.filter((ep) => matches(subject, ep.labels));
      if (selected.length === 0) continue;
      for (const dir of ["ingress", "egress"] as const) {
        const allowList = asList(r[dir]);
        const denyList = asList(r[`${dir}Deny`]);
        const dd = (r.enableDefaultDeny as Record<string, unknown> | undefined)?.[dir];
        const enables = typeof dd === "boolean" ? dd : allowList.length > 0 || denyList.length > 0;
        const allows = allowList.map((x, i) => this.rule(x, `${where}.${dir}[${i}]`, dir, ns, false));
        const denies = denyList.map((x, i) => this.rule(x, `${where}.${dir}Deny[${i}]`, dir, ns, true));
        for (const ep of selected) {
          const side = ep[dir];
          if (enables) side.defaultDeny = true;
          side.allows.push(...allows);
          side.denies.push(...denies);
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

  private rule(
    raw: unknown,
    ref: string,
    dir: "ingress" | "egress",
    ns: string | undefined,
    deny: boolean,
  ): Rule {
    const r = (raw ?? {}) as Record<string, unknown>;
    return { ref, peer: parsePeer(r, dir, ref, ns), l4: parseL4(r, ref, deny) };
  }

  /** The pod of a party in a cluster, if the party is a workload placed there. */
  private endpointOf(party: Party): Endpoint | undefined {
    return party.kind === "workload" ? this.endpoints.get(party.name) : undefined;
  }

  enforces(party: Party): boolean {
    return this.endpointOf(party) !== undefined;
  }

  /** The addresses of `peer` that a rule of an endpoint in `cluster` matches. */
  private peerMatch(rule: Rule, peer: Party, cluster: string): AddressSet {
    const ep = this.endpointOf(peer);
    const inCluster = ep !== undefined && ep.cluster === cluster;
    if (rule.peer.everything || rule.peer.entities.has("all")) return peer.addresses;
    if (inCluster) {
      if (rule.peer.entities.has("cluster")) return peer.addresses;
      return rule.peer.endpoints.some((s) => matches(s, ep.labels)) ? peer.addresses : AddressSet.EMPTY;
    }
    // Outside the cluster: world, CIDR rules, and selectors on reserved:world.
    if (rule.peer.entities.has("world")) return peer.addresses;
    const parts = [peer.addresses.intersect(rule.peer.cidrs)];
    if (rule.peer.entities.has("world-ipv4")) parts.push(peer.addresses.intersect(V4));
    if (rule.peer.entities.has("world-ipv6")) parts.push(peer.addresses.intersect(V6));
    if (rule.peer.endpoints.some((s) => matches(s, WORLD_LABELS))) parts.push(peer.addresses);
    return AddressSet.unionAll(parts);
  }

  private readonly matchCache = new Map<Rule, Map<string, AddressSet>>();

  /** peerMatch, memoised per rule and party (rules are shared by every endpoint they select). */
  private matched(rule: Rule, peer: Party, cluster: string): AddressSet {
    let m = this.matchCache.get(rule);
    if (!m) this.matchCache.set(rule, (m = new Map()));
    const key = `${cluster}\u0000${peer.key}`;
    let hit = m.get(key);
    if (!hit) m.set(key, (hit = this.peerMatch(rule, peer, cluster)));
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
    for (const rule of rules) {
      const m = this.matched(rule, other, ep.cluster);
      if (m.isEmpty()) continue;
      if (m === other.addresses || m.equals(other.addresses)) {
        v4 = v4.union(rule.l4.both).union(rule.l4.v4);
        v6 = v6.union(rule.l4.both).union(rule.l4.v6);
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

  allowed(from: Party, to: Party): ConnectionSet {
    const key = `${from.key}\u0000${to.key}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
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
    } else {
      set = ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL);
      for (const x of sides) set = set.intersect(asSet(x, from, to));
    }
    this.cache.set(key, set);
    return set;
  }

  private ruleHas(
    rule: Rule,
    ep: Endpoint,
    dir: "ingress" | "egress",
    from: Party,
    to: Party,
    packet: Packet,
  ) {
    const other = dir === "egress" ? to : from;
    const m = this.matched(rule, other, ep.cluster);
    if (m.isEmpty()) return false;
    const set = dir === "egress" ? l4Set(rule.l4, from.addresses, m) : l4Set(rule.l4, m, to.addresses);
    return set.has(packet);
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
};
