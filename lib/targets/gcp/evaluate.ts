import type { Workload } from "../../model/types";
import { AddressSet, ConnectionSet, IntervalSet, MAX_PORT, type Packet, ServiceSet } from "../../net";
import { governs } from "../../plan/facets";
import type { Party, Plan } from "../../plan/types";
import { unclaimedAddresses } from "../../plan/universe";
import type {
  BindingFinding,
  Decision,
  Footprint,
  ResourceRecord,
  TargetAdapter,
  TargetEvaluator,
} from "../../verify/types";
import { GCP_COMPUTE_TYPES, GCP_SUBNETWORK_TYPE, type GcpCompute, gcpComputes } from "./bind";
import { COMPONENT_TYPE, FIREWALL_TYPE } from "./types";
import { gcpUsage } from "./usage";

/**
 * An independent interpreter of GCP VPC firewall rules
 * (https://cloud.google.com/firewall/docs/firewalls). It reads rules as Pulumi records them
 * (`gcp:compute/firewall:Firewall` inputs) or as `gcloud compute firewall-rules list --format=json`
 * prints them, and the plan only for topology (which workload runs in which network, as which
 * service account, at which addresses). Semantics:
 *
 * - A rule applies to the instances of its network that its target names: `targetServiceAccounts`,
 *   `targetTags`, or (neither) every instance. Disabled rules do not exist.
 * - INGRESS: the packet's source matches `sourceRanges` OR an instance of the same network running
 *   as one of `sourceServiceAccounts` OR carrying one of `sourceTags`; `destinationRanges`, if set,
 *   narrows the destination address. EGRESS: `destinationRanges` (absent: everywhere) and, if set,
 *   `sourceRanges` narrowing the source address.
 * - Among the rules that match a packet, the lowest priority number decides; at equal priority a
 *   deny wins. No match: the implied rules at 65535 deny ingress and allow egress.
 * - A connection is allowed when the source instance's egress and the destination instance's
 *   ingress both allow it (each side only when it is a GCP instance); replies follow (stateful).
 * - Protocols: `tcp`, `udp`, `icmp` (IP protocol 1), `esp`, `ah`, `sctp`, `ipip`, `all`, or a number
 *   (`58` is ICMPv6). Ports only narrow tcp, udp and sctp.
 */

type Direction = "INGRESS" | "EGRESS";

/** One firewall rule as the evaluator understands it (from either source format). */
export interface FirewallRuleView {
  name: string;
  /** The network as written (name, self link, URL or id). */
  network: string;
  priority: number;
  direction: Direction;
  action: "allow" | "deny";
  /** Services in real IP protocol numbers, per family. */
  v4: ServiceSet;
  v6: ServiceSet;
  sourceRanges?: AddressSet;
  destinationRanges?: AddressSet;
  sourceServiceAccounts: string[];
  sourceTags: string[];
  targetServiceAccounts: string[];
  targetTags: string[];
  disabled: boolean;
  /** Rendered by blastradius (its description says so); anything else was added outside the library. */
  rendered: boolean;
}

export class GcpRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GcpRuleError";
  }
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, esp: 50, ah: 51, sctp: 132, ipip: 4 };
const ALL_PORTS = IntervalSet.range(0n, BigInt(MAX_PORT));
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);

function parsePorts(rule: string, ports: string[]): IntervalSet {
  if (ports.length === 0) return ALL_PORTS;
  return IntervalSet.unionAll(
    ports.map((p) => {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(p);
      const lo = m ? Number(m[1]) : Number.NaN;
      const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
      if (!m || lo > hi || hi > MAX_PORT)
        throw new GcpRuleError(`firewall rule "${rule}": bad port "${p}" (write "443" or "8000-8100")`);
      return IntervalSet.range(BigInt(lo), BigInt(hi));
    }),
  );
}

/** The L4 entries as one ServiceSet of real protocol numbers (the same for both families). */
function parseL4(rule: string, entries: unknown, protocolKey: string): ServiceSet {
  if (!Array.isArray(entries)) return ServiceSet.EMPTY;
  const sets = entries.map((e) => {
    const o = (e ?? {}) as Record<string, unknown>;
    const text = String(o[protocolKey] ?? "")
      .trim()
      .toLowerCase();
    if (text === "all") return ServiceSet.ALL;
    const n = PROTOCOLS[text] ?? (/^\d+$/.test(text) ? Number(text) : Number.NaN);
    if (!Number.isInteger(n) || n < 0 || n > 255)
      throw new GcpRuleError(`firewall rule "${rule}": unknown protocol "${text}"`);
    return ServiceSet.protocol(n, parsePorts(rule, strings(o.ports)));
  });
  return sets.reduce((a, b) => a.union(b), ServiceSet.EMPTY);
}

/** ServiceSet "icmp" (1) means ICMPv6 (58) in IPv6 packets; swap so ConnectionSet.of yields real numbers. */
function forV6(real: ServiceSet): ServiceSet {
  const entries = real.entries();
  const swapped = entries.map((e) =>
    ServiceSet.protocol(e.protocol === 1 ? 58 : e.protocol === 58 ? 1 : e.protocol, e.ports),
  );
  return swapped.reduce((a, b) => a.union(b), ServiceSet.EMPTY);
}

function ranges(rule: string, v: unknown): AddressSet | undefined {
  if (v === undefined || v === null) return undefined;
  const list = strings(v);
  if (list.length === 0) return undefined;
  try {
    return AddressSet.fromCidrs(list);
  } catch (e) {
    throw new GcpRuleError(`firewall rule "${rule}": ${(e as Error).message}`);
  }
}

/** Per reading, parsed services and ranges by their text: rules repeat the same lists many times. */
interface ParseCache {
  services: Map<string, { v4: ServiceSet; v6: ServiceSet }>;
  ranges: Map<string, AddressSet | undefined>;
}
const newCache = (): ParseCache => ({ services: new Map(), ranges: new Map() });

function cachedServices(cache: ParseCache, rule: string, entries: unknown, protocolKey: string) {
  const text = JSON.stringify(entries);
  let hit = cache.services.get(text);
  if (!hit) {
    const real = parseL4(rule, entries, protocolKey);
    hit = { v4: real, v6: forV6(real) };
    cache.services.set(text, hit);
  }
  return hit;
}

function cachedRanges(cache: ParseCache, rule: string, v: unknown): AddressSet | undefined {
  if (!Array.isArray(v)) return ranges(rule, v);
  const text = v.join(",");
  if (cache.ranges.has(text)) return cache.ranges.get(text);
  const set = ranges(rule, v);
  cache.ranges.set(text, set);
  return set;
}

function view(
  name: string,
  o: Record<string, unknown>,
  allowKey: string,
  denyKey: string,
  protocolKey: string,
  cache: ParseCache = newCache(),
): FirewallRuleView {
  const hasAllow = Array.isArray(o[allowKey]) && (o[allowKey] as unknown[]).length > 0;
  const hasDeny = Array.isArray(o[denyKey]) && (o[denyKey] as unknown[]).length > 0;
  if (hasAllow === hasDeny)
    throw new GcpRuleError(`firewall rule "${name}": exactly one of ${allowKey} and ${denyKey} must be set`);
  const services = cachedServices(cache, name, hasAllow ? o[allowKey] : o[denyKey], protocolKey);
  const direction = String(o.direction ?? "INGRESS").toUpperCase();
  if (direction !== "INGRESS" && direction !== "EGRESS")
    throw new GcpRuleError(`firewall rule "${name}": direction "${direction}" is not INGRESS or EGRESS`);
  const priority = o.priority === undefined || o.priority === null ? 1000 : Number(o.priority);
  if (!Number.isInteger(priority) || priority < 0 || priority > 65535)
    throw new GcpRuleError(
      `firewall rule "${name}": priority ${String(o.priority)} is not an integer 0-65535`,
    );
  return {
    name,
    network: String(o.network ?? ""),
    priority,
    direction,
    action: hasAllow ? "allow" : "deny",
    v4: services.v4,
    v6: services.v6,
    sourceRanges: cachedRanges(cache, name, o.sourceRanges),
    destinationRanges: cachedRanges(cache, name, o.destinationRanges),
    sourceServiceAccounts: strings(o.sourceServiceAccounts),
    sourceTags: strings(o.sourceTags),
    targetServiceAccounts: strings(o.targetServiceAccounts),
    targetTags: strings(o.targetTags),
    disabled: o.disabled === true,
    rendered: typeof o.description === "string" && o.description.startsWith("blastradius "),
  };
}

/** Rules from recorded Pulumi resources (`gcp:compute/firewall:Firewall`; other types are skipped). */
export function rulesFromRecords(records: readonly ResourceRecord[]): FirewallRuleView[] {
  const cache = newCache();
  return records
    .filter((r) => r.type === FIREWALL_TYPE)
    .map((r) => view(String(r.inputs.name ?? r.name), r.inputs, "allows", "denies", "protocol", cache));
}

/** Rules from `gcloud compute firewall-rules list --format=json` (the Compute API `Firewall` shape). */
export function rulesFromGcloudExport(json: unknown): FirewallRuleView[] {
  const list = typeof json === "string" ? (JSON.parse(json) as unknown) : json;
  if (!Array.isArray(list))
    throw new GcpRuleError("a gcloud firewall-rules export is a JSON array of rules (--format=json)");
  const cache = newCache();
  return list.map((r, i) => {
    const o = (r ?? {}) as Record<string, unknown>;
    return view(String(o.name ?? `rule[${i}]`), o, "allowed", "denied", "IPProtocol", cache);
  });
}

export interface GcpEvaluatorOptions {
  /**
   * The placement network each rule network stands for, keyed by what the rules say (`network`
   * input, self link or URL). Default: from the recorded GcpSegmentation components
   * (`networkId` → `network`), else the last path segment of the rule's network.
   */
  networks?: Record<string, string>;
  /**
   * Network tags of each workload's instances (by workload name), when the stack builds no VM;
   * default none.
   */
  tags?: Record<string, string[]>;
  /**
   * The stack's VMs (instances, templates) with the account they run as and their tags. With none,
   * the proof assumes the binding contract: every workload's VMs run as its placement's account.
   */
  computes?: readonly GcpCompute[];
}

interface Indexed {
  rule: FirewallRuleView;
}

const lastSegment = (n: string) => n.replace(/\/+$/, "").split("/").pop() ?? n;

/** Per family, the lowest and highest address of a set (a cheap first test before interval merging). */
interface Bounds {
  v4?: readonly [bigint, bigint];
  v6?: readonly [bigint, bigint];
}
const boundsCache = new WeakMap<AddressSet, Bounds>();
function boundsOf(set: AddressSet): Bounds {
  let b = boundsCache.get(set);
  if (!b) {
    const span = (f: 4 | 6) => {
      const rs = set.family(f).ranges;
      return rs.length === 0 ? undefined : ([rs[0]![0], rs[rs.length - 1]![1]] as const);
    };
    b = { v4: span(4), v6: span(6) };
    boundsCache.set(set, b);
  }
  return b;
}
const apart = (x?: readonly [bigint, bigint], y?: readonly [bigint, bigint]) =>
  x === undefined || y === undefined || x[1] < y[0] || y[1] < x[0];
/** True when the sets' spans do not meet in either family (so the sets share no address). */
function disjointBounds(a: AddressSet, b: AddressSet): boolean {
  const x = boundsOf(a);
  const y = boundsOf(b);
  return apart(x.v4, y.v4) && apart(x.v6, y.v6);
}

/** Priority order: lower number first; at equal priority, deny first; then by name (determinism). */
function byPrecedence(a: FirewallRuleView, b: FirewallRuleView): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.action !== b.action) return a.action === "deny" ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const IMPLIED: Record<Direction, Decision> = {
  INGRESS: { verdict: "deny", by: "implied-deny-ingress (priority 65535)" },
  EGRESS: { verdict: "allow", by: "implied-allow-egress (priority 65535)" },
};

/** A TargetEvaluator over firewall rules (from records or a gcloud export) for a plan's topology. */
export function gcpEvaluator(
  rules: readonly FirewallRuleView[],
  plan: Plan,
  options: GcpEvaluatorOptions = {},
): TargetEvaluator {
  const networkOf = (r: FirewallRuleView) => options.networks?.[r.network] ?? lastSegment(r.network);
  const byNetwork = new Map<string, Record<Direction, Indexed[]>>();
  for (const rule of [...rules].filter((r) => !r.disabled).sort(byPrecedence)) {
    const n = networkOf(rule);
    let entry = byNetwork.get(n);
    if (!entry) byNetwork.set(n, (entry = { INGRESS: [], EGRESS: [] }));
    entry[rule.direction].push({ rule });
  }

  // ---------------------------------------------------------------- identities and binding
  /** What the rules can see of a VM: its network (placement name), service account and tags. */
  interface Identity {
    network: string;
    sa: string | undefined;
    tags: readonly string[];
    key: string;
  }
  const identityCache = new Map<string, Identity>();
  const identity = (network: string, sa: string | undefined, tags: readonly string[]): Identity => {
    const sorted = [...new Set(tags)].sort();
    const k = `${network}\u0000${sa ?? ""}\u0000${sorted.join(",")}`;
    let id = identityCache.get(k);
    if (!id) identityCache.set(k, (id = { network, sa, tags: sorted, key: k }));
    return id;
  };
  const networkOfCompute = (n: string | undefined) =>
    n === undefined ? undefined : (options.networks?.[n] ?? lastSegment(n));

  const computes = options.computes ?? [];
  const bound = computes.length > 0;
  const findings: BindingFinding[] = [];
  const finding = (f: Omit<BindingFinding, "target">) => findings.push({ target: "gcp", ...f });
  const workloadOfAccount = new Map<string, Workload>();
  for (const w of plan.policy.workloads) {
    const g = w.placements.gcp;
    if (g?.serviceAccount && !workloadOfAccount.has(`${g.network}\u0000${g.serviceAccount}`))
      workloadOfAccount.set(`${g.network}\u0000${g.serviceAccount}`, w);
  }
  const accountsInUse = new Map<string, string>();
  for (const w of plan.policy.workloads)
    if (w.placements.gcp?.serviceAccount) accountsInUse.set(w.placements.gcp.serviceAccount, w.name);
  const byWorkload = new Map<string, Identity[]>();
  const others = new Map<string, { party: Party; identity: Identity }>();
  const unclaimed = unclaimedAddresses(plan);
  /** Workloads some VM of which the proof cannot locate (already an error: not also "unbound"). */
  const unresolved = new Set<string>();
  const reported = new Set<string>();
  for (const c of computes) {
    const network = networkOfCompute(c.network);
    // One VM, several interfaces: say which one (each sits in its own network).
    const label = `${c.kind} ${c.resource}${c.nics > 1 ? ` (network interface ${c.nic})` : ""}`;
    const candidate = c.serviceAccount !== undefined ? accountsInUse.get(c.serviceAccount) : undefined;
    if (c.unknown && !reported.has(c.resource)) {
      reported.add(c.resource);
      finding({
        kind: "unknown",
        severity: "error",
        resource: c.resource,
        message: `${c.kind} ${c.resource}: its service account, tags or network are unknown until apply; the proof cannot see what it will run as`,
      });
    }
    if (c.unresolved !== undefined) {
      finding({
        kind: "unknown",
        severity: "error",
        resource: c.resource,
        ...(candidate !== undefined ? { workload: candidate } : {}),
        message: `${label}: ${c.unresolved}`,
      });
      if (candidate !== undefined) unresolved.add(candidate);
      continue;
    }
    const w =
      c.serviceAccount !== undefined && network !== undefined
        ? workloadOfAccount.get(`${network}\u0000${c.serviceAccount}`)
        : undefined;
    if (candidate !== undefined && !w) {
      const placed = plan.policy.workloads.find((x) => x.name === candidate)!;
      finding({
        kind: "unbound-compute",
        severity: "error",
        resource: c.resource,
        workload: candidate,
        message: `${label} runs as ${c.serviceAccount} (workload "${candidate}", placed in network ${placed.placements.gcp!.network}) but sits in network ${network ?? c.network ?? "unknown"}${c.nics > 1 ? ": each interface is reached through its own network's firewall rules, which the workload's placement does not cover (remove the interface, or make the VM a workload of its own)" : ""}`,
      });
    }
    if (w) {
      const id = identity(w.placements.gcp!.network, c.serviceAccount, c.tags);
      const list = byWorkload.get(w.name);
      if (!list) byWorkload.set(w.name, [id]);
      else if (!list.includes(id)) list.push(id);
      continue;
    }
    const id = identity(network ?? c.network ?? "unknown", c.serviceAccount, c.tags);
    const key = `other:gcp:${c.kind}:${c.resource}${c.nic > 0 ? `:nic${c.nic}` : ""}`;
    others.set(key, {
      identity: id,
      party: {
        kind: "other",
        name: label,
        key,
        addresses: c.addresses ?? unclaimed,
        scope: `network ${id.network}`,
        targets: ["gcp"],
      },
    });
    if (candidate === undefined)
      finding({
        kind: "unbound-compute",
        severity: "warning",
        resource: c.resource,
        message: `${label} (network ${id.network}) runs as ${c.serviceAccount ?? "the default compute service account"}, which no workload is placed as; the proof treats it as an unmodelled endpoint: default deny must hold between it and every workload`,
      });
  }
  if (bound)
    for (const w of plan.policy.workloads) {
      const g = w.placements.gcp;
      if (!g || byWorkload.has(w.name) || unresolved.has(w.name)) continue;
      finding({
        kind: "unbound-workload",
        severity: "error",
        workload: w.name,
        message: g.serviceAccount
          ? `workload "${w.name}" is placed in network ${g.network} as ${g.serviceAccount}, but no instance or template of this stack runs as it; the proof assumes its VMs run as it with no network tags`
          : `workload "${w.name}" is placed in network ${g.network} with no serviceAccount: no VM of this stack can be bound to it (give it the service account its VMs run as)`,
      });
    }

  // Other VMs of each network: they run as an account no rule names, or as one a rule names that
  // no workload of the network is placed as (VMs outside the stack may run as it), and carry any
  // network tags; one party per such account (or none) and set of the tags the network's rules
  // name (the rules cannot tell the rest apart). Default deny must hold for each, both ways.
  const MAX_TAGS = 8;
  const MAX_OTHERS = 256;
  for (const network of [
    ...new Set(plan.policy.workloads.flatMap((w) => (w.placements.gcp ? [w.placements.gcp.network] : []))),
  ].sort()) {
    const named = new Set<string>();
    const accounts = new Set<string>();
    for (const direction of ["INGRESS", "EGRESS"] as const)
      for (const { rule } of byNetwork.get(network)?.[direction] ?? []) {
        for (const t of [...rule.targetTags, ...rule.sourceTags]) named.add(t);
        for (const sa of [...rule.targetServiceAccounts, ...rule.sourceServiceAccounts])
          if (!workloadOfAccount.has(`${network}\u0000${sa}`)) accounts.add(sa);
      }
    const tags = [...named].sort();
    const orphans = [...accounts].sort();
    if (tags.length > MAX_TAGS) {
      finding({
        kind: "unknown",
        severity: "error",
        message: `network ${network}: its firewall rules name ${tags.length} network tags (${tags.join(", ")}); the proof covers unmodelled VMs by every set of the tags rules name, up to ${MAX_TAGS}: target workloads by service account instead`,
      });
      continue;
    }
    if (orphans.length * (1 << tags.length) > MAX_OTHERS) {
      finding({
        kind: "unknown",
        severity: "error",
        message: `network ${network}: its firewall rules name ${orphans.length} service accounts no workload of the network is placed as (${orphans.join(", ")}) and ${tags.length} network tags; the proof covers VMs running as each of them with every set of the tags, up to ${MAX_OTHERS} combinations: place those accounts' VMs as workloads, or target by fewer tags`,
      });
      continue;
    }
    for (let mask = 0; mask < 1 << tags.length; mask++) {
      const carried = tags.filter((_, i) => (mask >> i) & 1);
      const tagged = carried.length > 0 ? ` tagged ${carried.join(", ")}` : "";
      const key = `other:gcp:network:${network}:${carried.join(",")}`;
      others.set(key, {
        identity: identity(network, undefined, carried),
        party: {
          kind: "other",
          name: `other VMs of network ${network}${tagged}`,
          key,
          addresses: unclaimed,
          scope: `network ${network}`,
          targets: ["gcp"],
        },
      });
      for (const sa of orphans) {
        const k = `other:gcp:sa:${network}:${sa}:${carried.join(",")}`;
        others.set(k, {
          identity: identity(network, sa, carried),
          party: {
            kind: "other",
            name: `VMs of network ${network} running as ${sa}${tagged}`,
            key: k,
            addresses: unclaimed,
            scope: `network ${network}`,
            targets: ["gcp"],
          },
        });
      }
    }
  }

  // Parties are immutable: their identities are read once per party object (a class representative
  // is an object of its own).
  const identityMemo = new WeakMap<Party, Identity[]>();
  const identitiesOf = (p: Party): Identity[] => {
    let ids = identityMemo.get(p);
    if (!ids) identityMemo.set(p, (ids = readIdentities(p)));
    return ids;
  };
  /** The identities of a party's VMs (several: its VMs differ in tags; none: GCP does not govern it). */
  const readIdentities = (p: Party): Identity[] => {
    if (p.kind === "other") {
      const o = others.get(p.key);
      return o ? [o.identity] : [];
    }
    if (p.kind !== "workload" || !governs(p, "gcp")) return [];
    const g = p.workload.placements.gcp;
    if (!g) return [];
    const list = (bound && byWorkload.get(p.name)) || [
      identity(g.network, g.serviceAccount, options.tags?.[p.name] ?? []),
    ];
    if (p.variant?.startsWith("gcp:")) {
      const v = list[Number(p.variant.slice(4))];
      if (v) return [v];
    }
    return list;
  };

  const appliesTo = (rule: FirewallRuleView, id: Identity): boolean => {
    if (rule.targetServiceAccounts.length > 0)
      return id.sa !== undefined && rule.targetServiceAccounts.includes(id.sa);
    if (rule.targetTags.length > 0) return id.tags.some((t) => rule.targetTags.includes(t));
    return true;
  };

  /**
   * What the rules can see of a service account, per network: the rules naming it as target or
   * source, as a small id. Accounts named by exactly the same rules are indistinguishable.
   */
  const signatures = new Map<string, Map<string, number>>();
  {
    const lists = new Map<string, Map<string, string[]>>();
    let i = 0;
    for (const [network, entry] of byNetwork) {
      const byAccount = new Map<string, string[]>();
      lists.set(network, byAccount);
      for (const direction of ["INGRESS", "EGRESS"] as const)
        for (const { rule } of entry[direction]) {
          for (const sa of rule.targetServiceAccounts)
            (byAccount.get(sa) ?? byAccount.set(sa, []).get(sa)!).push(`t${i}`);
          for (const sa of rule.sourceServiceAccounts)
            (byAccount.get(sa) ?? byAccount.set(sa, []).get(sa)!).push(`s${i}`);
          i++;
        }
    }
    const ids = new Map<string, number>([["", 0]]);
    for (const [network, byAccount] of lists) {
      const out = new Map<string, number>();
      for (const [sa, list] of byAccount) {
        const text = list.join(",");
        let id = ids.get(text);
        if (id === undefined) ids.set(text, (id = ids.size));
        out.set(sa, id);
      }
      signatures.set(network, out);
    }
  }
  const signatureKeys = new Map<Identity, string>();
  const signatureOf = (id: Identity): string => {
    let k = signatureKeys.get(id);
    if (k === undefined) {
      const sa = id.sa === undefined ? 0 : (signatures.get(id.network)?.get(id.sa) ?? 0);
      signatureKeys.set(id, (k = `${id.network}\u0000${sa}\u0000${id.tags.join(",")}`));
    }
    return k;
  };
  const partyKey = (p: Party): string => {
    const ids = identitiesOf(p);
    if (ids.length === 0) return "address";
    return `gcp\u0000${ids.map(signatureOf).join("|")}`;
  };

  const applicable = new Map<string, FirewallRuleView[]>();
  /** The rules of the identity's network that apply to its VMs, in precedence order. */
  const rulesAt = (id: Identity, direction: Direction): FirewallRuleView[] => {
    const key = `${direction}\u0000${signatureOf(id)}`;
    let list = applicable.get(key);
    if (!list) {
      list = (byNetwork.get(id.network)?.[direction] ?? [])
        .map((i) => i.rule)
        .filter((r) => appliesTo(r, id));
      applicable.set(key, list);
    }
    return list;
  };

  /** The part of a party's addresses a rule's ranges match: the party's own set when it is all of it. */
  const narrow = (ranges: AddressSet, addresses: AddressSet): AddressSet => {
    if (disjointBounds(ranges, addresses) || !ranges.overlaps(addresses)) return AddressSet.EMPTY;
    return addresses.isSubsetOf(ranges) ? addresses : ranges.intersect(addresses);
  };

  /** Source addresses of `from` (VMs of identity `fid`, if GCP ones) the rule matches (ingress at a GCP VM). */
  const ingressSources = (
    rule: FirewallRuleView,
    from: Party,
    fid: Identity | undefined,
    network: string,
  ): AddressSet => {
    const sameNetwork = fid?.network === network;
    const sa = sameNetwork ? fid?.sa : undefined;
    if (sa !== undefined && rule.sourceServiceAccounts.includes(sa)) return from.addresses;
    if (sameNetwork && rule.sourceTags.length > 0 && fid!.tags.some((t) => rule.sourceTags.includes(t)))
      return from.addresses;
    const none = rule.sourceServiceAccounts.length === 0 && rule.sourceTags.length === 0;
    // gcloud fills 0.0.0.0/0 when an ingress rule names no source; read "no source at all" the same way.
    if (!rule.sourceRanges) return none ? from.addresses : AddressSet.EMPTY;
    return narrow(rule.sourceRanges, from.addresses);
  };

  /** Per family, the source and destination addresses of from → to the rule matches (its direction). */
  interface Match {
    rule: FirewallRuleView;
    src: AddressSet;
    dst: AddressSet;
    set?: ConnectionSet;
  }
  const matchOf = (
    rule: FirewallRuleView,
    from: Party,
    fid: Identity | undefined,
    to: Party,
    tid: Identity | undefined,
    direction: Direction,
  ): Match | undefined => {
    let src: AddressSet;
    if (direction === "INGRESS") src = ingressSources(rule, from, fid, tid!.network);
    else if (!rule.sourceRanges) src = from.addresses;
    else src = narrow(rule.sourceRanges, from.addresses);
    if (src.isEmpty()) return undefined;
    const dst = !rule.destinationRanges ? to.addresses : narrow(rule.destinationRanges, to.addresses);
    if (dst.isEmpty()) return undefined;
    // Some packets need both a source and a destination of one family.
    if ((src.v4.isEmpty() || dst.v4.isEmpty()) && (src.v6.isEmpty() || dst.v6.isEmpty())) return undefined;
    return { rule, src, dst };
  };
  const setOf = (m: Match): ConnectionSet =>
    (m.set ??= ConnectionSet.of(
      m.src.intersect(AddressSet.ALL_V4),
      m.dst.intersect(AddressSet.ALL_V4),
      m.rule.v4,
    ).union(
      ConnectionSet.of(m.src.intersect(AddressSet.ALL_V6), m.dst.intersect(AddressSet.ALL_V6), m.rule.v6),
    ));

  // Not cached: proofs over thousands of workloads visit each pair about once, and caching every
  // pair's matches costs more in garbage collection than recomputing the few a decision needs.
  const matchesAt = (
    from: Party,
    fid: Identity | undefined,
    to: Party,
    tid: Identity | undefined,
    direction: Direction,
  ): Match[] => {
    const list: Match[] = [];
    for (const rule of rulesAt(direction === "INGRESS" ? tid! : fid!, direction)) {
      const m = matchOf(rule, from, fid, to, tid, direction);
      if (m) list.push(m);
    }
    return list;
  };

  /**
   * First match by precedence, then the implied rule, over one family. When every matching rule
   * covers the pair's whole addresses of that family (the usual case: identities and whole
   * workloads), the fold runs over services alone; otherwise over connection sets.
   */
  const familyAllowed = (
    from: Party,
    to: Party,
    direction: Direction,
    family: 4 | 6,
    all: readonly Match[],
  ): ConnectionSet => {
    const fromRaw = from.addresses.family(family);
    const toRaw = to.addresses.family(family);
    if (fromRaw.isEmpty() || toRaw.isEmpty()) return ConnectionSet.EMPTY;
    const fromF = AddressSet.ofFamily(family, fromRaw);
    const toF = AddressSet.ofFamily(family, toRaw);
    const svc = (r: FirewallRuleView) => (family === 4 ? r.v4 : r.v6);
    const matches = all.filter((m) => !m.src.family(family).isEmpty() && !m.dst.family(family).isEmpty());
    const covers = (part: AddressSet, whole: AddressSet, raw: typeof fromRaw) =>
      part === whole || raw.isSubsetOf(part.family(family));
    const whole = matches.every(
      (m) => covers(m.src, from.addresses, fromRaw) && covers(m.dst, to.addresses, toRaw),
    );
    if (whole) {
      let decided = ServiceSet.EMPTY;
      let allowed = ServiceSet.EMPTY;
      for (const m of matches) {
        const s = svc(m.rule);
        if (m.rule.action === "allow") allowed = allowed.union(s.subtract(decided));
        decided = decided.union(s);
      }
      if (direction === "EGRESS") allowed = allowed.union(ServiceSet.ALL.subtract(decided));
      return ConnectionSet.of(fromF, toF, allowed);
    }
    const allowedParts: ConnectionSet[] = [];
    let decided = ConnectionSet.EMPTY;
    const restrict = ConnectionSet.of(fromF, toF, ServiceSet.ALL);
    // Rules of equal priority and action cannot shadow each other: fold them as one group.
    let i = 0;
    while (i < matches.length) {
      const head = matches[i]!.rule;
      const group: ConnectionSet[] = [];
      while (
        i < matches.length &&
        matches[i]!.rule.priority === head.priority &&
        matches[i]!.rule.action === head.action
      )
        group.push(setOf(matches[i++]!));
      const set = ConnectionSet.unionAll(group).intersect(restrict);
      if (head.action === "allow") allowedParts.push(set.subtract(decided));
      decided = decided.union(set);
    }
    if (direction === "EGRESS") allowedParts.push(restrict.subtract(decided));
    return ConnectionSet.unionAll(allowedParts);
  };
  const sideAllowed = (
    from: Party,
    fid: Identity | undefined,
    to: Party,
    tid: Identity | undefined,
    direction: Direction,
  ): ConnectionSet => {
    const matches = matchesAt(from, fid, to, tid, direction);
    return familyAllowed(from, to, direction, 4, matches).union(
      familyAllowed(from, to, direction, 6, matches),
    );
  };

  const enforces = (p: Party) => identitiesOf(p).length > 0;

  const firstMatch = (
    from: Party,
    fid: Identity | undefined,
    to: Party,
    tid: Identity | undefined,
    direction: Direction,
    packet: Packet,
  ): Decision => {
    for (const m of matchesAt(from, fid, to, tid, direction))
      if (setOf(m).has(packet)) return { verdict: m.rule.action, by: m.rule.name };
    return IMPLIED[direction];
  };

  const allowedWith = (from: Party, fid: Identity | undefined, to: Party, tid: Identity | undefined) => {
    const egress = fid ? sideAllowed(from, fid, to, tid, "EGRESS") : undefined;
    const ingress = tid ? sideAllowed(from, fid, to, tid, "INGRESS") : undefined;
    if (egress && ingress) return egress.intersect(ingress);
    return egress ?? ingress ?? ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL);
  };
  const decideWith = (
    from: Party,
    fid: Identity | undefined,
    to: Party,
    tid: Identity | undefined,
    packet: Packet,
  ): Decision => {
    let last: Decision = { verdict: "allow", by: "not-enforced-by-gcp" };
    if (fid) {
      last = firstMatch(from, fid, to, tid, "EGRESS", packet);
      if (last.verdict === "deny") return last;
    }
    if (tid) last = firstMatch(from, fid, to, tid, "INGRESS", packet);
    return last;
  };
  /** Every pair of identities of the two parties (one each, or `undefined` where GCP does not govern). */
  const pairsOf = (from: Party, to: Party) => {
    const f = identitiesOf(from);
    const t = identitiesOf(to);
    const fl: Array<Identity | undefined> = f.length > 0 ? f : [undefined];
    const tl: Array<Identity | undefined> = t.length > 0 ? t : [undefined];
    return fl.flatMap((fid) => tl.map((tid) => [fid, tid] as const));
  };

  /** Whether a rule blastradius did not render applies to the party's VMs. */
  const foreign = (p: Party): boolean =>
    identitiesOf(p).some((id) =>
      (["INGRESS", "EGRESS"] as const).some((d) => rulesAt(id, d).some((r) => !r.rendered)),
    );

  /*
   * Footprints (lib/radius), per identity of the party (every variant's), by first match over the
   * far end's ranges alone: an allow rule adds the far addresses it names (less what deny rules for
   * every service and every address of the party decided before it) and identities (ingress:
   * service accounts and tags of the same network); the implied allow-egress adds what no such deny
   * decided. Deny rules naming some services, part of the party's addresses or identities are left
   * out: they only narrow, and a footprint may be larger than what passes. Egress rules name no
   * destination identity.
   */
  const identityNames = (p: Party): string[] =>
    identitiesOf(p).flatMap((id) => [
      ...id.tags.map((t) => `gcp-tag:${id.network}:${t}`),
      ...(id.sa !== undefined ? [`gcp-sa:${id.network}:${id.sa}`] : []),
    ]);
  const footprintOf = (id: Identity, ingress: boolean): Footprint => {
    const names = new Set<string>();
    const reached: AddressSet[] = [];
    let denied = AddressSet.EMPTY;
    for (const rule of rulesAt(id, ingress ? "INGRESS" : "EGRESS")) {
      const identities = ingress
        ? [
            ...rule.sourceServiceAccounts.map((sa) => `gcp-sa:${id.network}:${sa}`),
            ...rule.sourceTags.map((t) => `gcp-tag:${id.network}:${t}`),
          ]
        : [];
      const ranges = ingress ? rule.sourceRanges : rule.destinationRanges;
      // A rule naming neither ranges nor identities matches every far address.
      const far = ranges ?? (identities.length === 0 ? AddressSet.ALL : AddressSet.EMPTY);
      if (rule.action === "allow") {
        reached.push(denied.isEmpty() ? far : far.subtract(denied));
        for (const n of identities) names.add(n);
        continue;
      }
      const own = ingress ? rule.destinationRanges : rule.sourceRanges;
      if (own !== undefined || !rule.v4.equals(ServiceSet.ALL) || !rule.v6.equals(ServiceSet.ALL)) continue;
      denied = denied.union(far);
      if (AddressSet.ALL.isSubsetOf(denied))
        return { addresses: AddressSet.unionAll(reached), names: [...names] };
    }
    if (!ingress) reached.push(AddressSet.ALL.subtract(denied));
    return { addresses: AddressSet.unionAll(reached), names: [...names] };
  };
  const footprint = (p: Party, direction: "egress" | "ingress"): Footprint => {
    const parts = identitiesOf(p).map((id) => footprintOf(id, direction === "ingress"));
    if (parts.length === 1) return parts[0]!;
    return {
      addresses: AddressSet.unionAll(parts.map((f) => f.addresses)),
      names: [...new Set(parts.flatMap((f) => f.names))],
    };
  };

  return {
    target: "gcp",
    binding: bound ? "bound" : "assumed",
    footprint,
    identityNames,
    enforces,
    partyKey,
    variants(p) {
      const ids = identitiesOf(p);
      if (ids.length < 2) return [];
      return ids.map((_, k) => ({
        ...p,
        key: `${p.key}~gcp${k}`,
        base: p.base ?? p.key,
        variant: `gcp:${k}`,
      }));
    },
    universe: () => [...others.values()].map((o) => o.party),
    // A workload's rules see another VM by its account or tags only in their network; an untagged
    // VM running as an account no rule names is an address to them (the unmodelled-address party).
    relevant(u, w) {
      const o = others.get(u.key);
      if (!o) return true;
      const wid = identitiesOf(w);
      // A rule names the account of these: in their network, they are not the unmodelled addresses.
      if (u.key.startsWith("other:gcp:sa:")) return wid.some((i) => i.network === o.identity.network);
      if (!u.key.startsWith("other:gcp:network:")) return true;
      return o.identity.tags.length > 0 && wid.some((i) => i.network === o.identity.network);
    },
    findings: () => findings,
    foreign,
    allowed(from, to) {
      const pairs = pairsOf(from, to);
      if (pairs.length === 1) return allowedWith(from, pairs[0]![0], to, pairs[0]![1]);
      return ConnectionSet.unionAll(pairs.map(([f, t]) => allowedWith(from, f, to, t)));
    },
    decide(from, to, packet) {
      let first: Decision | undefined;
      for (const [f, t] of pairsOf(from, to)) {
        const d = decideWith(from, f, to, t, packet);
        if (d.verdict === "allow") return d;
        first ??= d;
      }
      return first!;
    },
  };
}

/** The placement network of each recorded GcpSegmentation, keyed by the network id its rules carry. */
export function networksFromComponents(records: readonly ResourceRecord[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of records) {
    if (r.type !== COMPONENT_TYPE) continue;
    const { network, networkId } = r.inputs as { network?: unknown; networkId?: unknown };
    if (typeof network === "string" && typeof networkId === "string") out[networkId] = network;
  }
  return out;
}

const READ = new Set<string>([...Object.values(GCP_COMPUTE_TYPES), GCP_SUBNETWORK_TYPE]);

/** How the proof finds GCP firewall rules (and the components that map networks) among records. */
export function gcpAdapter(options: GcpEvaluatorOptions = {}): TargetAdapter {
  return {
    target: "gcp",
    owns: (r) => r.type === FIREWALL_TYPE || r.type === COMPONENT_TYPE,
    reads: (r) => READ.has(r.type),
    evaluator: (resources, plan) =>
      gcpEvaluator(rulesFromRecords(resources), plan, {
        ...options,
        networks: { ...networksFromComponents(resources), ...options.networks },
        computes: gcpComputes(resources),
      }),
    usage: gcpUsage,
  };
}
