import type { Diagnostic } from "../model/diagnostics";
import type { MovementPath, Peer, Policy, TargetName, Workload } from "../model/types";
import type { AddressSet, ConnectionSet } from "../net";

/**
 * A party is an atom of connectivity: one workload, or one peer. Connections run from a party to a
 * party; segments are sets of workload parties.
 */
export type Party = (
  | { kind: "workload"; name: string; key: string; workload: Workload; addresses: AddressSet }
  | { kind: "peer"; name: string; key: string; peer: Peer; addresses: AddressSet }
  | {
      /**
       * An endpoint the model does not name (DESIGN.md rule 8): other pods of a namespace, other
       * VMs of a network, other NICs of a VNet, other ports of a DPU, compute the stack creates but
       * binds to no workload, or every other address. Never on a path's end; default deny must
       * hold between it and every workload. The target that contributes it (`targets`) reads its
       * attachment by `key`.
       */
      kind: "other";
      name: string;
      key: string;
      addresses: AddressSet;
      /** Where it lives, in its target's terms ("vpc ml", "namespace ai/agents"). */
      scope: string;
    }
) &
  PartyFacet;

/**
 * What a party is beyond the policy's own workloads and peers. A workload placed on several
 * targets with different addresses is seen by the proof as one party per facet (`facetsOf`): the
 * targets that govern its packets there, and the workload party's key as `base`. Absent on the
 * plan's own parties: a workload is governed by every target it is placed on.
 */
export interface PartyFacet {
  /** The targets whose rules govern packets from and to this party (default: its placements). */
  targets?: readonly TargetName[];
  /** The key of the plan party this one is a part of (its intended connectivity is that party's). */
  base?: string;
  /**
   * An attachment variant a target tells apart (`TargetEvaluator.variants`): `<target>:<id>`. Only
   * the target that made it reads it; to every other target the variant is the party itself.
   */
  variant?: string;
}

/**
 * What one end of a path covers of one party. For a segment end, the whole workload; for a peer end,
 * the part of a peer's addresses the end names (a path from `internet` covers all of a narrower
 * public peer such as a partner's range).
 *
 * `addresses` is what a target that sees the party by address sees. A workload known only by
 * identity (GCP service account, pod labels) has unknown addresses: ALL, so that proofs stay sound.
 */
export interface Slice {
  party: Party;
  addresses: AddressSet;
}

/** A path with its ends as slices. Paths sharing an end share its array: never mutate it. */
export interface CompiledPath {
  path: MovementPath;
  from: Slice[];
  to: Slice[];
}

/** A place where an allow path opens traffic that a forbid path names. */
export interface Overlap {
  allow: MovementPath;
  forbid: MovementPath;
  from: Party;
  to: Party;
  connections: ConnectionSet;
}

export interface Plan {
  policy: Policy;
  /** Every workload and peer, workloads first, each in policy order. */
  parties: Party[];
  party(key: string): Party | undefined;
  /** Workload names per segment, in policy order. */
  members: ReadonlyMap<string, readonly string[]>;
  /** Targets with at least one workload placed on them, in TARGETS order. */
  targets: TargetName[];
  allows: CompiledPath[];
  /** Forbid paths in enforce mode: rendered as guardrails, must be blocked on every target. */
  guardrails: CompiledPath[];
  /** Forbid paths in monitor mode: reported, not blocked. */
  monitored: CompiledPath[];
  /** For each monitored forbid (by path name), what enforcing it would close. */
  wouldClose: ReadonlyMap<string, Overlap[]>;
  /**
   * Intended connectivity from party `from` to party `to` (docs/design.md semantics 3): the union of the
   * services of the allow paths whose `from` covers `from` and whose `to` covers `to`, over the
   * covered addresses.
   */
  intended(from: Party, to: Party): ConnectionSet;
  /** Allow paths covering the ordered pair, with the connections each contributes. */
  allowsBetween(from: Party, to: Party): Array<{ path: MovementPath; connections: ConnectionSet }>;
  diagnostics: Diagnostic[];
}
