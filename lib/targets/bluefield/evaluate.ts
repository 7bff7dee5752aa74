import { createHash } from "node:crypto";
import type { Workload } from "../../model/types";
import { AddressSet, ConnectionSet, type Packet, ServiceSet } from "../../net";
import { governs } from "../../plan/facets";
import type { Party, Plan } from "../../plan/types";
import { unclaimedAddresses } from "../../plan/universe";
import { addressFootprint } from "../../verify/footprint";
import type { Decision, Footprint, ResourceRecord, TargetAdapter, TargetEvaluator } from "../../verify/types";
import { applyFlowMods, copyFlow, type OvsFlow, parseDumpFlows, parseFlow, parseFlowFile } from "./flows";
import { allParts, meet, PassIndex } from "./passindex";
import { type CtModel, Pipeline, type Trace } from "./pipeline";
import { bluefieldUsage } from "./usage";

/**
 * The BlueField evaluator: it reads the flow files the component recorded (a ConfigMap per DPU in
 * `kubernetes` mode, the install command's bundle in `ssh` mode) or `ovs-ofctl dump-flows` output of
 * live DPUs, rebuilds each DPU bridge's flow table, and interprets it as OVS does (pipeline.ts).
 *
 * Topology comes from the plan: a workload placed on BlueField sits behind its `port` on each of its
 * `hosts`. A connection from it crosses its DPU from that port (egress); a connection to it crosses
 * its DPU from an uplink (ingress). When a workload has several hosts, a packet counts as let through
 * when some host lets it through (its address may live on any of them): sound for forbids.
 */

export const COMPONENT_TYPE = "blastradius:bluefield:BlueFieldSegmentation";
export const CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap";
export const DAEMONSET_TYPE = "kubernetes:apps/v1:DaemonSet";
export const COMMAND_TYPE = "command:remote:Command";
export const COPYFILE_TYPE = "command:remote:CopyFile";
/** Annotation naming the DPU host of a rule-set ConfigMap; label marking our Kubernetes objects. */
export const HOST_ANNOTATION = "blastradius.io/dpu-host";
export const TARGET_LABEL = "blastradius.io/target";
export const FLOWS_KEY = "rules.flows";
export const MANIFEST_KEY = "rules.manifest";

/**
 * The port a host the model does not name enters on: no flow can name it (OVS port names hold no
 * spaces), so its packets meet only the flows that match any port.
 */
export const OTHER_PORT = "<unmodelled port>";

/** The bridge's own flow before anyone programs it: a standalone bridge forwards NORMAL. */
export const DEFAULT_BRIDGE_FLOW = "table=0,priority=0,actions=NORMAL";

export interface RuleSetSource {
  host: string;
  /** Where it was read from (resource name, file). */
  source: string;
  flows: string;
  /** The signed manifest, when the source carries one (its sha256 must match the flows). */
  manifest?: string;
}

export interface BlueFieldEvaluatorOptions {
  /** Name of an uplink port (ingress traffic enters there). Default "p0". */
  uplink?: string;
}

export interface BlueFieldEvaluator extends TargetEvaluator {
  readonly hosts: readonly string[];
  /** Rule sets the agent would refuse (digest mismatch): not installed, reported here. */
  readonly refused: ReadonlyArray<{ host: string; source: string; reason: string }>;
  pipeline(host: string): Pipeline;
  /** One packet on one DPU entering on `inPort`, with the deciding flow in OVS terms. */
  traceOn(host: string, inPort: string, packet: Packet, model?: CtModel): Decision & { trace: Trace };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function rec(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Sections of a bundle stream (`=== <file>` lines followed by the file's lines). */
export function readBundleSections(stream: string): Map<string, string> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of stream.split("\n")) {
    const m = /^=== ([A-Za-z0-9_.-]+)$/.exec(line);
    if (m) {
      cur = [];
      out.set(m[1]!, cur);
    } else cur?.push(line);
  }
  // Every line of a section ended with "\n"; the split left the final "" after the last one.
  return new Map(
    [...out.entries()].map(([k, lines]) => {
      while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
      return [k, lines.length === 0 ? "" : `${lines.join("\n")}\n`];
    }),
  );
}

/** The rule sets a BlueFieldSegmentation recorded, in resource order. */
export function ruleSetsFromResources(resources: readonly ResourceRecord[]): RuleSetSource[] {
  const out: RuleSetSource[] = [];
  for (const r of resources) {
    if (r.type === CONFIGMAP_TYPE) {
      const meta = rec(r.inputs.metadata);
      const host = str(rec(meta.annotations)[HOST_ANNOTATION]);
      const data = rec(r.inputs.data);
      const flows = str(data[FLOWS_KEY]);
      if (host !== undefined && flows !== undefined)
        out.push({ host, source: r.name, flows, manifest: str(data[MANIFEST_KEY]) });
    } else if (r.type === COMMAND_TYPE) {
      // ssh mode: the install command pipes the bundle into the agent; the manifest names the host.
      const stdin = str(r.inputs.stdin);
      if (stdin === undefined) continue;
      const sections = readBundleSections(stdin);
      const flows = sections.get(FLOWS_KEY);
      const manifest = sections.get(MANIFEST_KEY);
      const host = manifest === undefined ? undefined : /^host=(.+)$/m.exec(manifest)?.[1];
      if (flows !== undefined && host !== undefined) out.push({ host, source: r.name, flows, manifest });
    }
  }
  return out;
}

function cookieLegend(text: string): Map<bigint, string> {
  const legend = new Map<bigint, string>();
  for (const m of text.matchAll(/^# path ([^:\s]+):.* cookie=(0x[0-9a-f]+)$/gm))
    legend.set(BigInt(m[2]!), m[1]!);
  return legend;
}

interface HostState {
  pipeline: Pipeline;
  legend: Map<bigint, string>;
  passCache: Map<string, ConnectionSet>;
}

function bfAddresses(w: Workload): AddressSet {
  return AddressSet.fromCidrs(w.placements.bluefield?.addresses ?? []);
}

/**
 * An evaluator over installed flow tables per host (already built). `hostFlows` gives each host's
 * complete table; hosts of the plan without an entry hold only the default NORMAL flow.
 */
export interface HostTable {
  flows: OvsFlow[];
  legend?: Map<bigint, string>;
}

export function evaluatorFromTables(
  hostFlows: ReadonlyMap<string, HostTable | (() => HostTable)>,
  plan: Plan,
  options: BlueFieldEvaluatorOptions = {},
  refused: Array<{ host: string; source: string; reason: string }> = [],
): BlueFieldEvaluator {
  const uplink = options.uplink ?? "p0";
  const defaultFlow = parseFlow(DEFAULT_BRIDGE_FLOW);
  // Each host's table is parsed and built on first use: a proof reads every host, an audit of one
  // host's trace reads only that one.
  const hosts = new Map<string, HostState | undefined>();
  const planHosts = new Set<string>();
  for (const w of plan.policy.workloads)
    for (const h of w.placements.bluefield?.hosts ?? []) planHosts.add(h);
  for (const h of [...new Set([...planHosts, ...hostFlows.keys()])].sort()) hosts.set(h, undefined);
  const state = (h: string): HostState => {
    let s = hosts.get(h);
    if (s) return s;
    if (!hosts.has(h)) throw new RangeError(`no DPU host "${h}" in this policy or its rule sets`);
    const given = hostFlows.get(h);
    const entry = typeof given === "function" ? given() : given;
    s = {
      pipeline: new Pipeline(entry?.flows ?? [defaultFlow]),
      legend: entry?.legend ?? new Map(),
      passCache: new Map(),
    };
    hosts.set(h, s);
    return s;
  };
  const passSet = (h: string, port: string): ConnectionSet => {
    const s = state(h);
    let p = s.passCache.get(port);
    if (!p) {
      p = s.pipeline.passSet(port, "new");
      s.passCache.set(port, p);
    }
    return p;
  };

  const describe = (host: string, t: Trace): string => {
    const last = t.steps[t.steps.length - 1];
    if (!last) return `${host}: no flow`;
    if (!last.flow) return `${host}: table=${last.table} miss (drop)`;
    const f = last.flow;
    const path = state(host).legend.get(f.cookie);
    return `${host}: table=${f.table} priority=${f.priority}${f.match ? ` ${f.match}` : ""} actions=${f.actionsText || "drop"}${
      path ? ` [path ${path}]` : ""
    }`;
  };

  const traceOn = (host: string, inPort: string, packet: Packet, model: CtModel = "new") => {
    const trace = state(host).pipeline.trace(inPort, packet, model);
    return { verdict: trace.verdict, by: describe(host, trace), trace };
  };

  // Hosts behind a DPU port no workload claims: one party per DPU host, entering on a port no flow
  // names (its traffic meets only the flows that match any port) at addresses no one claims.
  const others = new Map<string, { party: Party; hosts: string[] }>();
  const unclaimed = unclaimedAddresses(plan);
  for (const h of [...planHosts].sort()) {
    const key = `other:bluefield:${h}`;
    others.set(key, {
      hosts: [h],
      party: {
        kind: "other",
        name: `other ports of DPU ${h}`,
        key,
        addresses: unclaimed,
        scope: `DPU ${h}`,
        targets: ["bluefield"],
      },
    });
  }

  /** Where a party sits behind DPUs: its hosts and port, or undefined when no DPU governs it. */
  const bfOf = (p: Party): { hosts: readonly string[]; port: string } | undefined => {
    if (p.kind === "other") {
      const o = others.get(p.key);
      return o ? { hosts: o.hosts, port: OTHER_PORT } : undefined;
    }
    if (p.kind !== "workload" || !governs(p, "bluefield")) return undefined;
    return p.workload.placements.bluefield;
  };
  const isBf = (p: Party): boolean => bfOf(p) !== undefined;

  // What the DPU decides of a workload's traffic: the packets whose source (egress) or destination
  // (ingress) is one of its BlueField addresses. A workload placed only behind DPUs (all its
  // addresses are BlueField addresses) is decided on all its addresses, so a proof may ask for a
  // class of such workloads with the union of their addresses (partyKey). An unmodelled port's
  // party is decided on all of its addresses.
  const fullyBehind = new Map<Workload, boolean>();
  const constrained = (p: Party): AddressSet => {
    if (p.kind !== "workload") return p.addresses;
    const w = p.workload;
    let full = fullyBehind.get(w);
    if (full === undefined) fullyBehind.set(w, (full = w.addresses.isSubsetOf(bfAddresses(w))));
    return full ? p.addresses : bfAddresses(w);
  };
  const partyKey = (p: Party): string => {
    const pl = bfOf(p);
    if (!pl) return "address";
    const where = `dpu:${[...pl.hosts].sort().join(",")}|${pl.port}`;
    if (p.kind !== "workload") return where;
    constrained(p);
    return fullyBehind.get(p.workload) ? where : `${where}|${bfAddresses(p.workload).key()}`;
  };
  const passCacheAll = new Map<string, ConnectionSet>();
  const passOf = (hosts: readonly string[], port: string): ConnectionSet => {
    const key = `${hosts.join(",")}|${port}`;
    let r = passCacheAll.get(key);
    if (!r) {
      r = ConnectionSet.unionAll(hosts.map((h) => passSet(h, port)));
      passCacheAll.set(key, r);
    }
    return r;
  };
  /** `r` with its part inside the DPU's region of the party (source or destination side) cut to what passes. */
  const through = (r: ConnectionSet, p: Party, side: "src" | "dst", ends: AddressSet): ConnectionSet => {
    const pl = bfOf(p)!;
    const pass = passOf(pl.hosts, side === "src" ? pl.port : uplink);
    const region = constrained(p);
    if (ends.isSubsetOf(region)) return r.intersect(pass);
    const inside =
      side === "src"
        ? ConnectionSet.of(region, AddressSet.ALL, ServiceSet.ALL)
        : ConnectionSet.of(AddressSet.ALL, region, ServiceSet.ALL);
    return r.subtract(inside).union(r.intersect(inside).intersect(pass));
  };

  const indexCache = new Map<string, PassIndex>();
  /** The pass set of a workload's crossing side, indexed (shared by the workloads of a DPU port). */
  const indexOf = (p: Party, side: "src" | "dst"): PassIndex => {
    const pl = bfOf(p)!;
    const port = side === "src" ? pl.port : uplink;
    const key = `${pl.hosts.join(",")}|${port}`;
    let ix = indexCache.get(key);
    if (!ix) indexCache.set(key, (ix = new PassIndex(passOf(pl.hosts, port))));
    return ix;
  };
  /** Whether the DPU decides all of a party's addresses (then `through` is a plain intersection). */
  const wholly = (p: Party): boolean => {
    const region = constrained(p);
    return region === p.addresses || p.addresses.isSubsetOf(region);
  };

  /*
   * Footprints (lib/radius): flows match addresses (and the DPU port a packet enters on), never the
   * far end's identity. A workload's is what it may exchange with any address. An unmodelled port's
   * party stands for every unclaimed address (thousands of ranges, a costly question): its port's
   * pass set as a whole bounds it, destinations (egress) or sources at the uplink (ingress), one
   * projection per DPU side. A party the DPUs decide only part of passes the rest undecided.
   */
  const projections = new Map<string, AddressSet>();
  const footprint = (party: Party, direction: "egress" | "ingress"): Footprint => {
    if (party.kind === "workload") return addressFootprint(allowed, party, direction);
    const pl = bfOf(party);
    if (!pl || !wholly(party)) return { addresses: AddressSet.ALL, names: [] };
    const port = direction === "egress" ? pl.port : uplink;
    const key = `${direction}|${pl.hosts.join(",")}|${port}`;
    let addresses = projections.get(key);
    if (!addresses) {
      const pass = passOf(pl.hosts, port);
      projections.set(key, (addresses = direction === "egress" ? pass.destinations() : pass.sources()));
    }
    return { addresses, names: [] };
  };

  const allowed = (from: Party, to: Party): ConnectionSet => {
    const fb = isBf(from);
    const tb = isBf(to);
    if (!fb && !tb) return ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL);
    if ((!fb || wholly(from)) && (!tb || wholly(to))) {
      // (from × to × any) ∩ pass(from's port) ∩ pass(uplink of to), from the products of each pass
      // set that meet both ends.
      const fi = fb ? indexOf(from, "src") : undefined;
      const ti = tb ? indexOf(to, "dst") : undefined;
      const sets: ConnectionSet[] = [];
      for (const f of [4, 6] as const) {
        const src = from.addresses.family(f);
        const dst = to.addresses.family(f);
        if (src.isEmpty() || dst.isEmpty()) continue;
        const a = fi ? fi.parts(f, src, dst) : allParts(f, src, dst);
        if (a.length === 0) continue;
        sets.push(...(ti ? meet(ti.parts(f, src, dst), fi ? a : undefined) : meet(a)));
      }
      return sets.length === 0
        ? ConnectionSet.EMPTY
        : sets.length === 1
          ? sets[0]!
          : ConnectionSet.unionAll(sets);
    }
    let r = ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL);
    if (isBf(from)) r = through(r, from, "src", from.addresses);
    if (isBf(to)) r = through(r, to, "dst", to.addresses);
    return r;
  };

  /** `r ∩ pass`, answered without building anything when `r` lies wholly inside or outside `pass`. */
  const cut = (r: ConnectionSet, pass: ConnectionSet): ConnectionSet =>
    r.isSubsetOf(pass) ? r : r.overlaps(pass) ? r.intersect(pass) : ConnectionSet.EMPTY;

  /**
   * `allowed(from, to) ∩ within`, for `within` inside (from × to × any): where the DPUs decide all of
   * both parties' addresses, `within` cut by the two pass sets (the proof's common question, with
   * no need to build all the two parties may exchange).
   */
  const allowedWithin = (from: Party, to: Party, within: ConnectionSet): ConnectionSet => {
    const fb = isBf(from);
    const tb = isBf(to);
    if (!fb && !tb) return within;
    if ((!fb || wholly(from)) && (!tb || wholly(to))) {
      let r = within;
      if (fb) {
        const pl = bfOf(from)!;
        r = cut(r, passOf(pl.hosts, pl.port));
      }
      if (tb && !r.isEmpty()) r = cut(r, passOf(bfOf(to)!.hosts, uplink));
      return r;
    }
    return allowed(from, to).intersect(within);
  };

  /** The verdict of one crossing side: some host of the workload lets it through, or the first refusal. */
  const crossing = (hostsOf: readonly string[], port: string, packet: Packet): Decision => {
    let first: Decision | undefined;
    for (const h of hostsOf) {
      const d = traceOn(h, port, packet);
      if (d.verdict === "allow") return { verdict: "allow", by: d.by };
      first ??= { verdict: "deny", by: d.by };
    }
    return first!;
  };

  const decide = (from: Party, to: Party, packet: Packet): Decision => {
    let allowBy: string | undefined;
    const fpl = bfOf(from);
    const tpl = bfOf(to);
    if (fpl && constrained(from).has(packet.src)) {
      const d = crossing(fpl.hosts, fpl.port, packet);
      if (d.verdict === "deny") return d;
      allowBy = d.by;
    }
    if (tpl && constrained(to).has(packet.dst)) {
      const d = crossing(tpl.hosts, uplink, packet);
      if (d.verdict === "deny") return d;
      allowBy = d.by;
    }
    return { verdict: "allow", by: allowBy ?? "not behind a BlueField DPU" };
  };

  return {
    target: "bluefield",
    hosts: [...hosts.keys()],
    refused,
    enforces: isBf,
    partyKey,
    universe: () => [...others.values()].map((o) => o.party),
    footprint,
    identityNames: () => [],
    // A DPU decides a workload's side by the workload's port (egress) or the uplink (ingress) and
    // by addresses, never by the far host's port: to a workload, another port's host is an
    // unclaimed address, which the unmodelled-address party covers.
    relevant: (u) => !others.has(u.key),
    allowed,
    allowedWithin,
    decide,
    pipeline: (h) => state(h).pipeline,
    traceOn,
  };
}

function manifestDigest(manifest: string): string | undefined {
  return /^sha256=([0-9a-f]{64})$/m.exec(manifest)?.[1];
}

/**
 * The evaluator over rule-set files as the agents apply them: each host's bridge starts with the
 * default NORMAL flow, then every rule set for it is applied in order (its `delete cookie=…` line
 * removes only flows with that cookie prefix). A rule set whose manifest digest does not match its
 * flows is refused, as the agent refuses it, and left out.
 */
export function evaluatorFromRuleSets(
  sources: readonly RuleSetSource[],
  plan: Plan,
  options?: BlueFieldEvaluatorOptions,
): BlueFieldEvaluator {
  const perHost = new Map<string, RuleSetSource[]>();
  const refused: Array<{ host: string; source: string; reason: string }> = [];
  for (const s of sources) {
    if (s.manifest !== undefined) {
      const want = manifestDigest(s.manifest);
      const have = createHash("sha256").update(s.flows, "utf8").digest("hex");
      if (want !== have) {
        refused.push({
          host: s.host,
          source: s.source,
          reason: `manifest sha256 ${want} != flows sha256 ${have}`,
        });
        continue;
      }
    }
    const l = perHost.get(s.host) ?? [];
    l.push(s);
    perHost.set(s.host, l);
  }
  const tables = new Map<string, () => HostTable>();
  for (const [host, list] of perHost)
    tables.set(host, () => {
      let flows = [parseFlow(DEFAULT_BRIDGE_FLOW)];
      const legend = new Map<bigint, string>();
      for (const s of list) {
        let mods: ReturnType<typeof parseFlowFile>;
        try {
          mods = parseFlowFile(s.flows);
        } catch (e) {
          throw new Error(`BlueField rule set ${s.source} (host ${s.host}): ${(e as Error).message}`);
        }
        flows = applyFlowMods(flows, mods);
        for (const [k, v] of cookieLegend(s.flows)) legend.set(k, v);
      }
      return { flows, legend };
    });
  return evaluatorFromTables(tables, plan, options, refused);
}

/**
 * The evaluator over live DPUs: `ovs-ofctl --names --no-stats dump-flows <bridge>` output per host
 * (the complete table, foreign flows included). Numeric `in_port` values are translated with `ports`
 * (OpenFlow port number → name) when given.
 */
export function evaluatorFromDumps(
  dumps: Readonly<Record<string, string>>,
  plan: Plan,
  options: BlueFieldEvaluatorOptions & {
    ports?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  } = {},
): BlueFieldEvaluator {
  const tables = new Map<string, { flows: OvsFlow[] }>();
  for (const [host, text] of Object.entries(dumps)) {
    const names = options.ports?.[host] ?? {};
    const flows = parseDumpFlows(text).map((f) => {
      const p = f.context.inPort;
      return p !== undefined && names[p] !== undefined
        ? copyFlow(f, { context: { ...f.context, inPort: names[p] } })
        : f;
    });
    tables.set(host, { flows });
  }
  return evaluatorFromTables(tables, plan, options);
}

/** Whether a recorded resource belongs to the BlueField target. */
export function ownsResource(r: ResourceRecord): boolean {
  if (r.type === COMPONENT_TYPE) return true;
  if (r.urn?.includes(`${COMPONENT_TYPE}$`)) return true;
  if (r.type === CONFIGMAP_TYPE || r.type === DAEMONSET_TYPE)
    return rec(rec(r.inputs.metadata).labels)[TARGET_LABEL] === "bluefield";
  if (r.type === COMMAND_TYPE)
    return (
      (str(r.inputs.create) ?? "").includes("blastradius-agent provision") &&
      /^=== rules\.flows$/m.test(str(r.inputs.stdin) ?? "")
    );
  if (r.type === COPYFILE_TYPE) return (str(r.inputs.remotePath) ?? "").includes("blastradius-agent");
  return false;
}

export const bluefieldAdapter: TargetAdapter = {
  target: "bluefield",
  owns: ownsResource,
  evaluator: (resources, plan) => evaluatorFromRuleSets(ruleSetsFromResources(resources), plan),
  usage: (resources, plan, limits) => bluefieldUsage(resources, plan, limits),
};
