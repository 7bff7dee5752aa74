import { type Diagnostic, DiagnosticSink, type DocPath } from "../model/diagnostics";
import { selectorMatches } from "../model/selector";
import {
  declaredAddresses,
  type LabelSelector,
  type MovementPath,
  type Policy,
  TARGETS,
  type Workload,
} from "../model/types";
import { AddressSet, ConnectionSet, ServiceSet } from "../net";
import { checkChains } from "./chains";
import { identityScope, targetsOf } from "./placement";
import type { CompiledPath, Overlap, Party, Plan, Slice } from "./types";

export interface CompileOptions {
  /** File name for diagnostics. */
  file?: string;
  /** Where a path sits in the document, for diagnostics (default `paths[<name>]`). */
  pathLocation?: (pathName: string) => DocPath;
}

const workloadKey = (name: string) => `workload:${name}`;
const peerKey = (name: string) => `peer:${name}`;
const pairKey = (a: Party, b: Party) => `${a.key}\u0000${b.key}`;

/**
 * Compiles a validated policy into the plan every renderer and the proof read: segment membership,
 * which parties each path covers, intended connectivity, and the conflicts of docs/design.md rule 4.
 */
export function compile(policy: Policy, options: CompileOptions = {}): Plan {
  const sink = new DiagnosticSink(options.file);
  const at = options.pathLocation ?? ((name: string) => ["paths", name]);

  const parties: Party[] = [];
  const byKey = new Map<string, Party>();
  for (const workload of policy.workloads) {
    const party: Party = {
      kind: "workload",
      name: workload.name,
      key: workloadKey(workload.name),
      workload,
      // Unknown addresses (identity only) stand for every address: sound for proofs.
      addresses: workload.addresses.isEmpty() ? AddressSet.ALL : workload.addresses,
    };
    parties.push(party);
    byKey.set(party.key, party);
  }
  for (const peer of policy.peers) {
    const party: Party = {
      kind: "peer",
      name: peer.name,
      key: peerKey(peer.name),
      peer,
      addresses: peer.addresses,
    };
    parties.push(party);
    byKey.set(party.key, party);
  }

  const members = new Map<string, string[]>();
  const candidates = labelIndex(policy.workloads);
  for (const segment of policy.segments) {
    const names = candidates(segment.selector)
      .filter((w) => selectorMatches(segment.selector, w.labels))
      .map((w) => w.name);
    members.set(segment.name, names);
    if (names.length === 0)
      sink.warn(["segments", segment.name], "the segment matches no workload", {
        subject: `segment "${segment.name}"`,
        hint: "check its labels; paths through it open or forbid nothing",
      });
  }
  const peersByName = new Map(policy.peers.map((p) => [p.name, p]));

  const slicesOf = (endpoint: string): Slice[] => {
    const names = members.get(endpoint);
    if (names)
      return names.map((n) => ({
        party: byKey.get(workloadKey(n))!,
        addresses: byKey.get(workloadKey(n))!.addresses,
      }));
    const peer = peersByName.get(endpoint);
    if (!peer) return [];
    // Every peer whose addresses the end covers, restricted to what it covers.
    const out: Slice[] = [];
    for (const other of policy.peers) {
      const shared = other.addresses.intersect(peer.addresses);
      if (!shared.isEmpty()) out.push({ party: byKey.get(peerKey(other.name))!, addresses: shared });
    }
    return out;
  };

  // An end's slices depend on its name only: paths that share an end share one array (the proof
  // groups an end's parties once per target, not once per path).
  const slicesByEnd = new Map<string, Slice[]>();
  const slicesOfEnd = (endpoint: string): Slice[] => {
    let slices = slicesByEnd.get(endpoint);
    if (!slices) slicesByEnd.set(endpoint, (slices = slicesOf(endpoint)));
    return slices;
  };
  const compiled = (path: MovementPath): CompiledPath => ({
    path,
    from: slicesOfEnd(path.from),
    to: slicesOfEnd(path.to),
  });
  const allows = policy.paths.filter((p) => p.verdict === "allow").map(compiled);
  const guardrails = policy.paths.filter((p) => p.verdict === "forbid" && p.mode === "enforce").map(compiled);
  const monitored = policy.paths.filter((p) => p.verdict === "forbid" && p.mode === "monitor").map(compiled);

  // Index of allow paths by their ends, and of the ends by the parties they cover, so pair queries
  // never scan every path (and the index grows with ends, not with paths times members).
  const endsOf = new Map<string, Map<string, Slice>>();
  for (const [end, slices] of slicesByEnd)
    for (const s of slices) {
      let ends = endsOf.get(s.party.key);
      if (!ends) endsOf.set(s.party.key, (ends = new Map()));
      ends.set(end, s);
    }
  const allowsByEnds = new Map<string, CompiledPath[]>();
  const allowOrder = new Map<CompiledPath, number>();
  allows.forEach((c, i) => {
    const key = `${c.path.from}\u0000${c.path.to}`;
    const list = allowsByEnds.get(key);
    if (list) list.push(c);
    else allowsByEnds.set(key, [c]);
    allowOrder.set(c, i);
  });

  /** Allow paths covering the ordered pair, in policy order, with the slices of the pair. */
  const allowsCovering = (from: Party, to: Party) => {
    const out: Array<{ compiled: CompiledPath; from: Slice; to: Slice }> = [];
    // A facet (part of a workload placed on several targets) has its workload's paths.
    const fromEnds = endsOf.get(from.base ?? from.key);
    const toEnds = endsOf.get(to.base ?? to.key);
    if (!fromEnds || !toEnds) return out;
    for (const [fe, fromSlice] of fromEnds)
      for (const [te, toSlice] of toEnds)
        for (const c of allowsByEnds.get(`${fe}\u0000${te}`) ?? [])
          out.push({ compiled: c, from: fromSlice, to: toSlice });
    if (out.length > 1) out.sort((a, b) => allowOrder.get(a.compiled)! - allowOrder.get(b.compiled)!);
    return out;
  };

  const allowsBetween = (from: Party, to: Party) =>
    allowsCovering(from, to).map(({ compiled: c, from: f, to: t }) => ({
      path: c.path,
      connections: ConnectionSet.of(f.addresses, t.addresses, c.path.services),
    }));
  const intendedCache = new Map<string, ConnectionSet>();
  const intended = (from: Party, to: Party) => {
    const key = pairKey(from, to);
    let set = intendedCache.get(key);
    if (!set) {
      set = ConnectionSet.unionAll(allowsBetween(from, to).map((a) => a.connections));
      // A facet's intended connectivity is its workload's, over the facet's addresses.
      if (from.base !== undefined || to.base !== undefined)
        set = set.intersect(ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL));
      intendedCache.set(key, set);
    }
    return set;
  };

  /** Where an allow path opens what forbid `f` names. */
  const overlapsWith = (f: CompiledPath): Overlap[] => {
    const out: Overlap[] = [];
    // Most forbids share no allow path with either end: find out from the index before any pair.
    const endsOfSide = (slices: readonly Slice[]) => {
      const ends = new Set<string>();
      for (const sl of slices) for (const e of endsOf.get(sl.party.key)?.keys() ?? []) ends.add(e);
      return ends;
    };
    const toEnds = endsOfSide(f.to);
    let shared = false;
    for (const fe of endsOfSide(f.from))
      for (const te of toEnds) if (allowsByEnds.has(`${fe}\u0000${te}`)) shared = true;
    if (!shared) return out;
    for (const fs of f.from) {
      for (const ts of f.to) {
        const forbidden = ConnectionSet.of(fs.addresses, ts.addresses, f.path.services);
        for (const a of allowsBetween(fs.party, ts.party)) {
          const connections = a.connections.intersect(forbidden);
          if (!connections.isEmpty())
            out.push({ allow: a.path, forbid: f.path, from: fs.party, to: ts.party, connections });
        }
      }
    }
    return out;
  };

  // Rule 4: an allow overlapping an enforce forbid is an error naming both paths and the overlap.
  for (const g of guardrails) {
    const byAllow = new Map<string, Overlap[]>();
    for (const o of overlapsWith(g)) {
      let list = byAllow.get(o.allow.name);
      if (!list) byAllow.set(o.allow.name, (list = []));
      list.push(o);
    }
    for (const [allowName, overlaps] of byAllow) {
      const pairs = overlaps
        .slice(0, 3)
        .map((o) => `${o.from.name} → ${o.to.name} (${o.connections.services()})`);
      const more = overlaps.length > 3 ? ` and ${overlaps.length - 3} more pair(s)` : "";
      sink.error(
        [...at(allowName)],
        `allow path "${allowName}" overlaps enforce forbid "${g.path.name}": ${pairs.join(", ")}${more}`,
        {
          subject: `path "${allowName}"`,
          hint: `forbidden wins: narrow "${allowName}" (its from, to or services), or set "${g.path.name}" to mode: monitor while you migrate`,
        },
      );
    }
  }

  // Rule 5: a monitored forbid may overlap allows; record what enforcing it would close.
  const wouldClose = new Map<string, Overlap[]>();
  for (const m of monitored) wouldClose.set(m.path.name, overlapsWith(m));

  // Rule 10: a chain of allow paths reaching what a reach: any forbid forbids.
  checkChains([...guardrails, ...monitored], allows, policy, members, sink, at);
  checkIdentities(policy, members, sink);
  checkVisibility(allows, sink, at);
  checkForbidsEnforceable(guardrails, sink, at);
  warnSharedAddresses(policy, sink);

  const placed = new Set(policy.workloads.flatMap(targetsOf));
  return {
    policy,
    parties,
    party: (key) => byKey.get(key),
    members,
    targets: TARGETS.filter((t) => placed.has(t)),
    allows,
    guardrails,
    monitored,
    wouldClose,
    intended,
    allowsBetween,
    diagnostics: sink.items,
  };
}

/**
 * Workloads that may match a selector, in policy order: those carrying the rarest of its
 * matchLabels (or In values); every workload when it has neither. The caller still evaluates the
 * selector on each candidate, so this only saves work, never changes membership.
 */
function labelIndex(workloads: readonly Workload[]): (selector: LabelSelector) => readonly Workload[] {
  const postings = new Map<string, Workload[]>();
  for (const w of workloads) {
    for (const [k, v] of Object.entries(w.labels)) {
      const key = `${k}=${v}`;
      let list = postings.get(key);
      if (!list) postings.set(key, (list = []));
      list.push(w);
    }
  }
  return (selector) => {
    let best: readonly Workload[] = workloads;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
      const list = postings.get(`${k}=${v}`) ?? [];
      if (list.length < best.length) best = list;
    }
    for (const req of selector.matchExpressions ?? []) {
      if (req.operator !== "In") continue;
      const lists = req.values!.map((v) => postings.get(`${req.key}=${v}`) ?? []);
      if (lists.reduce((n, l) => n + l.length, 0) < best.length) {
        const chosen = new Set(lists.flat());
        best = workloads.filter((w) => chosen.has(w));
      }
    }
    return best;
  };
}

/** Addresses as written, or none when they do not parse (validation reported them already). */
function parsedOrEmpty(entries: readonly string[]): AddressSet {
  try {
    return AddressSet.fromCidrs(entries);
  } catch {
    return AddressSet.EMPTY;
  }
}

/**
 * DESIGN.md rule 9: the identities targets enforce by must tell workloads apart. Two workloads with
 * different segment memberships must not share a GCP service account in one network (firewall rules
 * target the account: one would get the other's access), Kubernetes pod labels in one namespace (a
 * pod is the workload whose podLabels it carries), or a BlueField DPU port at overlapping addresses
 * (flows match the port and the addresses). Security groups and ASGs are rendered per segment, so
 * AWS and Azure have no identity to share.
 */
function checkIdentities(
  policy: Policy,
  members: ReadonlyMap<string, readonly string[]>,
  sink: DiagnosticSink,
): void {
  const segments = new Map<string, string[]>();
  for (const [segment, names] of members)
    for (const n of names) {
      const l = segments.get(n);
      if (l) l.push(segment);
      else segments.set(n, [segment]);
    }
  const membership = (w: Workload) => (segments.get(w.name) ?? []).join(", ") || "no segment";
  const index = new Map(policy.workloads.map((w, i) => [w, i] as const));
  const report = (w: Workload, other: Workload, field: DocPath, what: string, why: string, hint: string) =>
    sink.error(
      ["workloads", index.get(w)!, "placements", ...field],
      `workload "${w.name}" shares ${what} with workload "${other.name}", but their segments differ (${w.name}: ${membership(w)}; ${other.name}: ${membership(other)}): ${why}`,
      { subject: `workload "${w.name}"`, hint },
    );
  const first = new Map<string, Workload>();
  for (const w of policy.workloads) {
    const g = w.placements.gcp;
    if (g?.serviceAccount) {
      const key = `gcp\u0000${g.network}\u0000${g.serviceAccount}`;
      const other = first.get(key);
      if (!other) first.set(key, w);
      else if (membership(other) !== membership(w))
        report(
          w,
          other,
          ["gcp", "serviceAccount"],
          `service account ${g.serviceAccount} in GCP network ${g.network}`,
          "GCP firewall rules target the account, so each would get the other's access",
          "run each workload as its own service account",
        );
    }
    const k = w.placements.kubernetes;
    if (k) {
      const labels = Object.entries(k.podLabels)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([a, b]) => `${a}=${b}`)
        .join(",");
      const key = `k8s\u0000${k.cluster}\u0000${k.namespace}\u0000${labels}`;
      const other = first.get(key);
      if (!other) first.set(key, w);
      else
        sink.error(
          ["workloads", index.get(w)!, "placements", "kubernetes", "podLabels"],
          `workload "${w.name}" has the same podLabels (${labels}) as workload "${other.name}" in cluster ${k.cluster}, namespace ${k.namespace}: a pod is the workload whose podLabels it carries, and Cilium cannot tell their pods apart`,
          { subject: `workload "${w.name}"`, hint: "give one of them a distinguishing pod label" },
        );
    }
  }
  // BlueField: per DPU host and port, workloads whose addresses overlap.
  const byPort = new Map<string, Workload[]>();
  for (const w of policy.workloads) {
    const b = w.placements.bluefield;
    if (!b) continue;
    for (const h of new Set(b.hosts)) {
      const key = `${h}\u0000${b.port}`;
      const l = byPort.get(key);
      if (l) l.push(w);
      else byPort.set(key, [w]);
    }
  }
  const reported = new Set<string>();
  for (const [key, list] of byPort)
    for (let i = 0; i < list.length; i++)
      for (let j = 0; j < i; j++) {
        const [w, other] = [list[i]!, list[j]!];
        const a = parsedOrEmpty(w.placements.bluefield!.addresses);
        const b = parsedOrEmpty(other.placements.bluefield!.addresses);
        if (
          !a.overlaps(b) ||
          membership(w) === membership(other) ||
          reported.has(`${w.name}\u0000${other.name}`)
        )
          continue;
        reported.add(`${w.name}\u0000${other.name}`);
        const [host, port] = key.split("\u0000");
        report(
          w,
          other,
          ["bluefield", "addresses"],
          `DPU port ${port} on ${host} at overlapping addresses (${a.intersect(b)})`,
          "the DPU's flows match the port and the addresses, so they cannot tell the two apart there",
          "give the workloads disjoint addresses behind the port, or different ports",
        );
      }
}

/**
 * An allow path between workloads in different identity scopes needs addresses: the target on one
 * side can only see the other side by address.
 */
function checkVisibility(allows: CompiledPath[], sink: DiagnosticSink, at: (name: string) => DocPath): void {
  for (const c of allows) {
    const reported = new Set<string>();
    const check = (side: "from" | "to", own: Slice[], other: Slice[]) => {
      for (const s of own) {
        if (s.party.kind !== "workload" || !s.party.workload.addresses.isEmpty()) continue;
        const w = s.party.workload;
        // Declared but invalid addresses, or no placement at all, were reported by validation already.
        if (declaresAddresses(w) || Object.keys(w.placements).length === 0) continue;
        for (const o of other) {
          if (o.party.kind !== "workload") continue;
          const ow = o.party.workload;
          // The targets enforcing on the other side see `w` by identity only inside a shared scope.
          const seenBy = targetsOf(ow).filter((t) => {
            const scope = identityScope(w, t);
            return scope === undefined || scope !== identityScope(ow, t);
          });
          for (const t of seenBy) {
            const key = `${w.name}/${t}`;
            if (reported.has(key)) continue;
            reported.add(key);
            const placement = Object.keys(w.placements)[0];
            sink.error(
              [...at(c.path.name), side],
              `workload "${w.name}" has no addresses, but ${t} (where "${o.party.name}" is) can only see it by address`,
              {
                subject: `path "${c.path.name}"`,
                hint: `add placements.${placement}.cidrs to workload "${w.name}"`,
              },
            );
          }
        }
      }
    };
    check("from", c.from, c.to);
    check("to", c.to, c.from);
  }
}

function declaresAddresses(w: Workload): boolean {
  return declaredAddresses(w.placements).some((d) => d.entries.length > 0);
}

function checkForbidsEnforceable(
  guardrails: CompiledPath[],
  sink: DiagnosticSink,
  at: (name: string) => DocPath,
) {
  for (const g of guardrails) {
    const placed = [...g.from, ...g.to].some((s) => s.party.kind === "workload");
    if (!placed)
      sink.warn([...at(g.path.name)], "no workload is on either end, so no target enforces this forbid", {
        subject: `path "${g.path.name}"`,
        hint: "check the segments' selectors",
      });
  }
}

/**
 * Targets that see workloads by address cannot tell apart two workloads that share addresses.
 * A sweep over all ranges, so that thousands of workloads cost n log n, not n².
 */
function warnSharedAddresses(policy: Policy, sink: DiagnosticSink) {
  const sharing = new Map<number, Set<number>>();
  for (const family of [4, 6] as const) {
    const ranges: Array<{ lo: bigint; hi: bigint; owner: number }> = [];
    policy.workloads.forEach((w, owner) => {
      for (const [lo, hi] of w.addresses.family(family).ranges) ranges.push({ lo, hi, owner });
    });
    ranges.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : a.owner - b.owner));
    let active: typeof ranges = [];
    for (const r of ranges) {
      active = active.filter((a) => a.hi >= r.lo);
      for (const a of active) {
        if (a.owner === r.owner) continue;
        const [i, j] = a.owner < r.owner ? [a.owner, r.owner] : [r.owner, a.owner];
        let set = sharing.get(i);
        if (!set) sharing.set(i, (set = new Set()));
        set.add(j);
      }
      active.push(r);
    }
  }
  for (const [i, others] of [...sharing].sort((a, b) => a[0] - b[0])) {
    const w = policy.workloads[i]!;
    const names = [...others].sort((a, b) => a - b).map((j) => `"${policy.workloads[j]!.name}"`);
    sink.warn(
      ["workloads", i],
      `shares addresses with workload${names.length > 1 ? "s" : ""} ${names.join(", ")}`,
      {
        subject: `workload "${w.name}"`,
        hint: "targets that see them by address cannot tell them apart; the proof shows any path this opens",
      },
    );
  }
}

export type { Diagnostic };
