import type { Workload } from "../../model/types";
import { AddressSet, IntervalSet, MAX_PORT, ServiceSet } from "../../net";
import { addressesOutside } from "../../plan/facets";
import type { CompiledPath, Plan, Slice } from "../../plan/types";
import {
  DEFAULT_LIMITS,
  DEFAULT_PRIORITIES,
  type GcpFirewallRule,
  type GcpL4,
  type GcpLimits,
  type GcpPriorities,
  type GcpRenderOptions,
  type GcpRuleKind,
} from "./types";

/** A rendering problem: the message names the network, the path or workload, and the fix. */
export class GcpRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GcpRenderError";
  }
}

type Family = 4 | 6;
const ALL_V4 = "0.0.0.0/0";
const ALL_V6 = "::/0";
const ALL_PORTS = IntervalSet.range(0n, BigInt(MAX_PORT));

/** The GCP VPC networks (placement `network` names) the plan places workloads in, sorted. */
export function gcpNetworks(plan: Plan): string[] {
  const set = new Set<string>();
  for (const w of plan.policy.workloads) if (w.placements.gcp) set.add(w.placements.gcp.network);
  return [...set].sort();
}

/** FNV-1a, 32 bits, hex: a short deterministic digest for over-long names. */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * A GCP resource name (RFC 1035, ≤ 63 chars): `<prefix>-<key>`, the prefix by default
 * `br-<policy>-<network>`, hashed when too long. Firewall rule names are unique per project: two
 * stacks rendering the same policy into one project give each its own prefix.
 */
export function gcpRuleName(policy: string, network: string, key: string, prefix?: string): string {
  const stem = prefix !== undefined ? slug(prefix) : `br-${slug(policy)}-${slug(network)}`;
  const full = `${/^[a-z]/.test(stem) ? "" : "br-"}${stem}-${key}`.replace(/-+/g, "-");
  if (full.length <= 63) return full.replace(/-$/, "");
  return `${full.slice(0, 54).replace(/-+$/, "")}-${digest(full)}`;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function cidrsOf(set: AddressSet, family: Family): string[] {
  return AddressSet.ofFamily(family, set.family(family)).toCidrs();
}

/** Swaps 1 (ICMP) and 58 (ICMPv6): ServiceSet "icmp" is ICMP of the packet's family. */
const realProtocol = (p: number, family: Family) => (family === 6 && (p === 1 || p === 58) ? 59 - p : p);

function protocolText(p: number): string {
  switch (p) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
      return "icmp";
    case 132:
      return "sctp";
    default:
      return String(p);
  }
}

const icmpCache = new WeakMap<ServiceSet, boolean>();
function hasIcmp(s: ServiceSet): boolean {
  let has = icmpCache.get(s);
  if (has === undefined)
    icmpCache.set(s, (has = s.entries().some((e) => e.protocol === 1 || e.protocol === 58)));
  return has;
}

const l4Cache = new WeakMap<ServiceSet, Map<string, GcpL4[][]>>();
/** `l4Chunks`, once per set object, family and limit (rules share their paths' sets; never mutated). */
function l4ChunksOf(services: ServiceSet, family: Family | "any", portsPerRule: number): GcpL4[][] {
  let bySet = l4Cache.get(services);
  if (!bySet) l4Cache.set(services, (bySet = new Map()));
  const key = `${family}/${portsPerRule}`;
  let chunks = bySet.get(key);
  if (!chunks) bySet.set(key, (chunks = l4Chunks(services, family, portsPerRule)));
  return chunks;
}

/**
 * The services as `allows`/`denies` entries for rules of one family (ICMP written per family), split
 * so that no rule lists more than `portsPerRule` port entries.
 */
function l4Chunks(services: ServiceSet, family: Family | "any", portsPerRule: number): GcpL4[][] {
  if (services.equals(ServiceSet.ALL)) return [[{ protocol: "all" }]];
  const items: GcpL4[] = [];
  for (const e of services.entries()) {
    const protocol = protocolText(family === "any" ? e.protocol : realProtocol(e.protocol, family));
    if (e.ports.equals(ALL_PORTS)) {
      items.push({ protocol });
      continue;
    }
    const ports = e.ports.ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`));
    for (const part of chunk(ports, portsPerRule)) items.push({ protocol, ports: part });
  }
  items.sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
  // Greedy packing by port-entry count (an entry without ports counts one).
  const out: GcpL4[][] = [];
  let cur: GcpL4[] = [];
  let n = 0;
  for (const it of items) {
    const w = Math.max(1, it.ports?.length ?? 0);
    if (n + w > portsPerRule && cur.length > 0) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(it);
    n += w;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** A set of instances a rule applies to (its target), or of peers it names by identity or address. */
type Selector =
  | { kind: "sa"; accounts: string[] }
  | { kind: "ranges"; family: Family; cidrs: string[] }
  | { kind: "any"; family?: Family };

/** Service accounts in chunks of `serviceAccountsPerRule`: sorted, or (`inOrder`) in the order given. */
function saSelectors(accounts: readonly string[], limits: GcpLimits, inOrder = false): Selector[] {
  const unique = [...new Set(accounts)];
  return chunk(inOrder ? unique : unique.sort(), limits.serviceAccountsPerRule).map((a) => ({
    kind: "sa",
    accounts: a,
  }));
}

function rangeSelectors(set: AddressSet, limits: GcpLimits): Selector[] {
  const out: Selector[] = [];
  for (const family of [4, 6] as const)
    for (const cidrs of chunk(cidrsOf(set, family), limits.rangesPerRule))
      out.push({ kind: "ranges", family, cidrs });
  return out;
}

const familyOf = (s: Selector): Family | undefined => (s.kind === "sa" ? undefined : s.family);

interface Ctx {
  plan: Plan;
  network: string;
  priorities: GcpPriorities;
  limits: GcpLimits;
  logging: Record<GcpRuleKind, boolean>;
  logMetadata: boolean;
  namePrefix?: string;
}

const localWorkload = (ctx: Ctx, s: Slice): Workload | undefined =>
  s.party.kind === "workload" && s.party.workload.placements.gcp?.network === ctx.network
    ? s.party.workload
    : undefined;
const serviceAccountOf = (w: Workload) => w.placements.gcp?.serviceAccount;
/** A workload declared without any address: the plan stands it for every address (unknown). */
const unknownAddresses = (s: Slice) => s.party.kind === "workload" && s.party.workload.addresses.isEmpty();

/** The instances of `slices` that this network's rules apply to: by service account, else by address. */
function targetSelectors(ctx: Ctx, slices: readonly Slice[], inOrder = false): Selector[] {
  const accounts: string[] = [];
  const plain: AddressSet[] = [];
  for (const s of slices) {
    const w = localWorkload(ctx, s);
    if (!w) continue;
    const sa = serviceAccountOf(w);
    if (sa) accounts.push(sa);
    else plain.push(s.party.addresses);
  }
  return [
    ...saSelectors(accounts, ctx.limits, inOrder),
    ...rangeSelectors(AddressSet.unionAll(plain), ctx.limits),
  ];
}

interface RuleSpec {
  direction: "INGRESS" | "EGRESS";
  target: Selector;
  peer: Selector;
}

/**
 * Every (target, peer) combination that one rule can hold: one family of ranges per rule, and the
 * target (service accounts, or all instances narrowed by address) never mixed with tags.
 */
function combine(direction: "INGRESS" | "EGRESS", targets: Selector[], peers: Selector[]): RuleSpec[] {
  const out: RuleSpec[] = [];
  for (const target of targets)
    for (const peer of peers) {
      const ft = familyOf(target);
      const fp = familyOf(peer);
      if (ft !== undefined && fp !== undefined && ft !== fp) continue;
      out.push({ direction, target, peer });
    }
  return out;
}

/** At most 1024 characters (GCP takes 2048; keep room for the console's own text). */
const clip = (text: string) => (text.length > 1024 ? `${text.slice(0, 1021)}...` : text);

function describe(ctx: Ctx, what: string, paths: readonly CompiledPath[] = []): string {
  const base = `blastradius policy "${ctx.plan.policy.name}", network "${ctx.network}": ${what}`;
  if (paths.length === 0) return base;
  if (paths.length === 1) {
    const p = paths[0]!.path;
    const svc = servicesText(p.services).join(", ") || "none";
    return clip(
      `${base}; path "${p.name}" (${p.from} → ${p.to}, ${svc}), owner ${p.owner}: ${p.justification}`,
    );
  }
  const list = paths.map((c) => `"${c.path.name}" (${c.path.from} → ${c.path.to})`).join(", ");
  return clip(`${base}; ${paths.length} paths: ${list}`);
}

/** Materialises specs × service chunks as rules named `${prefix}-<n>` (n counts within the prefix). */
function materialise(
  ctx: Ctx,
  kind: GcpRuleKind,
  prefix: string,
  specs: RuleSpec[],
  services: ServiceSet,
  description: string,
  meta: { paths?: string[]; segment?: string },
): GcpFirewallRule[] {
  const out: GcpFirewallRule[] = [];
  const action = kind === "allow" ? "allows" : "denies";
  const priority =
    kind === "allow"
      ? ctx.priorities.allow
      : kind === "guardrail"
        ? ctx.priorities.guardrail
        : ctx.priorities.baseline;
  for (const spec of specs) {
    const own = familyOf(spec.target) ?? familyOf(spec.peer);
    // A rule without ranges matches both families; ICMP must then be written per family.
    const split = own === undefined && hasIcmp(services) && !services.equals(ServiceSet.ALL);
    for (const family of split ? ([4, 6] as const) : [own]) {
      for (const l4 of l4ChunksOf(services, family ?? "any", ctx.limits.portsPerRule)) {
        const key = `${prefix}-${out.length}`;
        const rule: GcpFirewallRule = {
          key,
          name: gcpRuleName(ctx.plan.policy.name, ctx.network, key, ctx.namePrefix),
          description,
          direction: spec.direction,
          priority,
          [action]: l4,
          kind,
          ...meta,
        };
        placeSelectors(rule, spec, family);
        if (ctx.logging[kind])
          rule.logConfig = { metadata: ctx.logMetadata ? "INCLUDE_ALL_METADATA" : "EXCLUDE_ALL_METADATA" };
        out.push(rule);
      }
    }
  }
  return out;
}

function placeSelectors(rule: GcpFirewallRule, spec: RuleSpec, family: Family | undefined) {
  const { target, peer } = spec;
  const ingress = spec.direction === "INGRESS";
  if (target.kind === "sa") rule.targetServiceAccounts = target.accounts;
  else if (target.kind === "ranges") {
    // All instances of the network, narrowed to the target's own addresses.
    if (ingress) rule.destinationRanges = target.cidrs;
    else rule.sourceRanges = target.cidrs;
  }
  if (peer.kind === "sa") rule.sourceServiceAccounts = peer.accounts;
  else if (peer.kind === "ranges") {
    if (ingress) rule.sourceRanges = peer.cidrs;
    else rule.destinationRanges = peer.cidrs;
  } else {
    const all = [(peer.family ?? family) === 6 ? ALL_V6 : ALL_V4];
    if (ingress) rule.sourceRanges = all;
    else rule.destinationRanges = all;
  }
  // An ICMP rule without any range is pinned to its family by the whole address space.
  if (family !== undefined && rule.sourceRanges === undefined && rule.destinationRanges === undefined) {
    const all = [family === 6 ? ALL_V6 : ALL_V4];
    if (ingress) rule.destinationRanges = all;
    else rule.sourceRanges = all;
  }
}

function baseline(ctx: Ctx, workloads: readonly Workload[]): GcpFirewallRule[] {
  const slices: Slice[] = [];
  for (const w of workloads) {
    const party = ctx.plan.party(`workload:${w.name}`);
    if (party) slices.push({ party, addresses: party.addresses });
  }
  // In policy order, so that a segment's accounts (usually declared together) share chunks: the
  // fewer distinct rule sets an account is in, the fewer classes a proof has to decide.
  const targets = targetSelectors(ctx, slices, true);
  const everything: Selector[] = [
    { kind: "any", family: 4 },
    { kind: "any", family: 6 },
  ];
  const out: GcpFirewallRule[] = [];
  for (const direction of ["INGRESS", "EGRESS"] as const) {
    const dir = direction === "INGRESS" ? "in" : "out";
    out.push(
      ...materialise(
        ctx,
        "baseline",
        `deny-all-${dir}`,
        combine(direction, targets, everything),
        ServiceSet.ALL,
        describe(
          ctx,
          `default deny ${direction.toLowerCase()} for every workload of the network (overrides the implied allow-egress)`,
        ),
        {},
      ),
    );
  }
  return out;
}

/**
 * The paths that give one segment's instances in one network rules of one kind and direction: the
 * ingress of a path's `to` end, or the egress of its `from` end. All of them render together, one
 * rule per set of services (and list chunk), so a segment reached by many paths over the same
 * services takes one rule whatever the number of sources.
 */
interface Group {
  kind: "allow" | "guardrail";
  direction: "INGRESS" | "EGRESS";
  /** The end (segment name) whose instances the rules apply to. */
  end: string;
  /** That end's slices (the network's own workloads among them are the rules' targets). */
  targets: Slice[];
  paths: CompiledPath[];
}

/** The groups of every network of a plan, computed once per plan (components render network by network). */
const groupCache = new WeakMap<Plan, Map<string, Group[]>>();

function groupsOf(plan: Plan): Map<string, Group[]> {
  const cached = groupCache.get(plan);
  if (cached) return cached;
  const byNetwork = new Map<string, Map<string, Group>>();
  const networksOf = (slices: readonly Slice[]) => {
    const out = new Set<string>();
    for (const s of slices)
      if (s.party.kind === "workload") {
        const n = s.party.workload.placements.gcp?.network;
        if (n !== undefined) out.add(n);
      }
    return out;
  };
  const add = (network: string, g: Omit<Group, "paths">, c: CompiledPath) => {
    let groups = byNetwork.get(network);
    if (!groups) byNetwork.set(network, (groups = new Map()));
    const key = `${g.kind}\u0000${g.direction}\u0000${g.end}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ...g, paths: [] }));
    group.paths.push(c);
  };
  for (const [kind, paths] of [
    ["guardrail", plan.guardrails],
    ["allow", plan.allows],
  ] as const) {
    for (const c of paths) {
      for (const n of networksOf(c.to))
        add(n, { kind, direction: "INGRESS", end: c.path.to, targets: c.to }, c);
      for (const n of networksOf(c.from))
        add(n, { kind, direction: "EGRESS", end: c.path.from, targets: c.from }, c);
    }
  }
  const out = new Map([...byNetwork].map(([n, groups]) => [n, [...groups.values()]]));
  groupCache.set(plan, out);
  return out;
}

const textCache = new WeakMap<ServiceSet, string[]>();
/** `services.toStrings()`, once per set object (paths share their sets among many rules). */
function servicesText(services: ServiceSet): string[] {
  let text = textCache.get(services);
  if (!text) textCache.set(services, (text = services.toStrings()));
  return text;
}

/** A short, stable key part for a set of services: `tcp-443-udp-53`, hashed when long. */
function servicesSlug(services: ServiceSet): string {
  const text = slug(servicesText(services).join("-")) || "none";
  return text.length <= 32 ? text : `svc-${digest(services.key())}`;
}

/**
 * One far end of a group's rules (the sources of ingress, the destinations of egress): one path end
 * (a segment, or a peer as one path names it), named by service accounts (same-network ingress
 * sources only) and addresses, with the union of the services its paths name.
 */
interface FarEnd {
  accounts: string[];
  addresses: AddressSet[];
  services: ServiceSet;
  paths: CompiledPath[];
}

function unnamedError(ctx: Ctx, g: Group, c: CompiledPath, party: string): GcpRenderError {
  const where = `network "${ctx.network}", allow path "${c.path.name}"`;
  return g.direction === "INGRESS"
    ? new GcpRenderError(
        `${where}: "${party}" has no addresses, and GCP can name a source by service account only inside its own network; add its cidrs`,
      )
    : new GcpRenderError(
        `${where}: destination "${party}" has no addresses; GCP egress rules name destinations by IP range only (there is no destination ` +
          "service account), so the implied egress cannot be overridden narrowly. Add placements.gcp.cidrs.",
      );
}

/**
 * The rules of one group: the far ends (sources of ingress, destinations of egress), each with the
 * union of the services its paths open (or forbid) to the group's end, are grouped by that service
 * set; each set becomes one rule per target and far-end list chunk. Exact: a far end is in a rule
 * exactly for the services its paths name.
 */
function groupRules(ctx: Ctx, g: Group): GcpFirewallRule[] {
  const targets = targetSelectors(ctx, g.targets);
  if (targets.length === 0) return [];
  const ingress = g.direction === "INGRESS";
  const ends = new Map<string, FarEnd>();
  for (const c of g.paths) {
    const name = ingress ? c.path.from : c.path.to;
    const slices = ingress ? c.from : c.to;
    // A segment end is the same slices on every path; a peer end may cover part of the peer.
    const key = ctx.plan.members.has(name) ? name : `${name}\u0000${c.path.name}`;
    const far = ends.get(key);
    if (far) {
      far.paths.push(c);
      if (!c.path.services.isSubsetOf(far.services)) far.services = far.services.union(c.path.services);
      continue;
    }
    const end: FarEnd = { accounts: [], addresses: [], services: c.path.services, paths: [c] };
    for (const s of slices) {
      const w = ingress ? localWorkload(ctx, s) : undefined;
      const account = w ? serviceAccountOf(w) : undefined;
      if (account !== undefined) {
        end.accounts.push(account);
        // The account names its GCP VMs; its compute on other targets (at other addresses) is
        // named by range.
        const elsewhere = addressesOutside(s.party, "gcp").intersect(s.addresses);
        if (!elsewhere.isEmpty()) end.addresses.push(elsewhere);
      } else if (unknownAddresses(s)) {
        // Guardrails leave parties that cannot be named to the targets that place them: denying
        // "every address" here would break legitimate allows.
        if (g.kind === "allow") throw unnamedError(ctx, g, c, s.party.name);
      } else end.addresses.push(s.addresses);
    }
    ends.set(key, end);
  }
  const bySet = new Map<
    string,
    { services: ServiceSet; accounts: string[]; ranges: AddressSet[]; paths: Set<CompiledPath> }
  >();
  for (const far of ends.values()) {
    if (far.accounts.length === 0 && far.addresses.length === 0) continue;
    const key = far.services.key();
    let set = bySet.get(key);
    if (!set) bySet.set(key, (set = { services: far.services, accounts: [], ranges: [], paths: new Set() }));
    set.accounts.push(...far.accounts);
    set.ranges.push(...far.addresses);
    for (const c of far.paths) set.paths.add(c);
  }
  const kind = g.kind === "allow" ? "allow" : "forbid";
  const dir = ingress ? "in" : "out";
  const what =
    g.kind === "allow"
      ? `allow ${ingress ? "ingress to" : "egress from"} "${g.end}"`
      : `deny guardrail (enforce forbid) ${ingress ? "ingress to" : "egress from"} "${g.end}"`;
  const out: GcpFirewallRule[] = [];
  const sets = [...bySet.values()]
    .map((set) => ({ ...set, slug: servicesSlug(set.services) }))
    .sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  for (const set of sets) {
    const peers = [
      ...saSelectors(set.accounts, ctx.limits),
      ...rangeSelectors(AddressSet.unionAll(set.ranges), ctx.limits),
    ];
    // In plan order (the group lists its paths so).
    const paths = set.paths.size === 1 ? [...set.paths] : g.paths.filter((c) => set.paths.has(c));
    out.push(
      ...materialise(
        ctx,
        g.kind,
        `${kind}-${dir}-${g.end}-${set.slug}`,
        combine(g.direction, targets, peers),
        set.services,
        describe(ctx, `${what} over ${servicesText(set.services).join(", ") || "none"}`, paths),
        { paths: paths.map((c) => c.path.name), segment: g.end },
      ),
    );
  }
  return out;
}

function resolveOptions(options: GcpRenderOptions): Omit<Ctx, "plan" | "network"> {
  const priorities = { ...DEFAULT_PRIORITIES, ...options.priorities };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  for (const [k, v] of Object.entries(priorities))
    if (!Number.isInteger(v) || v < 0 || v > 65535)
      throw new GcpRenderError(`options.priorities.${k} is ${v}: a GCP priority is an integer 0-65535`);
  if (!(priorities.guardrail < priorities.allow && priorities.allow < priorities.baseline))
    throw new GcpRenderError(
      `options.priorities must order guardrail < allow < baseline (lower number wins); got ${priorities.guardrail}, ${priorities.allow}, ${priorities.baseline}`,
    );
  for (const k of ["rangesPerRule", "serviceAccountsPerRule", "portsPerRule"] as const)
    if (!Number.isInteger(limits[k]) || limits[k] < 1)
      throw new GcpRenderError(`options.limits.${k} is ${limits[k]}: it must be a positive integer`);
  return {
    priorities,
    limits,
    logging: { guardrail: true, allow: false, baseline: false, ...options.logging },
    logMetadata: options.logMetadata ?? true,
    ...(options.namePrefix !== undefined ? { namePrefix: options.namePrefix } : {}),
  };
}

/**
 * The firewall rules of one GCP VPC network (placement `network` name): a deny-all baseline for every
 * workload placed in it, deny guardrails for every enforce forbid touching it, and the allows.
 * Deterministic; rule keys derive from path names only. Throws GcpRenderError naming the network
 * and the path or limit when something cannot be rendered exactly.
 */
export function renderGcpNetwork(
  plan: Plan,
  network: string,
  options: GcpRenderOptions = {},
): GcpFirewallRule[] {
  const ctx: Ctx = { plan, network, ...resolveOptions(options) };
  const workloads = plan.policy.workloads.filter((w) => w.placements.gcp?.network === network);
  if (workloads.length === 0) {
    const known = gcpNetworks(plan);
    throw new GcpRenderError(
      `network "${network}": no workload of policy "${plan.policy.name}" is placed in it; ` +
        (known.length > 0
          ? `GCP networks in the policy: ${known.join(", ")}`
          : "the policy places no workload on GCP"),
    );
  }
  const groups = groupsOf(plan).get(network) ?? [];
  const ofKind = (kind: Group["kind"]) =>
    groups
      .filter((g) => g.kind === kind)
      .sort((a, b) =>
        a.direction !== b.direction
          ? a.direction === "INGRESS"
            ? -1
            : 1
          : a.end < b.end
            ? -1
            : a.end > b.end
              ? 1
              : 0,
      )
      .flatMap((g) => groupRules(ctx, g));
  const rules = [...baseline(ctx, workloads), ...ofKind("guardrail"), ...ofKind("allow")];
  const max = ctx.limits.rulesPerNetwork;
  if (max !== undefined && rules.length > max)
    throw new GcpRenderError(
      `network "${network}" needs ${rules.length} firewall rules, more than the limit of ${max} ` +
        "(options.limits.rulesPerNetwork); raise the project's firewall-rule quota or merge paths",
    );
  return rules;
}

/** Every GCP network's rules, by network name (sorted). */
export function renderGcp(
  plan: Plan,
  options: GcpRenderOptions = {},
): Array<{ network: string; rules: GcpFirewallRule[] }> {
  return gcpNetworks(plan).map((network) => ({ network, rules: renderGcpNetwork(plan, network, options) }));
}
