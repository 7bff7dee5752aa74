import { AddressSet, type ConnectionSet } from "../net";
import type { Party } from "../plan/types";
import type { Footprint } from "./types";

/**
 * A party no target enforces, at every address: what a side's rules let through towards "anyone,
 * seen by address". Evaluators use it to compute the address part of a footprint
 * (`TargetEvaluator.footprint`) with their own `allowed`.
 */
export const ANY_ADDRESS: Party = {
  kind: "peer",
  name: "(any address)",
  key: "peer:\u0000any-address",
  peer: { name: "(any address)", cidrs: [], addresses: AddressSet.ALL, builtin: false },
  addresses: AddressSet.ALL,
};

/**
 * The footprint of a target whose verdicts on a party's traffic depend only on the other end's
 * addresses (never on its identity): what `allowed` lets the party exchange with `ANY_ADDRESS`.
 * For such a target, allowed(party, other) lies within allowed(party, ANY_ADDRESS) restricted to
 * the other's addresses (the other's own rules can only narrow it).
 */
export function addressFootprint(
  allowed: (from: Party, to: Party) => ConnectionSet,
  party: Party,
  direction: "egress" | "ingress",
): Footprint {
  return direction === "egress"
    ? { addresses: allowed(party, ANY_ADDRESS).destinations(), names: [] }
    : { addresses: allowed(ANY_ADDRESS, party).sources(), names: [] };
}
