import type { Workload } from "../../model/types";
import { AddressSet, IntervalSet, MAX_PORT, ServiceSet } from "../../net";
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

/** A GCP resource name (RFC 1035, ≤ 63 chars): `br-<policy>-<network>-<key>`, hashed when too long. */
export function gcpRuleName(policy: string, network: string, key: string): string {
  const full = `br-${slug(policy)}-${slug(network)}-${key}`.replace(/-+/g, "-");
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

const hasIcmp = (s: ServiceSet) => s.entries().some((e) => e.protocol === 1 || e.protocol === 58);

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

function saSelectors(accounts: readonly string[], limits: GcpLimits): Selector[] {
  return chunk([...new Set(accounts)].sort(), limits.serviceAccountsPerRule).map((a) => ({
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
}

const localWorkload = (ctx: Ctx, s: Slice): Workload | undefined =>
  s.party.kind === "workload" && s.party.workload.placements.gcp?.network === ctx.network
    ? s.party.workload
    : undefined;
const serviceAccountOf = (w: Workload) => w.placements.gcp?.serviceAccount;
/** A workload declared without any address: the plan stands it for every address (unknown). */
const unknownAddresses = (s: Slice) => s.party.kind === "workload" && s.party.workload.addresses.isEmpty();

/** The instances of `slices` that this network's rules apply to: by service account, else by address. */
function targetSelectors(ctx: Ctx, slices: readonly Slice[]): Selector[] {
  const accounts: string[] = [];
  const plain: AddressSet[] = [];
  for (const s of slices) {
    const w = localWorkload(ctx, s);
    if (!w) continue;
    const sa = serviceAccountOf(w);
    if (sa) accounts.push(sa);
    else plain.push(s.party.addresses);
  }
  return [...saSelectors(accounts, ctx.limits), ...rangeSelectors(AddressSet.unionAll(plain), ctx.limits)];
}

interface PeerSelection {
  selectors: Selector[];
  /** Parties that cannot be named here (no service account in this network and no known address). */
  unnamed: string[];
}

/**
 * How this network's rules name the other end: workloads of this network that have a service
 * account by identity (only ingress sources can, `allowIdentity`), everything else by its addresses.
 */
function peerSelectors(ctx: Ctx, slices: readonly Slice[], allowIdentity: boolean): PeerSelection {
  const accounts: string[] = [];
  const ranges: AddressSet[] = [];
  const unnamed: string[] = [];
  for (const s of slices) {
    const w = localWorkload(ctx, s);
    const sa = w ? serviceAccountOf(w) : undefined;
    if (allowIdentity && sa) accounts.push(sa);
    else if (unknownAddresses(s)) unnamed.push(s.party.name);
    else ranges.push(s.addresses);
  }
  const selectors = [
    ...saSelectors(accounts, ctx.limits),
    ...rangeSelectors(AddressSet.unionAll(ranges), ctx.limits),
  ];
  return { selectors, unnamed: [...new Set(unnamed)] };
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

function describe(ctx: Ctx, what: string, c?: CompiledPath): string {
  const base = `blastradius policy "${ctx.plan.policy.name}", network "${ctx.network}": ${what}`;
  if (!c) return base;
  const p = c.path;
  const svc = p.services.toStrings().join(", ") || "none";
  const text = `${base}; path "${p.name}" (${p.from} → ${p.to}, ${svc}), owner ${p.owner}: ${p.justification}`;
  return text.length > 1024 ? `${text.slice(0, 1021)}...` : text;
}

/** Materialises specs × service chunks as rules named `${prefix}-<n>` (n counts within the prefix). */
function materialise(
  ctx: Ctx,
  kind: GcpRuleKind,
  prefix: string,
  specs: RuleSpec[],
  services: ServiceSet,
  description: string,
  meta: { path?: string; segment?: string },
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
      for (const l4 of l4Chunks(services, family ?? "any", ctx.limits.portsPerRule)) {
        const key = `${prefix}-${out.length}`;
        const rule: GcpFirewallRule = {
          key,
          name: gcpRuleName(ctx.plan.policy.name, ctx.network, key),
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
  const targets = targetSelectors(ctx, slices);
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

function allowRules(ctx: Ctx, c: CompiledPath): GcpFirewallRule[] {
  const out: GcpFirewallRule[] = [];
  const name = c.path.name;
  // Ingress, at this network's instances of `to`.
  const inTargets = targetSelectors(ctx, c.to);
  if (inTargets.length > 0) {
    const sources = peerSelectors(ctx, c.from, true);
    if (sources.unnamed.length > 0)
      throw new GcpRenderError(
        `network "${ctx.network}", allow path "${name}": ${sources.unnamed.map((n) => `"${n}"`).join(", ")} ` +
          "has no addresses, and GCP can name a source by service account only inside its own network; add its cidrs",
      );
    out.push(
      ...materialise(
        ctx,
        "allow",
        `allow-${name}-in`,
        combine("INGRESS", inTargets, sources.selectors),
        c.path.services,
        describe(ctx, `allow ingress to "${c.path.to}"`, c),
        { path: name, segment: c.path.to },
      ),
    );
  }
  // Egress, at this network's instances of `from`: VPC firewall rules name destinations by address only.
  const outTargets = targetSelectors(ctx, c.from);
  if (outTargets.length > 0) {
    const dests = peerSelectors(ctx, c.to, false);
    if (dests.unnamed.length > 0)
      throw new GcpRenderError(
        `network "${ctx.network}", allow path "${name}": destination ${dests.unnamed.map((n) => `"${n}"`).join(", ")} ` +
          "has no addresses; GCP egress rules name destinations by IP range only (there is no destination " +
          "service account), so the implied egress cannot be overridden narrowly. Add placements.gcp.cidrs.",
      );
    out.push(
      ...materialise(
        ctx,
        "allow",
        `allow-${name}-out`,
        combine("EGRESS", outTargets, dests.selectors),
        c.path.services,
        describe(ctx, `allow egress from "${c.path.from}"`, c),
        { path: name, segment: c.path.from },
      ),
    );
  }
  return out;
}

function guardrailRules(ctx: Ctx, c: CompiledPath): GcpFirewallRule[] {
  const name = c.path.name;
  // Parties that cannot be named (unknown addresses, outside this network's identities) are left
  // to the targets that place them: denying "every address" here would break legitimate allows.
  const sources = peerSelectors(ctx, c.from, true).selectors;
  const dests = peerSelectors(ctx, c.to, false).selectors;
  return [
    ...materialise(
      ctx,
      "guardrail",
      `forbid-${name}-in`,
      combine("INGRESS", targetSelectors(ctx, c.to), sources),
      c.path.services,
      describe(ctx, `deny guardrail (enforce forbid) ingress to "${c.path.to}"`, c),
      { path: name, segment: c.path.to },
    ),
    ...materialise(
      ctx,
      "guardrail",
      `forbid-${name}-out`,
      combine("EGRESS", targetSelectors(ctx, c.from), dests),
      c.path.services,
      describe(ctx, `deny guardrail (enforce forbid) egress from "${c.path.from}"`, c),
      { path: name, segment: c.path.from },
    ),
  ];
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
  const rules = [
    ...baseline(ctx, workloads),
    ...plan.guardrails.flatMap((c) => guardrailRules(ctx, c)),
    ...plan.allows.flatMap((c) => allowRules(ctx, c)),
  ];
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
