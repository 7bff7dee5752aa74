import type { IpFamily } from "../net";

/** The flow log formats blastradius reads. */
export const FLOW_FORMATS = ["aws", "gcp", "azure", "hubble"] as const;
export type FlowFormat = (typeof FLOW_FORMATS)[number];

/**
 * What a log says about one end of a flow besides its address: Kubernetes identity (Hubble), or the
 * VM and network (GCP). Hints refine the mapping to workloads; the address stays authoritative when
 * no hint matches.
 */
export interface EndpointHints {
  /** Kubernetes namespace of the pod (Hubble `source.namespace`). */
  namespace?: string;
  /** Pod labels without their source prefix (`k8s:app=x` → `app: x`); `reserved:*` labels are dropped. */
  labels?: Record<string, string>;
  pod?: string;
  /** Cilium cluster name, when the flow carries one. */
  cluster?: string;
  /** GCP VM name and project (`src_instance.vm_name`, `project_id`). */
  vm?: string;
  project?: string;
  /** VPC network name (GCP `src_vpc.vpc_name`). */
  network?: string;
}

/**
 * One observed flow, normalised: initiator → responder (the return half of a connection is
 * recognised and not reported as a flow of its own; see `docs/flows.md`).
 */
export interface Flow {
  /** Where it was read: file name and 1-based line (for JSON documents, the line of the record or tuple). */
  file: string;
  line: number;
  format: FlowFormat;
  /** Start and end of the observation, epoch milliseconds (equal when the log gives one instant). */
  start: number;
  end: number;
  family: IpFamily;
  src: string;
  dst: string;
  /** IANA protocol number as logged (ICMPv6 is 58). */
  protocol: number;
  srcPort?: number;
  /** Destination port; present only for tcp, udp and sctp. */
  dstPort?: number;
  bytes?: number;
  packets?: number;
  /**
   * What the enforcement point did, as the log says it (`ACCEPT`/`REJECT` for AWS, `FORWARDED`/
   * `DROPPED` for Hubble, `A`/`D` for Azure, the reporter side for GCP, which logs no verdict).
   */
  observed: string;
  srcHints?: EndpointHints;
  dstHints?: EndpointHints;
}

/** A line (or tuple) that could not be read as a flow: always counted and reported, never dropped. */
export interface FlowProblem {
  file: string;
  line: number;
  message: string;
}

/** Records that are well-formed but are not flows to analyse, counted by kind. */
export type SkipKind =
  /** The return half of a connection (server → client). Stateful targets let it through. */
  | "reply"
  /** AWS NODATA / SKIPDATA records, Hubble events without an IP layer, and the like. */
  | "no-data"
  /** Header lines (AWS custom formats). */
  | "header";

/** Receives what a parser reads. */
export interface FlowSink {
  flow(flow: Flow): void;
  problem(problem: FlowProblem): void;
  skip(kind: SkipKind, file: string, line: number): void;
}

/** A source of lines: a file's lines, streamed. */
export type Lines = AsyncIterable<string> | Iterable<string>;
