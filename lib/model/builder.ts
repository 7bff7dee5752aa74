import type { RawPath, RawPolicy, RawWorkload } from "./document";
import type { ForbidMode, HttpRule, LabelSelector, Placements, Reach } from "./types";

/** A segment or peer, as paths name them. Plain strings work too. */
export interface EndpointRef {
  readonly kind: "segment" | "peer";
  readonly name: string;
}

export type Endpoint = EndpointRef | string;

/** A service in the policy vocabulary: "tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any". */
export type ServiceText = string;

/** Small helpers that read like the intent: `Service.tcp(443)`, `Service.tcp(8000, 8100)`. */
export const Service = {
  tcp: (port: number, to?: number): ServiceText => (to === undefined ? `tcp/${port}` : `tcp/${port}-${to}`),
  udp: (port: number, to?: number): ServiceText => (to === undefined ? `udp/${port}` : `udp/${port}-${to}`),
  icmp: "icmp" as ServiceText,
  any: "any" as ServiceText,
};

/** Who answers for a path and why it exists; required on every path. */
export interface PathMeta {
  owner: string;
  justification: string;
  /** YYYY-MM-DD, inclusive. */
  expires?: string;
  ticket?: string;
}

export interface AllowOptions extends PathMeta {
  /** L7 allowlist, enforced at L7 where the target can (Cilium), at L4 elsewhere. */
  http?: HttpRule[];
}

export interface ForbidOptions extends PathMeta {
  /** Default: every service. */
  services?: ServiceText[];
  /** Default "enforce". "monitor" reports the path without blocking it. */
  mode?: ForbidMode;
  /** Default "direct" (the one hop). "any": no chain of hops of any length (DESIGN.md rule 10). */
  reach?: Reach;
  /** With reach "any": segments accepted as chokepoints; chains through them do not count. */
  through?: readonly Endpoint[];
}

/** A segment's multi-hop role (DESIGN.md rule 10). */
export interface SegmentOptions {
  /** false: its members are reached but do not pivot (a managed data store running no attacker code). */
  pivot?: boolean;
  /** A crown jewel: reviews list who reaches it in any number of hops. */
  critical?: boolean;
}

const name = (e: Endpoint) => (typeof e === "string" ? e : e.name);

/**
 * Builds a policy in a Pulumi program, one movement path at a time. It produces exactly the
 * document a policy file holds, and `parsePolicyObject`/`checkPolicy` validate it the same way:
 *
 * ```ts
 * const p = new PolicyBuilder("ai-platform");
 * const training = p.segment("training", { matchLabels: { role: "training" } });
 * const workstations = p.peer("corp-workstations", ["10.200.0.0/16"]);
 * p.forbid("no-workstation-to-training", workstations, training, { owner, justification });
 * ```
 */
export class PolicyBuilder {
  /** The built-in peer: the public address space. */
  static readonly internet: EndpointRef = { kind: "peer", name: "internet" };
  readonly internet = PolicyBuilder.internet;
  private readonly workloads: RawWorkload[] = [];
  private readonly segments: Record<string, LabelSelector & SegmentOptions> = {};
  private readonly peers: Record<string, { cidrs: string[] }> = {};
  private readonly paths: RawPath[] = [];

  constructor(readonly name: string) {}

  /** `pivot: false`: the workload is reached but does not pivot (DESIGN.md rule 10). */
  workload(
    name: string,
    spec: { labels?: Record<string, string>; placements: Placements; pivot?: boolean },
  ): string {
    this.workloads.push({
      name,
      ...(spec.labels ? { labels: { ...spec.labels } } : {}),
      placements: structuredClone(spec.placements),
      ...(spec.pivot !== undefined ? { pivot: spec.pivot } : {}),
    });
    return name;
  }

  segment(name: string, selector: LabelSelector, options: SegmentOptions = {}): EndpointRef {
    this.segments[name] = {
      ...structuredClone(selector),
      ...(options.pivot !== undefined ? { pivot: options.pivot } : {}),
      ...(options.critical !== undefined ? { critical: options.critical } : {}),
    };
    return { kind: "segment", name };
  }

  peer(name: string, cidrs: readonly string[]): EndpointRef {
    this.peers[name] = { cidrs: [...cidrs] };
    return { kind: "peer", name };
  }

  /** An allow path: `from` may initiate `services` to `to` (replies flow; nothing more). */
  allow(
    pathName: string,
    from: Endpoint,
    to: Endpoint,
    services: readonly ServiceText[],
    options: AllowOptions,
  ): this {
    this.paths.push({ name: pathName, from: name(from), to: name(to), services: [...services], ...options });
    return this;
  }

  /** A forbid path: must not be open on any target (or, in monitor mode, is reported). */
  forbid(pathName: string, from: Endpoint, to: Endpoint, options: ForbidOptions): this {
    const { services, through, ...rest } = options;
    this.paths.push({
      name: pathName,
      from: name(from),
      to: name(to),
      verdict: "forbid",
      ...(services ? { services: [...services] } : {}),
      ...rest,
      ...(through ? { through: through.map(name) } : {}),
    });
    return this;
  }

  /** The policy document, exactly as a policy file would hold it. */
  toDocument(): RawPolicy {
    const doc: RawPolicy = { name: this.name, workloads: structuredClone(this.workloads) };
    if (Object.keys(this.segments).length > 0)
      doc.segments = structuredClone(this.segments) as RawPolicy["segments"];
    if (Object.keys(this.peers).length > 0) doc.peers = structuredClone(this.peers);
    doc.paths = structuredClone(this.paths);
    return doc;
  }
}
