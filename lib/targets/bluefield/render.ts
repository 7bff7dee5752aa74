import { createHash } from "node:crypto";
import type { Workload } from "../../model/types";
import { AddressSet, hasPorts, type IpFamily, type ServiceSet } from "../../net";
import type { CompiledPath, Plan, Slice } from "../../plan/types";
import { type BlueFieldOptions, hex, type ResolvedBlueFieldOptions, resolveOptions } from "./options";

/**
 * The rule set of one DPU host: a flow file for `ovs-ofctl --bundle add-flows <bridge> <file>`. Its
 * first flow line deletes every flow carrying our cookie prefix, so that one atomic bundle replaces
 * exactly our flows and nothing else on the bridge.
 */
export interface BlueFieldRuleSet {
  host: string;
  bridge: string;
  /** The exact file the agent applies (comments, then `delete cookie=…/…`, then one `add` per flow). */
  flows: string;
  /** Number of flows the file installs: what the agent expects to find under our cookie afterwards. */
  flowCount: number;
  /** sha256 (hex) of `flows`. */
  digest: string;
  /** `0x<prefix>/0x<mask>`: the cookie match selecting our flows. */
  cookie: string;
  /** Host representor ports and the addresses behind each (anti-spoofing sources). */
  ports: Record<string, string[]>;
}

/** Priorities of the pipeline (documented in docs/targets/bluefield.md). */
export const PRIORITY = {
  /** Entry table: ARP from a host port with one of its addresses, IPv6 neighbour discovery. */
  l2Allow: 40000,
  /** Entry table: ARP from a host port with a foreign sender address. */
  l2Spoof: 39000,
  /** Entry table: any other ARP. */
  l2Other: 38000,
  /** Entry table: IP from a host port with one of its addresses → conntrack. */
  sourceOk: 35000,
  /** Entry table: any other IP from a host port (spoofed source) → drop. */
  spoof: 34000,
  /** Entry table: IP to a local address (from the uplinks) → conntrack. */
  toLocal: 33000,
  /** Conntrack tables: enforce-forbid guardrails (originating direction, new or established). */
  guardrail: 31000,
  invalid: 30000,
  established: 29000,
  newConnection: 28000,
  /** Policy tables: one flow per permitted (remote addresses, local addresses unless all, protocol, port block). */
  allow: 20000,
  /** Conntrack and policy tables: everything else is dropped. */
  defaultDrop: 0,
} as const;

/** ICMPv6 neighbour discovery (RS, RA, NS, NA); hop limit 255 proves it never crossed a router. */
const ND_TYPES = [133, 134, 135, 136] as const;

interface Flow {
  table: number;
  priority: number;
  cookie: bigint;
  match: string;
  actions: string;
}

/** FNV-1a (32 bit) of a path name: the low cookie bits of that path's flows (never 0). */
export function pathCookieBits(name: string): bigint {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(name, "utf8")) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return BigInt(h === 0 ? 1 : h);
}

/** The DPU hosts a plan places workloads behind, sorted, each with its workloads in policy order. */
export function blueFieldHosts(plan: Plan): Map<string, Workload[]> {
  const byHost = new Map<string, Workload[]>();
  for (const w of plan.policy.workloads) {
    const port = w.placements.bluefield?.port;
    if (port !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(port))
      throw new RangeError(
        `workload "${w.name}": placements.bluefield.port "${port}" is not an OVS port name (letters, digits, "_", "." and "-", at most 15 characters)`,
      );
    for (const h of w.placements.bluefield?.hosts ?? []) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(h))
        throw new RangeError(
          `workload "${w.name}": placements.bluefield.hosts "${h}" is not a usable DPU host name (letters, digits, "_", "." and "-")`,
        );
      const list = byHost.get(h) ?? [];
      list.push(w);
      byHost.set(h, list);
    }
  }
  return new Map([...byHost.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Aligned blocks (value, mask) covering the port range exactly. */
function portBlocks(lo: number, hi: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let p = lo;
  while (p <= hi) {
    let size = p === 0 ? 65536 : p & -p;
    while (p + size - 1 > hi) size /= 2;
    out.push([p, 0xffff & ~(size - 1)]);
    p += size;
  }
  return out;
}

const PROTO_KEYWORD: Record<IpFamily, Record<number, string>> = {
  4: { 1: "icmp", 6: "tcp", 17: "udp", 132: "sctp" },
  6: { 58: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6" },
};

/** Per service entry of the family: the protocol token, and the destination-port tokens (one per block). */
type ServiceMatch = { proto: string; ports: string[] };

function serviceMatchesUncached(family: IpFamily, services: ServiceSet): ServiceMatch[] {
  const ip = family === 4 ? "ip" : "ipv6";
  if (services.toStrings()[0] === "any") return [{ proto: ip, ports: [""] }];
  const out: ServiceMatch[] = [];
  for (const e of services.entries()) {
    // ServiceSet protocol 1 is ICMP of the packet's family: ICMPv6 (58) on IPv6, and 58 there is real 1.
    const real = family === 6 && e.protocol === 1 ? 58 : family === 6 && e.protocol === 58 ? 1 : e.protocol;
    const proto = PROTO_KEYWORD[family][real] ?? `${ip},nw_proto=${real}`;
    const ports: string[] = [];
    const full = e.ports.min() === 0n && e.ports.max() === 65535n && e.ports.ranges.length === 1;
    if (!hasPorts(real) || full) ports.push("");
    else
      for (const [lo, hi] of e.ports.ranges)
        for (const [v, m] of portBlocks(Number(lo), Number(hi)))
          ports.push(m === 0xffff ? `tp_dst=${v}` : `tp_dst=0x${v.toString(16)}/0x${m.toString(16)}`);
    out.push({ proto, ports });
  }
  return out;
}

/** The CIDRs of an address set per family (0.0.0.0/0 and ::/0 as "", i.e. no address match). */
interface FamilyCidrs {
  4: string[];
  6: string[];
}

/**
 * Memoised per rendering: the same ends, address sets and service sets recur across every path and
 * host, so each is merged, split into CIDRs and tokenised once.
 */
class RenderMemo {
  private readonly services = new WeakMap<ServiceSet, FamilyServices>();
  private readonly byServiceKey = new Map<string, FamilyServices>();
  private readonly cidrs = new WeakMap<AddressSet, FamilyCidrs>();
  private readonly ends = new WeakMap<readonly Slice[], EndIndex>();
  private readonly paths = new Map<CompiledPath, PathInfo>();

  serviceMatches(services: ServiceSet): FamilyServices {
    let r = this.services.get(services);
    if (!r) {
      const key = services.key();
      r = this.byServiceKey.get(key);
      if (!r) {
        r = { 4: serviceMatchesUncached(4, services), 6: serviceMatchesUncached(6, services) };
        this.byServiceKey.set(key, r);
      }
      this.services.set(services, r);
    }
    return r;
  }

  cidrsOf(set: AddressSet): FamilyCidrs {
    let r = this.cidrs.get(set);
    if (!r) {
      r = { 4: [], 6: [] };
      for (const c of set.toCidrs()) {
        if (c.includes(":")) r[6].push(c === "::/0" ? "" : `ipv6_#=${c}`);
        else r[4].push(c === "0.0.0.0/0" ? "" : `nw_#=${c}`);
      }
      this.cidrs.set(set, r);
    }
    return r;
  }

  path(c: CompiledPath, base: bigint, verdict: "allow" | "forbid"): PathInfo {
    let r = this.paths.get(c);
    if (!r) {
      const cookieHex = hex(base | pathCookieBits(c.path.name));
      const what = verdict === "allow" ? `allow ${c.path.services}` : `forbid ${c.path.services} (enforce)`;
      r = { name: c.path.name, cookieHex, comment: `path ${c.path.name}: ${what} cookie=${cookieHex}` };
      this.paths.set(c, r);
    }
    return r;
  }

  private readonly blocks = new Map<CompiledPath, Map<string, PathBlock>>();

  /**
   * The block of path `c` in direction `dir` on a host with addresses `local` (undefined when the
   * host has no workload on the path's side of that direction). `head` and `tail` wrap each match.
   */
  block(
    c: CompiledPath,
    dir: "egress" | "ingress",
    host: string,
    local: AddressSet,
    info: PathInfo,
    head: string,
    keyHead: string,
    tail: string,
  ): PathBlock | undefined {
    const localSide = this.end(dir === "egress" ? c.from : c.to).local.get(host);
    if (!localSide) return undefined;
    const whole = { 4: false, 6: false } as Record<IpFamily, boolean>;
    let sig = `${dir}|${head}|${tail}|`;
    let shared = true;
    for (const f of [4, 6] as const) {
      const mine = localSide.family(f);
      if (mine.isEmpty()) sig += "E";
      else if (mine.equals(local.family(f))) {
        whole[f] = true;
        sig += "W";
      } else shared = false;
    }
    let byPath = this.blocks.get(c);
    if (shared) {
      const known = byPath?.get(sig);
      if (known) return known.lines.length === 0 ? undefined : known;
    }
    const matches = hostMatches(c, dir, localSide, whole, this);
    const b: PathBlock = {
      info,
      lines: matches.map((m) => head + m + tail),
      keys: matches.map((m) => keyHead + m),
    };
    if (shared) {
      if (!byPath) this.blocks.set(c, (byPath = new Map()));
      byPath.set(sig, b);
    }
    return b.lines.length === 0 ? undefined : b;
  }

  /** What an end (the slices of a path's `from` or `to`) covers: all its addresses, and per DPU host the local part. */
  end(slices: readonly Slice[]): EndIndex {
    let r = this.ends.get(slices);
    if (!r) {
      const local = new Map<string, AddressSet[]>();
      for (const s of slices)
        if (s.party.kind === "workload")
          for (const h of s.party.workload.placements.bluefield?.hosts ?? []) {
            const l = local.get(h) ?? [];
            l.push(s.addresses);
            local.set(h, l);
          }
      r = {
        all: AddressSet.unionAll(slices.map((s) => s.addresses)),
        local: new Map([...local].map(([h, l]) => [h, AddressSet.unionAll(l)])),
      };
      this.ends.set(slices, r);
    }
    return r;
  }
}

type FamilyServices = Record<IpFamily, ServiceMatch[]>;

interface EndIndex {
  all: AddressSet;
  local: Map<string, AddressSet>;
}

/**
 * The match strings of the connections of path `c` a host's DPU sees in one direction: egress (local
 * sources × all destinations; the egress tables see only packets from a host port carrying one of its
 * addresses) or ingress (all sources × local destinations; the ingress tables see only packets to a
 * local address arriving from elsewhere). A local side that is the whole of the host's addresses of a
 * family is left out of the match: the entry table already checked it.
 */
function hostMatches(
  c: CompiledPath,
  dir: "egress" | "ingress",
  localSide: AddressSet,
  whole: Record<IpFamily, boolean>,
  memo: RenderMemo,
): string[] {
  const svcs = memo.serviceMatches(c.path.services);
  const src = dir === "egress" ? localSide : memo.end(c.from).all;
  const dst = dir === "egress" ? memo.end(c.to).all : localSide;
  const side = dir === "egress" ? "src" : "dst";
  const out: string[] = [];
  const sc = memo.cidrsOf(src);
  const dc = memo.cidrsOf(dst);
  for (const family of [4, 6] as const) {
    if (sc[family].length === 0 || dc[family].length === 0) continue;
    const srcs = side === "src" && whole[family] ? [""] : sc[family];
    const dsts = side === "dst" && whole[family] ? [""] : dc[family];
    for (const s of srcs) {
      const st = s === "" ? "" : `,${s.replace("#", "src")}`;
      for (const d of dsts) {
        const dt = d === "" ? "" : `,${d.replace("#", "dst")}`;
        for (const svc of svcs[family])
          for (const port of svc.ports) out.push(`${svc.proto}${st}${dt}${port === "" ? "" : `,${port}`}`);
      }
    }
  }
  return out;
}

/**
 * The flow lines one path renders in one direction's table, and their (table, priority, match) keys.
 * When the host's side of the path is all of the host's addresses (or none) in each family, the lines
 * do not depend on the host: the DPUs of a segment share them.
 */
interface PathBlock {
  info: PathInfo;
  lines: string[];
  keys: string[];
}

class HostFlows {
  count = 0;
  private readonly seen = new Set<string>();
  /** Flow lines per path (for the limit error). */
  readonly perPath = new Map<string, number>();
  readonly lines: string[] = [];

  add(flow: Flow, path?: string): void {
    const key = `${flow.table}|${flow.priority}|${flow.match}`;
    // OVS keeps one flow per (table, priority, match): a second add would replace the first and the
    // installed count would no longer match the file. The first path to render a match keeps it.
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.count++;
    this.lines.push(
      `add table=${flow.table},priority=${flow.priority},cookie=${hex(flow.cookie)}${flow.match === "" ? "" : `,${flow.match}`},actions=${flow.actions}`,
    );
    if (path) this.perPath.set(path, (this.perPath.get(path) ?? 0) + 1);
  }

  /** A path's block: its comment, then each line whose key no earlier flow of this host had. */
  addBlock(b: PathBlock): void {
    this.lines.push(`# ${b.info.comment}`);
    const { lines, keys } = b;
    let n = 0;
    for (let i = 0; i < lines.length; i++) {
      const key = keys[i]!;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.lines.push(lines[i]!);
      n++;
    }
    this.count += n;
    this.perPath.set(b.info.name, (this.perPath.get(b.info.name) ?? 0) + n);
  }

  comment(text: string): void {
    this.lines.push(`# ${text}`);
  }
}

/** What every host's rule set says of one path: its cookie and its comment line. */
interface PathInfo {
  name: string;
  cookieHex: string;
  comment: string;
}

/** The paths touching each DPU host (a workload of the host at either end), in plan order. */
function pathsTouching(list: readonly CompiledPath[], memo: RenderMemo): Map<string, CompiledPath[]> {
  const byHost = new Map<string, CompiledPath[]>();
  for (const c of list) {
    const hosts = new Set([...memo.end(c.from).local.keys(), ...memo.end(c.to).local.keys()]);
    for (const h of hosts) {
      const l = byHost.get(h) ?? [];
      l.push(c);
      byHost.set(h, l);
    }
  }
  return byHost;
}

function renderHost(
  plan: Plan,
  host: string,
  workloads: Workload[],
  guardrails: CompiledPath[],
  allows: CompiledPath[],
  o: ResolvedBlueFieldOptions,
  memo: RenderMemo,
): BlueFieldRuleSet {
  const { entry, conntrack, policy, ingressConntrack, ingressPolicy } = o.tables;
  const base = o.cookie.value;
  const cookieMatch = `${hex(o.cookie.value)}/${hex(o.cookie.mask)}`;
  const f = new HostFlows();

  // Addresses behind each host port (representor), in first-seen port order.
  const portAddrs = new Map<string, AddressSet[]>();
  for (const w of workloads) {
    const p = w.placements.bluefield!;
    const l = portAddrs.get(p.port) ?? [];
    l.push(AddressSet.fromCidrs(p.addresses));
    portAddrs.set(p.port, l);
  }
  const ports = [...portAddrs.entries()]
    .map(([port, sets]) => ({ port, addrs: AddressSet.unionAll(sets) }))
    .sort((a, b) => (a.port < b.port ? -1 : a.port > b.port ? 1 : 0));
  const local = AddressSet.unionAll(ports.map((p) => p.addrs));

  f.comment("ARP and IPv6 neighbour discovery; ARP from a host port only with one of its addresses");
  for (const { port, addrs } of ports) {
    for (const c of addrs.intersect(AddressSet.ALL_V4).toCidrs())
      f.add({
        table: entry,
        priority: PRIORITY.l2Allow,
        cookie: base,
        match: `arp,in_port=${port},arp_spa=${c}`,
        actions: "NORMAL",
      });
    f.add({
      table: entry,
      priority: PRIORITY.l2Spoof,
      cookie: base,
      match: `arp,in_port=${port}`,
      actions: "drop",
    });
  }
  f.add({ table: entry, priority: PRIORITY.l2Other, cookie: base, match: "arp", actions: "NORMAL" });
  for (const t of ND_TYPES)
    f.add({
      table: entry,
      priority: PRIORITY.l2Allow,
      cookie: base,
      match: `icmp6,icmp_type=${t},nw_ttl=255`,
      actions: "NORMAL",
    });

  const toCt = `ct(table=${conntrack},zone=${o.zone})`;
  const toIngressCt = `ct(table=${ingressConntrack},zone=${o.zone})`;
  f.comment("anti-spoofing: IP from a host port must carry one of that port's addresses");
  for (const { port, addrs } of ports) {
    for (const c of addrs.toCidrs()) {
      const v6 = c.includes(":");
      f.add({
        table: entry,
        priority: PRIORITY.sourceOk,
        cookie: base,
        match: `${v6 ? "ipv6" : "ip"},in_port=${port},${v6 ? "ipv6_src" : "nw_src"}=${c}`,
        actions: toCt,
      });
    }
    for (const ip of ["ip", "ipv6"])
      f.add({
        table: entry,
        priority: PRIORITY.spoof,
        cookie: base,
        match: `${ip},in_port=${port}`,
        actions: "drop",
      });
  }
  f.comment("traffic to this host's addresses is tracked and checked");
  for (const c of local.toCidrs()) {
    const v6 = c.includes(":");
    f.add({
      table: entry,
      priority: PRIORITY.toLocal,
      cookie: base,
      match: `${v6 ? "ipv6" : "ip"},${v6 ? "ipv6_dst" : "nw_dst"}=${c}`,
      actions: toIngressCt,
    });
  }

  // Egress (from a host port) and ingress (to a local address) each have a conntrack table and a
  // policy table: the local side of a path is then implied by the table and needs no match.
  const commit = `ct(commit,zone=${o.zone}),NORMAL`;
  /** Each path's flows in `table` at `priority`: its conntrack `prefix`, its matches, `actions`. */
  const addPaths = (
    paths: readonly CompiledPath[],
    kind: "allow" | "forbid",
    dir: "egress" | "ingress",
    table: number,
    priority: number,
    prefix: string,
    actions: string,
  ) => {
    for (const c of paths) {
      const info = memo.path(c, base, kind);
      const b = memo.block(
        c,
        dir,
        host,
        local,
        info,
        `add table=${table},priority=${priority},cookie=${info.cookieHex},${prefix}`,
        `${table}|${priority}|${prefix}`,
        actions,
      );
      if (b) f.addBlock(b);
    }
  };
  for (const dir of ["egress", "ingress"] as const) {
    const ct = dir === "egress" ? conntrack : ingressConntrack;
    const pol = dir === "egress" ? policy : ingressPolicy;
    const what = dir === "egress" ? "from this host's ports" : "to this host's addresses";
    f.comment(
      `${dir}: enforce-forbid guardrails for traffic ${what}: drop the originating direction, new or established, above every allow`,
    );
    addPaths(guardrails, "forbid", dir, ct, PRIORITY.guardrail, "ct_state=-rpl+trk,", ",actions=drop");
    f.comment(`${dir}: invalid dropped, established/related allowed, new checked against the paths`);
    f.add({
      table: ct,
      priority: PRIORITY.invalid,
      cookie: base,
      match: "ct_state=+inv+trk",
      actions: "drop",
    });
    f.add({
      table: ct,
      priority: PRIORITY.established,
      cookie: base,
      match: "ct_state=+est+trk",
      actions: "NORMAL",
    });
    f.add({
      table: ct,
      priority: PRIORITY.established,
      cookie: base,
      match: "ct_state=+rel+trk",
      actions: "NORMAL",
    });
    f.add({
      table: ct,
      priority: PRIORITY.newConnection,
      cookie: base,
      match: "ct_state=+new+trk",
      actions: `goto_table:${pol}`,
    });
    f.add({ table: ct, priority: PRIORITY.defaultDrop, cookie: base, match: "", actions: "drop" });
    f.comment(`${dir}: the allow paths ${what}`);
    addPaths(allows, "allow", dir, pol, PRIORITY.allow, "ct_state=+new+trk,", `,actions=${commit}`);
    f.comment(`${dir}: default deny`);
    f.add({ table: pol, priority: PRIORITY.defaultDrop, cookie: base, match: "", actions: "drop" });
  }

  const count = f.count;
  if (count > o.maxFlowsPerHost) {
    const top = [...f.perPath.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 3)
      .map(([p, n]) => `${p} (${n})`)
      .join(", ");
    throw new RangeError(
      `BlueField host "${host}" needs ${count} flows, more than the limit of ${o.maxFlowsPerHost} (options.maxFlowsPerHost); the largest paths are ${top}: narrow their addresses or services, or raise the limit if the DPU's flow tables allow it`,
    );
  }

  const header = [
    "# blastradius BlueField rule set: apply with `ovs-ofctl --bundle add-flows <bridge> <this file>`",
    `# policy ${plan.policy.name}, host ${host}, bridge ${o.bridge}`,
    `# tables entry=${entry} egress conntrack=${conntrack} policy=${policy} ingress conntrack=${ingressConntrack} policy=${ingressPolicy}, zone ${o.zone}, cookie ${cookieMatch}`,
    `# flows ${count}`,
    `delete cookie=${cookieMatch}`,
  ];
  const flows = `${[...header, ...f.lines].join("\n")}\n`;
  return {
    host,
    bridge: o.bridge,
    flows,
    flowCount: count,
    digest: createHash("sha256").update(flows, "utf8").digest("hex"),
    cookie: cookieMatch,
    ports: Object.fromEntries(ports.map((p) => [p.port, p.addrs.toCidrs()])),
  };
}

/**
 * Plan → one rule set per DPU host the plan places workloads behind (sorted by host). Deterministic:
 * the same plan and options give byte-identical files. Throws a RangeError naming the host when a
 * rule set exceeds `maxFlowsPerHost`, and naming the option on a bad option.
 */
export function renderBlueField(plan: Plan, options?: BlueFieldOptions): BlueFieldRuleSet[] {
  const o = resolveOptions(options);
  const memo = new RenderMemo();
  const guardrails = pathsTouching(plan.guardrails, memo);
  const allows = pathsTouching(plan.allows, memo);
  return [...blueFieldHosts(plan).entries()].map(([host, workloads]) =>
    renderHost(plan, host, workloads, guardrails.get(host) ?? [], allows.get(host) ?? [], o, memo),
  );
}
