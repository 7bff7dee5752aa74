import { PLACEMENT_KEYS, TARGET_OF_PLACEMENT, type TargetName } from "../model/types";
import { AddressSet, ConnectionSet, type Packet, protocolName, ServiceSet } from "../net";
import type { Party, Plan, Slice } from "../plan/types";
import { everythingElse } from "../plan/universe";
import { ClassView, type Group, membersOf } from "./classes";
import type { BindingFinding, TargetEvaluator } from "./types";
import type { UnexplainedOpening } from "./unexplained";

/**
 * The proof about the stack as deployed, beside the proof of the policy's paths (DESIGN.md rules 2,
 * 7 and 8): default deny holds between every workload and every endpoint the model does not name
 * (other pods, VMs, NICs, DPU ports, unbound compute, every unclaimed address), both ways; rules
 * blastradius did not render open nothing beyond the policy's intended connectivity; and what
 * reading the stack's binding found.
 */
export interface DeploymentProof {
  /** Openings to or from unmodelled endpoints, and openings rules outside the library make beyond the policy. */
  unexplained: UnexplainedOpening[];
  /** Every target's binding findings, in target order. */
  findings: BindingFinding[];
  /** The unmodelled endpoints the proof covered, per target (every address no one claims included). */
  universe: Array<{ name: string; scope: string; targets: readonly string[] }>;
}

const ALL_SERVICES = ServiceSet.ALL;
/** Where a witness reads best: private addresses (RFC 1918, ULA) rather than 0.0.0.1. */
const PRIVATE = AddressSet.fromCidrs(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]);
const ANY = AddressSet.ALL;

/** A packet of the set, between private addresses where it has such packets. */
function readableSample(set: ConnectionSet): Packet {
  for (const [src, dst] of [
    [PRIVATE, PRIVATE],
    [PRIVATE, ANY],
    [ANY, PRIVATE],
  ] as const) {
    const part = set.intersect(ConnectionSet.of(src, dst, ALL_SERVICES));
    if (!part.isEmpty()) return part.sample()!;
  }
  return set.sample()!;
}

function opening(
  ev: TargetEvaluator,
  set: ConnectionSet,
  from: Group,
  to: Group,
  reason: UnexplainedOpening["reason"],
): UnexplainedOpening {
  const packet = readableSample(set);
  const m = membersOf(packet, from, to);
  const witness: UnexplainedOpening["witness"] = {
    src: packet.src,
    dst: packet.dst,
    protocol: protocolName(packet.protocol, packet.family),
  };
  if (packet.port !== undefined) witness.port = packet.port;
  return {
    target: ev.target,
    from: m.from.party.name,
    to: m.to.party.name,
    services: set.services().toString(),
    by: ev.decide(m.from.party, m.to.party, packet).by,
    witness,
    reason,
  };
}

const ALL_ADDRESSES = AddressSet.ALL;

/**
 * `allowed(from, to)` where the unmodelled side is a class the target sees by address only (the
 * unclaimed addresses, thousands of ranges at scale): asked with that side widened to every address,
 * which the target decides address by address alike (the `partyKey` contract), then cut to the
 * class's addresses, so the rules meet a one-range set instead of the unclaimed space.
 */
const widened = new WeakMap<Group, Party>();
/** A class's representative at every address (one object per class: evaluators cache by it). */
function wide(g: Group): Party {
  let p = widened.get(g);
  if (!p) widened.set(g, (p = { ...g.representative, addresses: ALL_ADDRESSES }));
  return p;
}

function byAddress(ev: TargetEvaluator, from: Group, to: Group, unmodelledIsSource: boolean): ConnectionSet {
  // A target that cuts a given set by its rules (allowedWithin) needs no widening: it asks its
  // verdicts of exactly these packets.
  if (ev.allowedWithin)
    return ev.allowedWithin(
      from.representative,
      to.representative,
      ConnectionSet.of(from.addresses, to.addresses, ALL_SERVICES),
    );
  const f = unmodelledIsSource ? wide(from) : from.representative;
  const t = unmodelledIsSource ? to.representative : wide(to);
  const all = ev.allowed(f, t);
  if (!all.overlapsProduct(from.addresses, to.addresses, ALL_SERVICES)) return ConnectionSet.EMPTY;
  return all.intersect(ConnectionSet.of(from.addresses, to.addresses, ALL_SERVICES));
}

/** What the policy intends between two classes: the union over their members' pairs. */
function intendedBetween(plan: Plan, from: Group, to: Group, within: ConnectionSet): ConnectionSet {
  const parts: ConnectionSet[] = [];
  for (const f of from.slices)
    for (const t of to.slices) {
      if (!within.overlapsProduct(f.addresses, t.addresses, ALL_SERVICES)) continue;
      const want = plan.intended(f.party, t.party);
      if (!want.isEmpty())
        parts.push(want.intersect(ConnectionSet.of(f.addresses, t.addresses, ALL_SERVICES)));
    }
  return ConnectionSet.unionAll(parts);
}

/** What the enforce forbids name between two classes' members (their workloads' or peers' slices). */
function forbiddenBetween(plan: Plan, from: Group, to: Group): ConnectionSet {
  const parts: ConnectionSet[] = [];
  for (const g of plan.guardrails)
    for (const fs of g.from)
      for (const ts of g.to)
        for (const f of from.slices) {
          if (fs.party.key !== (f.party.base ?? f.party.key)) continue;
          for (const t of to.slices) {
            if (ts.party.key !== (t.party.base ?? t.party.key)) continue;
            parts.push(
              ConnectionSet.of(
                fs.addresses.intersect(f.addresses),
                ts.addresses.intersect(t.addresses),
                g.path.services,
              ),
            );
          }
        }
  return ConnectionSet.unionAll(parts);
}

/**
 * Proves the deployed-stack rules over every target's evaluator. Unmodelled endpoints come from
 * each target (`universe`) plus the party for every unclaimed address; workloads are split by
 * facet and by attachment variant exactly as in the path proof, and decided class by class.
 */
export function proveDeployment(
  plan: Plan,
  evaluators: readonly TargetEvaluator[],
  options: {
    /** Placed targets the stack rendered nothing for (`evaluatorsOf`): each an `unrendered` error. */
    unrendered?: readonly TargetName[];
  } = {},
): DeploymentProof {
  const universe = new Map<string, Party>();
  const add = (p: Party) => {
    if (!universe.has(p.key)) universe.set(p.key, p);
  };
  add(everythingElse(plan));
  for (const ev of evaluators) for (const p of ev.universe?.() ?? []) add(p);
  const slice = (p: Party): Slice => ({ party: p, addresses: p.addresses });
  const universeSlices = [...universe.values()].map(slice);
  const workloadSlices = plan.parties.filter((p) => p.kind === "workload").map(slice);
  const peerSlices = plan.parties.filter((p) => p.kind === "peer").map(slice);

  const unexplained: UnexplainedOpening[] = [];
  for (const ev of evaluators) {
    const view = new ClassView(ev);
    const others = view.groupsOf(universeSlices);
    const workloads = view.groupsOf(workloadSlices);
    // Default deny between the unmodelled and every workload, both ways: nothing is intended there.
    // It is the workload's default deny: the targets that enforce the workload must hold it (an
    // unmodelled VM's own target need not stop it reaching a workload that another target guards).
    for (const u of others)
      for (const w of workloads) {
        if (!view.enforces(w)) continue;
        if (ev.relevant && !ev.relevant(u.representative, w.representative)) continue;
        for (const [f, t] of [
          [u, w],
          [w, u],
        ] as const) {
          const set = view.enforces(u) ? view.allowed(f, t) : byAddress(ev, f, t, u === f);
          if (!set.isEmpty()) unexplained.push(opening(ev, set, f, t, "unmodelled"));
        }
      }
    // Rules the library did not render: what they open is checked against the policy in full.
    if (!ev.foreign) continue;
    const peers = view.groupsOf(peerSlices);
    // A class is suspect when any member is: members alike to every rule may still differ in what
    // they carry beyond the policy (two NICs in the same ASGs, one of them by mistake).
    const suspects = workloads.filter((g) => g.slices.some((s) => ev.foreign!(s.party)));
    // Pairs of groups already checked, by identity: a group's key names its class on this target,
    // not its members, so a class of workloads and a class of peers can share one (both seen by
    // address only) and must each be checked.
    const done = new Map<Group, Set<Group>>();
    for (const s of suspects)
      for (const x of [...workloads, ...peers])
        for (const [f, t] of [
          [s, x],
          [x, s],
        ] as const) {
          let row = done.get(f);
          if (!row) done.set(f, (row = new Set()));
          if (row.has(t)) continue;
          row.add(t);
          if (!view.enforces(f) && !view.enforces(t)) continue;
          if (f.representative.kind === "peer" && t.representative.kind === "peer") continue;
          const set = view.allowed(f, t);
          if (set.isEmpty()) continue;
          let excess = set.subtract(intendedBetween(plan, f, t, set));
          // What an enforce forbid names is reported (and fails) as that forbid, open: not twice.
          if (!excess.isEmpty()) excess = excess.subtract(forbiddenBetween(plan, f, t));
          if (!excess.isEmpty()) unexplained.push(opening(ev, excess, f, t, "beyond-policy"));
        }
  }
  const findings: BindingFinding[] = (options.unrendered ?? []).map((target) => {
    const placed = plan.policy.workloads
      .filter((w) =>
        PLACEMENT_KEYS.some((k) => TARGET_OF_PLACEMENT[k] === target && w.placements[k] !== undefined),
      )
      .map((w) => w.name);
    return {
      target,
      kind: "unrendered",
      severity: "error",
      message: `the policy places workloads on ${target} (${placed.join(", ")}) but the stack created no ${target} resources of blastradius: nothing there enforces the policy and the proof would only assume it (add the target's component)`,
    };
  });
  findings.push(...evaluators.flatMap((ev) => [...(ev.findings?.() ?? [])]));
  return {
    unexplained,
    findings,
    universe: [...universe.values()].map((p) => ({
      name: p.name,
      scope: p.kind === "other" ? p.scope : "",
      targets: p.targets ?? [],
    })),
  };
}
