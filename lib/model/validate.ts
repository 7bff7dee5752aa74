import { AddressSet, INTERNET, ipv4MappedProblem, NetParseError, ServiceSet } from "../net";
import type { DiagnosticSink, DocPath } from "./diagnostics";
import type { RawPath, RawPolicy, RawWorkload } from "./document";
import { Suggester } from "./names";
import { re2Findings } from "./re2";
import { NAME_PATTERN } from "./schema";
import { shown } from "./shown";
import { type NameRule, TARGET_NAME_RULES, targetNameProblem } from "./target-names";
import {
  declaredAddresses,
  type HttpRule,
  type LabelSelector,
  type MovementPath,
  type Peer,
  type Placements,
  type Policy,
  type Segment,
  type Workload,
} from "./types";

export const INTERNET_PEER = "internet";

export interface ValidateOptions {
  /** "Today", for expiry checks. Defaults to the current time. */
  now?: Date;
  /**
   * Segments and peers left out because they are malformed (already reported): paths naming them
   * are left out without a second error.
   */
  leftOut?: ReadonlySet<string>;
  /**
   * When malformed workloads or paths were left out: the document index of each element that
   * remains, so diagnostics point at the right place.
   */
  documentIndex?: { workloads?: number[]; paths?: number[] };
}

// Kubernetes label syntax: an optional DNS-subdomain prefix and a name of at most 63 characters.
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function checkLabelKey(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix)))
    return `label key ${shown(key)} has an invalid prefix: it must be a DNS subdomain (lowercase, dots)`;
  if (!LABEL_NAME.test(name))
    return `label key ${shown(key)} is invalid: at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit`;
  return undefined;
}

function checkLabels(sink: DiagnosticSink, path: DocPath, labels: Record<string, string>, subject: string) {
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = checkLabelKey(key);
    if (keyProblem) sink.error([...path, key], keyProblem, { subject });
    if (!LABEL_VALUE.test(value))
      sink.error([...path, key], `label value ${shown(value)} is invalid`, {
        subject,
        hint: "use at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit",
      });
  }
}

function checkLabelValues(sink: DiagnosticSink, path: DocPath, values: readonly string[], subject: string) {
  values.forEach((value, i) => {
    if (!LABEL_VALUE.test(value))
      sink.error([...path, i], `label value ${shown(value)} is invalid`, {
        subject,
        hint: "use at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit",
      });
  });
}

function parseAddresses(
  sink: DiagnosticSink,
  path: DocPath,
  entries: readonly string[] | undefined,
  subject: string,
): AddressSet {
  const parsed: AddressSet[] = [];
  (entries ?? []).forEach((entry, i) => {
    try {
      const set = AddressSet.parse(entry);
      const mapped = ipv4MappedProblem(entry, set);
      if (mapped) sink.error([...path, i], mapped, { subject });
      else parsed.push(set);
    } catch (e) {
      if (!(e instanceof NetParseError)) throw e;
      sink.error([...path, i], e.message, { subject });
    }
  });
  // One union of everything: folding pairwise is quadratic in the number of entries.
  return AddressSet.unionAll(parsed);
}

function validateWorkload(sink: DiagnosticSink, raw: RawWorkload, index: number): Workload {
  const at: DocPath = ["workloads", index];
  const subject = `workload "${raw.name}"`;
  const labels = raw.labels ?? {};
  checkLabels(sink, [...at, "labels"], labels, subject);
  const p = raw.placements;
  const placements: Placements = {};
  const need = (ok: boolean, field: DocPath, message: string, hint: string) => {
    if (!ok) sink.error([...at, "placements", ...field], message, { subject, hint });
  };
  if (Object.keys(p).length === 0)
    sink.error([...at, "placements"], "the workload has no placements", {
      subject,
      hint: "add at least one of aws, gcp, azure, kubernetes, bluefield",
    });
  const named = (field: DocPath, value: string, what: string, rule: NameRule) => {
    const problem = targetNameProblem(value, what, rule);
    if (problem)
      sink.error([...at, "placements", ...field], problem, {
        subject,
        hint: "rename it in the policy and in the stack that uses it",
      });
  };
  if (p.aws) named(["aws", "vpc"], p.aws.vpc, "aws.vpc", TARGET_NAME_RULES.awsVpc);
  if (p.gcp) named(["gcp", "network"], p.gcp.network, "gcp.network", TARGET_NAME_RULES.gcpNetwork);
  if (p.azure) named(["azure", "vnet"], p.azure.vnet, "azure.vnet", TARGET_NAME_RULES.azureVnet);
  if (p.kubernetes)
    named(
      ["kubernetes", "cluster"],
      p.kubernetes.cluster,
      "kubernetes.cluster",
      TARGET_NAME_RULES.kubernetesCluster,
    );
  if (p.bluefield) {
    named(["bluefield", "port"], p.bluefield.port, "bluefield.port", TARGET_NAME_RULES.bluefieldPort);
    // p0/p1 are the DPU's uplinks: traffic entering there is ingress to the hosts, and the anti-spoof
    // table drops what a host port sends from another address, so a workload there is broken.
    need(
      !/^p[01]$/.test(p.bluefield.port),
      ["bluefield", "port"],
      `bluefield.port "${p.bluefield.port}" is an uplink of the DPU, not a host representor`,
      "use the host's representor port (e.g. pf0hpf, pf1hpf, or a VF representor pf0vf0)",
    );
    p.bluefield.hosts.forEach((h, i) => {
      named(["bluefield", "hosts", i], h, "bluefield host", TARGET_NAME_RULES.bluefieldHost);
    });
  }
  if (p.aws) {
    need(
      p.aws.cidrs.length > 0,
      ["aws", "cidrs"],
      "an AWS placement needs cidrs",
      "list the interfaces' private CIDRs",
    );
    placements.aws = { vpc: p.aws.vpc, cidrs: [...p.aws.cidrs] };
  }
  if (p.gcp) {
    need(
      p.gcp.serviceAccount !== undefined || (p.gcp.cidrs ?? []).length > 0,
      ["gcp"],
      "a GCP placement needs a serviceAccount (its identity) or cidrs",
      "set serviceAccount; network tags are not an identity",
    );
    placements.gcp = {
      network: p.gcp.network,
      serviceAccount: p.gcp.serviceAccount,
      cidrs: [...(p.gcp.cidrs ?? [])],
    };
    if (placements.gcp.serviceAccount === undefined) delete placements.gcp.serviceAccount;
  }
  if (p.azure) {
    need(
      p.azure.cidrs.length > 0,
      ["azure", "cidrs"],
      "an Azure placement needs cidrs",
      "list the NICs' CIDRs",
    );
    placements.azure = { vnet: p.azure.vnet, cidrs: [...p.azure.cidrs] };
  }
  if (p.kubernetes) {
    need(
      Object.keys(p.kubernetes.podLabels).length > 0,
      ["kubernetes", "podLabels"],
      "podLabels is empty, which would select every pod in the namespace",
      "give at least one pod label, e.g. { app: ticket-summarizer }",
    );
    checkLabels(sink, [...at, "placements", "kubernetes", "podLabels"], p.kubernetes.podLabels, subject);
    placements.kubernetes = {
      cluster: p.kubernetes.cluster,
      namespace: p.kubernetes.namespace,
      podLabels: { ...p.kubernetes.podLabels },
      cidrs: [...(p.kubernetes.cidrs ?? [])],
    };
  }
  if (p.bluefield) {
    need(p.bluefield.hosts.length > 0, ["bluefield", "hosts"], "hosts is empty", "list the DPU host names");
    need(
      p.bluefield.addresses.length > 0,
      ["bluefield", "addresses"],
      "a BlueField placement needs addresses (flows match on them)",
      "list the hosts' addresses",
    );
    const dup = p.bluefield.hosts.find((h, i) => p.bluefield!.hosts.indexOf(h) !== i);
    if (dup !== undefined)
      sink.error([...at, "placements", "bluefield", "hosts"], `host "${dup}" is listed twice`, { subject });
    placements.bluefield = {
      hosts: [...p.bluefield.hosts],
      port: p.bluefield.port,
      addresses: [...p.bluefield.addresses],
    };
  }
  const addresses = AddressSet.unionAll(
    declaredAddresses(p as Placements).map(({ key, field, entries }) =>
      parseAddresses(sink, [...at, "placements", key, field], entries, subject),
    ),
  );
  const workload: Workload = { name: raw.name, labels: { ...labels }, placements, addresses };
  if (raw.pivot !== undefined) workload.pivot = raw.pivot;
  return workload;
}

function validateSelector(sink: DiagnosticSink, name: string, raw: LabelSelector): LabelSelector {
  const at: DocPath = ["segments", name];
  const subject = `segment "${name}"`;
  checkLabels(sink, [...at, "matchLabels"], raw.matchLabels ?? {}, subject);
  (raw.matchExpressions ?? []).forEach((req, i) => {
    const here: DocPath = [...at, "matchExpressions", i];
    const keyProblem = checkLabelKey(req.key);
    if (keyProblem) sink.error([...here, "key"], keyProblem, { subject });
    checkLabelValues(sink, [...here, "values"], req.values ?? [], subject);
    if ((req.operator === "In" || req.operator === "NotIn") && (req.values ?? []).length === 0)
      sink.error([...here, "values"], `operator ${req.operator} needs at least one value`, {
        subject,
        hint: "list the values, or use Exists/DoesNotExist",
      });
    if ((req.operator === "Exists" || req.operator === "DoesNotExist") && req.values !== undefined)
      sink.error([...here, "values"], `operator ${req.operator} takes no values`, {
        subject,
        hint: "remove values, or use In/NotIn",
      });
  });
  const selector: LabelSelector = {};
  if (raw.matchLabels) selector.matchLabels = { ...raw.matchLabels };
  if (raw.matchExpressions)
    selector.matchExpressions = raw.matchExpressions.map((r) => ({
      key: r.key,
      operator: r.operator,
      ...(r.values ? { values: [...r.values] } : {}),
    }));
  if (!selector.matchLabels && !selector.matchExpressions)
    sink.warn(at, "the selector is empty and selects every workload", {
      subject,
      hint: "add matchLabels or matchExpressions if that is not intended",
    });
  return selector;
}

/** Parses "YYYY-MM-DD" (or a full ISO timestamp) to the last instant the path stands. */
function expiryInstant(text: string): Date | undefined {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) {
    const d = new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]), 23, 59, 59, 999));
    return d.getUTCDate() === Number(day[3]) ? d : undefined;
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const d = new Date(text);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

/**
 * Services parsed once per distinct text: enterprise policies repeat a few dozen services across
 * thousands of paths. Sets are immutable, so sharing them is safe; errors are not cached.
 */
const parsedServices = new Map<string, ServiceSet>();
/**
 * One object per distinct service set: paths that name the same services share it, so what
 * renderers and reviews derive from a set (its text, its rule fields) is derived once per set.
 */
const internedServices = new Map<string, ServiceSet>();
function internServices(set: ServiceSet): ServiceSet {
  const key = set.key();
  const known = internedServices.get(key);
  if (known) return known;
  if (internedServices.size < 10_000) internedServices.set(key, set);
  return set;
}

function parseService(text: string): ServiceSet {
  let set = parsedServices.get(text);
  if (!set) {
    set = ServiceSet.parse(text);
    if (parsedServices.size < 10_000) parsedServices.set(text, set);
  }
  return set;
}

function validatePath(
  sink: DiagnosticSink,
  raw: RawPath,
  index: number,
  endpoints: ReadonlySet<string>,
  peerNames: ReadonlySet<string>,
  now: Date,
  leftOut: ReadonlySet<string>,
  suggest: Suggester,
): MovementPath | undefined {
  const at: DocPath = ["paths", index];
  const subject = `path "${raw.name}"`;
  const before = sink.errorCount;
  const verdict = raw.verdict ?? "allow";
  let dangling = false;
  for (const side of ["from", "to"] as const) {
    const ref = raw[side];
    if (leftOut.has(ref)) dangling = true;
    else if (!endpoints.has(ref))
      sink.error([...at, side], `${shown(ref)} is neither a segment nor a peer`, {
        subject,
        hint: suggest.hint(ref),
      });
  }
  if (peerNames.has(raw.from) && peerNames.has(raw.to))
    sink.error(
      [...at],
      `both ends ("${raw.from}" and "${raw.to}") are peers: no target enforces traffic between two outside parties`,
      {
        subject,
        hint: "one end of a path must be a segment",
      },
    );
  if (!raw.owner)
    sink.error([...at, "owner"], "every path needs an owner", {
      subject,
      hint: "add owner: team@example.com",
    });
  if (!raw.justification)
    sink.error([...at, "justification"], "every path needs a justification", {
      subject,
      hint: "say in one sentence why this movement path exists",
    });
  if (verdict === "allow" && raw.mode !== undefined)
    sink.error([...at, "mode"], "mode applies to forbid paths only", {
      subject,
      hint: "remove mode, or set verdict: forbid",
    });
  const through = validateReach(sink, raw, at, subject, verdict, endpoints, peerNames, leftOut);

  let services = ServiceSet.EMPTY;
  if (raw.services === undefined || raw.services.length === 0) {
    if (verdict === "allow")
      sink.error([...at, "services"], "an allow path must list its services", {
        subject,
        hint: "e.g. services: [tcp/443]; default deny means nothing is opened implicitly",
      });
    else services = ServiceSet.ALL;
  }
  (raw.services ?? []).forEach((text, i) => {
    try {
      services = services.union(parseService(text));
    } catch (e) {
      if (!(e instanceof NetParseError)) throw e;
      sink.error([...at, "services", i], e.message, { subject });
    }
  });
  services = internServices(services);

  let http: HttpRule[] | undefined;
  if (raw.http !== undefined) {
    if (verdict !== "allow")
      sink.error([...at, "http"], "http applies to allow paths only", {
        subject,
        hint: "a forbid closes the whole service; remove http",
      });
    else if (raw.http.length === 0)
      sink.error([...at, "http"], "http is empty, which would allow no request", {
        subject,
        hint: "list rules or remove http",
      });
    const onlyTcp = services.entries().every((e) => e.protocol === 6);
    if (!onlyTcp || services.isEmpty())
      sink.error([...at, "services"], "a path with http rules may only list tcp services", {
        subject,
        hint: "split the non-tcp services into a path of their own",
      });
    raw.http.forEach((rule, i) => {
      if (rule.path !== undefined) {
        try {
          new RegExp(`^(?:${rule.path})$`);
          for (const f of re2Findings(rule.path))
            (f.severity === "error" ? sink.error : sink.warn).call(
              sink,
              [...at, "http", i, "path"],
              `${shown(rule.path)}: ${f.message}`,
              {
                subject,
                hint: "Cilium enforces HTTP paths with Envoy's RE2: rewrite the expression in RE2 syntax",
              },
            );
        } catch {
          sink.error([...at, "http", i, "path"], `${shown(rule.path)} is not a valid regular expression`, {
            subject,
          });
        }
      }
      if (rule.method === undefined && rule.path === undefined)
        sink.error([...at, "http", i], "an http rule needs a method or a path", { subject });
    });
    http = raw.http.map((r) => ({ ...r }));
  }

  if (raw.expires !== undefined) {
    const until = expiryInstant(raw.expires);
    if (!until)
      sink.error([...at, "expires"], `"${raw.expires}" is not a date`, {
        subject,
        hint: "write YYYY-MM-DD, e.g. 2027-03-31",
      });
    else if (until < now) {
      if (verdict === "allow")
        sink.error([...at, "expires"], `the path expired on ${raw.expires}`, {
          subject,
          hint: "remove the path, or extend expires after review by its owner",
        });
      else
        sink.warn(
          [...at, "expires"],
          `the forbid expired on ${raw.expires}; it is still enforced (fail closed)`,
          {
            subject,
            hint: "remove it or extend expires",
          },
        );
    }
  }
  if (dangling || sink.errorCount > before) return undefined;
  const path: MovementPath = {
    name: raw.name,
    from: raw.from,
    to: raw.to,
    serviceTexts: services.toStrings(),
    services,
    verdict,
    mode: verdict === "forbid" ? (raw.mode ?? "enforce") : "enforce",
    owner: raw.owner!,
    justification: raw.justification!,
    reach: verdict === "forbid" ? (raw.reach ?? "direct") : "direct",
  };
  if (raw.expires !== undefined) path.expires = raw.expires;
  if (raw.ticket !== undefined) path.ticket = raw.ticket;
  if (http) path.http = http;
  if (through) path.through = through;
  return path;
}

/**
 * `reach` and `through` (DESIGN.md rule 10): forbid paths only; `through` only with `reach: any`, and
 * it names segments (peers never pivot, so a chain cannot pass through one). Returns `through` when
 * it is valid.
 */
function validateReach(
  sink: DiagnosticSink,
  raw: RawPath,
  at: DocPath,
  subject: string,
  verdict: MovementPath["verdict"],
  endpoints: ReadonlySet<string>,
  peerNames: ReadonlySet<string>,
  leftOut: ReadonlySet<string>,
): string[] | undefined {
  if (verdict === "allow" && raw.reach !== undefined)
    sink.error([...at, "reach"], "reach applies to forbid paths only", {
      subject,
      hint: "remove reach; an allow path opens its one hop",
    });
  if (raw.through === undefined) return undefined;
  if (verdict === "allow" || raw.reach !== "any") {
    sink.error([...at, "through"], "through applies to forbid paths with reach: any only", {
      subject,
      hint:
        verdict === "allow"
          ? "remove through"
          : "add reach: any (chains of any length are forbidden, except through these segments), or remove through",
    });
    return undefined;
  }
  if (raw.through.length === 0) {
    sink.error([...at, "through"], "through is empty", {
      subject,
      hint: "name the segments accepted as chokepoints, or remove through",
    });
    return undefined;
  }
  const segmentNames = [...endpoints].filter((e) => !peerNames.has(e));
  const suggestSegment = new Suggester(segmentNames, "segments");
  const seen = new Set<string>();
  let ok = true;
  raw.through.forEach((name, i) => {
    // A segment left out as malformed was reported already; keep the name (it names no member).
    if (leftOut.has(name)) return;
    if (peerNames.has(name)) {
      ok = false;
      sink.error(
        [...at, "through", i],
        `${shown(name)} is a peer: peers never pivot, so no chain passes through one`,
        {
          subject,
          hint: "name segments whose members are accepted chokepoints",
        },
      );
    } else if (!endpoints.has(name)) {
      ok = false;
      sink.error([...at, "through", i], `${shown(name)} is not a segment`, {
        subject,
        hint: suggestSegment.hint(name),
      });
    } else if (seen.has(name)) {
      ok = false;
      sink.error([...at, "through", i], `segment ${shown(name)} is listed twice`, {
        subject,
        hint: "remove one",
      });
    }
    seen.add(name);
  });
  return ok ? [...raw.through] : undefined;
}

/** Elements with their index in the document (which differs when malformed ones were left out). */
function present<T>(
  items: readonly T[] | undefined,
  documentIndex: readonly number[] | undefined,
): Array<[T, number]> {
  return (items ?? []).map((item, i) => [item, documentIndex?.[i] ?? i]);
}

function reportDuplicates(
  sink: DiagnosticSink,
  elements: Array<[{ name: string }, number]>,
  collection: string,
  what: string,
) {
  const seen = new Map<string, number>();
  elements.forEach(([{ name: n }, i]) => {
    const first = seen.get(n);
    if (first !== undefined)
      sink.error([collection, i, "name"], `duplicate ${what} name "${n}" (also ${collection}[${first}])`, {
        hint: `${what} names must be unique; rename one`,
      });
    else seen.set(n, i);
  });
}

/**
 * Semantic validation of a structurally valid policy document. Reports every problem to `sink`
 * and returns the policy with the invalid paths left out (so that later checks can still run and
 * report their own findings); the caller must not render anything when `sink.hasErrors`.
 */
export function validatePolicy(raw: RawPolicy, sink: DiagnosticSink, options: ValidateOptions = {}): Policy {
  const now = options.now ?? new Date();
  const leftOut = new Set<string>(options.leftOut ?? []);
  const rawWorkloads = present(raw.workloads, options.documentIndex?.workloads);
  reportDuplicates(sink, rawWorkloads, "workloads", "workload");
  const workloads = rawWorkloads.map(([w, i]) => validateWorkload(sink, w, i));

  const segments: Segment[] = [];
  for (const [name, sel] of Object.entries(raw.segments ?? {})) {
    if (!NAME_PATTERN.test(name))
      sink.error(["segments", name], `segment name "${name}" is invalid`, {
        hint: "use 1-63 lowercase letters, digits and '-', starting with a letter",
      });
    const errorsBefore = sink.errorCount;
    const selector = validateSelector(sink, name, sel);
    // A segment with a broken selector is left out, and paths naming it with it (no second error).
    if (sink.errorCount > errorsBefore) leftOut.add(name);
    else
      segments.push({
        name,
        selector,
        ...(sel.pivot !== undefined ? { pivot: sel.pivot } : {}),
        ...(sel.critical !== undefined ? { critical: sel.critical } : {}),
      });
  }

  const peers: Peer[] = [];
  for (const [name, rawPeer] of Object.entries(raw.peers ?? {})) {
    const subject = `peer "${name}"`;
    if (name === INTERNET_PEER) {
      sink.error(
        ["peers", name],
        `"${INTERNET_PEER}" is built in (the public address space) and cannot be redefined`,
        {
          hint: "choose another name for this peer",
        },
      );
      continue;
    }
    if (!NAME_PATTERN.test(name))
      sink.error(["peers", name], `peer name "${name}" is invalid`, {
        hint: "use 1-63 lowercase letters, digits and '-', starting with a letter",
      });
    if (raw.segments && Object.hasOwn(raw.segments, name))
      sink.error(["peers", name], `"${name}" is both a segment and a peer`, {
        subject,
        hint: "paths name either; rename one of them",
      });
    if (rawPeer.cidrs.length === 0)
      sink.error(["peers", name, "cidrs"], "a peer needs at least one CIDR", { subject });
    const errorsBefore = sink.errorCount;
    const addresses = parseAddresses(sink, ["peers", name, "cidrs"], rawPeer.cidrs, subject);
    // A peer stands for what is outside the model. If it also covered a workload, rules rendered for
    // the peer (by address) would silently apply to that workload too.
    workloads.forEach((w, wi) => {
      const shared = addresses.intersect(w.addresses);
      if (!shared.isEmpty())
        sink.error(
          ["peers", name, "cidrs"],
          `the peer's addresses overlap workload "${w.name}" (${shared})`,
          {
            subject,
            hint: `a peer must only cover addresses outside the model: split its CIDRs around ${shared} (workloads[${wi}])`,
          },
        );
    });
    if (sink.errorCount > errorsBefore) leftOut.add(name);
    else peers.push({ name, cidrs: [...rawPeer.cidrs], addresses, builtin: false });
  }
  const workloadSpace = AddressSet.unionAll(workloads.map((w) => w.addresses));
  peers.push({
    name: INTERNET_PEER,
    cidrs: INTERNET.toCidrs(),
    addresses: INTERNET.subtract(workloadSpace),
    builtin: true,
  });

  const rawPaths = present(raw.paths, options.documentIndex?.paths);
  reportDuplicates(sink, rawPaths, "paths", "path");
  const endpoints = new Set([...segments.map((s) => s.name), ...peers.map((p) => p.name)]);
  const peerNames = new Set(peers.map((p) => p.name));
  const paths: MovementPath[] = [];
  const suggest = new Suggester([...endpoints], "segments and peers");
  rawPaths.forEach(([p, i]) => {
    const path = validatePath(sink, p, i, endpoints, peerNames, now, leftOut, suggest);
    if (path) paths.push(path);
  });

  return { name: raw.name, workloads, segments, peers, paths };
}
