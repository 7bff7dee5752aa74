import type { AddressSet, ServiceSet } from "../net";

/** The enforcement targets blastradius renders to. */
export const TARGETS = ["aws", "gcp", "azure", "cilium", "bluefield"] as const;
export type TargetName = (typeof TARGETS)[number];

/**
 * Placement keys in a policy file. They are the target names, except that Kubernetes placements
 * (`kubernetes`) are rendered as Cilium policies (target `cilium`).
 */
export const PLACEMENT_KEYS = ["aws", "gcp", "azure", "kubernetes", "bluefield"] as const;
export type PlacementKey = (typeof PLACEMENT_KEYS)[number];

export const TARGET_OF_PLACEMENT: Readonly<Record<PlacementKey, TargetName>> = {
  aws: "aws",
  gcp: "gcp",
  azure: "azure",
  kubernetes: "cilium",
  bluefield: "bluefield",
};

/** Where a workload lives in an AWS VPC. `cidrs` are its private addresses (what other targets see). */
export interface AwsPlacement {
  vpc: string;
  cidrs: string[];
}

/**
 * Where a workload lives in a GCP VPC network. Its identity is the service account; `cidrs` are
 * optional, and needed only when a workload on another target must see it by address.
 */
export interface GcpPlacement {
  network: string;
  serviceAccount?: string;
  cidrs: string[];
}

/** Where a workload lives in an Azure VNet; `cidrs` are its addresses. */
export interface AzurePlacement {
  vnet: string;
  cidrs: string[];
}

/**
 * Pods in one namespace of one cluster, selected by `podLabels` (at least one label: an empty
 * selector would select every pod in the namespace). `cidrs` are optional: what other targets see.
 */
export interface KubernetesPlacement {
  cluster: string;
  namespace: string;
  podLabels: Record<string, string>;
  cidrs: string[];
}

/** Hosts behind BlueField DPUs: `port` is the representor (e.g. `pf0hpf`), `addresses` the hosts' addresses. */
export interface BlueFieldPlacement {
  hosts: string[];
  port: string;
  addresses: string[];
}

export interface Placements {
  aws?: AwsPlacement;
  gcp?: GcpPlacement;
  azure?: AzurePlacement;
  kubernetes?: KubernetesPlacement;
  bluefield?: BlueFieldPlacement;
}

/** Which field of each placement lists the addresses other targets see the workload by. */
export const PLACEMENT_ADDRESS_FIELD = {
  aws: "cidrs",
  gcp: "cidrs",
  azure: "cidrs",
  kubernetes: "cidrs",
  bluefield: "addresses",
} as const satisfies Record<PlacementKey, string>;

/** The address list each placement declares, as written (placement key, field, entries). */
export function declaredAddresses(
  placements: Placements,
): Array<{ key: PlacementKey; field: string; entries: readonly string[] }> {
  return PLACEMENT_KEYS.filter((key) => placements[key] !== undefined).map((key) => {
    const field = PLACEMENT_ADDRESS_FIELD[key];
    const entries = (placements[key] as unknown as Record<string, unknown>)[field];
    return { key, field, entries: Array.isArray(entries) ? (entries as string[]) : [] };
  });
}

/** A named unit of identity with labels and placements. */
export interface Workload {
  name: string;
  labels: Record<string, string>;
  placements: Placements;
  /**
   * Every address the workload's placements declare (union over placements). Empty when the
   * workload is known by identity only (a GCP service account, Kubernetes pod labels).
   */
  addresses: AddressSet;
  /**
   * As written; absent means unsaid. `false`: reached, but no onward hop (DESIGN.md rule 10); it
   * overrides its segments' `pivot` either way (`pivots` in lib/radius).
   */
  pivot?: boolean;
}

export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface SelectorRequirement {
  key: string;
  operator: SelectorOperator;
  /** Required and non-empty for In/NotIn; absent for Exists/DoesNotExist. */
  values?: string[];
}

/**
 * A label selector, with Kubernetes semantics: all `matchLabels` and all `matchExpressions` must
 * hold (AND). A selector with neither selects every workload.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}

/** A named label selector over workloads; membership is computed. */
export interface Segment {
  name: string;
  selector: LabelSelector;
  /** As written; `false`: its members are reached but do not pivot, unless a member says otherwise. */
  pivot?: boolean;
  /** A crown jewel: reviews list who reaches it in any number of hops. */
  critical?: boolean;
}

/** Something outside the model, known by addresses only. */
export interface Peer {
  name: string;
  /** As written in the policy (for the built-in `internet`: the public ranges). */
  cidrs: string[];
  /**
   * The addresses the peer stands for. For the built-in `internet` this is the public address
   * space minus every workload's addresses, so that a workload on a public address is never also
   * "the internet".
   */
  addresses: AddressSet;
  builtin: boolean;
}

export type Verdict = "allow" | "forbid";
export type ForbidMode = "enforce" | "monitor";
/**
 * How far a forbid reaches (DESIGN.md rule 10): `direct` forbids the one hop `from` → `to`; `any`
 * forbids every chain of hops from `from` to `to`, through workloads that pivot.
 */
export type Reach = "direct" | "any";

export const HTTP_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "CONNECT",
  "TRACE",
] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * One HTTP constraint of an L7 allowlist: a request matches when it has the method (if given) and
 * its whole path matches the regular expression `path` (if given).
 */
export interface HttpRule {
  method?: HttpMethod;
  path?: string;
}

/** A movement path: one source, one destination, one reason, one owner. */
export interface MovementPath {
  name: string;
  /** A segment or peer name. */
  from: string;
  /** A segment or peer name. */
  to: string;
  /** The services as written (canonicalised), e.g. ["tcp/443"]; ["any"] for a forbid without services. */
  serviceTexts: string[];
  services: ServiceSet;
  verdict: Verdict;
  /** Always "enforce" for allow paths. */
  mode: ForbidMode;
  owner: string;
  justification: string;
  /** ISO date (YYYY-MM-DD), inclusive: the path stands until the end of that day (UTC). */
  expires?: string;
  ticket?: string;
  /** L7 allowlist of an allow path; enforced at L7 where the target can, at L4 elsewhere. */
  http?: HttpRule[];
  /** Always "direct" for allow paths. */
  reach: Reach;
  /** With reach "any": segments accepted as chokepoints; chains through their members do not count. */
  through?: string[];
}

/** A validated policy. Arrays are in file order; names are unique per kind. */
export interface Policy {
  name: string;
  workloads: Workload[];
  segments: Segment[];
  /** Declared peers, plus the built-in `internet` (always present, last). */
  peers: Peer[];
  paths: MovementPath[];
}
