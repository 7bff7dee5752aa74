import type { TargetName } from "../model/types";
import type { AddressSet, ConnectionSet, Packet } from "../net";
import type { Party, Plan } from "../plan/types";

/**
 * A resource as Pulumi would send it: type token, logical name, resolved inputs. This is all an
 * evaluator may read of what was rendered; it never sees a renderer's internal state.
 */
export interface ResourceRecord {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The provider id, when known (rules reference other resources by id). */
  id?: string;
  parent?: string;
  urn?: string;
  /** The provider reference (`<provider urn>::<id>`) when one was given (which cluster a Kubernetes object lands in). */
  provider?: string;
  /**
   * Per input property, the URNs its value came from (as the engine records them): how a reference
   * unknown during a preview (an instance's `primaryNetworkInterfaceId`) is still tied to its source.
   */
  propertyDependencies?: Record<string, string[]>;
}

/** The verdict of a target on one packet, and the rule that decided it. */
export interface Decision {
  verdict: "allow" | "deny";
  /** The deciding rule in the target's own terms, or "default-deny" when no rule matched. */
  by: string;
}

/**
 * What one party's rules on a target can let through at all, seen from that end (see
 * `TargetEvaluator.footprint`): a necessary condition for a connection, not a verdict.
 */
export interface Footprint {
  /** Parties reached by address lie (partly) here; `AddressSet.ALL` when the rules may reach any address. */
  addresses: AddressSet;
  /** The identities the rules name, as `identityNames(other)` spells them. */
  names: readonly string[];
}

/**
 * An independent interpreter of one target's rule language, over what was rendered (or exported
 * from a live system). Stateful targets are modelled by their initiating direction only:
 * allowing a → b lets the replies through and nothing more (docs/design.md semantics 1).
 */
export interface TargetEvaluator {
  readonly target: TargetName;
  /**
   * Optional: how the target knows which compute carries which rules. `bound`: the stack builds
   * compute on this target and the proof reads what each piece carries; `assumed`: it builds none,
   * and the proof assumes the binding contract (every workload carries exactly what the component's
   * helpers give it). Absent: the target has no binding to read (its rule sets apply by address).
   */
  readonly binding?: "bound" | "assumed";
  /** Whether this target enforces the party's traffic at all (it is placed where this target rules). */
  enforces(party: Party): boolean;
  /**
   * Every connection the target lets `from` initiate to `to`, as a set over
   * (from.addresses × to.addresses × services). A target that sees a party by identity
   * decides for all of the party's addresses alike.
   */
  allowed(from: Party, to: Party): ConnectionSet;
  /** The target's verdict on one packet from `from` to `to`, naming the deciding rule. */
  decide(from: Party, to: Party, packet: Packet): Decision;
  /**
   * Optional, for scale: the part of `within` the target lets through, where `within` lies inside
   * (from.addresses × to.addresses × services); always equal to `allowed(from, to) ∩ within`. The
   * proof asks it with the very packets a path opens or forbids, so a target can cut its rules to
   * those first instead of building everything it allows between the two parties.
   * `test/verify/party-keys.test.ts` checks it against `allowed` on random policies.
   */
  allowedWithin?(from: Party, to: Party, within: ConnectionSet): ConnectionSet;
  /**
   * Optional, for scale: a key such that any two parties with the same key get the same verdict on
   * every packet, as source and as destination, whatever their addresses. It names everything of the
   * party this target's rules can see apart from its addresses (the security groups it is in, its
   * service account and network, its labels, its DPU port...); parties the target sees only by
   * address share one key. Parties with the same key must also agree on `enforces`.
   *
   * `prove` then decides once per group of such parties on each end of a path: it asks `allowed`
   * of one member carrying the addresses of the whole group, and restricts the answer to the
   * path's addresses. Without it, every party is its own group. A wrong key makes proofs wrong:
   * `test/verify/party-keys.test.ts` checks, for every target, that proofs with and without keys
   * agree on random policies.
   */
  partyKey?(party: Party): string;
  /**
   * Optional, for scale: multi-hop reachability (`lib/radius`) asks `allowed` only of the pairs a
   * footprint lets through, instead of every pair of party classes. For a party this target
   * enforces: every party `other` with `allowed(party, other)` not empty (`egress`), or with
   * `allowed(other, party)` not empty (`ingress`), has addresses overlapping `addresses` or carries
   * one of `names` (`identityNames(other)`). A larger footprint only costs time; a smaller one makes
   * reachability miss hops, so `test/radius/footprint.test.ts` checks it against `allowed` on random
   * policies. Comes with `identityNames`.
   */
  footprint?(party: Party, direction: "egress" | "ingress"): Footprint;
  /**
   * Optional, with `footprint`: what this target's rules can name the party by besides its
   * addresses (the security groups it carries, its service account and network tags, the
   * selectors picking its pods); none for a party the target sees by address only.
   */
  identityNames?(party: Party): readonly string[];
  /**
   * Optional: the parties this target tells apart within one party, when the party's compute is
   * bound with different attachments (two instances of one workload carrying different security
   * groups, pods of one workload with different labels). Each variant is a copy of the party
   * (same name and addresses) that `allowed`/`decide` read with that attachment; an allow path
   * must hold for every variant, a forbid is open when it is open for any. Absent or empty: the
   * party is one.
   */
  variants?(party: Party): readonly Party[];
  /**
   * Optional: the endpoints this target governs that the model does not name (DESIGN.md rule 8):
   * other pods of a namespace, other VMs of a network, other NICs of a VNet, other ports of a DPU,
   * compute the stack creates but binds to no workload. Default deny must hold between each of
   * them and every workload, both ways.
   */
  universe?(): readonly Party[];
  /**
   * Optional, for scale: whether default deny between the unmodelled party `u` (from `universe`) and
   * the workload `w` needs its own check on this target. False when the target sees `u` from `w`'s
   * rules by address only and `u`'s addresses are unclaimed: the party for every unclaimed address
   * (which no target governs, so it passes any side of its own) covers it. Absent: always checked.
   */
  relevant?(u: Party, w: Party): boolean;
  /** Optional: what reading the stack's attachment found (see `BindingFinding`). */
  findings?(): readonly BindingFinding[];
  /**
   * Optional: whether a rule that blastradius did not render applies to the party (on its own
   * side: its groups, its NICs, its pods). Such a party's connectivity is checked against the
   * policy's intended connectivity in full, not only on the policy's paths.
   */
  foreign?(party: Party): boolean;
}

/**
 * Something the binding of compute to workloads shows about a stack as deployed. `error`s fail the
 * review (they can open traffic, or leave the proof blind); `warning`s are reported.
 */
export interface BindingFinding {
  target: TargetName;
  kind: /** A rule set rendered for a segment or workload (a group, an ASG) that no bound compute carries. */
    | "unattached"
    /** A workload placed on the target with no compute bound to it, in a stack that binds compute there. */
    | "unbound-workload"
    /** Compute in a segmented scope that no workload is bound to. */
    | "unbound-compute"
    /** Bound compute that also carries rules blastradius did not render. */
    | "foreign-rules"
    /** An attachment the proof cannot read (a group not in the stack, an id unknown in a preview). */
    | "unknown"
    /** A target the policy places workloads on, where the stack created nothing of it. */
    | "unrendered";
  severity: "error" | "warning";
  /** The compute or rule-set resource concerned (its Pulumi name), when there is one. */
  resource?: string;
  workload?: string;
  message: string;
}

/**
 * How much of one provider limit a rendering uses, in one place the limit applies (a security
 * group and direction, an NSG, a DPU...).
 */
export interface QuotaUsage {
  target: TargetName;
  /** The limit's id, stable for `--quota <id>=<n>` overrides: "aws.rulesPerSecurityGroup". */
  quota: string;
  /** What the limit counts, in the provider's words: "inbound rules per security group (IPv4)". */
  description: string;
  /** Where it applies, in the target's terms: "security group app-web (vpc ml)", "NSG core", "dpu-a". */
  scope: string;
  used: number;
  limit: number;
  /**
   * The renderer splits its output at this limit (ten service accounts per GCP rule, then another
   * rule), so a full chunk is normal: no warning near it. Going over it is still an error.
   */
  split?: boolean;
}

/** What a target's rendering costs: its rules in the target's own unit, its resources, its limits. */
export interface TargetUsage {
  /**
   * Rules in the target's own unit: security-group rules (AWS), firewall rules (GCP), security rules
   * (Azure), ingress/egress rule entries times peers/ports blocks... (Cilium: one per `fromX`/`toX`
   * peer and `toPorts` entry), OpenFlow flows (BlueField). Each target's docs say exactly.
   */
  rules: number;
  /** Of `rules`, the deny rules rendered for enforce forbids (0 on a target without deny rules). */
  guardrailRules: number;
  /** Provider resources (components excluded). */
  resources: number;
  /** Every limit in every place it applies (not only the tight ones): the review picks. */
  quotas: QuotaUsage[];
}

/** Overrides of default limits by quota id (a raised AWS quota, a larger DPU flow table). */
export type QuotaLimits = Readonly<Record<string, number>>;

/** How the proof finds a target's resources among all recorded ones and builds its evaluator. */
export interface TargetAdapter {
  readonly target: TargetName;
  owns(resource: ResourceRecord): boolean;
  /**
   * Resources the evaluator also reads though they are not its rules: the compute the binding
   * contract binds to workloads (instances, network interfaces, pods...) and what locates it
   * (subnets). Not counted as the target's resources.
   */
  reads?(resource: ResourceRecord): boolean;
  /** The evaluator over the records the target owns and reads. */
  evaluator(resources: readonly ResourceRecord[], plan: Plan): TargetEvaluator;
  /** Rules, resources and limit usage of these (the target's own) resources; `limits` overrides defaults. */
  usage?(resources: readonly ResourceRecord[], plan: Plan, limits?: QuotaLimits): TargetUsage;
}
