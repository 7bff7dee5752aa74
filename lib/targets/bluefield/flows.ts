import { AddressSet, ConnectionSet, IntervalSet, type IpFamily, MAX_PROTOCOL, ServiceSet } from "../../net";

/**
 * A reader of Open vSwitch flow text, as `ovs-ofctl add-flows` reads it (ovs-ofctl(8) "Flow Syntax",
 * ovs-fields(7), ovs-actions(7)) and as `ovs-ofctl dump-flows` prints it. Only what a segmentation
 * pipeline uses is understood; anything else is refused with an error naming the line, so that an
 * audit never silently misreads a flow.
 */

/** One action of a flow's action list, as far as forwarding is concerned. */
export type OvsAction =
  | { kind: "output"; text: string }
  | { kind: "ct"; table?: number; zone?: number; commit: boolean }
  | { kind: "goto"; table: number }
  | { kind: "ct_clear" }
  | { kind: "controller" }
  | { kind: "noop"; text: string };

export interface CtFlags {
  trk: boolean;
  new: boolean;
  est: boolean;
  rel: boolean;
  rpl: boolean;
  inv: boolean;
}

/** Constraints on what the connection-set model does not carry: the ingress port and conntrack. */
export interface FlowContext {
  inPort?: string;
  ctState?: Array<{ flag: keyof CtFlags; set: boolean }>;
  ctZone?: number;
}

export interface OvsFlow {
  table: number;
  priority: number;
  cookie: bigint;
  /** The match as written (for reports). */
  match: string;
  actionsText: string;
  actions: OvsAction[];
  context: FlowContext;
  /** The IP packets the match covers (family, addresses, protocol, destination port). */
  space: ConnectionSet;
  /** 1-based line in its source text. */
  line: number;
  /** The same match in primitive form, for fast single-packet lookups. */
  point: PointMatch;
}

/** A flow's IP match as primitives (undefined: any). `none` when it matches no modelled packet. */
export interface PointMatch {
  none: boolean;
  family?: IpFamily;
  /** Source / destination addresses of `family` (set whenever the flow matches addresses). */
  srcValues?: IntervalSet;
  dstValues?: IntervalSet;
  /** Real IP protocol number. */
  proto?: number;
  ports?: IntervalSet;
}

/** Whether a packet (addresses already parsed) is in a flow's match. */
export function pointHas(
  m: PointMatch,
  p: { family: IpFamily; src: bigint; dst: bigint; protocol: number; port?: number },
): boolean {
  if (m.none) return false;
  if (m.family !== undefined && m.family !== p.family) return false;
  if (m.srcValues && !m.srcValues.has(p.src)) return false;
  if (m.dstValues && !m.dstValues.has(p.dst)) return false;
  if (m.proto !== undefined && m.proto !== p.protocol) return false;
  if (m.ports && (p.port === undefined || !m.ports.has(BigInt(p.port)))) return false;
  return true;
}

/** A flow-mod line of a flow file. */
export type FlowMod =
  | { op: "add"; flow: OvsFlow }
  | { op: "delete"; cookie: bigint; mask: bigint; line: number };

/**
 * What the model does not say about a connection's first packet is taken as a typical one: an ICMP
 * echo request (type 8 / 128, code 0) and a hop limit of 64. So flows matching neighbour discovery
 * (ICMPv6 133-136 with hop limit 255) never match a modelled connection: they are link-local control
 * traffic, not a movement path.
 */
export const REPRESENTATIVE = { icmpType: 8, icmp6Type: 128, icmpCode: 0, ttl: 64 } as const;

const OFP_DEFAULT_PRIORITY = 32768;

const METADATA = new Set([
  "duration",
  "n_packets",
  "n_bytes",
  "idle_age",
  "hard_age",
  "idle_timeout",
  "hard_timeout",
  "importance",
  "send_flow_rem",
  "check_overlap",
  "reset_counts",
  "no_packet_counts",
  "no_byte_counts",
  "out_port",
  "out_group",
]);

const SHORTHAND: Record<string, { family?: IpFamily; proto?: number; ip: boolean }> = {
  ip: { family: 4, ip: true },
  ipv4: { family: 4, ip: true },
  ipv6: { family: 6, ip: true },
  tcp: { family: 4, proto: 6, ip: true },
  tcp6: { family: 6, proto: 6, ip: true },
  udp: { family: 4, proto: 17, ip: true },
  udp6: { family: 6, proto: 17, ip: true },
  sctp: { family: 4, proto: 132, ip: true },
  sctp6: { family: 6, proto: 132, ip: true },
  icmp: { family: 4, proto: 1, ip: true },
  icmp6: { family: 6, proto: 58, ip: true },
  arp: { ip: false },
  rarp: { ip: false },
};

export class FlowSyntaxError extends Error {
  constructor(line: number, text: string, why: string) {
    super(`flow line ${line}: ${why}: ${text.trim()}`);
    this.name = "FlowSyntaxError";
  }
}

const separatorPatterns = new Map<string, RegExp>();
function separatorPattern(seps: string): RegExp {
  let re = separatorPatterns.get(seps);
  if (!re) separatorPatterns.set(seps, (re = new RegExp(`[${seps.replace(/[\\\]^-]/g, "\\$&")}]`)));
  return re;
}

/** Splits on the separators at parenthesis depth 0. */
function splitTop(text: string, seps: string): string[] {
  // Matches rarely hold parentheses: then a plain split on the separators is the same answer.
  if (!text.includes("(")) {
    const out: string[] = [];
    for (const part of text.split(separatorPattern(seps))) {
      const t = part.trim();
      if (t !== "") out.push(t);
    }
    return out;
  }
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const push = (end: number) => {
    const t = text.slice(start, end).trim();
    if (t !== "") out.push(t);
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0 && seps.includes(ch)) {
      push(i);
      start = i + 1;
    }
  }
  push(text.length);
  return out;
}

function parseNumber(v: string): number {
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : /^[0-9]+$/.test(v) ? Number(v) : Number.NaN;
  return n;
}

/** The ports p with (p & mask) == (value & mask), as intervals. */
export function maskedPorts(value: number, mask: number): IntervalSet {
  const m = mask & 0xffff;
  if (m === 0) return IntervalSet.range(0n, 65535n);
  let tz = 0;
  while (((m >> tz) & 1) === 0) tz++;
  const free: number[] = [];
  for (let b = tz; b < 16; b++) if (((m >> b) & 1) === 0) free.push(b);
  if (free.length > 12) throw new RangeError(`port mask 0x${m.toString(16)} is too scattered to analyse`);
  const base = value & m;
  const ranges: Array<[bigint, bigint]> = [];
  for (let k = 0; k < 1 << free.length; k++) {
    let start = base;
    free.forEach((bit, i) => {
      if ((k >> i) & 1) start |= 1 << bit;
    });
    ranges.push([BigInt(start), BigInt(start + (1 << tz) - 1)]);
  }
  return IntervalSet.of(ranges);
}

const cidrCache = new Map<string, AddressSet>();
const portCache = new Map<string, IntervalSet>();
const spaceCache = new Map<string, ConnectionSet>();
const actionCache = new Map<string, OvsAction[]>();
/** Flow contexts by their fields: thousands of flows share a handful (read only, like the flows). */
const contextCache = new Map<string, FlowContext>();
/** A match's fields in a canonical order (OVS identifies a flow by table, priority and match). */
const matchKeyCache = new Map<string, string>();

/** Parsed values repeat across thousands of flows: parse each text once (the values are immutable). */
function memo<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let v = cache.get(key);
  if (v === undefined) {
    if (cache.size > 100_000) cache.clear();
    v = make();
    cache.set(key, v);
  }
  return v;
}

function parseCidr(family: IpFamily, v: string): AddressSet {
  return memo(cidrCache, `${family}|${v}`, () => parseCidrUncached(family, v));
}

function parseCidrUncached(family: IpFamily, v: string): AddressSet {
  const [addr, mask] = v.split("/");
  if (mask?.includes(".")) {
    // Dotted mask: must be contiguous (a prefix) to be an address set we can analyse.
    const bits = mask
      .split(".")
      .map((o) => Number(o).toString(2).padStart(8, "0"))
      .join("");
    if (!/^1*0*$/.test(bits)) throw new RangeError(`non-contiguous mask ${mask}`);
    return AddressSet.parse(`${addr}/${bits.indexOf("0") === -1 ? 32 : bits.indexOf("0")}`);
  }
  const set = AddressSet.parse(mask === undefined ? addr! : `${addr}/${mask}`);
  if (set.family(family === 4 ? 6 : 4).isEmpty()) return set;
  throw new RangeError(`${v} is not an IPv${family} address`);
}

/** IntervalSet of a protocol in ServiceSet terms for the family (IPv6: real 58 is ServiceSet 1 and back). */
function serviceFor(
  family: IpFamily,
  realProto: number | undefined,
  ports: IntervalSet | undefined,
): ServiceSet {
  if (realProto === undefined) return ServiceSet.ALL;
  const p = family === 6 && realProto === 58 ? 1 : family === 6 && realProto === 1 ? 58 : realProto;
  return ServiceSet.protocol(p, ports);
}

function parseCtState(v: string): Array<{ flag: keyof CtFlags; set: boolean }> {
  const out: Array<{ flag: keyof CtFlags; set: boolean }> = [];
  const re = /([+-])([a-z]+)/g;
  let m: RegExpExecArray | null = re.exec(v);
  let consumed = "";
  while (m !== null) {
    const flag = m[2] as keyof CtFlags;
    if (!["trk", "new", "est", "rel", "rpl", "inv"].includes(flag))
      throw new RangeError(`unknown ct_state flag ${flag}`);
    out.push({ flag, set: m[1] === "+" });
    consumed += m[0];
    m = re.exec(v);
  }
  if (consumed !== v) throw new RangeError(`ct_state=${v} is not a list of +flag/-flag`);
  return out;
}

function parseActions(text: string): OvsAction[] {
  const out: OvsAction[] = [];
  for (const a of splitTop(text, ",")) {
    const lower = a.toLowerCase();
    if (lower === "drop") continue;
    if (
      lower === "normal" ||
      lower === "flood" ||
      lower === "all" ||
      lower === "local" ||
      lower === "in_port"
    )
      out.push({ kind: "output", text: a });
    else if (lower.startsWith("output:") || /^[0-9]+$/.test(a)) out.push({ kind: "output", text: a });
    else if (lower === "ct_clear") out.push({ kind: "ct_clear" });
    else if (lower.startsWith("controller")) out.push({ kind: "controller" });
    else if (lower.startsWith("goto_table:")) out.push({ kind: "goto", table: parseNumber(a.slice(11)) });
    else if (lower.startsWith("resubmit(")) {
      const [port, table] = a.slice(9, -1).split(",");
      if (port !== undefined && port.trim() !== "")
        throw new RangeError(`resubmit with a port (${a}) is not supported`);
      out.push({ kind: "goto", table: parseNumber((table ?? "").trim()) });
    } else if (lower.startsWith("ct(") || lower === "ct") {
      const args = lower === "ct" ? [] : splitTop(a.slice(3, -1), ",");
      const ct: OvsAction = { kind: "ct", commit: false };
      for (const arg of args) {
        const [k, v] = arg.split("=");
        if (k === "commit") ct.commit = true;
        else if (k === "table") ct.table = parseNumber(v ?? "");
        else if (k === "zone") ct.zone = parseNumber(v ?? "");
        else if (k === "nat" || k?.startsWith("nat(") || k === "exec" || k?.startsWith("exec("))
          throw new RangeError(`ct argument ${arg} rewrites packets and is not supported`);
      }
      out.push(ct);
    } else if (lower.startsWith("note:") || lower.startsWith("learn(")) out.push({ kind: "noop", text: a });
    // A bare port name is an output to that port (ovs-actions(7): "port" is short for output:port).
    else if (/^[A-Za-z0-9_.-]+$/.test(a)) out.push({ kind: "output", text: a });
    else throw new RangeError(`action ${a} is not supported`);
  }
  return out;
}

const flowCache = new Map<string, OvsFlow>();

/** A flow's space, computed on first read and shared by the flow's copies. */
interface SpaceCell {
  value?: ConnectionSet;
  make: () => ConnectionSet;
}

/** A flow whose `space` is computed on first read (a getter: spreading a flow leaves it out). */
class ParsedFlow implements OvsFlow {
  table: number;
  priority: number;
  cookie: bigint;
  match: string;
  actionsText: string;
  actions: OvsAction[];
  context: FlowContext;
  line: number;
  point: PointMatch;
  readonly #cell: SpaceCell;

  constructor(fields: Omit<OvsFlow, "space">, cell: SpaceCell) {
    this.table = fields.table;
    this.priority = fields.priority;
    this.cookie = fields.cookie;
    this.match = fields.match;
    this.actionsText = fields.actionsText;
    this.actions = fields.actions;
    this.context = fields.context;
    this.line = fields.line;
    this.point = fields.point;
    this.#cell = cell;
  }

  get space(): ConnectionSet {
    const c = this.#cell;
    c.value ??= c.make();
    return c.value;
  }

  /** @internal */
  get cell(): SpaceCell {
    return this.#cell;
  }
}

/** A copy of a flow with some fields changed (its match, hence its space, stays the same). */
export function copyFlow(f: OvsFlow, changes: Partial<Omit<OvsFlow, "space" | "point" | "match">>): OvsFlow {
  const fields: Omit<OvsFlow, "space"> = {
    table: changes.table ?? f.table,
    priority: changes.priority ?? f.priority,
    cookie: changes.cookie ?? f.cookie,
    match: f.match,
    actionsText: changes.actionsText ?? f.actionsText,
    actions: changes.actions ?? f.actions,
    context: changes.context ?? f.context,
    line: changes.line ?? f.line,
    point: f.point,
  };
  return new ParsedFlow(fields, f instanceof ParsedFlow ? f.cell : { make: () => f.space });
}

/** Parses one flow (add-flows syntax or dump-flows output line). */
export function parseFlow(text: string, line = 1): OvsFlow {
  // The same flow text recurs on every DPU a path touches: parse it once (flows are immutable).
  const known = flowCache.get(text);
  if (known) return known.line === line ? known : copyFlow(known, { line });
  const flow = parseFlowUncached(text, line);
  if (flowCache.size > 200_000) flowCache.clear();
  flowCache.set(text, flow);
  return flow;
}

function parseFlowUncached(text: string, line: number): OvsFlow {
  const at = text.search(/(^|[\s,])actions=/);
  if (at < 0) throw new FlowSyntaxError(line, text, "no actions=");
  const head = text.slice(0, at);
  const actionsText = text.slice(text.indexOf("actions=", at) + 8).trim();
  let table = 0;
  let priority = OFP_DEFAULT_PRIORITY;
  let cookie = 0n;
  const matchTokens: string[] = [];
  let context: FlowContext = {};
  let ctStateText = "";
  let family: IpFamily | undefined;
  let ip: boolean | undefined;
  let proto: number | undefined;
  let src: AddressSet | undefined;
  let dst: AddressSet | undefined;
  let ports: IntervalSet | undefined;
  let representative = true;
  const setFamily = (f: IpFamily) => {
    if (family !== undefined && family !== f) throw new RangeError("mixes IPv4 and IPv6 fields");
    family = f;
    ip = true;
  };
  try {
    for (const tok of splitTop(head, ", \t")) {
      const eq = tok.indexOf("=");
      const key = (eq < 0 ? tok : tok.slice(0, eq)).toLowerCase();
      const val = eq < 0 ? "" : tok.slice(eq + 1);
      if (METADATA.has(key)) continue;
      if (key === "table") table = parseNumber(val);
      else if (key === "priority") priority = parseNumber(val);
      else if (key === "cookie") cookie = BigInt(val.split("/")[0]!);
      else {
        matchTokens.push(tok);
        const sh = SHORTHAND[key];
        if (sh !== undefined && eq < 0) {
          if (sh.family !== undefined) setFamily(sh.family);
          ip = sh.ip;
          if (sh.proto !== undefined) proto = sh.proto;
        } else if (key === "dl_type" || key === "eth_type") {
          const t = parseNumber(val);
          if (t === 0x0800) setFamily(4);
          else if (t === 0x86dd) setFamily(6);
          else ip = false;
        } else if (key === "nw_proto" || key === "ip_proto") proto = parseNumber(val);
        else if (key === "nw_src" || key === "ip_src" || key === "ipv6_src") {
          const f: IpFamily = key === "ipv6_src" ? 6 : 4;
          setFamily(f);
          src = parseCidr(f, val);
        } else if (key === "nw_dst" || key === "ip_dst" || key === "ipv6_dst") {
          const f: IpFamily = key === "ipv6_dst" ? 6 : 4;
          setFamily(f);
          dst = parseCidr(f, val);
        } else if (key === "tp_dst" || key === "tcp_dst" || key === "udp_dst" || key === "sctp_dst") {
          const [v, m] = val.split("/");
          const p = memo(portCache, val, () =>
            maskedPorts(parseNumber(v!), m === undefined ? 0xffff : parseNumber(m)),
          );
          ports = ports === undefined ? p : ports.intersect(p);
        } else if (key === "in_port") context.inPort = val;
        else if (key === "ct_state") {
          context.ctState = parseCtState(val);
          ctStateText = val;
        } else if (key === "ct_zone") context.ctZone = parseNumber(val);
        else if (key === "icmp_type" || key === "icmpv6_type") {
          const want = family === 6 || proto === 58 ? REPRESENTATIVE.icmp6Type : REPRESENTATIVE.icmpType;
          if (parseNumber(val) !== want) representative = false;
        } else if (key === "icmp_code" || key === "icmpv6_code") {
          if (parseNumber(val) !== REPRESENTATIVE.icmpCode) representative = false;
        } else if (key === "nw_ttl") {
          if (parseNumber(val) !== REPRESENTATIVE.ttl) representative = false;
        } else if (
          key === "arp_spa" ||
          key === "arp_tpa" ||
          key === "arp_op" ||
          key === "arp_sha" ||
          key === "arp_tha"
        ) {
          ip = false;
        } else if (key === "nw_frag" && val === "no") {
          // The model's packets are unfragmented.
        } else throw new RangeError(`match field ${key} is not supported`);
      }
    }
    if ([table, priority].some((n) => Number.isNaN(n))) throw new RangeError("bad table or priority");
    // Not through `memo`: a closure here would keep every flow's own context alive in `spaceOf`'s scope.
    const contextKey = `${context.inPort ?? ""}\u0000${context.ctZone ?? ""}\u0000${ctStateText}`;
    const shared = contextCache.get(contextKey);
    if (shared) context = shared;
    else {
      if (contextCache.size > 100_000) contextCache.clear();
      contextCache.set(contextKey, context);
    }
    if (proto !== undefined && !(Number.isInteger(proto) && proto >= 0 && proto <= MAX_PROTOCOL))
      throw new RangeError(`IP protocol ${proto} is not 0-${MAX_PROTOCOL}`);
    // The connection set of the match is built only when asked for (tables merge matches as boxes).
    const spaceOf = (): ConnectionSet => {
      if (ip === false || !representative) return ConnectionSet.EMPTY;
      if (src === undefined && dst === undefined && family !== undefined) {
        const fam = family;
        return memo(spaceCache, `${family}|${proto}|${ports?.key() ?? ""}`, () =>
          ConnectionSet.of(
            fam === 4 ? AddressSet.ALL_V4 : AddressSet.ALL_V6,
            fam === 4 ? AddressSet.ALL_V4 : AddressSet.ALL_V6,
            serviceFor(fam, proto, ports),
          ),
        );
      }
      const families: IpFamily[] = family === undefined ? [4, 6] : [family];
      return ConnectionSet.unionAll(
        families.map((f) =>
          ConnectionSet.of(
            src ?? (f === 4 ? AddressSet.ALL_V4 : AddressSet.ALL_V6),
            dst ?? (f === 4 ? AddressSet.ALL_V4 : AddressSet.ALL_V6),
            serviceFor(f, proto, ports),
          ),
        ),
      );
    };
    const point: PointMatch = {
      none: ip === false || !representative,
      family,
      srcValues: src && family ? src.family(family) : undefined,
      dstValues: dst && family ? dst.family(family) : undefined,
      proto,
      ports,
    };
    return new ParsedFlow(
      {
        point,
        table,
        priority,
        cookie,
        match: matchTokens.join(","),
        actionsText,
        actions: memo(actionCache, actionsText, () => parseActions(actionsText)),
        context,
        line,
      },
      { make: spaceOf },
    );
  } catch (e) {
    if (e instanceof FlowSyntaxError) throw e;
    throw new FlowSyntaxError(line, text, (e as Error).message);
  }
}

/** Parses a flow file for `ovs-ofctl add-flows` (comments, `add`/`delete` keywords). */
export function parseFlowFile(text: string): FlowMod[] {
  const out: FlowMod[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(add|delete|delete_strict|modify|modify_strict)\s+(.*)$/.exec(line);
    const op = m?.[1] ?? "add";
    const body = m?.[2] ?? line;
    if (op === "add") out.push({ op: "add", flow: parseFlow(body, i + 1) });
    else if (op === "delete") {
      const c = /^cookie=(0x[0-9a-f]+)\/(0x[0-9a-f]+)$/i.exec(body);
      if (!c) throw new FlowSyntaxError(i + 1, raw, "only `delete cookie=<value>/<mask>` is supported");
      out.push({ op: "delete", cookie: BigInt(c[1]!), mask: BigInt(c[2]!), line: i + 1 });
    } else throw new FlowSyntaxError(i + 1, raw, `${op} is not supported`);
  });
  return out;
}

/** Parses `ovs-ofctl dump-flows` output (header lines such as `NXST_FLOW reply` are skipped). */
export function parseDumpFlows(text: string): OvsFlow[] {
  const out: OvsFlow[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || /^(NXST|OFPST|OFPT)_/.test(line)) return;
    out.push(parseFlow(line, i + 1));
  });
  return out;
}

/**
 * The flow table after applying flow mods to a bridge holding `initial` (OVS keeps one flow per table,
 * priority and match: a later add replaces an earlier one).
 */
export function applyFlowMods(initial: readonly OvsFlow[], mods: readonly FlowMod[]): OvsFlow[] {
  const table = new Map<string, OvsFlow>();
  const key = (f: OvsFlow) =>
    `${f.table}|${f.priority}|${memo(matchKeyCache, f.match, () => f.match.split(",").sort().join(","))}`;
  for (const f of initial) table.set(key(f), f);
  for (const m of mods) {
    if (m.op === "add") table.set(key(m.flow), m.flow);
    else for (const [k, f] of table) if ((f.cookie & m.mask) === (m.cookie & m.mask)) table.delete(k);
  }
  return [...table.values()];
}
