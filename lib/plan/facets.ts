import {
  declaredAddresses,
  PLACEMENT_KEYS,
  type PlacementKey,
  TARGET_OF_PLACEMENT,
  type TargetName,
  type Workload,
} from "../model/types";
import { AddressSet } from "../net";
import type { Party, Slice } from "./types";

/*
 * A workload placed on several targets is not one endpoint seen by all of them. Its placements
 * declare addresses per target: where two placements declare the same addresses (a trainer on AWS
 * behind a BlueField DPU), one compute is governed by both enforcement points; where they declare
 * different addresses (an ETL job with instances on AWS and on GCP), they are different computes,
 * and AWS decides nothing about a packet from the GCP instances. A facet is one such part of a
 * workload: a set of its addresses and the targets that govern every packet from or to them.
 *
 * A placement that declares no addresses (a GCP service account, pod labels) governs all of the
 * workload's addresses: the workload's compute there is known by identity only, so it may hold any
 * of them. A workload that declares no addresses at all is one facet over every address (the plan's
 * convention for identity-only workloads).
 */

/** One part of a workload: addresses, and the targets that govern packets from and to them. */
export interface Facet {
  addresses: AddressSet;
  /** In TARGETS order of the placements (`kubernetes` is target `cilium`). */
  targets: readonly TargetName[];
}

const facetCache = new WeakMap<Workload, readonly Facet[]>();
const TARGET_ORDER = [...new Set(PLACEMENT_KEYS.map((k) => TARGET_OF_PLACEMENT[k]))];

/**
 * The facets of a workload: the atoms of its placements' declared address sets, each governed by
 * the placements that declare all of it, plus every placement that declares none. Disjoint; their
 * union is the workload's addresses (every address when it declares none). Deterministic order
 * (ascending lowest address, IPv4 first).
 */
export function facetsOf(w: Workload): readonly Facet[] {
  let facets = facetCache.get(w);
  if (facets) return facets;
  const declaredLists = declaredAddresses(w.placements);
  // The common case: every placement declares the same list (or there is one placement): one facet,
  // governed by all of them, without parsing anything again.
  const texts = declaredLists.map((d) => d.entries.join(","));
  if (texts.length > 0 && texts[0] !== "" && texts.every((t) => t === texts[0])) {
    const all = declaredLists.map((d) => TARGET_OF_PLACEMENT[d.key]);
    facets = [{ addresses: w.addresses, targets: TARGET_ORDER.filter((t) => all.includes(t)) }];
    facetCache.set(w, facets);
    return facets;
  }
  const declared: Array<{ key: PlacementKey; addresses: AddressSet }> = [];
  const identityOnly: PlacementKey[] = [];
  for (const d of declaredLists) {
    const entries = d.entries.filter((e) => typeof e === "string");
    let addresses = AddressSet.EMPTY;
    try {
      addresses = entries.length > 0 ? AddressSet.fromCidrs(entries) : AddressSet.EMPTY;
    } catch {
      // Invalid entries were reported by validation; a plan is never built from them.
    }
    if (addresses.isEmpty()) identityOnly.push(d.key);
    else declared.push({ key: d.key, addresses });
  }
  const targetsOf = (keys: readonly PlacementKey[]): TargetName[] => {
    const set = new Set(keys.map((k) => TARGET_OF_PLACEMENT[k]));
    return PLACEMENT_KEYS.map((k) => TARGET_OF_PLACEMENT[k]).filter(
      (t, i, all) => set.has(t) && all.indexOf(t) === i,
    );
  };
  if (declared.length === 0) {
    facets = [
      { addresses: w.addresses.isEmpty() ? AddressSet.ALL : w.addresses, targets: targetsOf(identityOnly) },
    ];
  } else if (declared.every((d) => d.addresses.equals(declared[0]!.addresses))) {
    // The common case: one compute, every placement sees it.
    facets = [
      { addresses: w.addresses, targets: targetsOf([...declared.map((d) => d.key), ...identityOnly]) },
    ];
  } else {
    // Atoms by membership: split the union by each declared set in turn.
    let atoms: Array<{ addresses: AddressSet; keys: PlacementKey[] }> = [
      { addresses: w.addresses, keys: [] },
    ];
    for (const d of declared) {
      const next: typeof atoms = [];
      for (const a of atoms) {
        const inside = a.addresses.intersect(d.addresses);
        const outside = a.addresses.subtract(d.addresses);
        if (!inside.isEmpty()) next.push({ addresses: inside, keys: [...a.keys, d.key] });
        if (!outside.isEmpty()) next.push({ addresses: outside, keys: a.keys });
      }
      atoms = next;
    }
    facets = atoms
      .map((a) => ({ addresses: a.addresses, targets: targetsOf([...a.keys, ...identityOnly]) }))
      .sort((a, b) => compareLowest(a.addresses, b.addresses));
  }
  facetCache.set(w, facets);
  return facets;
}

function compareLowest(a: AddressSet, b: AddressSet): number {
  const a4 = a.family(4).min();
  const b4 = b.family(4).min();
  if (a4 !== undefined || b4 !== undefined) {
    if (a4 === undefined) return 1;
    if (b4 === undefined) return -1;
    return a4 < b4 ? -1 : a4 > b4 ? 1 : 0;
  }
  const a6 = a.family(6).min() ?? 0n;
  const b6 = b.family(6).min() ?? 0n;
  return a6 < b6 ? -1 : a6 > b6 ? 1 : 0;
}

/**
 * Whether `target` governs the party's packets: a workload party (or facet) placed on the target
 * and, for a facet, one the target governs. Peers and unmodelled parties are governed as their
 * `targets` say (none when absent).
 */
export function governs(party: Party, target: TargetName): boolean {
  if (party.targets !== undefined) return party.targets.includes(target);
  if (party.kind !== "workload") return false;
  const p = party.workload.placements;
  switch (target) {
    case "aws":
      return p.aws !== undefined;
    case "gcp":
      return p.gcp !== undefined;
    case "azure":
      return p.azure !== undefined;
    case "cilium":
      return p.kubernetes !== undefined;
    case "bluefield":
      return p.bluefield !== undefined;
  }
}

const facetPartyCache = new WeakMap<Party, readonly Party[]>();

/**
 * The parties the proof sees of a party: a workload party with one facet (every placement governs
 * all of it) is itself; one with several is one party per facet. Facets share the workload's name
 * (verdicts name the workload) and carry its key as `base` (intended connectivity is the
 * workload's); their keys are `<workload key>#<n>`.
 */
export function facetParties(party: Party): readonly Party[] {
  if (party.kind !== "workload" || party.targets !== undefined) return [party];
  let out = facetPartyCache.get(party);
  if (out) return out;
  const facets = facetsOf(party.workload);
  out =
    facets.length === 1
      ? [party]
      : facets.map((f, i) => ({
          ...party,
          key: `${party.key}#${i}`,
          base: party.key,
          addresses: f.addresses,
          targets: f.targets,
        }));
  facetPartyCache.set(party, out);
  return out;
}

/** A slice of a path's end, split by facet (each restricted to the slice's addresses). */
export function facetSlices(slice: Slice): Slice[] {
  const parties = facetParties(slice.party);
  if (parties.length === 1) return [slice];
  const out: Slice[] = [];
  for (const party of parties) {
    const addresses = party.addresses.intersect(slice.addresses);
    if (!addresses.isEmpty()) out.push({ party, addresses });
  }
  return out;
}

/**
 * The addresses of a party that `target` does not govern: its facets on other targets only (a
 * workload on AWS and GCP at different addresses is seen by AWS at its GCP addresses by address).
 * Empty for a party every placement governs. Renderers name these by address beside the identity
 * they give the governed part.
 */
export function addressesOutside(party: Party, target: TargetName): AddressSet {
  if (party.kind !== "workload" || party.targets !== undefined || facetsOf(party.workload).length === 1)
    return AddressSet.EMPTY;
  const parts = facetParties(party).filter((f) => f.targets !== undefined && !f.targets.includes(target));
  return parts.length === 0 ? AddressSet.EMPTY : AddressSet.unionAll(parts.map((f) => f.addresses));
}
