/**
 * The GCP target's native objects: VPC firewall rules (`gcp.compute.Firewall` inputs), as plain data.
 *
 * Semantics (https://cloud.google.com/firewall/docs/firewalls): each rule is INGRESS or EGRESS, has
 * a priority 0..65535 (lower number wins; a deny wins over an allow of equal priority), applies to
 * the instances its target names (all instances of the network, `targetServiceAccounts`, or
 * `targetTags`; service accounts and tags never mix in one rule), and matches an ingress packet's
 * source by `sourceRanges` OR `sourceServiceAccounts` (OR `sourceTags`). `destinationRanges` (and,
 * on egress, `sourceRanges`) narrow by address. One rule holds IPv4 or IPv6 ranges, never both.
 * Every network has two implied rules at 65535: deny all ingress, allow all egress.
 */

/** One protocol entry of a rule, exactly as the provider's `allows[]`/`denies[]` items. */
export interface GcpL4 {
  /** `tcp`, `udp`, `icmp`, `sctp`, `all`, or an IP protocol number as text (`"58"` is ICMPv6). */
  protocol: string;
  /** `"443"` or `"8000-8100"`; absent means every port (only tcp, udp and sctp have ports). */
  ports?: string[];
}

export type GcpRuleKind = "baseline" | "guardrail" | "allow";

/** One rendered firewall rule: the provider inputs except `network` and `project` (the component sets them). */
export interface GcpFirewallRule {
  /** Stable key inside the network's component; the Pulumi child is named `${component}-${key}`. */
  key: string;
  /** The GCP rule name: 1-63 chars, RFC 1035, unique in the project (policy + network + key). */
  name: string;
  description: string;
  direction: "INGRESS" | "EGRESS";
  priority: number;
  allows?: GcpL4[];
  denies?: GcpL4[];
  sourceRanges?: string[];
  destinationRanges?: string[];
  sourceServiceAccounts?: string[];
  targetServiceAccounts?: string[];
  logConfig?: { metadata: "INCLUDE_ALL_METADATA" | "EXCLUDE_ALL_METADATA" };
  /** Why the rule exists (not sent to GCP; GCP firewall rules have no labels, the description says it). */
  kind: GcpRuleKind;
  /** The movement paths an allow or guardrail rule renders (one rule serves every path from or to its segment over its services). */
  paths?: string[];
  /** The segment (or peer) whose instances the rule applies to. */
  segment?: string;
}

/** Priorities of the three bands. Lower number = higher precedence. */
export interface GcpPriorities {
  /** Enforce-forbid deny guardrails (default 0: no other rule can outrank them, and deny wins ties). */
  guardrail: number;
  /** Every allow rule (default 1000). Allows never conflict with each other, so one priority suffices. */
  allow: number;
  /** Deny-all ingress and egress for every in-scope instance (default 65534, above the implied rules). */
  baseline: number;
}

/**
 * Per-rule list limits (docs/targets/gcp.md gives the sources). Ranges: 5,000 source and 5,000
 * destination ranges per rule (Cloud NGFW limits). Service accounts: 10 source and 10 target per rule
 * (`max_size: 10` in the provider schema). Ports: no documented figure was found; 256 port entries per
 * rule is a conservative default. Lists longer than a limit split into more rules, never truncated.
 */
export interface GcpLimits {
  rangesPerRule: number;
  serviceAccountsPerRule: number;
  portsPerRule: number;
  /** Fail when one network needs more rules than this (e.g. the project's firewall-rule quota). */
  rulesPerNetwork?: number;
}

export interface GcpRenderOptions {
  priorities?: Partial<GcpPriorities>;
  limits?: Partial<GcpLimits>;
  /** Firewall Rules Logging per band (default: guardrails on, allows and baseline off). */
  logging?: Partial<Record<GcpRuleKind, boolean>>;
  /** Include metadata in logs (default true). */
  logMetadata?: boolean;
  /**
   * The start of every rule's name (default `br-<policy>-<network>`): firewall rule names are
   * unique per project, so two stacks rendering one policy into one project need their own.
   */
  namePrefix?: string;
}

export const DEFAULT_PRIORITIES: GcpPriorities = { guardrail: 0, allow: 1000, baseline: 65534 };
export const DEFAULT_LIMITS: GcpLimits = {
  rangesPerRule: 5000,
  serviceAccountsPerRule: 10,
  portsPerRule: 256,
};

/** The Pulumi type token of a VPC firewall rule. */
export const FIREWALL_TYPE = "gcp:compute/firewall:Firewall";
/** The component's type token. */
export const COMPONENT_TYPE = "blastradius:gcp:GcpSegmentation";
