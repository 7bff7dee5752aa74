import type { MovementPath } from "../model/types";
import { hasPorts, type IpFamily, protocolName } from "../net";
import type { Party, Plan } from "../plan/types";
import { type BroadReason, broadness } from "./broad";
import { PlanEvaluator, serviceProtocol } from "./evaluate";
import { FlowMapper, segmentIndex } from "./mapping";
import type { Flow } from "./types";

/** One end of a candidate path: a segment (the most specific holding the workload), a workload no segment holds, or a peer. */
export interface End {
  kind: "segment" | "workload" | "peer" | "unmapped";
  name: string;
}

export function endLabel(e: End): string {
  return e.kind === "workload"
    ? `workload:${e.name}`
    : e.kind === "unmapped"
      ? `${e.name} (unmapped)`
      : e.name;
}

/** Flows aggregated by candidate path: same ends, same service. */
export interface FlowGroup {
  from: End;
  to: End;
  /** Policy service text, e.g. "tcp/443", "icmp". */
  service: string;
  count: number;
  bytes: number;
  packets: number;
  /** Epoch ms. */
  first: number;
  last: number;
  /** Count per verdict as observed in the logs (ACCEPT, DROPPED, …). */
  observed: Record<string, number>;
  /** Up to `samples` concrete flows, first seen first. */
  samples: FlowSample[];
  /** Parties seen at each end (workload or peer names). */
  fromParties: string[];
  toParties: string[];
  /**
   * Addresses seen at each end (all of them: the recommendation of a peer end uses exactly these);
   * empty for `allowedGroups`, whose addresses are not kept.
   */
  fromAddresses: string[];
  toAddresses: string[];
  /** blocked: "default-deny" or the enforce forbids naming the flows. */
  blockedBy?: string[];
  /** Monitored forbids the flows hit. */
  monitored?: string[];
  /** Allow paths admitting the flows (allowed groups). */
  allowedBy?: string[];
  /** Broad groups: why each admitting path is broad. */
  broad?: Record<string, BroadReason[]>;
}

export interface FlowSample {
  file: string;
  line: number;
  time: number;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  protocol: string;
  observed: string;
}

export interface SimulationResult {
  policy: string;
  flows: number;
  allowed: number;
  /** Flows the policy would block (default deny or an enforce forbid): what enforcing would break. */
  wouldBlock: FlowGroup[];
  /** Allowed flows hitting a monitor-mode forbid: what switching it to enforce would break. */
  monitored: FlowGroup[];
  /** Allowed flows admitted only by broad allow paths. */
  broad: FlowGroup[];
  /** Flows with an end no workload or peer claims. */
  unmapped: FlowGroup[];
  /** Flows between two peers: no workload is on either end, so the policy governs none of them. */
  outside: FlowGroup[];
  /** Every flow the policy allows, grouped (for recommend and the JSON report). */
  allowedGroups: FlowGroup[];
}

export interface SimulationOptions {
  /** Sample flows kept per group (default 3). */
  samples?: number;
}

/** The policy service text of a connection: "tcp/443", "icmp" (ICMP of the family), "proto/47". */
export function serviceText(family: IpFamily, protocol: number, port?: number): string {
  if (hasPorts(protocol)) return `${protocolName(protocol)}/${port ?? 0}`;
  const p = serviceProtocol(family, protocol);
  return p === 1 ? "icmp" : `proto/${p}`;
}

class Groups {
  readonly map = new Map<
    string,
    FlowGroup & { fromA: Set<string>; toA: Set<string>; fromP: Set<string>; toP: Set<string> }
  >();
  constructor(
    private readonly samples: number,
    /** Keep every address seen (for the lists a recommendation or a reader needs them in). */
    private readonly addresses = true,
  ) {}

  add(key: string, from: End, to: End, service: string, flow: Flow, src?: Party, dst?: Party) {
    let g = this.map.get(key);
    if (!g) {
      g = {
        from,
        to,
        service,
        count: 0,
        bytes: 0,
        packets: 0,
        first: flow.start,
        last: flow.end,
        observed: {},
        samples: [],
        fromParties: [],
        toParties: [],
        fromAddresses: [],
        toAddresses: [],
        fromA: new Set(),
        toA: new Set(),
        fromP: new Set(),
        toP: new Set(),
      };
      this.map.set(key, g);
    }
    g.count++;
    g.bytes += flow.bytes ?? 0;
    g.packets += flow.packets ?? 0;
    if (flow.start < g.first) g.first = flow.start;
    if (flow.end > g.last) g.last = flow.end;
    g.observed[flow.observed] = (g.observed[flow.observed] ?? 0) + 1;
    if (g.samples.length < this.samples) g.samples.push(sampleOf(flow));
    if (this.addresses) {
      g.fromA.add(flow.src);
      g.toA.add(flow.dst);
    }
    if (src) g.fromP.add(src.name);
    if (dst) g.toP.add(dst.name);
    return g;
  }

  list(): FlowGroup[] {
    const entries = [...this.map].map(([key, g]) => {
      const { fromA, toA, fromP, toP, ...rest } = g;
      const group: FlowGroup = {
        ...rest,
        observed: Object.fromEntries(Object.entries(rest.observed).sort(([a], [b]) => (a < b ? -1 : 1))),
        fromParties: [...fromP].sort(),
        toParties: [...toP].sort(),
        fromAddresses: [...fromA].sort(),
        toAddresses: [...toA].sort(),
      };
      return { key, group };
    });
    entries.sort((a, b) => b.group.count - a.group.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return entries.map((e) => e.group);
  }
}

function sampleOf(f: Flow): FlowSample {
  const s: FlowSample = {
    file: f.file,
    line: f.line,
    time: f.start,
    src: f.src,
    dst: f.dst,
    protocol: protocolName(f.protocol, f.family),
    observed: f.observed,
  };
  if (f.srcPort !== undefined) s.srcPort = f.srcPort;
  if (f.dstPort !== undefined) s.dstPort = f.dstPort;
  return s;
}

/**
 * Replays observed flows against a compiled plan, one at a time (constant memory per distinct
 * group, not per flow). See docs/flows.md for what each list means.
 */
export class Simulation {
  readonly mapper: FlowMapper;
  readonly evaluator: PlanEvaluator;
  private readonly endOf: (p: Party) => string | undefined;
  private readonly broad: ReturnType<typeof broadness>;
  private readonly blocked: Groups;
  private readonly monitoredG: Groups;
  private readonly broadG: Groups;
  private readonly unmappedG: Groups;
  private readonly outsideG: Groups;
  private readonly allowedG: Groups;
  private flows = 0;
  private allowed = 0;

  constructor(
    readonly plan: Plan,
    options: SimulationOptions = {},
  ) {
    const n = options.samples ?? 3;
    this.mapper = new FlowMapper(plan);
    this.evaluator = new PlanEvaluator(plan);
    this.endOf = segmentIndex(plan);
    this.broad = broadness(plan);
    this.blocked = new Groups(n);
    this.monitoredG = new Groups(n);
    this.broadG = new Groups(n);
    this.unmappedG = new Groups(n);
    this.outsideG = new Groups(n);
    // Allowed traffic is by far the most; its addresses are not needed.
    this.allowedG = new Groups(n, false);
  }

  private readonly ends = new Map<Party, { end: End; key: string }>();
  private readonly services = new Map<number, string>();

  end(p: Party): End {
    return this.endKeyed(p).end;
  }

  private endKeyed(p: Party): { end: End; key: string } {
    let e = this.ends.get(p);
    if (!e) {
      const segment = p.kind === "workload" ? this.endOf(p) : undefined;
      const end: End =
        p.kind === "peer"
          ? { kind: "peer", name: p.name }
          : segment
            ? { kind: "segment", name: segment }
            : { kind: "workload", name: p.name };
      e = { end, key: `${end.kind}:${end.name}` };
      this.ends.set(p, e);
    }
    return e;
  }

  private service(flow: Flow): string {
    const key = (flow.family * 256 + flow.protocol) * 65536 + (flow.dstPort ?? 0);
    let s = this.services.get(key);
    if (s === undefined) {
      s = serviceText(flow.family, flow.protocol, flow.dstPort);
      if (this.services.size > 100_000) this.services.clear();
      this.services.set(key, s);
    }
    return s;
  }

  add(flow: Flow): void {
    this.flows++;
    const src = this.mapper.map(flow.src, flow.srcHints);
    const dst = this.mapper.map(flow.dst, flow.dstHints);
    const service = this.service(flow);
    if (!src || !dst) {
      const from: End = src ? this.end(src) : { kind: "unmapped", name: flow.src };
      const to: End = dst ? this.end(dst) : { kind: "unmapped", name: flow.dst };
      this.unmappedG.add(`${endLabel(from)}|${endLabel(to)}|${service}`, from, to, service, flow, src, dst);
      return;
    }
    const fromK = this.endKeyed(src);
    const toK = this.endKeyed(dst);
    const from = fromK.end;
    const to = toK.end;
    const base = `${fromK.key}|${toK.key}|${service}`;
    if (src.kind === "peer" && dst.kind === "peer") {
      this.outsideG.add(base, from, to, service, flow, src, dst);
      return;
    }
    const d = this.evaluator.decide(src, dst, flow);
    const allowed = d.allowedBy.length > 0 && d.forbiddenBy.length === 0;
    if (!allowed) {
      const by = d.forbiddenBy.length > 0 ? d.forbiddenBy.map((p) => p.name) : ["default-deny"];
      const g = this.blocked.add(`${base}|${by.join(",")}`, from, to, service, flow, src, dst);
      g.blockedBy = by;
      if (d.monitoredBy.length > 0) g.monitored = names(d.monitoredBy);
      return;
    }
    this.allowed++;
    const allowedBy = names(d.allowedBy);
    const ag = this.allowedG.add(`${base}|${allowedBy.join(",")}`, from, to, service, flow, src, dst);
    ag.allowedBy = allowedBy;
    for (const m of d.monitoredBy) {
      const g = this.monitoredG.add(`${m.name}|${base}`, from, to, service, flow, src, dst);
      g.monitored = [m.name];
      g.allowedBy = allowedBy;
    }
    const reasons: Record<string, BroadReason[]> = {};
    for (const p of d.allowedBy) {
      const r = this.broad(p, flow);
      if (r.length === 0) return;
      reasons[p.name] = r;
    }
    const g = this.broadG.add(`${base}|${allowedBy.join(",")}`, from, to, service, flow, src, dst);
    g.allowedBy = allowedBy;
    g.broad = reasons;
  }

  result(): SimulationResult {
    return {
      policy: this.plan.policy.name,
      flows: this.flows,
      allowed: this.allowed,
      wouldBlock: this.blocked.list(),
      monitored: this.monitoredG.list(),
      broad: this.broadG.list(),
      unmapped: this.unmappedG.list(),
      outside: this.outsideG.list(),
      allowedGroups: this.allowedG.list(),
    };
  }
}

function names(paths: MovementPath[]): string[] {
  return paths.map((p) => p.name);
}
