import { suggestion } from "../model/names";
import { explainHop, type HopJson } from "./explain";
import type { HopGraph } from "./graph";
import { chainTo, reach } from "./reach";

/** `blastradius radius --json`: a public contract (DESIGN.md, docs/radius.md). */
export interface RadiusJson {
  /** What was compromised, as asked (a workload, peer or segment name). */
  from: string;
  /** Everything the policy names that it reaches, by hops then name; the starts themselves are left out. */
  reached: Array<{
    name: string;
    kind: "workload" | "peer";
    hops: number;
    /** The shortest chain, hop by hop. */
    chain: HopJson[];
  }>;
}

/** A name the policy does not define, or one that names different things: exit 2 in the CLI. */
export class RadiusNameError extends Error {}

const KINDS = ["workload", "peer", "segment"] as const;

/**
 * The nodes a name stands for: a workload, a peer, or a segment's members. `workload:x`, `peer:x`
 * and `segment:x` say which when a name is several things that are not the same parties.
 */
export function resolveName(g: HopGraph, text: string, flag = "--from"): number[] {
  const prefixed = /^(workload|peer|segment):(.+)$/.exec(text);
  const name = prefixed ? prefixed[2]! : text;
  const kinds = prefixed ? [prefixed[1] as (typeof KINDS)[number]] : KINDS;
  const found: Array<{ kind: string; nodes: number[] }> = [];
  for (const kind of kinds) {
    if (kind === "segment") {
      const members = g.plan.members.get(name);
      if (members)
        found.push({
          kind,
          nodes: members
            .map((m) => g.node(`workload:${m}`)?.index)
            .filter((i): i is number => i !== undefined),
        });
    } else {
      const node = g.node(`${kind}:${name}`);
      if (node) found.push({ kind, nodes: [node.index] });
    }
  }
  if (found.length === 0) {
    const byKind = {
      workload: g.plan.policy.workloads.map((w) => w.name),
      peer: g.plan.policy.peers.map((p) => p.name),
      segment: g.plan.policy.segments.map((s) => s.name),
    };
    // `workload:training` where training is a segment: say what it is, not "did you mean training".
    const other = prefixed ? KINDS.filter((k) => k !== kinds[0] && byKind[k].includes(name)) : [];
    if (other.length > 0)
      throw new RadiusNameError(
        `${flag} ${text}: "${name}" is ${other.map((k) => `a ${k}`).join(" and ")} of policy "${g.plan.policy.name}", not a ${kinds[0]}; write ${other.map((k) => `${k}:${name}`).join(" or ")}`,
      );
    const names = [...new Set([...byKind.workload, ...byKind.peer, ...byKind.segment])];
    throw new RadiusNameError(
      `${flag} ${text}: no ${prefixed ? kinds[0] : "workload, peer or segment"} of policy "${g.plan.policy.name}" is named "${name}"; ${suggestion(name, names, "names")}`,
    );
  }
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (found.some((f) => !same([...f.nodes].sort(), [...found[0]!.nodes].sort())))
    throw new RadiusNameError(
      `${flag} ${text}: "${name}" is ${found.map((f) => `a ${f.kind}`).join(" and ")}; say which with ${found.map((f) => `${f.kind}:${name}`).join(" or ")}`,
    );
  if (found[0]!.nodes.length === 0)
    throw new RadiusNameError(
      `${flag} ${text}: segment "${name}" has no member workload, so nothing is compromised`,
    );
  return found[0]!.nodes;
}

export interface RadiusRequest {
  /** What is compromised: a workload, peer or segment (all its members at once). */
  from: string;
  /** Only what this workload, peer or segment holds. */
  to?: string;
  /** Only chains of at most this many hops. */
  hops?: number;
}

/**
 * What a compromise of `from` reaches (DESIGN.md rule 10), each with its shortest chain: every hop
 * with a witness packet, the deciding rule per target and the allow path that opens it (or null).
 * Parties the policy does not name are never listed, but a chain may pass through one (they pivot).
 */
export function radius(g: HopGraph, request: RadiusRequest): RadiusJson {
  const starts = resolveName(g, request.from, "--from");
  const only = request.to === undefined ? undefined : new Set(resolveName(g, request.to, "--to"));
  const r = reach(g, starts, request.hops === undefined ? {} : { maxHops: request.hops });
  const hopTo = new Map<number, HopJson>();
  const hop = (y: number): HopJson => {
    let h = hopTo.get(y);
    if (!h) hopTo.set(y, (h = explainHop(g, r.parent[y]!, y)!));
    return h;
  };
  const reached: RadiusJson["reached"] = [];
  for (const node of g.nodes) {
    const d = r.dist[node.index]!;
    if (d <= 0 || (node.kind !== "workload" && node.kind !== "peer")) continue;
    if (only && !only.has(node.index)) continue;
    const nodes = chainTo(r, node.index);
    reached.push({ name: node.name, kind: node.kind, hops: d, chain: nodes.slice(1).map(hop) });
  }
  reached.sort((a, b) =>
    a.hops !== b.hops
      ? a.hops - b.hops
      : a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : a.kind < b.kind
            ? -1
            : 1,
  );
  return { from: request.from, reached };
}
