import { createHash } from "node:crypto";
import type { Workload } from "../../model/types";
import { AddressSet, ConnectionSet, hasPorts, type IpFamily, type ServiceSet } from "../../net";
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
  /** Conntrack table: enforce-forbid guardrails (originating direction, new or established). */
  guardrail: 31000,
  invalid: 30000,
  established: 29000,
  newConnection: 28000,
  /** Policy table: one flow per permitted (sources, destinations, protocol, port block). */
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

/** Per service entry of the family: the protocol tokens, and the destination-port tokens (one per block). */
function serviceMatches(family: IpFamily, services: ServiceSet): Array<{ proto: string; ports: string[] }> {
  const ip = family === 4 ? "ip" : "ipv6";
  if (services.toStrings()[0] === "any") return [{ proto: ip, ports: [""] }];
  const out: Array<{ proto: string; ports: string[] }> = [];
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

function addressToken(family: IpFamily, field: "src" | "dst", cidr: string): string {
  if (cidr === "0.0.0.0/0" || cidr === "::/0") return "";
  return family === 4 ? `nw_${field}=${cidr}` : `ipv6_${field}=${cidr}`;
}

/** The match strings of a connection set (src × dst × services per cube), in a deterministic order. */
function connectionMatches(set: ConnectionSet): string[] {
  const out: string[] = [];
  for (const cube of set.cubes()) {
    const family: IpFamily = cube.src.family(4).isEmpty() ? 6 : 4;
    const svcs = serviceMatches(family, cube.services);
    for (const s of cube.src.toCidrs())
      for (const d of cube.dst.toCidrs())
        for (const svc of svcs)
          for (const port of svc.ports)
            out.push(
              [svc.proto, addressToken(family, "src", s), addressToken(family, "dst", d), port]
                .filter((t) => t !== "")
                .join(","),
            );
  }
  return out;
}

class HostFlows {
  readonly flows: Flow[] = [];
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
    this.flows.push(flow);
    const parts = [`table=${flow.table}`, `priority=${flow.priority}`, `cookie=${hex(flow.cookie)}`];
    if (flow.match !== "") parts.push(flow.match);
    this.lines.push(`add ${parts.join(",")},actions=${flow.actions}`);
    if (path) this.perPath.set(path, (this.perPath.get(path) ?? 0) + 1);
  }

  comment(text: string): void {
    this.lines.push(`# ${text}`);
  }
}

function localSlices(c: CompiledPath, host: string, side: "from" | "to"): Slice[] {
  return c[side].filter(
    (s) =>
      s.party.kind === "workload" && (s.party.workload.placements.bluefield?.hosts.includes(host) ?? false),
  );
}

/** The connections of path `c` a host's DPU sees: pairs with a workload of that host at either end. */
function hostConnections(c: CompiledPath, host: string): ConnectionSet {
  const fromLocal = localSlices(c, host, "from");
  const toLocal = localSlices(c, host, "to");
  if (fromLocal.length === 0 && toLocal.length === 0) return ConnectionSet.EMPTY;
  const all = (ss: Slice[]) => AddressSet.unionAll(ss.map((s) => s.addresses));
  return ConnectionSet.unionAll([
    ConnectionSet.of(all(fromLocal), all(c.to), c.path.services),
    ConnectionSet.of(all(c.from), all(toLocal), c.path.services),
  ]);
}

function pathsTouching(list: readonly CompiledPath[]): Map<string, CompiledPath[]> {
  const byHost = new Map<string, CompiledPath[]>();
  for (const c of list) {
    const hosts = new Set<string>();
    for (const s of [...c.from, ...c.to])
      if (s.party.kind === "workload")
        for (const h of s.party.workload.placements.bluefield?.hosts ?? []) hosts.add(h);
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
): BlueFieldRuleSet {
  const { entry, conntrack, policy } = o.tables;
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
      actions: toCt,
    });
  }

  f.comment(
    "enforce-forbid guardrails: drop the originating direction, new or established, above every allow",
  );
  for (const c of guardrails) {
    const matches = connectionMatches(hostConnections(c, host));
    if (matches.length === 0) continue;
    const cookie = base | pathCookieBits(c.path.name);
    f.comment(`path ${c.path.name}: forbid ${c.path.services} (enforce) cookie=${hex(cookie)}`);
    for (const m of matches)
      f.add(
        {
          table: conntrack,
          priority: PRIORITY.guardrail,
          cookie,
          match: `ct_state=-rpl+trk,${m}`,
          actions: "drop",
        },
        c.path.name,
      );
  }
  f.comment("connection state: invalid dropped, established/related allowed, new checked against the paths");
  f.add({
    table: conntrack,
    priority: PRIORITY.invalid,
    cookie: base,
    match: "ct_state=+inv+trk",
    actions: "drop",
  });
  f.add({
    table: conntrack,
    priority: PRIORITY.established,
    cookie: base,
    match: "ct_state=+est+trk",
    actions: "NORMAL",
  });
  f.add({
    table: conntrack,
    priority: PRIORITY.established,
    cookie: base,
    match: "ct_state=+rel+trk",
    actions: "NORMAL",
  });
  f.add({
    table: conntrack,
    priority: PRIORITY.newConnection,
    cookie: base,
    match: "ct_state=+new+trk",
    actions: `goto_table:${policy}`,
  });
  f.add({ table: conntrack, priority: PRIORITY.defaultDrop, cookie: base, match: "", actions: "drop" });

  const commit = `ct(commit,zone=${o.zone}),NORMAL`;
  for (const c of allows) {
    const matches = connectionMatches(hostConnections(c, host));
    if (matches.length === 0) continue;
    const cookie = base | pathCookieBits(c.path.name);
    f.comment(`path ${c.path.name}: allow ${c.path.services} cookie=${hex(cookie)}`);
    for (const m of matches)
      f.add(
        { table: policy, priority: PRIORITY.allow, cookie, match: `ct_state=+new+trk,${m}`, actions: commit },
        c.path.name,
      );
  }
  f.comment("default deny for this host's traffic");
  f.add({ table: policy, priority: PRIORITY.defaultDrop, cookie: base, match: "", actions: "drop" });

  const count = f.flows.length;
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
    `# tables entry=${entry} conntrack=${conntrack} policy=${policy}, zone ${o.zone}, cookie ${cookieMatch}`,
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
  const guardrails = pathsTouching(plan.guardrails);
  const allows = pathsTouching(plan.allows);
  return [...blueFieldHosts(plan).entries()].map(([host, workloads]) =>
    renderHost(plan, host, workloads, guardrails.get(host) ?? [], allows.get(host) ?? [], o),
  );
}
