import { AddressSet } from "../net";
import type { Party, Plan } from "./types";

const unclaimedCache = new WeakMap<Plan, AddressSet>();

/**
 * Every address no workload declares and no peer stands for: where endpoints the model does not
 * name live (other instances of a VPC, other VMs, other pods, other hosts). Workloads known by
 * identity only claim no address here.
 */
export function unclaimedAddresses(plan: Plan): AddressSet {
  let set = unclaimedCache.get(plan);
  if (!set) {
    const claimed = AddressSet.unionAll([
      ...plan.policy.workloads.map((w) => w.addresses),
      ...plan.policy.peers.map((p) => p.addresses),
    ]);
    set = AddressSet.ALL.subtract(claimed);
    unclaimedCache.set(plan, set);
  }
  return set;
}

const everythingCache = new WeakMap<Plan, Party>();

/**
 * The party for every unclaimed address that no target governs in the stack: hosts the model does
 * not name, seen by every target by address only. Default deny must hold between it and every
 * workload (DESIGN.md rule 8).
 */
export function everythingElse(plan: Plan): Party {
  let p = everythingCache.get(plan);
  if (!p) {
    p = {
      kind: "other",
      name: "unmodelled addresses",
      key: "other:addresses",
      addresses: unclaimedAddresses(plan),
      scope: "every address no workload or peer claims",
      targets: [],
    };
    everythingCache.set(plan, p);
  }
  return p;
}
