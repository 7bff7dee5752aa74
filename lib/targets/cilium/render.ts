import type { HttpRule, MovementPath } from "../../model/types";
import { AddressSet, IntervalSet, Protocol, ServiceSet } from "../../net";
import { addressesOutside } from "../../plan/facets";
import type { CompiledPath, Plan, Slice } from "../../plan/types";
import { jsonBytes } from "./json-size";
import { type Pod, PodSelectors, podsOf } from "./selectors";
import {
  CILIUM_API_VERSION,
  type CidrRule,
  type CiliumPolicyObject,
  type CiliumRule,
  type EgressRule,
  type EndpointSelector,
  type IcmpRule,
  type IngressRule,
  type PortProtocol,
  type PortRule,
} from "./types";

/** Where enforce forbids are rendered. */
export type GuardrailMode =
  /** As ingressDeny/egressDeny rules inside each segment's CiliumNetworkPolicy (default). */
  | "namespaced"
  /** As one CiliumClusterwideNetworkPolicy per forbid path, which namespace admins cannot edit. */
  | "clusterwide";

export interface CiliumRenderOptions {
  /** The placements' cluster name to render (`placements.kubernetes.cluster`). */
  cluster: string;
  /** Default "namespaced". */
  guardrails?: GuardrailMode;
  /**
   * The start of every object's name (default: the policy's name). Names are unique per namespace
   * (cluster for clusterwide guardrails): two stacks rendering one policy into one cluster give each
   * its own. Keys (and so Pulumi's logical names) do not change with it.
   */
  namePrefix?: string;
}

/** One rendered policy object and what it stands for. */
export interface RenderedPolicy {
  /** Stable, unique within the cluster: `<namespace>.<name>` or `clusterwide.<name>`; names the Pulumi child. */
  key: string;
  role: "default-deny" | "segment" | "guardrail";
  /** The segment (role "segment") or forbid path (role "guardrail"). */
  subject?: string;
  namespace?: string;
  /** Movement paths whose rules the object carries, in policy order. */
  paths: string[];
  object: CiliumPolicyObject;
}

/** Cilium's limit of ports per PortRule and ICMP fields per ICMPRule (pkg/policy/api maxPorts/maxICMPFields). */
export const MAX_PORTS_PER_RULE = 40;
export const MAX_ICMP_FIELDS = 40;
/** etcd's default request limit (--max-request-bytes, 1.5 MiB): the largest object the API server stores. */
export const MAX_OBJECT_BYTES = 1_572_864;

export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  policy: "blastradius.io/policy",
  cluster: "blastradius.io/cluster",
  segment: "blastradius.io/segment",
  path: "blastradius.io/path",
  role: "blastradius.io/role",
} as const;

/** The error a rendering limit or an inexpressible rule raises. */
export class CiliumRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CiliumRenderError";
  }
}

const V4_ALL = AddressSet.ALL_V4;
const V6_ALL = AddressSet.ALL_V6;

/**
 * A CIDR set for Cilium, per family either the exact minimal list of prefixes or, when shorter,
 * `0.0.0.0/0` (`::/0`) with the complement as `except` (the public internet is ~30 exceptions
 * instead of hundreds of prefixes). Exact either way; `world` is never used for a peer because it
 * also covers private addresses.
 */
export function cidrRules(set: AddressSet): CidrRule[] {
  const out: CidrRule[] = [];
  for (const [all, root] of [
    [V4_ALL, "0.0.0.0/0"],
    [V6_ALL, "::/0"],
  ] as const) {
    const part = set.intersect(all);
    if (part.isEmpty()) continue;
    const direct = part.toCidrs();
    // The complement has at least one prefix per range: only build it when it could be shorter.
    if (complementRanges(part, all) + 1 < direct.length) {
      const except = all.subtract(part).toCidrs();
      if (except.length + 1 < direct.length) {
        out.push(except.length > 0 ? { cidr: root, except } : { cidr: root });
        continue;
      }
    }
    for (const cidr of direct) out.push({ cidr });
  }
  return out;
}

/** How many ranges `all` minus `part` has (part within all, non-empty). */
function complementRanges(part: AddressSet, all: AddressSet): number {
  const family = all === V4_ALL ? 4 : 6;
  const ranges = part.family(family).ranges;
  const [lo] = all.family(family).ranges[0]!;
  const hi = all.family(family).ranges[0]![1];
  return ranges.length - 1 + (ranges[0]![0] > lo ? 1 : 0) + (ranges[ranges.length - 1]![1] < hi ? 1 : 0);
}

const PROTOCOL_NAMES: Record<number, "TCP" | "UDP" | "SCTP"> = {
  [Protocol.TCP]: "TCP",
  [Protocol.UDP]: "UDP",
  [Protocol.SCTP]: "SCTP",
};
const FULL_PORTS = IntervalSet.range(0n, 65535n);

/** The L4 halves of rules for a service set: each entry becomes its own rule with the same peer. */
interface L4Part {
  toPorts?: PortRule[];
  icmps?: IcmpRule[];
}

/** Every ICMP type of both families (Cilium matches ICMP by type only), in ICMPRules of 40 fields. */
function allIcmp(): IcmpRule[] {
  const fields: IcmpRule["fields"] = [];
  for (const family of ["IPv4", "IPv6"] as const)
    for (let type = 0; type <= 255; type++) fields.push({ type, family });
  const rules: IcmpRule[] = [];
  for (let i = 0; i < fields.length; i += MAX_ICMP_FIELDS)
    rules.push({ fields: fields.slice(i, i + MAX_ICMP_FIELDS) });
  return rules;
}

/**
 * L4 parts of `services` for path `path`: none for the empty set, one unrestricted part for "any",
 * else a toPorts part (TCP/UDP/SCTP, chunks of 40 ports) and/or an icmps part. HTTP rules ride on
 * the TCP ports. Protocols Cilium cannot match (GRE, ESP, …) are an error, never widened.
 */
export function l4Parts(services: ServiceSet, path: MovementPath, http?: HttpRule[]): L4Part[] {
  if (services.isEmpty()) return [];
  if (services.equals(ServiceSet.ALL)) return [{}];
  const ports: PortProtocol[] = [];
  let icmp = false;
  for (const { protocol, ports: set } of services.entries()) {
    const name = PROTOCOL_NAMES[protocol];
    if (protocol === Protocol.ICMP) {
      icmp = true;
      continue;
    }
    if (!name)
      throw new CiliumRenderError(
        `path "${path.name}": Cilium policies cannot match IP protocol ${protocol} (only TCP, UDP, SCTP and ICMP, or "any"); narrow the services or use "any"`,
      );
    if (set.equals(FULL_PORTS)) {
      if (http && name === "TCP")
        throw new CiliumRenderError(
          `path "${path.name}": Cilium applies HTTP rules to explicit ports only (not port 0, "every port"); list the tcp ports, e.g. "tcp/8080"`,
        );
      ports.push({ port: "0", protocol: name });
      continue;
    }
    for (const [lo, hi] of set.ranges) {
      if (lo === 0n)
        throw new CiliumRenderError(
          `path "${path.name}": Cilium reads port 0 as "every port", so ${name.toLowerCase()}/${lo}-${hi} cannot be rendered exactly; start the range at 1`,
        );
      ports.push(
        lo === hi
          ? { port: `${lo}`, protocol: name }
          : { port: `${lo}`, endPort: Number(hi), protocol: name },
      );
    }
  }
  const parts: L4Part[] = [];
  if (ports.length > 0) {
    const toPorts: PortRule[] = [];
    const groups = http
      ? [ports.filter((p) => p.protocol === "TCP"), ports.filter((p) => p.protocol !== "TCP")]
      : [ports];
    groups.forEach((group, g) => {
      for (let i = 0; i < group.length; i += MAX_PORTS_PER_RULE) {
        const rule: PortRule = { ports: group.slice(i, i + MAX_PORTS_PER_RULE) };
        if (http && g === 0)
          rule.rules = {
            http: http.map((h) => {
              const r: { method?: string; path?: string } = {};
              if (h.method !== undefined) r.method = h.method;
              if (h.path !== undefined) r.path = h.path;
              return r;
            }),
          };
        toPorts.push(rule);
      }
    });
    parts.push({ toPorts });
  }
  if (icmp) parts.push({ icmps: allIcmp() });
  return parts;
}

/** The other end of a path, as peers of a rule in `policyNamespace` (undefined: clusterwide). */
interface PeerParts {
  endpoints: EndpointSelector[];
  cidrs: CidrRule[];
}

/**
 * What every cluster's rendering of one plan shares, built once per plan: the pods, the selectors
 * of each cluster, and per path end (paths that share an end share its slices array) the managed
 * pods and the peers. Rendering a cluster then touches only the paths that select its pods.
 */
class PlanIndex {
  readonly pods: Map<string, Pod>;
  private readonly selectorsByCluster = new Map<string, PodSelectors>();
  /** Per slices array: managed pods by cluster, then namespace (namespaces in first-seen order). */
  private readonly managedByEnd = new WeakMap<Slice[], Map<string, Map<string, Pod[]>>>();
  private readonly peersByEnd = new WeakMap<Slice[], Map<string, Map<string | undefined, PeerParts>>>();
  private readonly cidrsByEnd = new WeakMap<Slice[], Map<string, CidrRule[]>>();
  private readonly podsByEnd = new WeakMap<Slice[], Map<string, Map<string, Pod[]>>>();
  private readonly byCluster = new Map<string, CompiledPath[]>();
  private readonly order: Map<string, number>;

  constructor(readonly plan: Plan) {
    this.pods = podsOf(plan);
    const byCluster = new Map<string, Pod[]>();
    for (const p of this.pods.values()) {
      let list = byCluster.get(p.cluster);
      if (!list) byCluster.set(p.cluster, (list = []));
      list.push(p);
    }
    for (const [cluster, pods] of byCluster) this.selectorsByCluster.set(cluster, new PodSelectors(pods));
    this.order = new Map(plan.policy.paths.map((x, i) => [x.name, i]));
    const pathsBy = new Map<string, Array<{ order: number; c: CompiledPath }>>();
    const add = (cluster: string, c: CompiledPath) => {
      let list = pathsBy.get(cluster);
      if (!list) pathsBy.set(cluster, (list = []));
      // A path with pods of the cluster on both ends is listed once.
      if (list.length > 0 && list[list.length - 1]!.c === c) return;
      list.push({ order: this.order.get(c.path.name) ?? 0, c });
    };
    for (const list of [plan.allows, plan.guardrails])
      for (const c of list) {
        for (const cluster of this.managed(c.from).keys()) add(cluster, c);
        for (const cluster of this.managed(c.to).keys()) add(cluster, c);
      }
    for (const [cluster, list] of pathsBy) {
      list.sort((a, b) => a.order - b.order);
      this.byCluster.set(
        cluster,
        list.map((x) => x.c),
      );
    }
  }

  selectors(cluster: string): PodSelectors {
    let s = this.selectorsByCluster.get(cluster);
    if (!s) this.selectorsByCluster.set(cluster, (s = new PodSelectors([])));
    return s;
  }

  /** Paths (allows and enforce forbids, in policy order) with managed pods of `cluster` on an end. */
  paths(cluster: string): readonly CompiledPath[] {
    return this.byCluster.get(cluster) ?? [];
  }

  /** The pod of a slice when it is a workload placed on Kubernetes. */
  podOf(slice: Slice): Pod | undefined {
    return slice.party.kind === "workload" ? this.pods.get(slice.party.name) : undefined;
  }

  /** Pods an end has that the library selects (reference-only pods never are), by cluster and namespace. */
  managed(slices: Slice[]): Map<string, Map<string, Pod[]>> {
    let m = this.managedByEnd.get(slices);
    if (m) return m;
    m = new Map();
    for (const s of slices) {
      const pod = this.podOf(s);
      if (!pod || pod.referenceOnly) continue;
      let byNs = m.get(pod.cluster);
      if (!byNs) m.set(pod.cluster, (byNs = new Map()));
      let list = byNs.get(pod.namespace);
      if (!list) byNs.set(pod.namespace, (list = []));
      list.push(pod);
    }
    this.managedByEnd.set(slices, m);
    return m;
  }

  /**
   * An end as the peers of a rule of `cluster` in `policyNamespace`: its pods there by selector (one
   * selector per namespace when one picks exactly the end's pods of that namespace, else one per
   * pod), everything else by address.
   */
  peers(slices: Slice[], cluster: string, policyNamespace: string | undefined): PeerParts {
    let byCluster = this.peersByEnd.get(slices);
    if (!byCluster) this.peersByEnd.set(slices, (byCluster = new Map()));
    let m = byCluster.get(cluster);
    if (!m) byCluster.set(cluster, (m = new Map()));
    const key = policyNamespace;
    const hit = m.get(key);
    if (hit) return hit;
    const selectors = this.selectors(cluster);
    const byNs = this.podsOf(slices).get(cluster) ?? new Map<string, Pod[]>();
    const endpoints: EndpointSelector[] = [];
    for (const pods of byNs.values())
      for (const { selector } of selectors.subjects(pods, policyNamespace)) endpoints.push(selector);
    const parts = { endpoints, cidrs: this.cidrs(slices, cluster) };
    m.set(key, parts);
    return parts;
  }

  /** Every pod of an end (reference-only ones included), by cluster and namespace. */
  private podsOf(slices: Slice[]): Map<string, Map<string, Pod[]>> {
    let m = this.podsByEnd.get(slices);
    if (m) return m;
    m = new Map();
    for (const s of slices) {
      const pod = this.podOf(s);
      if (!pod) continue;
      let byNs = m.get(pod.cluster);
      if (!byNs) m.set(pod.cluster, (byNs = new Map()));
      let list = byNs.get(pod.namespace);
      if (!list) byNs.set(pod.namespace, (list = []));
      list.push(pod);
    }
    this.podsByEnd.set(slices, m);
    return m;
  }

  /** An end's parties outside `cluster` (peers, other targets' and clusters' workloads), by address. */
  private cidrs(slices: Slice[], cluster: string): CidrRule[] {
    let m = this.cidrsByEnd.get(slices);
    if (!m) this.cidrsByEnd.set(slices, (m = new Map()));
    // Every cluster the end has no pods in sees the same parties by address.
    const key = this.podsOf(slices).has(cluster) ? cluster : "";
    let rules = m.get(key);
    if (rules) return rules;
    const outside: AddressSet[] = [];
    for (const s of slices) {
      const pod = this.podOf(s);
      if (pod && pod.cluster === cluster) {
        // The selector names its pods; its compute on other targets (other addresses) is named by CIDR.
        const elsewhere = addressesOutside(s.party, "cilium").intersect(s.addresses);
        if (!elsewhere.isEmpty()) outside.push(elsewhere);
        continue;
      }
      // A workload known by identity only has no addresses another target could name: skip it
      // (an allow to it is a compile error; a forbid stays closed by default deny).
      if (s.party.kind !== "workload" || !s.party.workload.addresses.isEmpty()) outside.push(s.addresses);
    }
    rules = cidrRules(AddressSet.unionAll(outside));
    m.set(key, rules);
    return rules;
  }
}

const indexes = new WeakMap<Plan, PlanIndex>();
function planIndex(plan: Plan): PlanIndex {
  let x = indexes.get(plan);
  if (!x) indexes.set(plan, (x = new PlanIndex(plan)));
  return x;
}

/**
 * L4 parts of a path, shared by every path with the same services (and HTTP rules): the canonical
 * service texts name the set. A deny never carries L7.
 */
const l4Cache = new Map<string, L4Part[]>();
/** Per path: its allow (index 0) and deny (index 1) parts, once looked up. */
const l4OfPath = new WeakMap<MovementPath, [L4Part[] | undefined, L4Part[] | undefined]>();
function l4Of(path: MovementPath, deny: boolean): L4Part[] {
  let byPath = l4OfPath.get(path);
  if (!byPath) l4OfPath.set(path, (byPath = [undefined, undefined]));
  return (byPath[deny ? 1 : 0] ??= l4Lookup(path, deny));
}

function l4Lookup(path: MovementPath, deny: boolean): L4Part[] {
  const http = deny ? undefined : path.http;
  const key = `${path.serviceTexts.join(",")}\u0000${http ? JSON.stringify(http) : ""}`;
  let parts = l4Cache.get(key);
  if (!parts) {
    parts = l4Parts(path.services, path, http);
    if (l4Cache.size > 10_000) l4Cache.clear();
    l4Cache.set(key, parts);
  }
  return parts;
}

/** Rules of one direction for a path: peers × L4 parts. */
function rulesOf(
  index: PlanIndex,
  cluster: string,
  c: CompiledPath,
  direction: "ingress" | "egress",
  policyNamespace: string | undefined,
  deny: boolean,
): Array<IngressRule | EgressRule> {
  const peers = index.peers(direction === "egress" ? c.to : c.from, cluster, policyNamespace);
  const l4 = l4Of(c.path, deny);
  const out: Array<IngressRule | EgressRule> = [];
  const egress = direction === "egress";
  for (const part of l4) {
    if (peers.endpoints.length > 0)
      out.push(
        Object.assign(egress ? { toEndpoints: peers.endpoints } : { fromEndpoints: peers.endpoints }, part),
      );
    if (peers.cidrs.length > 0)
      out.push(Object.assign(egress ? { toCIDRSet: peers.cidrs } : { fromCIDRSet: peers.cidrs }, part));
  }
  return out;
}

/** The workload names of pods, as descriptions list them (per array: subjects are cached). */
const namesOf = new WeakMap<readonly Pod[], string>();
function names(pods: readonly Pod[]): string {
  let n = namesOf.get(pods);
  if (n === undefined) namesOf.set(pods, (n = pods.map((p) => p.workload.name).join(", ")));
  return n;
}

/** The part of a rule's description that depends on its path only (per path: one per spec otherwise). */
const pathTexts = new WeakMap<MovementPath, string>();

function describe(plan: Plan, c: CompiledPath, direction: "ingress" | "egress", workload: string): string {
  const p = c.path;
  let text = pathTexts.get(p);
  if (text === undefined) {
    const verb = p.verdict === "allow" ? "allow" : "forbid (deny guardrail)";
    const http = p.http ? ` http ${p.http.map((h) => `${h.method ?? "*"} ${h.path ?? "*"}`).join(", ")}` : "";
    text = `blastradius ${plan.policy.name}: path ${p.name}: ${verb} ${p.from} -> ${p.to} ${p.serviceTexts.join(", ")}${http}`;
    pathTexts.set(p, text);
  }
  return `${text} (${direction} of ${workload}; owner ${p.owner})`;
}

function labels(plan: Plan, cluster: string, role: RenderedPolicy["role"], extra: Record<string, string>) {
  return {
    [LABELS.managedBy]: "blastradius",
    [LABELS.policy]: plan.policy.name,
    [LABELS.cluster]: cluster,
    [LABELS.role]: role,
    ...extra,
  };
}

const DEFAULT_DENY = { ingress: true, egress: true };

/** A spec with one section of rules (plain literals: the same shape for every spec of a section). */
function sectionRule(
  endpointSelector: EndpointSelector,
  description: string,
  section: "ingress" | "egress" | "ingressDeny" | "egressDeny",
  rules: Array<IngressRule | EgressRule>,
): CiliumRule {
  const enableDefaultDeny = DEFAULT_DENY;
  switch (section) {
    case "ingress":
      return { endpointSelector, description, ingress: rules as IngressRule[], enableDefaultDeny };
    case "egress":
      return { endpointSelector, description, egress: rules as EgressRule[], enableDefaultDeny };
    case "ingressDeny":
      return { endpointSelector, description, ingressDeny: rules as IngressRule[], enableDefaultDeny };
    case "egressDeny":
      return { endpointSelector, description, egressDeny: rules as EgressRule[], enableDefaultDeny };
  }
}

function withSpecs(obj: Omit<CiliumPolicyObject, "spec" | "specs">, specs: CiliumRule[]): CiliumPolicyObject {
  return specs.length === 1 ? { ...obj, spec: specs[0]! } : { ...obj, specs };
}

/** Throws when the object is over the size limit; `memo` measures shared parts once per rendering. */
function checkSize(r: RenderedPolicy, memo: WeakMap<object, number>): RenderedPolicy {
  const bytes = jsonBytes(r.object, memo);
  if (bytes > MAX_OBJECT_BYTES) {
    const what =
      r.role === "segment"
        ? `segment "${r.subject}" in namespace "${r.namespace}"`
        : r.role === "guardrail"
          ? `forbid path "${r.subject}"`
          : `namespace "${r.namespace}"`;
    throw new CiliumRenderError(
      `the Cilium policy for ${what} (${r.object.metadata.name}) is ${bytes} bytes, over the Kubernetes object limit of ${MAX_OBJECT_BYTES} bytes (etcd max-request-bytes), even with merged CIDRs and ports; split the segment or narrow the peers' address ranges`,
    );
  }
  return r;
}

/**
 * Renders the plan for one cluster: a default-deny baseline per namespace (every workload placed
 * there, both directions), one CiliumNetworkPolicy per segment per namespace carrying the allow
 * paths (and, in namespaced mode, the deny guardrails) of its members, and in clusterwide mode one
 * CiliumClusterwideNetworkPolicy per enforce forbid path. Deterministic; names come from the
 * policy, segment, namespace and path names.
 */
export function renderCilium(plan: Plan, options: CiliumRenderOptions): RenderedPolicy[] {
  const { cluster } = options;
  const mode = options.guardrails ?? "namespaced";
  const index = planIndex(plan);
  const selectors = index.selectors(cluster);
  const policy = plan.policy.name;
  const stem = options.namePrefix ?? policy;
  /** An object's name: the key's name with the prefix in place of the policy name. */
  const named = (name: string) => `${stem}${name.slice(policy.length)}`;
  const out: RenderedPolicy[] = [];
  const sizes = new WeakMap<object, number>();

  const byNs = new Map<string, Pod[]>();
  for (const p of index.pods.values()) {
    if (p.cluster !== cluster || p.referenceOnly) continue;
    let list = byNs.get(p.namespace);
    if (!list) byNs.set(p.namespace, (list = []));
    list.push(p);
  }
  for (const ns of [...byNs.keys()].sort()) {
    const pods = byNs.get(ns)!;
    // One rule for the namespace's modelled pods when one selector picks exactly them.
    const specs: CiliumRule[] = selectors.subjects(pods, ns).map(({ selector, pods: who }) => ({
      endpointSelector: selector,
      description: `blastradius ${policy}: default deny, both directions, for ${who.length === 1 ? "workload" : "workloads"} ${names(who)}; only the policy's allow paths open traffic`,
      ingress: [{}],
      egress: [{}],
      enableDefaultDeny: DEFAULT_DENY,
    }));
    const name = `${policy}-default-deny`;
    out.push(
      checkSize(
        {
          key: `${ns}.${name}`,
          role: "default-deny",
          namespace: ns,
          paths: [],
          object: withSpecs(
            {
              apiVersion: CILIUM_API_VERSION,
              kind: "CiliumNetworkPolicy",
              metadata: {
                name: named(name),
                namespace: ns,
                labels: labels(plan, cluster, "default-deny", {}),
              },
            },
            specs,
          ),
        },
        sizes,
      ),
    );
  }

  // Segment policies: per (segment, namespace), rules of every path touching the segment.
  type Entry = { specs: CiliumRule[]; paths: string[] };
  const bySegmentNs = new Map<string, Map<string, Entry>>();
  const entry = (segment: string, ns: string): Entry => {
    let m = bySegmentNs.get(segment);
    if (!m) bySegmentNs.set(segment, (m = new Map()));
    let e = m.get(ns);
    if (!e) m.set(ns, (e = { specs: [], paths: [] }));
    return e;
  };
  const segmentNames = new Set(plan.policy.segments.map((s) => s.name));
  for (const c of index.paths(cluster)) {
    const deny = c.path.verdict === "forbid";
    if (deny && mode !== "namespaced") continue;
    for (const direction of ["egress", "ingress"] as const) {
      const segment = direction === "egress" ? c.path.from : c.path.to;
      if (!segmentNames.has(segment)) continue;
      const subjects = index.managed(direction === "egress" ? c.from : c.to).get(cluster);
      if (!subjects) continue;
      for (const [ns, pods] of subjects) {
        const rules = rulesOf(index, cluster, c, direction, ns, deny);
        if (rules.length === 0) continue;
        const e = entry(segment, ns);
        const section = deny ? (direction === "egress" ? "egressDeny" : "ingressDeny") : direction;
        // One rule for all the segment's pods of the namespace when one selector picks exactly them.
        for (const { selector, pods: who } of selectors.subjects(pods, ns))
          e.specs.push(sectionRule(selector, describe(plan, c, direction, names(who)), section, rules));
        if (e.paths[e.paths.length - 1] !== c.path.name) e.paths.push(c.path.name);
      }
    }
  }
  for (const segment of plan.policy.segments.map((s) => s.name)) {
    const m = bySegmentNs.get(segment);
    if (!m) continue;
    for (const ns of [...m.keys()].sort()) {
      const e = m.get(ns)!;
      const name = `${policy}.${segment}`;
      out.push(
        checkSize(
          {
            key: `${ns}.${name}`,
            role: "segment",
            subject: segment,
            namespace: ns,
            paths: e.paths,
            object: withSpecs(
              {
                apiVersion: CILIUM_API_VERSION,
                kind: "CiliumNetworkPolicy",
                metadata: {
                  name: named(name),
                  namespace: ns,
                  labels: labels(plan, cluster, "segment", { [LABELS.segment]: segment }),
                },
              },
              e.specs,
            ),
          },
          sizes,
        ),
      );
    }
  }

  if (mode === "clusterwide") {
    for (const c of plan.guardrails) {
      const specs: CiliumRule[] = [];
      for (const direction of ["egress", "ingress"] as const) {
        const subjects = index.managed(direction === "egress" ? c.from : c.to).get(cluster);
        if (!subjects) continue;
        for (const pods of subjects.values()) {
          const rules = rulesOf(index, cluster, c, direction, undefined, true);
          if (rules.length === 0) continue;
          for (const { selector, pods: who } of selectors.subjects(pods, undefined))
            specs.push(
              sectionRule(
                selector,
                describe(plan, c, direction, names(who)),
                direction === "egress" ? "egressDeny" : "ingressDeny",
                rules,
              ),
            );
        }
      }
      if (specs.length === 0) continue;
      const name = `${policy}.${c.path.name}`;
      out.push(
        checkSize(
          {
            key: `clusterwide.${name}`,
            role: "guardrail",
            subject: c.path.name,
            paths: [c.path.name],
            object: withSpecs(
              {
                apiVersion: CILIUM_API_VERSION,
                kind: "CiliumClusterwideNetworkPolicy",
                metadata: {
                  name: named(name),
                  labels: labels(plan, cluster, "guardrail", { [LABELS.path]: c.path.name }),
                },
              },
              specs,
            ),
          },
          sizes,
        ),
      );
    }
  }
  return out;
}
