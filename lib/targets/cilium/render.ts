import type { HttpRule, MovementPath } from "../../model/types";
import { AddressSet, IntervalSet, Protocol, ServiceSet } from "../../net";
import type { CompiledPath, Plan, Slice } from "../../plan/types";
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
    const except = all.subtract(part).toCidrs();
    if (except.length + 1 < direct.length)
      out.push(except.length > 0 ? { cidr: root, except } : { cidr: root });
    else for (const cidr of direct) out.push({ cidr });
  }
  return out;
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

class ClusterRenderer {
  readonly pods: Map<string, Pod>;
  readonly selectors: PodSelectors;

  constructor(
    readonly plan: Plan,
    readonly cluster: string,
  ) {
    this.pods = podsOf(plan);
    this.selectors = new PodSelectors([...this.pods.values()].filter((p) => p.cluster === cluster));
  }

  /** The pod of a slice when it is a workload in this cluster. */
  podIn(slice: Slice): Pod | undefined {
    if (slice.party.kind !== "workload") return undefined;
    const pod = this.pods.get(slice.party.name);
    return pod && pod.cluster === this.cluster ? pod : undefined;
  }

  /** Pods of this cluster the library selects on an end (reference-only pods are never selected). */
  managed(slices: Slice[]): Pod[] {
    const out: Pod[] = [];
    for (const s of slices) {
      const pod = this.podIn(s);
      if (pod && !pod.referenceOnly) out.push(pod);
    }
    return out;
  }

  peers(slices: Slice[], policyNamespace: string | undefined): PeerParts {
    const endpoints: EndpointSelector[] = [];
    const outside: AddressSet[] = [];
    for (const s of slices) {
      const pod = this.podIn(s);
      if (pod) endpoints.push(this.selectors.peer(pod, policyNamespace));
      // A workload known by identity only has no addresses another target could name: skip it
      // (an allow to it is a compile error; a forbid stays closed by default deny).
      else if (s.party.kind === "peer" || !s.party.workload.addresses.isEmpty()) outside.push(s.addresses);
    }
    return { endpoints, cidrs: cidrRules(AddressSet.unionAll(outside)) };
  }

  /** Rules of one direction for a path: peers × L4 parts. */
  rules(
    c: CompiledPath,
    direction: "ingress" | "egress",
    policyNamespace: string | undefined,
    deny: boolean,
  ): Array<IngressRule | EgressRule> {
    const other = direction === "egress" ? c.to : c.from;
    const peers = this.peers(other, policyNamespace);
    const l4 = l4Parts(c.path.services, c.path, deny ? undefined : c.path.http);
    const out: Array<IngressRule | EgressRule> = [];
    const ep = direction === "egress" ? "toEndpoints" : "fromEndpoints";
    const cidr = direction === "egress" ? "toCIDRSet" : "fromCIDRSet";
    for (const part of l4) {
      if (peers.endpoints.length > 0) out.push({ [ep]: peers.endpoints, ...part });
      if (peers.cidrs.length > 0) out.push({ [cidr]: peers.cidrs, ...part });
    }
    return out;
  }
}

function describe(plan: Plan, c: CompiledPath, direction: "ingress" | "egress", workload: string): string {
  const p = c.path;
  const verb = p.verdict === "allow" ? "allow" : "forbid (deny guardrail)";
  const http = p.http ? ` http ${p.http.map((h) => `${h.method ?? "*"} ${h.path ?? "*"}`).join(", ")}` : "";
  return `blastradius ${plan.policy.name}: path ${p.name}: ${verb} ${p.from} -> ${p.to} ${p.serviceTexts.join(", ")}${http} (${direction} of ${workload}; owner ${p.owner})`;
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

function withSpecs(obj: Omit<CiliumPolicyObject, "spec" | "specs">, specs: CiliumRule[]): CiliumPolicyObject {
  return specs.length === 1 ? { ...obj, spec: specs[0]! } : { ...obj, specs };
}

function checkSize(r: RenderedPolicy): RenderedPolicy {
  const bytes = Buffer.byteLength(JSON.stringify(r.object));
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
  const r = new ClusterRenderer(plan, cluster);
  const policy = plan.policy.name;
  const out: RenderedPolicy[] = [];

  const managedPods = [...r.pods.values()].filter((p) => p.cluster === cluster && !p.referenceOnly);
  const namespaces = [...new Set(managedPods.map((p) => p.namespace))].sort();

  for (const ns of namespaces) {
    const specs: CiliumRule[] = managedPods
      .filter((p) => p.namespace === ns)
      .map((p) => ({
        endpointSelector: r.selectors.own(p),
        description: `blastradius ${policy}: default deny, both directions, for workload ${p.workload.name}; only the policy's allow paths open traffic`,
        ingress: [{}],
        egress: [{}],
        enableDefaultDeny: DEFAULT_DENY,
      }));
    const name = `${policy}-default-deny`;
    out.push(
      checkSize({
        key: `${ns}.${name}`,
        role: "default-deny",
        namespace: ns,
        paths: [],
        object: withSpecs(
          {
            apiVersion: CILIUM_API_VERSION,
            kind: "CiliumNetworkPolicy",
            metadata: { name, namespace: ns, labels: labels(plan, cluster, "default-deny", {}) },
          },
          specs,
        ),
      }),
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
  const inNamespaced = [...plan.allows, ...(mode === "namespaced" ? plan.guardrails : [])].sort(
    (a, b) => pathIndex(plan, a.path) - pathIndex(plan, b.path),
  );
  for (const c of inNamespaced) {
    const deny = c.path.verdict === "forbid";
    for (const direction of ["egress", "ingress"] as const) {
      const segment = direction === "egress" ? c.path.from : c.path.to;
      if (!segmentNames.has(segment)) continue;
      const subjects = r.managed(direction === "egress" ? c.from : c.to);
      const byNs = new Map<string, Pod[]>();
      for (const pod of subjects) {
        let list = byNs.get(pod.namespace);
        if (!list) byNs.set(pod.namespace, (list = []));
        list.push(pod);
      }
      for (const [ns, pods] of byNs) {
        const rules = r.rules(c, direction, ns, deny);
        if (rules.length === 0) continue;
        const e = entry(segment, ns);
        const section = deny ? (direction === "egress" ? "egressDeny" : "ingressDeny") : direction;
        // One rule for all the segment's pods of the namespace when one selector picks exactly them.
        const group = r.selectors.group(pods);
        const subjectsOf: Array<[EndpointSelector, string]> = group
          ? [[group, pods.map((p) => p.workload.name).join(", ")]]
          : pods.map((p) => [r.selectors.own(p), p.workload.name]);
        for (const [endpointSelector, who] of subjectsOf)
          e.specs.push({
            endpointSelector,
            description: describe(plan, c, direction, who),
            [section]: rules,
            enableDefaultDeny: DEFAULT_DENY,
          });
        if (!e.paths.includes(c.path.name)) e.paths.push(c.path.name);
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
        checkSize({
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
                name,
                namespace: ns,
                labels: labels(plan, cluster, "segment", { [LABELS.segment]: segment }),
              },
            },
            e.specs,
          ),
        }),
      );
    }
  }

  if (mode === "clusterwide") {
    for (const c of plan.guardrails) {
      const specs: CiliumRule[] = [];
      for (const direction of ["egress", "ingress"] as const) {
        for (const pod of r.managed(direction === "egress" ? c.from : c.to)) {
          const rules = r.rules(c, direction, undefined, true);
          if (rules.length === 0) continue;
          specs.push({
            endpointSelector: r.selectors.peer(pod, undefined),
            description: describe(plan, c, direction, pod.workload.name),
            [direction === "egress" ? "egressDeny" : "ingressDeny"]: rules,
            enableDefaultDeny: DEFAULT_DENY,
          });
        }
      }
      if (specs.length === 0) continue;
      const name = `${policy}.${c.path.name}`;
      out.push(
        checkSize({
          key: `clusterwide.${name}`,
          role: "guardrail",
          subject: c.path.name,
          paths: [c.path.name],
          object: withSpecs(
            {
              apiVersion: CILIUM_API_VERSION,
              kind: "CiliumClusterwideNetworkPolicy",
              metadata: { name, labels: labels(plan, cluster, "guardrail", { [LABELS.path]: c.path.name }) },
            },
            specs,
          ),
        }),
      );
    }
  }
  return out;
}

const pathIndexCache = new WeakMap<Plan, Map<string, number>>();
function pathIndex(plan: Plan, p: MovementPath): number {
  let m = pathIndexCache.get(plan);
  if (!m) pathIndexCache.set(plan, (m = new Map(plan.policy.paths.map((x, i) => [x.name, i]))));
  return m.get(p.name) ?? 0;
}
