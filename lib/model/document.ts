import type { HttpMethod } from "./types";

/*
 * The policy file format (YAML or JSON) as TypeScript types: what a policy document may contain
 * before validation. `schema.ts` defines the same shape as a zod schema (the parser, and the
 * source of `schema/policy.schema.json`) and checks at compile time that the two are identical.
 * These plain declarations are what the package's public types refer to, so that a user's
 * compilation never loads zod's declarations (which need `esModuleInterop`, off in Pulumi's
 * default tsconfig).
 */

/** Placement on AWS: security groups in one VPC. */
export interface AwsPlacementDocument {
  /** The VPC name the AwsSegmentation component is given as `vpc`. */
  vpc: string;
  /** Private addresses of the workload's interfaces. */
  cidrs: string[];
}

/** Placement on GCP: VPC firewall rules targeting the service account. */
export interface GcpPlacementDocument {
  /** The VPC network name the GcpSegmentation component is given. */
  network: string;
  /** The instances' service account: their identity in firewall rules. */
  serviceAccount?: string;
  /** Addresses other targets see. */
  cidrs?: string[];
}

/** Placement on Azure: NSGs with application security groups. */
export interface AzurePlacementDocument {
  /** The VNet name the AzureSegmentation component is given. */
  vnet: string;
  /** Addresses of the workload's NICs. */
  cidrs: string[];
}

/** Placement on Kubernetes: rendered as CiliumNetworkPolicies. */
export interface KubernetesPlacementDocument {
  /** The cluster name the CiliumSegmentation component is given. */
  cluster: string;
  namespace: string;
  /** Pod labels that select the workload's pods (at least one). */
  podLabels: Record<string, string>;
  /** Pod addresses other targets see. */
  cidrs?: string[];
}

/** Placement behind NVIDIA BlueField DPUs: Open vSwitch flows. */
export interface BlueFieldPlacementDocument {
  /** DPU host names (one flow file per host). */
  hosts: string[];
  /** Representor port of the host, e.g. pf0hpf or pf0vf0. */
  port: string;
  /** The hosts' addresses. */
  addresses: string[];
}

/** Where the workload lives, per target. */
export interface PlacementsDocument {
  aws?: AwsPlacementDocument;
  gcp?: GcpPlacementDocument;
  azure?: AzurePlacementDocument;
  kubernetes?: KubernetesPlacementDocument;
  bluefield?: BlueFieldPlacementDocument;
}

export interface WorkloadDocument {
  name: string;
  labels?: Record<string, string>;
  placements: PlacementsDocument;
  /** Default true. false: a compromise does not spread from here (a managed data store that runs no attacker code): reached, but no onward hop. */
  pivot?: boolean;
}

export interface SelectorRequirementDocument {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  /** Required for In/NotIn; not allowed for Exists/DoesNotExist. */
  values?: string[];
}

/** A label selector over workloads (all conditions must hold). */
export interface SegmentDocument {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirementDocument[];
  /** Default true. false: no member is a stepping stone (reached, but no onward hop), unless the workload says pivot: true. */
  pivot?: boolean;
  /** A crown jewel: reviews list who reaches it in any number of hops and draw that blast radius. */
  critical?: boolean;
}

/** Something outside the model, known by its addresses. */
export interface PeerDocument {
  cidrs: string[];
}

export interface HttpRuleDocument {
  method?: HttpMethod;
  /** A regular expression matched against the whole request path. */
  path?: string;
}

export interface PathDocument {
  name: string;
  /** A segment or peer name (`internet` is built in). */
  from: string;
  /** A segment or peer name (`internet` is built in). */
  to: string;
  /** tcp/443, tcp/8000-8100, udp/53, icmp, any. Required for allow; a forbid without services forbids all. */
  services?: string[];
  /** Default allow. */
  verdict?: "allow" | "forbid";
  /** Forbid paths only; default enforce. */
  mode?: "enforce" | "monitor";
  /** Who answers for this path (required). */
  owner?: string;
  /** Why the path exists (required). */
  justification?: string;
  /** YYYY-MM-DD; the path stands until the end of that day (UTC). */
  expires?: string;
  ticket?: string;
  /** Allow paths only: L7 allowlist, enforced at L7 where the target can (Cilium). */
  http?: HttpRuleDocument[];
  /** Forbid paths only; default direct (the one hop). any: no chain of hops of any length from `from` to `to`. */
  reach?: "direct" | "any";
  /** With reach: any: segments accepted as chokepoints (a jump host with MFA); chains through them do not count. */
  through?: string[];
}

/** A blastradius micro-segmentation policy, as written in a policy file. */
export interface PolicyDocument {
  $schema?: string;
  name: string;
  workloads?: WorkloadDocument[];
  segments?: Record<string, SegmentDocument>;
  peers?: Record<string, PeerDocument>;
  paths?: PathDocument[];
}

/** The names the rest of the code uses for the document types. */
export type RawPolicy = PolicyDocument;
export type RawWorkload = WorkloadDocument;
export type RawPath = PathDocument;
export type RawSegment = SegmentDocument;
export type RawPeer = PeerDocument;
