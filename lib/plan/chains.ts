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
  // was reached and pivots. `origin` is the source a party was first reached from.
  const dist = new Map<string, number>();
  const parent = new Map<string, IntendedHop>();
  const origin = new Map<string, string>();
  const queue: Array<{ party: Party; start?: Slice }> = [];
  for (const s of forbid.from)
    if (!dist.has(s.party.key)) {
      dist.set(s.party.key, 0);
      origin.set(s.party.key, s.party.key);
      queue.push({ party: s.party, start: s });
    }
  const expanded = new Set<CompiledPath>();
  for (let head = 0; head < queue.length; head++) {
    const { party: x, start } = queue[head]!;
    const d = dist.get(x.key)!;
    if (!start && !pivots(x)) continue;
    for (const { allow, slice } of fromIndex.get(x.key) ?? []) {
      if (start) {
        if (!slice.addresses.overlaps(start.addresses)) continue;
      } else if (expanded.has(allow)) continue;
      else expanded.add(allow);
      for (const t of allow.to) {
        if (dist.has(t.party.key)) continue;
        dist.set(t.party.key, d + 1);
        origin.set(t.party.key, origin.get(x.key)!);
        parent.set(t.party.key, { from: x, to: t.party, allow });
        queue.push({ party: t.party });
      }
    }
  }

  // The last hop: from a party reached (not a source) that pivots, over an allow path reaching the
  // end's part over a forbidden service.
  let best: { last: IntendedHop; length: number } | undefined;
  for (const end of forbid.to) {
    for (const { allow, slice } of toIndex.get(end.party.key) ?? []) {
      if (!slice.addresses.overlaps(end.addresses)) continue;
      if (!allow.path.services.overlaps(forbid.path.services)) continue;
      for (const s of allow.from) {
        const x = s.party;
        const d = dist.get(x.key);
        if (d === undefined || d === 0 || !pivots(x)) continue;
        if (origin.get(x.key) === end.party.key) continue;
        if (!best || d + 1 < best.length) best = { last: { from: x, to: end.party, allow }, length: d + 1 };
      }
    }
  }
  if (!best) return undefined;
  const chain = [best.last];
  for (let hop = parent.get(best.last.from.key); hop; hop = parent.get(hop.from.key)) chain.unshift(hop);
  return chain;
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
