import type { DiagnosticSink, DocPath } from "../model/diagnostics";
import type { Policy } from "../model/types";
import { membersOf, nonPivotWorkloads } from "./pivot";
import type { CompiledPath, Party, Slice } from "./types";

/** One hop of a chain of allow paths: `from` → `to`, opened by `allow`. */
export interface IntendedHop {
  from: Party;
  to: Party;
  allow: CompiledPath;
}

/**
 * The shortest chain of two or more allow paths that a `reach: any` forbid forbids (DESIGN.md rule 10),
 * in the model: each hop is an allow path whose `from` covers the previous party and whose `to`
 * covers the next; every party between the ends pivots (a workload, not `pivot: false`, not in the
 * forbid's `through` segments); the first hop leaves the part of a peer the forbid's `from` names,
 * and the last hop reaches the part of its `to` the forbid names over a service it forbids.
 *
 * A chain of one allow path is an overlap (DESIGN.md rule 4) and is reported as one, so it is not
 * looked for here. Undefined when there is no longer chain either.
 */
export function intendedChain(
  forbid: CompiledPath,
  allows: readonly CompiledPath[],
  policy: Policy,
  members: ReadonlyMap<string, readonly string[]>,
): IntendedHop[] | undefined {
  const fromIndex = new Map<string, Array<{ allow: CompiledPath; slice: Slice }>>();
  const toIndex = new Map<string, Array<{ allow: CompiledPath; slice: Slice }>>();
  const add = (index: typeof fromIndex, key: string, entry: { allow: CompiledPath; slice: Slice }) => {
    const list = index.get(key);
    if (list) list.push(entry);
    else index.set(key, [entry]);
  };
  for (const allow of allows) {
    for (const slice of allow.from) add(fromIndex, slice.party.key, { allow, slice });
    for (const slice of allow.to) add(toIndex, slice.party.key, { allow, slice });
  }
  const nonPivot = nonPivotWorkloads(policy, members);
  const chokepoints = membersOf(members, forbid.path.through ?? []);
  const pivots = (p: Party) => p.kind === "workload" && !nonPivot.has(p.name) && !chokepoints.has(p.name);

  // Breadth first from the forbid's sources; a party is expanded when it is a source, or when it
  // was reached and pivots. A chain back to its own source does not count, one from another source
  // does: a forbid whose `from` and `to` share parties (tenants → tenants) needs, at a party
  // reached from both a and b, both (one origin per party, whichever source came first in workload
  // order, made the verdict depend on that order). So each party keeps its ORIGINS nearest distinct
  // origins (the sources its shortest chains begin at), each with its own chain: a source's own
  // (distance 0) is one of them and no use for a last hop (a chain is two allow paths or more), and
  // two others leave one that is not the end. A party is queued at most ORIGINS times and an allow
  // path walked at most ORIGINS times (by distinct origins; then every target holds each of them or
  // is full): still linear.
  const reached = new Map<string, Reached[]>();
  const queue: Reached[] = [];
  for (const s of forbid.from)
    if (!reached.has(s.party.key)) {
      const r: Reached = { party: s.party, dist: 0, origin: s.party.key, start: s };
      reached.set(s.party.key, [r]);
      queue.push(r);
    }
  /** Whether a chain from `origin` may still take a slot of `key` (it has neither this origin nor all slots). */
  const takes = (key: string, origin: string) => {
    const slots = reached.get(key);
    return !slots || (slots.length < ORIGINS && slots.every((r) => r.origin !== origin));
  };
  // Per allow path, the origins that walked it (not as a source's own walk).
  const walked = new Map<CompiledPath, string[]>();
  for (let head = 0; head < queue.length; head++) {
    const r = queue[head]!;
    const { party: x, dist: d, origin, start } = r;
    if (!start && !pivots(x)) continue;
    for (const { allow, slice } of fromIndex.get(x.key) ?? []) {
      if (start) {
        if (!slice.addresses.overlaps(start.addresses)) continue;
      } else {
        const by = walked.get(allow);
        if (!by) walked.set(allow, [origin]);
        else if (by.length >= ORIGINS || by.includes(origin)) continue;
        else by.push(origin);
      }
      for (const t of allow.to) {
        if (!takes(t.party.key, origin)) continue;
        const next: Reached = {
          party: t.party,
          dist: d + 1,
          origin,
          via: { hop: { from: x, to: t.party, allow }, prev: r },
        };
        const slots = reached.get(t.party.key);
        if (slots) slots.push(next);
        else reached.set(t.party.key, [next]);
        queue.push(next);
      }
    }
  }

  // The last hop: from a party reached (not as a source) that pivots, over an allow path reaching the
  // end's part over a forbidden service, on the chain of its nearest origin other than the end.
  let best: { last: IntendedHop; prev: Reached; length: number } | undefined;
  for (const end of forbid.to) {
    for (const { allow, slice } of toIndex.get(end.party.key) ?? []) {
      if (!slice.addresses.overlaps(end.addresses)) continue;
      if (!allow.path.services.overlaps(forbid.path.services)) continue;
      for (const s of allow.from) {
        const x = s.party;
        // A party does not hop into itself (as in the hop graph): an allow path from a segment to
        // itself is no last hop into a member from that member.
        if (x.key === end.party.key || !pivots(x)) continue;
        const r = reached.get(x.key)?.find((r) => r.dist > 0 && r.origin !== end.party.key);
        if (!r) continue;
        if (!best || r.dist + 1 < best.length)
          best = { last: { from: x, to: end.party, allow }, prev: r, length: r.dist + 1 };
      }
    }
  }
  if (!best) return undefined;
  const chain = [best.last];
  for (let r: Reached | undefined = best.prev; r?.via; r = r.via.prev) chain.unshift(r.via.hop);
  return chain;
}

/** How many distinct origins each party keeps in `intendedChain`'s search. */
const ORIGINS = 3;

/** A party reached by the search of `intendedChain`, from one origin. */
interface Reached {
  party: Party;
  dist: number;
  /** Key of the source the chain begins at. */
  origin: string;
  /** Set on a source's own entry (distance 0): its part the forbid names. */
  start?: Slice;
  /** The hop into it and the entry it came from (none for a source). */
  via?: { hop: IntendedHop; prev: Reached };
}

/** `a → b by "p" (tcp/443)` for each hop; the last hop shows only the services the forbid names. */
export function describeIntendedChain(chain: readonly IntendedHop[], forbid: CompiledPath): string {
  return chain
    .map((h, i) => {
      const services =
        i === chain.length - 1
          ? h.allow.path.services.intersect(forbid.path.services)
          : h.allow.path.services;
      return `${h.from.name} → ${h.to.name} by "${h.allow.path.name}" (${services})`;
    })
    .join(", ");
}

/**
 * DESIGN.md rule 10 in the model: a chain of allow paths reaching what an enforce `reach: any` forbid
 * forbids is an error naming the chain (like an allow overlapping an enforce forbid, rule 4); for a
 * monitored forbid it is a warning.
 */
export function checkChains(
  forbids: readonly CompiledPath[],
  allows: readonly CompiledPath[],
  policy: Policy,
  members: ReadonlyMap<string, readonly string[]>,
  sink: DiagnosticSink,
  at: (pathName: string) => DocPath,
): void {
  const segmentsOf = new Map<string, string[]>();
  for (const [segment, names] of members)
    for (const n of names) {
      const list = segmentsOf.get(n);
      if (list) list.push(segment);
      else segmentsOf.set(n, [segment]);
    }
  for (const f of forbids) {
    if (f.path.reach !== "any") continue;
    const chain = intendedChain(f, allows, policy, members);
    if (!chain) continue;
    const name = f.path.name;
    const allowNames = [...new Set(chain.map((h) => `"${h.allow.path.name}"`))];
    const between = [
      ...new Set(chain.slice(1).flatMap((h) => segmentsOf.get(h.from.name)?.slice(0, 1) ?? [])),
    ];
    const chokepoint =
      between.length > 0 ? `, accept a chokepoint with through: [${between.join(", ")}]` : "";
    const text = describeIntendedChain(chain, f);
    if (f.path.mode === "enforce")
      sink.error(
        [...at(name), "reach"],
        `enforce forbid "${name}" (reach: any) is reached by a chain of allow paths: ${text}`,
        {
          subject: `path "${name}"`,
          hint: `forbidden wins: narrow ${allowNames.join(" or ")}${chokepoint}, or set mode: monitor while you migrate`,
        },
      );
    else
      sink.warn(
        [...at(name), "reach"],
        `monitored forbid "${name}" (reach: any) is reached by a chain of allow paths: ${text}`,
        {
          subject: `path "${name}"`,
          hint: `enforcing it will fail check: narrow ${allowNames.join(" or ")}${chokepoint}`,
        },
      );
  }
}
