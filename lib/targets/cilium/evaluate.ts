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
import { governs } from "../../plan/facets";
import type { Party, Plan } from "../../plan/types";
import { unclaimedAddresses } from "../../plan/universe";
import type {
  BindingFinding,
  Decision,
  Footprint,
  ResourceRecord,
  TargetAdapter,
  TargetEvaluator,
} from "../../verify/types";
import { type NamespaceLabels, type PodCompute, readKubernetes } from "./bind";
import { podLabelVariants } from "./controller-labels";
import { labelClasses } from "./label-classes";
import { clustersOf } from "./selectors";
import { ciliumUsage } from "./usage";

/** What the binding read of the stack's pods, for the evaluator (see `bind.ts`). */
export interface CiliumEvaluatorOptions {
  /**
   * The pods the stack runs (Pods and the pod templates of Deployments, StatefulSets, DaemonSets,
   * Jobs, CronJobs) with their labels. With none, the proof assumes the binding contract: every
   * workload's pods carry exactly its podLabels.
   */
  pods?: readonly PodCompute[];
  /** Provider reference → cluster, for objects created with a provider (default: the only cluster). */
  providerClusters?: ReadonlyMap<string, string>;
  /**
   * The Namespaces the stack creates, with their labels: a namespace recorded here carries exactly
   * these (and its name); a modelled namespace not recorded is taken to carry only its name.
   */
  namespaces?: readonly NamespaceLabels[];
  /** Objects the binding could not read exactly (a patch it cannot apply): `unknown` errors. */
  problems?: ReadonlyArray<{ resource: string; message: string }>;
}

/**
 * The namespace the unmodelled pods of "every other namespace" stand in: not a valid namespace name,
 * so no selector names it.
 */
const OTHER_NAMESPACE = "<other namespace>";

/** Every endpoint selector of a policy object (subjects and peers), as the evaluator compiles them. */
function selectorsOf(p: ClusterPolicy): Selector[] {
  const o = p.object;
  const kind = String(o.kind ?? "");
  const namespaced = kind === "CiliumNetworkPolicy";
  if (!namespaced && kind !== "CiliumClusterwideNetworkPolicy") return [];
  const meta = (o.metadata ?? {}) as { namespace?: string };
  const ns = namespaced ? (meta.namespace ?? "default") : undefined;
  const out: Selector[] = [];
  const specs = [...(o.spec ? [o.spec] : []), ...asList(o.specs)];
  for (const raw of specs) {
    const r = (raw ?? {}) as Record<string, unknown>;
    try {
      if (r.endpointSelector !== undefined) out.push(compileSelector(r.endpointSelector, "", ns));
      for (const dir of ["ingress", "egress", "ingressDeny", "egressDeny"] as const)
        for (const rule of asList(r[dir])) {
          const x = (rule ?? {}) as Record<string, unknown>;
          for (const f of ["fromEndpoints", "toEndpoints"])
            for (const sel of asList(x[f])) out.push(compileSelector(sel, "", ns));
        }
    } catch {
      // A malformed selector is reported when the policy is loaded.
    }
  }
  return out;
}

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
/** Kubernetes NetworkPolicy: Cilium enforces it too, alongside its own policies. */
export const NP_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
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
/** Namespace labels in a pod's identity, and the one every namespace has (its name). */
const NS_LABELS_PREFIX = "io.cilium.k8s.namespace.labels.";
const NS_NAME_LABEL = "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name";

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
  /** How rule indexes file it (computed on first use). */
  info?: PeerInfo;
}

/** What kinds of party a peer can match, for `RuleIndex`. */
interface PeerInfo {
  /** Every party (no peer field with ports, or entity "all"). */
  any: boolean;
  /** Entity "cluster". */
  cluster: boolean;
  /** Every party outside the cluster (entity "world", a selector on reserved:world). */
  world: boolean;
  /** Entity "world-ipv4" or "world-ipv6" (and not `world`). */
  family: boolean;
  v4: ReadonlyArray<readonly [bigint, bigint]>;
  v6: ReadonlyArray<readonly [bigint, bigint]>;
}

function peerInfo(p: Peer): PeerInfo {
  if (p.info) return p.info;
  const world = p.entities.has("world") || p.endpoints.some((s) => s.world);
  p.info = {
    any: p.everything || p.entities.has("all"),
    cluster: p.entities.has("cluster"),
    world,
    family: !world && (p.entities.has("world-ipv4") || p.entities.has("world-ipv6")),
    v4: p.cidrs.family(4).ranges,
    v6: p.cidrs.family(6).ranges,
  };
  return p.info;
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

const UNSUPPORTED_SET = new Set(UNSUPPORTED);

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
    info: undefined,
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
    // Port ranges per protocol, made into one set per protocol at the end (not one union per port).
    const ranges = new Map<number, Array<[bigint, bigint]>>();
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
      for (const n of proto) {
        let list = ranges.get(n);
        if (!list) ranges.set(n, (list = []));
        list.push([BigInt(lo), BigInt(hi)]);
      }
    });
    for (const [n, list] of ranges) own = own.union(ServiceSet.protocol(n, IntervalSet.of(list)));
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
  return { both, v4, v6, s4: unionOf(both, v4), s6: unionOf(both, v6), http };
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

/** What one spec gives the endpoints it selects, per direction. */
interface SpecParts {
  ingress: DirectionParts;
  egress: DirectionParts;
}

interface DirectionParts {
  /** Whether it puts the direction in default deny. */
  enables: boolean;
  allows: Rule[];
  denies: Rule[];
}

/** A direction a spec says nothing about. */
const NO_PARTS: DirectionParts = { enables: false, allows: [], denies: [] };
const DIRECTIONS = ["ingress", "egress"] as const;

interface Endpoint {
  /** The workload it is (or a variant of), or undefined for an endpoint the model does not name. */
  workload: Workload | undefined;
  /** How verdicts name it: the workload's name, or the unmodelled party's. */
  name: string;
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

function podLabels(
  cluster: string,
  namespace: string,
  pod: Record<string, string> | ReadonlyMap<string, string>,
  namespaceLabels: ReadonlyMap<string, string> = new Map(),
): IdLabel[] {
  const entries = pod instanceof Map ? [...pod] : Object.entries(pod as Record<string, string>);
  return [
    ...entries.map(([key, value]) => ({ source: "k8s", key, value })),
    ...[...namespaceLabels].map(([key, value]) => ({
      source: "k8s",
      key: `${NS_LABELS_PREFIX}${key}`,
      value,
    })),
    { source: "k8s", key: NS_KEY, value: namespace },
    { source: "k8s", key: "io.cilium.k8s.policy.cluster", value: cluster },
    { source: "k8s", key: "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name", value: namespace },
  ];
}

/** A parsed packet address. */
type Address = ReturnType<typeof parseAddress>;

const V4 = AddressSet.ALL_V4;
const V6 = AddressSet.ALL_V6;

/** Services per address family (ICMP differs per family); what a side allows a whole party. */
interface FamilyServices {
  v4: ServiceSet;
  v6: ServiceSet;
}

/**
 * Service set algebra memoised by operand identity: rules share their L4 sets (and the results are
 * shared values), so the few distinct pairs recur across thousands of questions.
 */
const S_EMPTY = ServiceSet.EMPTY;
const S_ALL = ServiceSet.ALL;
type Memo2 = WeakMap<ServiceSet, WeakMap<ServiceSet, ServiceSet>>;
const unionMemo: Memo2 = new WeakMap();
const intersectMemo: Memo2 = new WeakMap();
const subtractMemo: Memo2 = new WeakMap();

function memo2(memo: Memo2, a: ServiceSet, b: ServiceSet, op: () => ServiceSet): ServiceSet {
  let row = memo.get(a);
  if (!row) memo.set(a, (row = new WeakMap()));
  let r = row.get(b);
  if (!r) row.set(b, (r = op()));
  return r;
}

function unionOf(a: ServiceSet, b: ServiceSet): ServiceSet {
  if (a === b || b === S_EMPTY || a === S_ALL) return a;
  if (a === S_EMPTY || b === S_ALL) return b;
  return memo2(unionMemo, a, b, () => a.union(b));
}

function intersectOf(a: ServiceSet, b: ServiceSet): ServiceSet {
  if (a === b || b === S_ALL || a === S_EMPTY) return a;
  if (a === S_ALL || b === S_EMPTY) return b;
  return memo2(intersectMemo, a, b, () => a.intersect(b));
}

function subtractOf(a: ServiceSet, b: ServiceSet): ServiceSet {
  if (b === S_EMPTY || a === S_EMPTY) return a;
  if (a === b || b === S_ALL) return S_EMPTY;
  return memo2(subtractMemo, a, b, () => a.subtract(b));
}

function familySet(f: FamilyServices, src: AddressSet, dst: AddressSet): ConnectionSet {
  if (f.v4 === f.v6) return ConnectionSet.of(src, dst, f.v4);
  const both = intersectOf(f.v4, f.v6);
  const parts = [ConnectionSet.of(src, dst, both)];
  const v4 = subtractOf(f.v4, both);
  const v6 = subtractOf(f.v6, both);
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

/** A side's rules by what they can match (indices into the side's list). */
interface RuleIndex {
  /** Rules matching every peer: no peer field (with ports), or entity "all". */
  any: number[];
  /** Rules with entity "cluster" (every pod of the cluster). */
  cluster: number[];
  /** Rules matching every party outside the cluster (entity "world", a reserved:world selector). */
  world: number[];
  /** Other rules with entity "world-ipv4" or "world-ipv6" (outside parties of a family). */
  family: number[];
  /** Per peer selector id, the rules naming it. */
  bySelector: Map<number, number[]>;
  /** The rules' CIDR ranges per family, by start, with the running maximum end. */
  v4: RangeIndex;
  v6: RangeIndex;
}

interface RangeIndex {
  lo: bigint[];
  hi: bigint[];
  /** The largest `hi` among entries 0..i. */
  maxHi: bigint[];
  rule: number[];
}

function rangeIndex(entries: Array<[bigint, bigint, number]>): RangeIndex {
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const x: RangeIndex = { lo: [], hi: [], maxHi: [], rule: [] };
  let max = -1n;
  for (const [lo, hi, rule] of entries) {
    if (hi > max) max = hi;
    x.lo.push(lo);
    x.hi.push(hi);
    x.maxHi.push(max);
    x.rule.push(rule);
  }
  return x;
}

/** Pushes to `out` the rule of every entry of `x` overlapping a range of `set` (with repeats). */
function overlapping(x: RangeIndex, set: IntervalSet, out: number[]) {
  const n = x.lo.length;
  if (n === 0) return;
  for (const [a, b] of set.ranges) {
    // The last entry starting at or before b; entries before it may reach a.
    let l = 0;
    let h = n;
    while (l < h) {
      const mid = (l + h) >> 1;
      if (x.lo[mid]! <= b) l = mid + 1;
      else h = mid;
    }
    for (let i = l - 1; i >= 0 && x.maxHi[i]! >= a; i--) if (x.hi[i]! >= a) out.push(x.rule[i]!);
  }
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
  /** Spec ids of policies blastradius rendered (labelled with its policy). */
  private readonly renderedSpecs = new Set<number>();
  private readonly byNs = new Map<string, Endpoint[]>();
  private readonly byCluster = new Map<string, Endpoint[]>();
  private readonly cache = new Map<string, { from: AddressSet; to: AddressSet; set: ConnectionSet }>();
  private readonly httpInfo: HttpRuleInfo[] = [];
  private readonly selectors = new Map<string, SelectorRef>();
  /** Peer selectors of rules that select at least one endpoint, per cluster. */
  private readonly peerSelectors = new Map<string, Set<SelectorRef>>();
  private peerOfDone = false;
  private specCount = 0;

  /** Each workload's endpoints: one, or one per distinct label set of its bound pods (variants). */
  private readonly workloadEndpoints = new Map<string, Endpoint[]>();
  /** Endpoints the model does not name, by party key, with their parties. */
  private readonly others = new Map<string, { ep: Endpoint; party: Party }>();
  private readonly found: BindingFinding[] = [];
  /** The labels of the namespaces the stack creates, by `<cluster>/<namespace>`. */
  private readonly namespaceLabels = new Map<string, ReadonlyMap<string, string>>();
  readonly binding: "bound" | "assumed";

  constructor(
    policies: readonly ClusterPolicy[],
    readonly plan: Plan,
    options: CiliumEvaluatorOptions = {},
  ) {
    const computes = options.pods ?? [];
    this.binding = computes.length > 0 ? "bound" : "assumed";
    const clusters = clustersOf(plan);
    const finding = (f: Omit<BindingFinding, "target">) => this.found.push({ target: "cilium", ...f });
    const unclaimed = unclaimedAddresses(plan);
    const k8sWorkloads = plan.policy.workloads.filter((w) => w.placements.kubernetes);

    for (const p of options.problems ?? [])
      finding({ kind: "unknown", severity: "error", resource: p.resource, message: p.message });

    // The labels of the namespaces the stack creates, per cluster.
    for (const n of options.namespaces ?? []) {
      const resource = `Namespace ${n.name}`;
      const cluster =
        (n.provider !== undefined ? options.providerClusters?.get(n.provider) : undefined) ??
        (clusters.length === 1 ? clusters[0] : undefined);
      if (n.unknown || cluster === undefined) {
        finding({
          kind: "unknown",
          severity: "error",
          resource,
          message:
            cluster === undefined
              ? `${resource}: cannot tell which cluster it is in (the policy has clusters ${clusters.join(", ")}); create it with the same Kubernetes provider as that cluster's CiliumSegmentation`
              : `${resource}: its labels are unknown until apply; the proof cannot see which namespaceSelectors match its pods`,
        });
        continue;
      }
      this.namespaceLabels.set(`${cluster}/${n.name}`, n.labels);
    }
    const labelsIn = (
      cluster: string,
      namespace: string,
      pod: Record<string, string> | ReadonlyMap<string, string>,
    ) => podLabels(cluster, namespace, pod, this.namespaceLabels.get(`${cluster}/${namespace}`));

    // Every policy's selectors per cluster: they decide which labels matter.
    const selectorsByCluster = new Map<string, Selector[]>();
    for (const p of policies) {
      let list = selectorsByCluster.get(p.cluster);
      if (!list) selectorsByCluster.set(p.cluster, (list = []));
      list.push(...selectorsOf(p));
    }
    // The values each pod label key is named with (by a selector or a workload's podLabels), per
    // cluster: what the variants of a pod's controller labels range over (controller-labels.ts).
    const namedByCluster = new Map<string, Map<string, Set<string>>>();
    const namedIn = (cluster: string) => {
      let named = namedByCluster.get(cluster);
      if (named) return named;
      namedByCluster.set(cluster, (named = new Map()));
      const add = (key: string, values: readonly string[]) => {
        let set = named!.get(key);
        if (!set) named!.set(key, (set = new Set()));
        for (const v of values) set.add(v);
      };
      for (const sel of selectorsByCluster.get(cluster) ?? [])
        for (const q of sel) if (q.source === "k8s" || q.source === "any") add(q.key, q.values);
      for (const w of k8sWorkloads)
        if (w.placements.kubernetes!.cluster === cluster)
          for (const [key, v] of Object.entries(w.placements.kubernetes!.podLabels)) add(key, [v]);
      return named;
    };

    // Pods the stack runs: bound to the workload whose podLabels they carry in their namespace.
    const boundLabels = new Map<string, Array<Map<string, string>>>();
    for (const c of computes) {
      const cluster =
        (c.provider !== undefined ? options.providerClusters?.get(c.provider) : undefined) ??
        (clusters.length === 1 ? clusters[0] : undefined);
      if (c.unknown)
        finding({
          kind: "unknown",
          severity: "error",
          resource: c.resource,
          message: `${c.resource}: its namespace or pod labels are unknown until apply; the proof cannot see which policies select its pods`,
        });
      if (cluster === undefined) {
        finding({
          kind: "unknown",
          severity: "error",
          resource: c.resource,
          message: `${c.resource}: cannot tell which cluster it runs in (the policy has clusters ${clusters.join(", ")}); create it with the same Kubernetes provider as that cluster's CiliumSegmentation`,
        });
        continue;
      }
      // Its pods' possible label sets: the template's plus what the controller adds.
      const generated = c.generated ?? [];
      let variants = podLabelVariants(c.labels, generated, namedIn(cluster));
      if (!variants) {
        finding({
          kind: "unknown",
          severity: "error",
          resource: c.resource,
          message: `${c.resource}: the policies name so many values of the labels its controller adds (${generated
            .flatMap((d) => d.labels.map((l) => l.key))
            .join(
              ", ",
            )}) that the proof cannot enumerate its pods' label sets; select its pods by template labels instead`,
        });
        variants = podLabelVariants(c.labels, generated, new Map())!;
      }
      const generatedKeys = generated.flatMap((d) => d.labels.map((l) => l.key));
      let ambiguous = false;
      let unbound = false;
      for (const labels of variants) {
        const carriers = k8sWorkloads.filter((w) => {
          const k = w.placements.kubernetes!;
          return (
            k.cluster === cluster &&
            k.namespace === c.namespace &&
            Object.entries(k.podLabels).every(([key, v]) => labels.get(key) === v)
          );
        });
        // A pod carrying several workloads' podLabels is the most specific of them (the renderer's
        // selectors exclude it from the others with NotIn); without one, it is ambiguous.
        const podLabelsOf = (x: Workload) => Object.entries(x.placements.kubernetes!.podLabels);
        const w = carriers.find((x) =>
          carriers.every((y) =>
            podLabelsOf(y).every(([key, v]) => x.placements.kubernetes!.podLabels[key] === v),
          ),
        );
        if (carriers.length > 1 && !w && !ambiguous) {
          ambiguous = true;
          finding({
            kind: "unbound-compute",
            severity: "error",
            resource: c.resource,
            message: `${c.resource}: its pods carry the podLabels of ${carriers.map((x) => `"${x.name}"`).join(" and ")}, none more specific than the others; a pod is one workload: make their podLabels tell them apart`,
          });
        }
        if (w) {
          const list = boundLabels.get(w.name) ?? [];
          const key = [...labels].sort().join("\u0000");
          if (!list.some((l) => [...l].sort().join("\u0000") === key)) list.push(labels);
          boundLabels.set(w.name, list);
          continue;
        }
        // Variants of one compute are told apart by the controller labels that differ.
        const shown =
          variants.length > 1
            ? ` (pods labelled ${generatedKeys.map((k) => `${k}=${labels.get(k) ?? "<absent>"}`).join(", ")})`
            : "";
        const party: Party = {
          kind: "other",
          name: `${c.resource}${shown}`,
          key: `other:cilium:pods:${cluster}:${c.resource}${shown}`,
          addresses: unclaimed,
          scope: `namespace ${cluster}/${c.namespace}`,
          targets: ["cilium"],
        };
        this.addOther(party, cluster, c.namespace, labelsIn(cluster, c.namespace, labels));
        unbound = true;
      }
      if (unbound)
        finding({
          kind: "unbound-compute",
          severity: "warning",
          resource: c.resource,
          message: `${c.resource} (cluster ${cluster}) carries the podLabels of no workload placed in namespace ${c.namespace}; the proof treats its pods as unmodelled endpoints: default deny must hold between them and every workload`,
        });
    }

    for (const w of k8sWorkloads) {
      const k = w.placements.kubernetes!;
      const sets = this.binding === "bound" ? boundLabels.get(w.name) : undefined;
      if (this.binding === "bound" && !sets)
        finding({
          kind: "unbound-workload",
          severity: "error",
          workload: w.name,
          message: `workload "${w.name}" is placed in namespace ${k.cluster}/${k.namespace} but no pod of this stack carries its podLabels (${Object.entries(
            k.podLabels,
          )
            .map(([a, b]) => `${a}=${b}`)
            .join(", ")}); the proof assumes its pods carry exactly those`,
        });
      const list = (sets ?? [new Map(Object.entries(k.podLabels))]).map((labels) =>
        this.addEndpoint(w, w.name, k.cluster, k.namespace, labelsIn(k.cluster, k.namespace, labels)),
      );
      this.workloadEndpoints.set(w.name, list);
    }

    // The pods the model does not name, class by class (see label-classes.ts), in every namespace
    // that holds a workload and in every other namespace of the cluster.
    for (const cluster of clusters) {
      const selectors = selectorsByCluster.get(cluster) ?? [];
      const modelled = new Set(
        k8sWorkloads
          .filter((w) => w.placements.kubernetes!.cluster === cluster)
          .map((w) => w.placements.kubernetes!.namespace),
      );
      // Namespaces the selectors name are told apart too (a policy may name one the model does not).
      const named = new Set<string>();
      const nsLabelKeys = new Set<string>();
      for (const sel of selectors)
        for (const q of sel) {
          if (q.key === NS_KEY) for (const v of q.values) named.add(v);
          else if (q.key.startsWith(NS_LABELS_PREFIX) && q.key !== NS_NAME_LABEL) nsLabelKeys.add(q.key);
        }
      const namespaces = [...new Set([...modelled, ...named])].sort();
      // Selectors by the one namespace they pin (most do: a policy's own, or a peer's), so each
      // namespace's search starts from the selectors that can match its pods at all.
      const pinned = new Map<string, Selector[]>();
      const unpinned: Selector[] = [];
      for (const sel of selectors) {
        const ns = sel.find((q) => q.key === NS_KEY && q.op === "In" && q.values.length === 1);
        if (!ns) unpinned.push(sel);
        else {
          const list = pinned.get(ns.values[0]!);
          if (list) list.push(sel);
          else pinned.set(ns.values[0]!, [sel]);
        }
      }
      for (const ns of [...namespaces, undefined]) {
        const namespace = ns ?? OTHER_NAMESPACE;
        const fixed = new Map<string, string | undefined>(
          labelsIn(cluster, namespace, {}).map((l) => [l.key, l.value] as const),
        );
        // A namespace the stack creates carries exactly its labels, a modelled one not created here
        // none beyond its name (what its workloads' pods carry); another namespace may carry any.
        if (ns !== undefined && (modelled.has(ns) || this.namespaceLabels.has(`${cluster}/${ns}`)))
          for (const k of nsLabelKeys) if (!fixed.has(k)) fixed.set(k, undefined);
        const excluded = k8sWorkloads
          .filter(
            (w) =>
              w.placements.kubernetes!.cluster === cluster &&
              w.placements.kubernetes!.namespace === namespace,
          )
          .map((w) => new Map(Object.entries(w.placements.kubernetes!.podLabels)));
        const relevant = ns === undefined ? unpinned : [...(pinned.get(ns) ?? []), ...unpinned];
        const classes = labelClasses(relevant, excluded, fixed);
        const where =
          ns === undefined ? `every other namespace of cluster ${cluster}` : `namespace ${cluster}/${ns}`;
        if (!classes) {
          finding({
            kind: "unknown",
            severity: "error",
            message: `${where}: the policies' selectors combine into too many label classes to enumerate the pods the model does not name; simplify the selectors`,
          });
          continue;
        }
        for (const c of classes) {
          const shown = [...c.labels].map(([k, v]) => `${k}=${v}`).join(", ");
          const name = `${ns === undefined ? `pods of other namespaces of cluster ${cluster}` : `other pods of ${cluster}/${ns}`}${shown ? ` labelled ${shown}` : ""}`;
          const party: Party = {
            kind: "other",
            name,
            key: `other:cilium:class:${cluster}:${namespace}:${shown}`,
            addresses: unclaimed,
            scope: where,
            targets: ["cilium"],
          };
          this.addOther(party, cluster, namespace, labelsIn(cluster, namespace, c.labels));
        }
      }
    }
    for (const p of policies) this.load(p);
    this.buildSides();
  }

  private addEndpoint(
    workload: Workload | undefined,
    name: string,
    cluster: string,
    namespace: string,
    labels: IdLabel[],
  ): Endpoint {
    const ep: Endpoint = {
      workload,
      name,
      cluster,
      namespace,
      labels,
      ingress: { defaultDeny: false, allows: [], denies: [] },
      egress: { defaultDeny: false, allows: [], denies: [] },
      specs: [],
      peerOf: [],
    };
    const nsKey = `${cluster}/${namespace}`;
    if (!this.byNs.has(nsKey)) this.byNs.set(nsKey, []);
    this.byNs.get(nsKey)!.push(ep);
    if (!this.byCluster.has(cluster)) this.byCluster.set(cluster, []);
    this.byCluster.get(cluster)!.push(ep);
    return ep;
  }

  private addOther(party: Party, cluster: string, namespace: string, labels: IdLabel[]) {
    if (this.others.has(party.key)) return;
    this.others.set(party.key, {
      party,
      ep: this.addEndpoint(undefined, party.name, cluster, namespace, labels),
    });
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
    const labels = (o.metadata as { labels?: Record<string, unknown> } | undefined)?.labels;
    const rendered = typeof labels?.["blastradius.io/policy"] === "string";
    const first = this.specCount;
    if (o.spec) this.loadSpec(o.spec, `${base} spec`, p.cluster, ns);
    const specs = asList(o.specs);
    for (let i = 0; i < specs.length; i++) this.loadSpec(specs[i], `${base} specs[${i}]`, p.cluster, ns);
    if (rendered) for (let i = first; i < this.specCount; i++) this.renderedSpecs.add(i);
  }

  /** The parts of each spec selecting some endpoint, by spec id (sides are built from them). */
  private readonly specParts: SpecParts[] = [];

  private loadSpec(raw: unknown, where: string, cluster: string, ns: string | undefined) {
    const r = raw as Record<string, unknown>;
    // Host policies (nodeSelector) apply to nodes, never to pods.
    if (r.endpointSelector === undefined) return;
    const subject = this.subjectOf(r.endpointSelector, `${where}.endpointSelector`, ns);
    // A CiliumNetworkPolicy selects pods of its own namespace only.
    const selected: Endpoint[] = [];
    for (const ep of this.members(subject, cluster))
      if (ns === undefined || ep.namespace === ns) selected.push(ep);
    const spec = this.specCount++;
    if (selected.length === 0) return;
    for (const ep of selected) ep.specs.push(spec);
    let uses = this.peerSelectors.get(cluster);
    if (!uses) this.peerSelectors.set(cluster, (uses = new Set()));
    const parts: SpecParts = { ingress: NO_PARTS, egress: NO_PARTS };
    for (const dir of DIRECTIONS) {
      const allowList = asList(r[dir]);
      const denyList = asList(r[dir === "ingress" ? "ingressDeny" : "egressDeny"]);
      const dd = (r.enableDefaultDeny as Record<string, unknown> | undefined)?.[dir];
      const enables = typeof dd === "boolean" ? dd : allowList.length > 0 || denyList.length > 0;
      if (!enables && allowList.length === 0 && denyList.length === 0) continue;
      const allows: Rule[] = [];
      const denies: Rule[] = [];
      for (let i = 0; i < allowList.length; i++)
        allows.push(this.rule(allowList[i], `${where}.${dir}[${i}]`, dir, ns, false));
      for (let i = 0; i < denyList.length; i++)
        denies.push(this.rule(denyList[i], `${where}.${dir}Deny[${i}]`, dir, ns, true));
      for (const rule of allows) for (const sel of rule.peer.endpoints) uses.add(sel);
      for (const rule of denies) for (const sel of rule.peer.endpoints) uses.add(sel);
      parts[dir] = { enables, allows, denies };
      if (allows.some((a) => a.l4.http.length > 0))
        for (const ep of selected)
          for (const a of allows)
            for (const h of a.l4.http)
              this.httpInfo.push({
                rule: a.ref,
                cluster,
                workload: ep.name,
                direction: dir,
                ports: h.ports.toString(),
                http: h.rules.map((m) => ({ ...m.text })),
              });
    }
    this.specParts[spec] = parts;
  }

  /** The workloads' endpoints (their first variant each): what Cilium's per-pod limits count. */
  private workloadEndpointList(): Endpoint[] {
    return [...this.workloadEndpoints.values()].map((l) => l[0]!);
  }

  /** Every endpoint: the workloads' (every variant) and the unmodelled ones. */
  private allEndpoints(): Endpoint[] {
    return [...[...this.workloadEndpoints.values()].flat(), ...[...this.others.values()].map((o) => o.ep)];
  }

  /**
   * Each endpoint's sides: the parts of the specs selecting it, in load order. Endpoints selected by
   * the same specs share their sides (built once).
   */
  private buildSides() {
    const built = new Map<string, { ingress: Side; egress: Side }>();
    for (const ep of this.allEndpoints()) {
      if (ep.specs.length === 0) continue;
      const key = ep.specs.join(",");
      let sides = built.get(key);
      if (!sides) {
        sides = {
          ingress: { defaultDeny: false, allows: [], denies: [] },
          egress: { defaultDeny: false, allows: [], denies: [] },
        };
        for (const spec of ep.specs) {
          const parts = this.specParts[spec]!;
          for (const dir of DIRECTIONS) {
            const part = parts[dir];
            if (part === NO_PARTS) continue;
            const side = sides[dir];
            if (part.enables) side.defaultDeny = true;
            for (const a of part.allows) side.allows.push(a);
            for (const d of part.denies) side.denies.push(d);
          }
        }
        built.set(key, sides);
      }
      ep.ingress = sides.ingress;
      ep.egress = sides.egress;
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
    // The one peer field the rule names, if exactly one (the shape blastradius renders).
    let field: string | undefined;
    let count = 0;
    for (const f of [names.endpoints, names.cidr, names.cidrSet, names.entities])
      if (r[f] !== undefined && r[f] !== null) {
        field = f;
        count++;
      }
    const only = count === 1 ? r[field!] : undefined;
    let unsupported = false;
    for (const k in r) if (UNSUPPORTED_SET.has(k)) unsupported = true;
    // Memoised only for that shape.
    if (!only || typeof only !== "object" || unsupported)
      return parsePeer(r, dir, ref, ns, (s) => this.intern(s));
    const hasL4 = asList(r.toPorts).length > 0 || asList(r.icmps).length > 0;
    let m = this.peerMemo.get(only);
    if (!m) this.peerMemo.set(only, (m = new Map()));
    // Only endpoint selectors depend on the policy's namespace (namespace defaulting).
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

  /**
   * The pod of a party in a cluster: a workload placed there (its variant's, when it has several),
   * or an unmodelled endpoint of this cluster. A workload with several variants asked as itself is
   * answered variant by variant (`allowed`, `decide`), never here.
   */
  private endpointOf(party: Party): Endpoint | undefined {
    if (party.kind === "other") return this.others.get(party.key)?.ep;
    if (party.kind !== "workload" || !governs(party, "cilium")) return undefined;
    const list = this.workloadEndpoints.get(party.name);
    if (!list) return undefined;
    if (party.variant?.startsWith("cilium:")) return list[Number(party.variant.slice(7))] ?? list[0];
    return list[0];
  }

  /** A workload party asked as itself when its pods come in several variants: its variants. */
  private split(party: Party): Party[] | undefined {
    if (party.kind !== "workload" || party.variant?.startsWith("cilium:") || !governs(party, "cilium"))
      return undefined;
    const list = this.workloadEndpoints.get(party.name);
    if (!list || list.length < 2) return undefined;
    return list.map((_, k) => ({
      ...party,
      key: `${party.key}~cilium${k}`,
      base: party.base ?? party.key,
      variant: `cilium:${k}`,
    }));
  }

  variants(party: Party): Party[] {
    return this.split(party) ?? [];
  }

  universe(): Party[] {
    return [...this.others.values()].map((o) => o.party);
  }

  /** Pods are matched by labels only inside their cluster; elsewhere they are addresses. */
  relevant(u: Party, w: Party): boolean {
    const o = this.others.get(u.key)?.ep;
    if (!o) return true;
    const eps = this.split(w)?.map((p) => this.endpointOf(p)) ?? [this.endpointOf(w)];
    return eps.some(
      (ep) => ep !== undefined && ep.cluster === o.cluster && (this.mayOpen(ep, o) || this.mayOpen(o, ep)),
    );
  }

  /**
   * Whether `from` may reach `to` at all: each side in default deny has some allow rule whose peer
   * could match the other (the rule index's candidates). False only when a side in default deny
   * has no such rule: nothing can open then, whatever the addresses.
   */
  private mayOpen(from: Endpoint, to: Endpoint): boolean {
    const unclaimed = unclaimedAddresses(this.plan);
    if (
      from.egress.defaultDeny &&
      this.candidatesOf(from.egress.allows, to, unclaimed, from.cluster).length === 0
    )
      return false;
    if (
      to.ingress.defaultDeny &&
      this.candidatesOf(to.ingress.allows, from, unclaimed, to.cluster).length === 0
    )
      return false;
    return true;
  }

  findings(): BindingFinding[] {
    return this.found;
  }

  /** Whether a policy blastradius did not render selects the party's pods. */
  foreign(party: Party): boolean {
    const eps = this.split(party)?.map((p) => this.endpointOf(p)!) ?? [this.endpointOf(party)];
    return eps.some((ep) => (ep?.specs ?? []).some((s) => !this.renderedSpecs.has(s)));
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
    this.fillPeerOf();
    ep.key ??= `pod\u0000${ep.cluster}\u0000${ep.specs.join(",")}\u0000${ep.peerOf.join(",")}`;
    return ep.key;
  }

  /**
   * What one side of a pod lets through at all (lib/radius), over every variant's pods: everything
   * when the side is not in default deny; else its allow rules' peers: CIDRs and the world
   * entities by address (every address: a party outside the cluster may have any), selectors and
   * the cluster entity by name. Deny rules only narrow, so they are left out.
   */
  footprint(party: Party, direction: "egress" | "ingress"): Footprint {
    const eps = this.split(party)?.map((p) => this.endpointOf(p)) ?? [this.endpointOf(party)];
    const addresses: AddressSet[] = [];
    const names = new Set<string>();
    for (const ep of eps) {
      const side = ep?.[direction];
      if (!ep || !side?.defaultDeny) return { addresses: AddressSet.ALL, names: [] };
      for (const rule of side.allows) {
        const p = rule.peer;
        const info = peerInfo(p);
        if (info.any || info.world) return { addresses: AddressSet.ALL, names: [] };
        if (p.entities.has("world-ipv4")) addresses.push(V4);
        if (p.entities.has("world-ipv6")) addresses.push(V6);
        if (!p.cidrs.isEmpty()) addresses.push(p.cidrs);
        if (info.cluster) names.add(`cilium-cluster:${ep.cluster}`);
        for (const sel of p.endpoints) names.add(`cilium-sel:${ep.cluster}:${sel.id}`);
      }
    }
    return { addresses: AddressSet.unionAll(addresses), names: [...names] };
  }

  /** A pod is named by its cluster (entity "cluster") and by the peer selectors picking it there. */
  identityNames(party: Party): string[] {
    const eps = this.split(party)?.map((p) => this.endpointOf(p)) ?? [this.endpointOf(party)];
    this.fillPeerOf();
    const out = new Set<string>();
    for (const ep of eps) {
      if (!ep) continue;
      out.add(`cilium-cluster:${ep.cluster}`);
      for (const id of ep.peerOf) out.add(`cilium-sel:${ep.cluster}:${id}`);
    }
    return [...out];
  }

  /** Fills every endpoint's `peerOf` (once, after loading). */
  private fillPeerOf() {
    if (this.peerOfDone) return;
    this.peerOfDone = true;
    for (const [cluster, sels] of this.peerSelectors)
      for (const sel of [...sels].sort((a, b) => a.id - b.id))
        for (const member of this.members(sel, cluster)) member.peerOf.push(sel.id);
  }

  /** Per rule list of a side: the index `candidates` reads (built on first use). */
  private readonly ruleIndexes = new WeakMap<readonly Rule[], RuleIndex>();

  private ruleIndex(rules: readonly Rule[]): RuleIndex {
    const hit = this.ruleIndexes.get(rules);
    if (hit) return hit;
    const any: number[] = [];
    const cluster: number[] = [];
    const world: number[] = [];
    const family: number[] = [];
    const bySelector = new Map<number, number[]>();
    const v4: Array<[bigint, bigint, number]> = [];
    const v6: Array<[bigint, bigint, number]> = [];
    for (let i = 0; i < rules.length; i++) {
      const p = rules[i]!.peer;
      const info = peerInfo(p);
      if (info.any) {
        any.push(i);
        continue;
      }
      if (info.cluster) cluster.push(i);
      if (info.world) world.push(i);
      else if (info.family) family.push(i);
      for (const s of p.endpoints) {
        const list = bySelector.get(s.id);
        if (list) list.push(i);
        else bySelector.set(s.id, [i]);
      }
      for (const [lo, hi] of info.v4) v4.push([lo, hi, i]);
      for (const [lo, hi] of info.v6) v6.push([lo, hi, i]);
    }
    const x: RuleIndex = { any, cluster, world, family, bySelector, v4: rangeIndex(v4), v6: rangeIndex(v6) };
    this.ruleIndexes.set(rules, x);
    return x;
  }

  /**
   * Indices (ascending) of the rules that may match `peer` for an endpoint of `cluster`: every rule
   * `peerMatch` could find a match in. A pure filter: the others match nothing of the peer.
   */
  private candidates(rules: readonly Rule[], peer: Party, cluster: string): number[] {
    return this.candidatesOf(rules, this.endpointOf(peer), peer.addresses, cluster);
  }

  /** `candidates` for a peer given as its endpoint (if a pod) and its addresses. */
  private candidatesOf(
    rules: readonly Rule[],
    ep: Endpoint | undefined,
    addresses: AddressSet,
    cluster: string,
  ): number[] {
    const x = this.ruleIndex(rules);
    const out: number[] = x.any.slice();
    if (ep !== undefined && ep.cluster === cluster) {
      // A pod of the cluster: entity "cluster" and the selectors picking it.
      this.fillPeerOf();
      for (const i of x.cluster) out.push(i);
      for (const id of ep.peerOf) {
        const list = x.bySelector.get(id);
        if (list) for (const i of list) out.push(i);
      }
    } else {
      // Outside: world, world-ipvX, and the rules whose CIDRs overlap the addresses.
      for (const i of x.world) out.push(i);
      for (const i of x.family) out.push(i);
      overlapping(x.v4, addresses.family(4), out);
      overlapping(x.v6, addresses.family(6), out);
    }
    if (out.length < 2) return out;
    out.sort((a, b) => a - b);
    let n = 1;
    for (let i = 1; i < out.length; i++) if (out[i] !== out[n - 1]) out[n++] = out[i]!;
    out.length = n;
    return out;
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
    let v4 = S_EMPTY;
    let v6 = S_EMPTY;
    const partial: ConnectionSet[] = [];
    const seen: L4[] = [];
    for (const i of this.candidates(rules, other, ep.cluster)) {
      const rule = rules[i]!;
      const m = this.peerMatch(rule, other, ep.cluster);
      if (m === NONE) continue;
      if (m === FULL) {
        // Rules often repeat the same ports: union each L4 once.
        if (seen.includes(rule.l4)) continue;
        seen.push(rule.l4);
        v4 = unionOf(v4, rule.l4.s4);
        v6 = unionOf(v6, rule.l4.s6);
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
      return { v4: subtractOf(open.v4, denied.v4), v6: subtractOf(open.v6, denied.v6) };
    return asSet(open, from, to).subtract(asSet(denied, from, to));
  }

  /**
   * Every connection `from` may open to `to`. Exact for any addresses a party is given, so a class
   * of parties with one key can be asked once with the union of its members' addresses.
   */
  allowed(from: Party, to: Party): ConnectionSet {
    const fs = this.split(from);
    const ts = this.split(to);
    if (fs || ts)
      return ConnectionSet.unionAll(
        (fs ?? [from]).flatMap((f) => (ts ?? [to]).map((t) => this.allowed(f, t))),
      );
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
      let v4 = S_ALL;
      let v6 = S_ALL;
      for (const x of sides as FamilyServices[]) {
        v4 = intersectOf(v4, x.v4);
        v6 = intersectOf(v6, x.v6);
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
    addresses: () => { src: Address; dst: Address },
  ): boolean {
    const m = this.peerMatch(rule, dir === "egress" ? to : from, ep.cluster);
    if (m === NONE) return false;
    const { src, dst } = addresses();
    if (src.family !== packet.family || dst.family !== packet.family) return false;
    if (!from.addresses.family(src.family).has(src.value) || !to.addresses.family(dst.family).has(dst.value))
      return false;
    const other = dir === "egress" ? dst : src;
    if (m !== FULL && !m.family(other.family).has(other.value)) return false;
    return l4Has(rule.l4, packet);
  }

  /**
   * The rules of `rules` (a side's allows or denies) matching the packet, in list order: only the
   * candidates for the other party can (the rest match nothing of it).
   */
  private matching(
    rules: readonly Rule[],
    ep: Endpoint,
    dir: "ingress" | "egress",
    from: Party,
    to: Party,
    packet: Packet,
    first: boolean,
  ): Rule[] {
    const out: Rule[] = [];
    let at: { src: Address; dst: Address } | undefined;
    const addresses = () => (at ??= { src: parseAddress(packet.src), dst: parseAddress(packet.dst) });
    for (const i of this.candidates(rules, dir === "egress" ? to : from, ep.cluster)) {
      const rule = rules[i]!;
      if (!this.ruleHas(rule, ep, dir, from, to, packet, addresses)) continue;
      out.push(rule);
      if (first) break;
    }
    return out;
  }

  decide(from: Party, to: Party, packet: Packet): Decision {
    const fs = this.split(from);
    const ts = this.split(to);
    if (fs || ts) {
      let first: Decision | undefined;
      for (const f of fs ?? [from])
        for (const t of ts ?? [to]) {
          const d = this.decide(f, t, packet);
          if (d.verdict === "allow") return d;
          first ??= d;
        }
      return first!;
    }
    const sides: Array<[Endpoint, "ingress" | "egress"]> = [];
    const src = this.endpointOf(from);
    const dst = this.endpointOf(to);
    if (src) sides.push([src, "egress"]);
    if (dst) sides.push([dst, "ingress"]);
    for (const [ep, dir] of sides) {
      const deny = this.matching(ep[dir].denies, ep, dir, from, to, packet, true)[0];
      if (deny) return { verdict: "deny", by: deny.ref };
    }
    const by: string[] = [];
    const open: string[] = [];
    for (const [ep, dir] of sides) {
      if (!ep[dir].defaultDeny) {
        open.push(`allow-all: no policy puts ${ep.namespace}/${ep.name} in default deny at ${dir}`);
        continue;
      }
      const allow = this.matching(ep[dir].allows, ep, dir, from, to, packet, true)[0];
      if (!allow) return { verdict: "deny", by: `default-deny (${dir} of ${ep.namespace}/${ep.name})` };
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
      const rules = this.matching(ep[dir].allows, ep, dir, from, to, packet, false);
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
    for (const ep of this.workloadEndpointList()) {
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
      out.push({ cluster: ep.cluster, namespace: ep.namespace, workload: ep.name, entries });
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
 * A Kubernetes NetworkPolicy as the CiliumNetworkPolicy Cilium enforces for it (Cilium translates
 * them alike): `podSelector` selects pods of the policy's namespace; a policy type in `policyTypes`
 * (default Ingress, plus Egress when it has egress rules) puts them in default deny for that
 * direction; a rule allows its peers (`podSelector` in the policy's namespace, `namespaceSelector`
 * with an optional `podSelector`, `ipBlock` with `except`; none: every peer) on its ports (`port`,
 * `endPort`, `protocol` default TCP; none: every port).
 */
export function fromNetworkPolicy(object: Record<string, unknown>): Record<string, unknown> {
  const meta = (object.metadata ?? {}) as Record<string, unknown>;
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const types = asList(spec.policyTypes).map(String);
  const hasEgress = asList(spec.egress).length > 0;
  const ingressType = types.length === 0 ? true : types.includes("Ingress");
  const egressType = types.length === 0 ? hasEgress : types.includes("Egress");
  const NS_LABEL_PREFIX = "k8s:io.cilium.k8s.namespace.labels.";
  const peerOf = (x: Record<string, unknown>, dir: "from" | "to") => {
    const endpoints = dir === "from" ? "fromEndpoints" : "toEndpoints";
    const cidrSet = dir === "from" ? "fromCIDRSet" : "toCIDRSet";
    if (x.ipBlock !== undefined) {
      const b = x.ipBlock as { cidr?: string; except?: string[] };
      return { [cidrSet]: [{ cidr: b.cidr, ...(b.except ? { except: b.except } : {}) }] };
    }
    const pod = (x.podSelector ?? {}) as {
      matchLabels?: Record<string, string>;
      matchExpressions?: unknown[];
    };
    const selector: { matchLabels: Record<string, string>; matchExpressions: unknown[] } = {
      matchLabels: { ...(pod.matchLabels ?? {}) },
      matchExpressions: [...(pod.matchExpressions ?? [])],
    };
    if (x.namespaceSelector !== undefined) {
      const ns = x.namespaceSelector as {
        matchLabels?: Record<string, string>;
        matchExpressions?: Array<Record<string, unknown>>;
      };
      // Namespace labels become Cilium's namespace-label identity labels; an empty selector is
      // every namespace (a requirement no pod fails, so namespace defaulting does not apply).
      for (const [k, v] of Object.entries(ns.matchLabels ?? {}))
        selector.matchLabels[`${NS_LABEL_PREFIX}${k}`] = v;
      for (const e of ns.matchExpressions ?? [])
        selector.matchExpressions.push({ ...e, key: `${NS_LABEL_PREFIX}${String(e.key)}` });
      selector.matchExpressions.push({ key: "k8s:io.kubernetes.pod.namespace", operator: "Exists" });
    }
    return { [endpoints]: [selector] };
  };
  const rules = (list: unknown[], dir: "from" | "to") =>
    list.flatMap((raw) => {
      const r = (raw ?? {}) as Record<string, unknown>;
      const ports = asList(r.ports).map((p) => {
        const x = (p ?? {}) as { port?: unknown; endPort?: number; protocol?: string };
        return {
          port: x.port === undefined ? "0" : String(x.port),
          ...(x.endPort !== undefined ? { endPort: x.endPort } : {}),
          protocol: x.protocol ?? "TCP",
        };
      });
      const l4 = ports.length > 0 ? { toPorts: [{ ports }] } : {};
      const peers = asList(r[dir]);
      const entities = dir === "from" ? "fromEntities" : "toEntities";
      if (peers.length === 0) return [{ [entities]: ["all"], ...l4 }];
      return peers.map((peer) => ({ ...peerOf((peer ?? {}) as Record<string, unknown>, dir), ...l4 }));
    });
  return {
    kind: "CiliumNetworkPolicy",
    metadata: {
      name: `${String(meta.name ?? "networkpolicy")} (NetworkPolicy)`,
      namespace: meta.namespace ?? "default",
    },
    spec: {
      endpointSelector: spec.podSelector ?? {},
      enableDefaultDeny: { ingress: ingressType, egress: egressType },
      ...(ingressType ? { ingress: rules(asList(spec.ingress), "from") } : {}),
      ...(egressType ? { egress: rules(asList(spec.egress), "to") } : {}),
    },
  };
}

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
    if (r.type !== CNP_TYPE && r.type !== CCNP_TYPE && r.type !== NP_TYPE) continue;
    const meta = (r.inputs.metadata ?? {}) as { labels?: Record<string, string> };
    const cluster =
      meta.labels?.[CLUSTER_LABEL] ??
      (r.parent ? components.get(r.parent) : undefined) ??
      (clusters.length === 1 ? clusters[0] : undefined);
    if (cluster === undefined)
      throw new CiliumEvaluateError(
        `${r.type} "${r.name}": cannot tell which cluster it applies to; label it ${CLUSTER_LABEL} or create it inside a CiliumSegmentation`,
      );
    out.push({
      cluster,
      object: r.type === NP_TYPE ? fromNetworkPolicy(r.inputs) : r.inputs,
      source: r.name,
    });
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
  return items.map((o) => {
    const object = o as Record<string, unknown>;
    // `kubectl get networkpolicies -A -o json` lists Kubernetes NetworkPolicies: Cilium enforces them too.
    const np = object.kind === "NetworkPolicy";
    return { cluster, object: np ? fromNetworkPolicy(object) : object, source: "kubectl" };
  });
}

export function ciliumEvaluator(
  policies: readonly ClusterPolicy[],
  plan: Plan,
  options: CiliumEvaluatorOptions = {},
): CiliumEvaluator {
  return new CiliumEvaluator(policies, plan, options);
}

/** Provider reference → cluster, from the policies blastradius rendered into each cluster. */
function providerClusters(
  records: readonly ResourceRecord[],
  policies: readonly ClusterPolicy[],
): Map<string, string> {
  const byName = new Map(policies.map((p) => [p.source, p.cluster] as const));
  const out = new Map<string, string>();
  for (const r of records) {
    if (r.provider === undefined || (r.type !== CNP_TYPE && r.type !== CCNP_TYPE)) continue;
    const cluster = byName.get(r.name);
    if (cluster !== undefined && !out.has(r.provider)) out.set(r.provider, cluster);
  }
  return out;
}

/** How the proof finds Cilium policies among recorded resources. */
export const ciliumAdapter: TargetAdapter = {
  target: "cilium",
  owns: (r) => r.type === CNP_TYPE || r.type === CCNP_TYPE || r.type === NP_TYPE || r.type === COMPONENT_TYPE,
  // Every Kubernetes object: pods, patches, namespaces, and what deploys objects the stack may not
  // record (a Helm release; a chart component is opaque only when none of its children is recorded).
  reads: (r) => r.type.startsWith("kubernetes:"),
  evaluator: (records, plan) => {
    const policies = policiesFromRecords(records, plan);
    const k8s = readKubernetes(records);
    return new CiliumEvaluator(policies, plan, {
      pods: k8s.pods,
      namespaces: k8s.namespaces,
      problems: k8s.problems,
      providerClusters: providerClusters(records, policies),
    });
  },
  usage: (records, plan, limits) => ciliumUsage(records, plan, limits),
};
