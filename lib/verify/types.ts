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
 * allowing a → b lets the replies through and nothing more (DESIGN.md semantics 1).
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
}

/** How the proof finds a target's resources among all recorded ones and builds its evaluator. */
export interface TargetAdapter {
  readonly target: TargetName;
  owns(resource: ResourceRecord): boolean;
  evaluator(resources: readonly ResourceRecord[], plan: Plan): TargetEvaluator;
}
