/**
 * Hand-written types for the part of Cilium's policy language (cilium.io/v2) that blastradius renders
 * and interprets, after Cilium's `pkg/policy/api/rule.go`. Comments state the semantics; the
 * evaluator implements exactly these. Fields Cilium has but blastradius neither renders nor
 * interprets are left out; the evaluator rejects a live policy that uses an allow-widening one.
 */

/** A Kubernetes label selector over Cilium identity labels. */
export interface EndpointSelector {
  /**
   * Every pair must hold. A key may carry a source prefix: `k8s:app` (Kubernetes pod label),
   * `reserved:world` (a reserved identity), `any:app` or plain `app` (any source).
   */
  matchLabels?: Record<string, string>;
  /** Every requirement must hold (AND); NotIn and DoesNotExist hold when the key is absent. */
  matchExpressions?: Array<{
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    /** Non-empty for In/NotIn; absent for Exists/DoesNotExist. */
    values?: string[];
  }>;
}

/**
 * A CIDR peer. Matches only peers outside the cluster (never a pod or node the cluster manages,
 * whatever its address): `cidr` minus every `except` prefix (each inside `cidr`).
 */
export interface CidrRule {
  cidr: string;
  except?: string[];
}

/** Reserved identities a rule can name instead of labels. */
export type Entity =
  /** Everything outside the cluster, including private addresses: 0.0.0.0/0 and ::/0 minus the cluster. */
  | "world"
  /** Every endpoint the cluster manages (pods, nodes, health, …); not `world`. */
  | "cluster"
  | "host"
  | "remote-node"
  | "kube-apiserver"
  | "health"
  | "init"
  | "ingress"
  | "unmanaged"
  /** Nothing. */
  | "none"
  /** `world` and `cluster`: everything. */
  | "all";

/** One L4 port (range) of a protocol. */
export interface PortProtocol {
  /** Decimal port; "0" means every port of the protocol. Named ports are not rendered. */
  port: string;
  /** Last port of a range starting at `port` (inclusive); absent for a single port. */
  endPort?: number;
  /** "ANY", omitted or empty: TCP, UDP and SCTP. ICMP is matched by `icmps`, never here. */
  protocol?: "TCP" | "UDP" | "SCTP" | "ANY";
}

/**
 * One HTTP constraint. A request matches when each given field matches; `method` and `path` are
 * extended POSIX regular expressions matched against the whole method / whole path. A rule with
 * no field matches every request.
 */
export interface PortRuleHttp {
  method?: string;
  path?: string;
}

/**
 * Ports a rule opens, optionally with L7 rules. Traffic matches when it uses one of `ports`; with
 * `rules.http`, a request on those ports must also match one HTTP rule (Envoy enforces it).
 * L7 rules apply to TCP ports only, never to port 0, and never in deny rules.
 */
export interface PortRule {
  /** At most 40 entries (Cilium's maxPorts). */
  ports: PortProtocol[];
  rules?: { http?: PortRuleHttp[] };
}

/** ICMP types a rule opens: at most 40 fields per ICMPRule (Cilium's maxICMPFields). */
export interface IcmpRule {
  fields: Array<{
    /** Type number 0-255 (or a type name). Cilium does not match ICMP codes. */
    type: number | string;
    /** Default IPv4. */
    family?: "IPv4" | "IPv6";
  }>;
}

/**
 * An ingress rule: traffic from a peer. At most one of fromEndpoints / fromCIDRSet / fromEntities
 * may be present (the peer, L3); toPorts / icmps narrow it at L4 and are mutually exclusive.
 * A rule with no peer selects no peer: `ingress: [{}]` allows nothing (unlike Kubernetes
 * NetworkPolicy, where an empty rule allows everything).
 */
export interface IngressRule {
  /**
   * Pods by identity labels. In a CiliumNetworkPolicy a selector that does not name
   * `io.kubernetes.pod.namespace` selects pods of the policy's own namespace only.
   */
  fromEndpoints?: EndpointSelector[];
  fromCIDR?: string[];
  fromCIDRSet?: CidrRule[];
  fromEntities?: Entity[];
  /** Absent: every port and protocol (including ICMP) of the peer. */
  toPorts?: PortRule[];
  icmps?: IcmpRule[];
}

/** An egress rule: traffic to a peer; the same shape as IngressRule with `to…` peers. */
export interface EgressRule {
  toEndpoints?: EndpointSelector[];
  toCIDR?: string[];
  toCIDRSet?: CidrRule[];
  toEntities?: Entity[];
  toPorts?: PortRule[];
  icmps?: IcmpRule[];
}

/** Deny rules: the same peers and ports, no L7. A deny match drops traffic whatever any allow says. */
export type IngressDenyRule = Omit<IngressRule, "toPorts"> & { toPorts?: Array<Omit<PortRule, "rules">> };
export type EgressDenyRule = Omit<EgressRule, "toPorts"> & { toPorts?: Array<Omit<PortRule, "rules">> };

/**
 * A policy rule: applies to the endpoints `endpointSelector` selects (in a CiliumNetworkPolicy, only
 * in the policy's namespace). An endpoint selected by any rule with an ingress (egress) section is
 * in default deny for that direction: only what some allow rule selecting it allows passes. Allows
 * of all rules selecting an endpoint are unioned; any matching deny wins over every allow.
 */
export interface CiliumRule {
  endpointSelector: EndpointSelector;
  /** Free text; blastradius states the movement path here. */
  description?: string;
  ingress?: IngressRule[];
  ingressDeny?: IngressDenyRule[];
  egress?: EgressRule[];
  egressDeny?: EgressDenyRule[];
  /**
   * Per direction; when unset, true for a direction whose allow or deny list is non-empty. The
   * endpoint is in default deny for a direction when any rule selecting it says true.
   */
  enableDefaultDeny?: { ingress?: boolean; egress?: boolean };
}

export const CILIUM_API_VERSION = "cilium.io/v2";
export type CiliumPolicyKind = "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy";

/** A whole policy object as applied to the cluster: exactly one of `spec` or `specs`. */
export interface CiliumPolicyObject {
  apiVersion: typeof CILIUM_API_VERSION;
  kind: CiliumPolicyKind;
  metadata: {
    name: string;
    /** CiliumNetworkPolicy only. */
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: CiliumRule;
  specs?: CiliumRule[];
}
