import {
  AddressSet,
  ConnectionSet,
  type IntervalSet,
  type IpFamily,
  type Packet,
  parseAddress,
  ServiceSet,
} from "../../net";
import { type CtFlags, type OvsFlow, type PointMatch, pointHas } from "./flows";

/**
 * An interpreter of an OVS bridge's OpenFlow pipeline (ovs-fields(7), ovs-actions(7)): a packet
 * enters table 0; in each table the highest-priority matching flow decides (a table miss drops);
 * `ct(table=N)` sends it through conntrack and resumes at table N with the connection state;
 * `goto_table`/`resubmit(,N)` continue at N; an output (NORMAL, a port) forwards; no output drops.
 *
 * Connection state is modelled per question asked: `new` is the first packet of a connection
 * (ct_state trk+new once tracked), `est` a later packet of the originating direction (trk+est).
 */
export type CtModel = "new" | "est";

export interface TraceStep {
  table: number;
  flow?: OvsFlow;
}

export interface Trace {
  verdict: "allow" | "deny";
  /** The flows the packet matched, in order; the last decided. A step without flow is a table miss. */
  steps: TraceStep[];
}

interface PointPacket {
  family: IpFamily;
  src: bigint;
  dst: bigint;
  protocol: number;
  port?: number;
}

interface Ctx {
  inPort: string;
  ct: CtFlags;
  zone: number;
}

const UNTRACKED: CtFlags = { trk: false, new: false, est: false, rel: false, rpl: false, inv: false };
const MAX_DEPTH = 64;

interface Group {
  priority: number;
  flows: OvsFlow[];
  /** The union of the flows' matches, built on first use. */
  space?: ConnectionSet;
  /** Whether some flow of the group matches every packet (no IP field constrained). */
  everything?: boolean;
  /** Whether the group's actions forward nothing (no output, table jump or conntrack recirculation). */
  drops?: boolean;
}

function stateAfterCt(model: CtModel): CtFlags {
  return model === "new" ? { ...UNTRACKED, trk: true, new: true } : { ...UNTRACKED, trk: true, est: true };
}

function contextMatches(f: OvsFlow, ctx: Ctx): boolean {
  const c = f.context;
  if (c.inPort !== undefined && c.inPort !== ctx.inPort) return false;
  if (c.ctZone !== undefined && c.ctZone !== ctx.zone) return false;
  if (c.ctState) for (const s of c.ctState) if (ctx.ct[s.flag] !== s.set) return false;
  return true;
}

/** Whether two flows have the same priority, actions and context (they decide alike where they match). */
function sameKey(a: OvsFlow, b: OvsFlow): boolean {
  if (a.priority !== b.priority || a.actionsText !== b.actionsText) return false;
  const x = a.context;
  const y = b.context;
  if (x === y) return true;
  if (x.inPort !== y.inPort || x.ctZone !== y.ctZone) return false;
  const s = x.ctState ?? [];
  const t = y.ctState ?? [];
  if (s.length !== t.length) return false;
  for (let i = 0; i < s.length; i++) if (s[i]!.flag !== t[i]!.flag || s[i]!.set !== t[i]!.set) return false;
  return true;
}

/** A flow's IP match as a box: one family, source and destination values, protocol and ports (undefined: any). */
interface Box {
  family: IpFamily;
  src?: IntervalSet;
  dst?: IntervalSet;
  proto?: number;
  ports?: IntervalSet;
}

const DIMENSIONS = ["dst", "src", "ports"] as const;

function boxKey(b: Box, skip: (typeof DIMENSIONS)[number]): string {
  return `${b.family}|${b.proto ?? ""}|${skip === "src" ? "" : (b.src?.key() ?? "*")}|${skip === "dst" ? "" : (b.dst?.key() ?? "*")}|${skip === "ports" ? "" : (b.ports?.key() ?? "*")}`;
}

/**
 * The union of many flows' match spaces. Flows of a table mostly differ in one field (the remote
 * addresses of a path, a port block), so boxes equal but in one dimension are merged first (a union of
 * intervals) and only the few boxes left go through the connection-set union.
 */
export function unionOfSpaces(flows: readonly OvsFlow[]): ConnectionSet {
  if (flows.length === 1) return flows[0]!.space;
  let boxes: Box[] = [];
  const rest: ConnectionSet[] = [];
  for (const f of flows) {
    const m = f.point;
    if (m.none) continue;
    if (m.family === undefined) rest.push(f.space);
    else boxes.push({ family: m.family, src: m.srcValues, dst: m.dstValues, proto: m.proto, ports: m.ports });
  }
  for (let round = 0; round < 2 && boxes.length > 1; round++)
    for (const dim of DIMENSIONS) {
      const merged = new Map<string, Box>();
      for (const b of boxes) {
        const k = boxKey(b, dim);
        const prev = merged.get(k);
        if (!prev) merged.set(k, b);
        else if (prev[dim] === undefined || b[dim] === undefined)
          merged.set(k, { ...prev, [dim]: undefined });
        else merged.set(k, { ...prev, [dim]: prev[dim]!.union(b[dim]!) });
      }
      boxes = [...merged.values()];
    }
  for (const b of boxes) {
    const all = b.family === 4 ? AddressSet.ALL_V4 : AddressSet.ALL_V6;
    const addr = (v: IntervalSet | undefined) => (v === undefined ? all : AddressSet.ofFamily(b.family, v));
    const real = b.proto;
    // ServiceSet protocol 1 is ICMP of the packet's family: on IPv6, real 58 is 1 and real 1 is 58.
    const proto =
      real === undefined
        ? undefined
        : b.family === 6 && real === 58
          ? 1
          : b.family === 6 && real === 1
            ? 58
            : real;
    const services = proto === undefined ? ServiceSet.ALL : ServiceSet.protocol(proto, b.ports);
    rest.push(ConnectionSet.of(addr(b.src), addr(b.dst), services));
  }
  return ConnectionSet.unionAll(rest);
}

/** The union of a few sets (none or one: no set algebra). */
function unionOf(sets: readonly ConnectionSet[]): ConnectionSet {
  return sets.length === 0
    ? ConnectionSet.EMPTY
    : sets.length === 1
      ? sets[0]!
      : ConnectionSet.unionAll(sets);
}

/** Whether a match covers every modelled packet (no family, address, protocol or port constraint). */
function matchesEverything(m: PointMatch): boolean {
  return (
    !m.none &&
    m.family === undefined &&
    m.srcValues === undefined &&
    m.dstValues === undefined &&
    m.proto === undefined &&
    m.ports === undefined
  );
}

/** What a table forwards of every packet, by table signature and context (see `runTable`). */
const tablePasses = new Map<string, ConnectionSet>();
/** Table contents seen, each with a short id (a cleared map only costs recomputation). */
const signatureIds = new Map<string, string>();
let nextSignature = 0;

/** The pipeline of one bridge. Port names are compared as written (use `--names` dumps, or map numbers). */
export class Pipeline {
  private readonly tables = new Map<number, OvsFlow[]>();
  private readonly groups = new Map<number, Group[]>();
  private readonly signatures = new Map<number, string>();

  constructor(readonly flows: readonly OvsFlow[]) {
    for (const f of flows) {
      const l = this.tables.get(f.table) ?? [];
      l.push(f);
      this.tables.set(f.table, l);
    }
    // Highest priority first; equal priorities keep file order (OVS leaves overlapping ties undefined).
    for (const [t, l] of this.tables) {
      l.sort((a, b) => b.priority - a.priority);
      // Consecutive flows with the same priority, context and actions decide alike: merge their spaces.
      const groups: Group[] = [];
      let cur: OvsFlow[] = [];
      const flush = () => {
        if (cur.length === 0) return;
        groups.push({ priority: cur[0]!.priority, flows: cur });
        cur = [];
      };
      for (const f of l) {
        if (cur.length > 0 && !sameKey(cur[0]!, f)) flush();
        cur.push(f);
      }
      flush();
      this.groups.set(t, groups);
    }
  }

  /** Every packet (of `within`) entering on `inPort` that the bridge forwards, under the conntrack model. */
  passSet(inPort: string, model: CtModel, within: ConnectionSet = ConnectionSet.ALL): ConnectionSet {
    return this.runTable(0, { inPort, ct: UNTRACKED, zone: 0 }, within, model, 0);
  }

  /**
   * What table `table` forwards of `set`. Tables decide packet by packet, so this is what the table
   * forwards of every packet, intersected with `set`; that is computed once per table content and
   * context, and shared by every bridge holding the same table (DPUs of one segment hold the same
   * path flows).
   */
  private runTable(
    table: number,
    ctx: Ctx,
    set: ConnectionSet,
    model: CtModel,
    depth: number,
  ): ConnectionSet {
    if (depth > MAX_DEPTH) throw new RangeError(`the pipeline loops (more than ${MAX_DEPTH} table jumps)`);
    const ct = ctx.ct;
    const key = `${this.signature(table, new Set())}\u0001${ctx.inPort}|${ctx.zone}|${model}|${+ct.trk}${+ct.new}${+ct.est}${+ct.rel}${+ct.rpl}${+ct.inv}`;
    let all = tablePasses.get(key);
    if (all === undefined) {
      all = this.runTableOn(table, ctx, ConnectionSet.ALL, model, depth);
      if (tablePasses.size > 20_000) tablePasses.clear();
      tablePasses.set(key, all);
    }
    return set === ConnectionSet.ALL ? all : all.intersect(set);
  }

  /** The content of a table and of the tables it continues in: equal signatures decide alike. */
  private signature(table: number, visiting: Set<number>): string {
    const known = this.signatures.get(table);
    if (known !== undefined) return known;
    if (visiting.has(table)) return `@${table}`;
    visiting.add(table);
    const flows = this.tables.get(table) ?? [];
    const next = new Set<number>();
    const lines = flows.map((f) => {
      for (const a of f.actions)
        if (a.kind === "goto" || (a.kind === "ct" && a.table !== undefined)) next.add(a.table!);
      return `${f.priority} ${f.match} ${f.actionsText}`;
    });
    for (const t of [...next].sort((a, b) => a - b)) lines.push(`@${t}{${this.signature(t, visiting)}}`);
    // Interned: a short id stands for the content (tables continue in tables by id, not by text).
    const text = `${table}:${lines.join("\n")}`;
    let id = signatureIds.get(text);
    if (id === undefined) {
      if (signatureIds.size > 20_000) signatureIds.clear();
      signatureIds.set(text, (id = `#${nextSignature++}`));
    }
    const sig = id;
    visiting.delete(table);
    this.signatures.set(table, sig);
    return sig;
  }

  private runTableOn(
    table: number,
    ctx: Ctx,
    set: ConnectionSet,
    model: CtModel,
    depth: number,
  ): ConnectionSet {
    if (depth > MAX_DEPTH) throw new RangeError(`the pipeline loops (more than ${MAX_DEPTH} table jumps)`);
    // What no higher group took is `remaining` minus the spaces in `taken`, subtracted only when a
    // later group needs it: a table's last group most often takes everything left and drops it
    // (the default deny), and then what is left is never built.
    let remaining = set;
    let taken: ConnectionSet[] = [];
    const left = (): ConnectionSet => {
      if (taken.length > 0) {
        remaining = remaining.subtract(unionOf(taken));
        taken = [];
      }
      return remaining;
    };
    const passed: ConnectionSet[] = [];
    for (const g of this.groups.get(table) ?? []) {
      if (taken.length === 0 && remaining.isEmpty()) break;
      if (!contextMatches(g.flows[0]!, ctx)) continue;
      g.everything ??= g.flows.some((f) => matchesEverything(f.point));
      g.drops ??= !g.flows[0]!.actions.some(
        (a) => a.kind === "output" || a.kind === "goto" || (a.kind === "ct" && a.table !== undefined),
      );
      let hit: ConnectionSet;
      if (g.everything) {
        // The group matches every packet: it takes all that is left.
        const all = g.drops ? undefined : left();
        remaining = ConnectionSet.EMPTY;
        taken = [];
        if (all === undefined || all.isEmpty()) continue;
        hit = all;
      } else {
        g.space ??= unionOfSpaces(g.flows);
        if (g.drops) {
          // What a dropping group matches goes nowhere: only what is left matters.
          taken.push(g.space);
          continue;
        }
        const now = left();
        if (now.isEmpty()) break;
        hit = now === ConnectionSet.ALL ? g.space : now.intersect(g.space);
        if (hit.isEmpty()) continue;
        if (hit === now) remaining = ConnectionSet.EMPTY;
        else taken.push(hit);
      }
      passed.push(this.runActions(g.flows[0]!, ctx, hit, model, depth));
    }
    return unionOf(passed);
  }

  private runActions(f: OvsFlow, ctx: Ctx, set: ConnectionSet, model: CtModel, depth: number): ConnectionSet {
    let c = ctx;
    const parts: ConnectionSet[] = [];
    for (const a of f.actions) {
      if (a.kind === "output") return set;
      if (a.kind === "ct_clear") c = { ...c, ct: UNTRACKED };
      if (a.kind === "goto") parts.push(this.runTable(a.table, c, set, model, depth + 1));
      if (a.kind === "ct" && a.table !== undefined)
        parts.push(
          this.runTable(a.table, { ...c, ct: stateAfterCt(model), zone: a.zone ?? 0 }, set, model, depth + 1),
        );
    }
    return unionOf(parts);
  }

  /** One packet entering on `inPort`: the verdict and the flows that decided it. */
  trace(inPort: string, packet: Packet, model: CtModel): Trace {
    const steps: TraceStep[] = [];
    const src = parseAddress(packet.src);
    const dst = parseAddress(packet.dst);
    if (src.family !== packet.family || dst.family !== packet.family)
      throw new RangeError(`packet ${packet.src} -> ${packet.dst} is not IPv${packet.family}`);
    const p: PointPacket = {
      family: packet.family,
      src: src.value,
      dst: dst.value,
      protocol: packet.protocol,
      port: packet.port,
    };
    const verdict = this.traceTable(0, { inPort, ct: UNTRACKED, zone: 0 }, p, model, steps, 0);
    return { verdict: verdict ? "allow" : "deny", steps };
  }

  private traceTable(
    table: number,
    ctx: Ctx,
    p: PointPacket,
    model: CtModel,
    steps: TraceStep[],
    depth: number,
  ): boolean {
    if (depth > MAX_DEPTH) throw new RangeError(`the pipeline loops (more than ${MAX_DEPTH} table jumps)`);
    const flow = (this.tables.get(table) ?? []).find((f) => contextMatches(f, ctx) && pointHas(f.point, p));
    steps.push({ table, flow });
    if (!flow) return false;
    let c = ctx;
    let pass = false;
    for (const a of flow.actions) {
      if (a.kind === "output") return true;
      if (a.kind === "ct_clear") c = { ...c, ct: UNTRACKED };
      if (a.kind === "goto") pass = this.traceTable(a.table, c, p, model, steps, depth + 1) || pass;
      if (a.kind === "ct" && a.table !== undefined)
        pass =
          this.traceTable(
            a.table,
            { ...c, ct: stateAfterCt(model), zone: a.zone ?? 0 },
            p,
            model,
            steps,
            depth + 1,
          ) || pass;
    }
    return pass;
  }
}
