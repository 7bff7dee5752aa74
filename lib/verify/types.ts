import type { TargetName } from "../model/types";
import type { ConnectionSet, Packet } from "../net";
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
}

/** The verdict of a target on one packet, and the rule that decided it. */
export interface Decision {
  verdict: "allow" | "deny";
  /** The deciding rule in the target's own terms, or "default-deny" when no rule matched. */
  by: string;
}

/**
 * An independent interpreter of one target's rule language, over what was rendered (or exported
 * from a live system). Stateful targets are modelled by their initiating direction only:
 * allowing a → b lets the replies through and nothing more (docs/design.md semantics 1).
 */
export interface TargetEvaluator {
  readonly target: TargetName;
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
  evaluator(resources: readonly ResourceRecord[], plan: Plan): TargetEvaluator;
  /** Rules, resources and limit usage of these (the target's own) resources; `limits` overrides defaults. */
  usage?(resources: readonly ResourceRecord[], plan: Plan, limits?: QuotaLimits): TargetUsage;
}
