import { formatDiagnostic } from "../model/diagnostics";
import type { TargetName } from "../model/types";
import type { Plan } from "../plan/types";
import type { RadiusReview } from "../radius";
import { kubeDnsWarnings } from "../targets/cilium/dns";
import type { DeploymentProof } from "../verify/deployment";
import type { AllowedResult, ForbiddenResult, Proof } from "../verify/prove";
import type { BindingFinding, TargetUsage } from "../verify/types";
import type { UnexplainedOpening } from "../verify/unexplained";
import { formatPacket } from "./packet";
import { type QuotaFinding, quotaFindings, quotaMessages } from "./quotas";

/**
 * The review JSON (`blastradius review --json`): a public contract (docs/design.md). Fields may be
 * added; none may change meaning.
 */
export interface ReviewJson {
  policy: string;
  ok: boolean;
  /** Targets whose rendered rules were proven. */
  targets: TargetName[];
  /** Targets the policy places workloads on whose rules were not proven (no renderer yet). */
  unproven: TargetName[];
  forbidden: ForbiddenResult[];
  allowed: AllowedResult[];
  /** Rendered provider resources per target (components excluded). */
  resources: Partial<Record<TargetName, number>>;
  paths: Array<{
    name: string;
    verdict: "allow" | "forbid";
    mode?: "enforce" | "monitor";
    from: string;
    to: string;
    services: string[];
    owner: string;
    justification: string;
    expires?: string;
    ticket?: string;
    http?: Array<{ method?: string; path?: string }>;
    /** Forbid paths with `reach: any` only. */
    reach?: "any";
    through?: string[];
  }>;
  /** Monitored forbids: the allow paths that keep them open and what enforcing would close. */
  monitored: Array<{
    path: string;
    closes: Array<{ allow: string; from: string; to: string; services: string }>;
  }>;
  /** Segments (with their member workloads) and peers, for diagrams. */
  endpoints: { segments: Record<string, string[]>; peers: string[] };
  /**
   * Allow paths with L7 rules and where those rules are enforced: `l7Targets` enforce the HTTP
   * rules, `l4Targets` only the ports (every request on them passes).
   */
  l7: Array<{ path: string; l7Targets: string[]; l4Targets: string[] }>;
  warnings: string[];
  /** Rules per target, in each target's own unit (see docs/targets/<t>.md). */
  rules: Partial<Record<TargetName, number>>;
  /**
   * Provider limits: per target and limit, the place it is tightest, and every place above 80%.
   * Each finding above 80% is also a warning; each over its limit is an error.
   */
  quotas: QuotaFinding[];
  /**
   * Problems that make the rendering undeployable or the stack unsafe though the paths' proof may
   * hold: a limit exceeded, an opening to or from an endpoint the model does not name, an opening
   * that rules outside the library make beyond the policy, a binding error (a segment's group
   * attached to no compute, a workload with no compute bound...). `review` exits 1 when there is any.
   */
  errors: string[];
  /**
   * `reach: any` forbids proven over the combined hop graph (DESIGN.md rule 10): blocked, or open
   * with the shortest chain and a minimum cut (the suggested fix). An enforce one open makes `ok`
   * false. Absent in reviews written without multi-hop analysis.
   */
  chains?: RadiusReview["chains"];
  /**
   * Blast radius (DESIGN.md rule 10): per workload and peer, how many workloads a compromise reaches
   * in any number of hops, which critical segments and which peers; per critical segment, who
   * reaches it. Absent in reviews written without multi-hop analysis.
   */
  radius?: { parties: RadiusReview["parties"]; critical: RadiusReview["critical"] };
  /**
   * The stack as deployed: openings default deny forbids (to or from unmodelled endpoints, or made
   * by rules outside the library beyond the policy), each with the deciding rule and a witness.
   */
  unexplained: UnexplainedOpening[];
  /** What reading the stack's binding of compute to workloads found, per target. */
  findings: BindingFinding[];
  /**
   * Per target, how the proof knows which compute carries which rules: `bound` (read from the
   * stack's compute) or `assumed` (no compute in the stack: the binding contract is assumed).
   */
  binding: Partial<Record<TargetName, "bound" | "assumed">>;
}

/** Targets that enforce L7 (HTTP) rules; every other target enforces the same path at L4. */
export const L7_TARGETS: readonly TargetName[] = ["cilium"];

export interface ReviewOptions {
  /** "Today", for expiry warnings (default: now). */
  now?: Date;
  /** Paths expiring within this many days are warned about (default 30). */
  expiryWarningDays?: number;
  /** Each target's rules and limit usage (`TargetAdapter.usage`). */
  usage?: Partial<Record<TargetName, TargetUsage>>;
  /** Multi-hop movement over the same evaluators (`radiusReview`). */
  radius?: RadiusReview;
  /** The proof of the stack as deployed (`proveDeployment`). */
  deployment?: DeploymentProof;
  /** Per target, how the binding was known (`TargetEvaluator.binding`). */
  binding?: Partial<Record<TargetName, "bound" | "assumed">>;
  /**
   * Whether to warn about Kubernetes workloads cut off from kube-dns (default: when the policy
   * places workloads on Kubernetes); an audit without a Cilium export says nothing of those rules.
   */
  kubeDns?: boolean;
}

/** One line for an unexplained opening, as the review's errors list it. */
export function unexplainedMessage(u: UnexplainedOpening): string {
  const why =
    u.reason === "beyond-policy"
      ? "beyond what the policy allows"
      : "but default deny holds between workloads and endpoints the policy does not name";
  return `${u.target}: ${u.from} -> ${u.to} is open for ${u.services} (${why}), let through by ${u.by}; witness ${formatPacket(u.witness)}`;
}

const DAY = 86_400_000;

function expiryWarnings(plan: Plan, now: Date, days: number): string[] {
  const out: string[] = [];
  for (const p of plan.policy.paths) {
    if (!p.expires) continue;
    const end = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(p.expires) ? `${p.expires}T23:59:59.999Z` : p.expires);
    const left = Math.floor((end - now.getTime()) / DAY);
    if (left >= 0 && left < days)
      out.push(
        `path "${p.name}" expires on ${p.expires} (in ${left} day${left === 1 ? "" : "s"}); owner ${p.owner} should renew or remove it`,
      );
  }
  return out;
}

function l7Notes(plan: Plan, proof: Proof): ReviewJson["l7"] {
  const targetsOf = new Map<string, Set<TargetName>>();
  for (const a of proof.allowed) {
    const set = targetsOf.get(a.path);
    if (set) set.add(a.target);
    else targetsOf.set(a.path, new Set([a.target]));
  }
  return plan.allows
    .filter((c) => c.path.http && c.path.http.length > 0)
    .map((c) => {
      const targets = [...(targetsOf.get(c.path.name) ?? [])];
      return {
        path: c.path.name,
        l7Targets: targets.filter((t) => L7_TARGETS.includes(t)),
        l4Targets: targets.filter((t) => !L7_TARGETS.includes(t)),
      };
    });
}

export function reviewJson(
  plan: Plan,
  proof: Proof,
  resources: Partial<Record<TargetName, number>>,
  options: ReviewOptions = {},
): ReviewJson {
  const l7 = l7Notes(plan, proof);
  const quotas = quotaFindings(options.usage ?? {});
  const quotaText = quotaMessages(quotas);
  const warnings = [
    ...plan.diagnostics.filter((d) => d.severity === "warning").map(formatDiagnostic),
    ...expiryWarnings(plan, options.now ?? new Date(), options.expiryWarningDays ?? 30),
    ...l7.map((n) =>
      n.l7Targets.length > 0
        ? `path "${n.path}": L7 enforced on ${n.l7Targets.join(", ")} only${n.l4Targets.length > 0 ? `; ${n.l4Targets.join(", ")} enforce it at L4 (every request on its ports passes)` : ""}`
        : `path "${n.path}": L7 rules are not enforced on any proven target; enforced at L4 only${n.l4Targets.length > 0 ? ` (${n.l4Targets.join(", ")})` : ""}`,
    ),
    ...quotaText.warnings,
    ...(options.deployment?.findings ?? [])
      .filter((f) => f.severity === "warning")
      .map((f) => `${f.target}: ${f.message}`),
    ...((options.kubeDns ?? plan.targets.includes("cilium")) ? kubeDnsWarnings(plan) : []),
    ...(options.radius?.chains ?? [])
      .filter((c) => c.cutSkipped)
      .map((c) => `forbid "${c.path}" (reach: any): no cut suggested: ${c.cutSkipped}`),
  ];
  const chainsOk = (options.radius?.chains ?? []).every(
    (c) => c.mode === "monitor" || c.status === "blocked",
  );
  const deployment = options.deployment;
  return {
    policy: plan.policy.name,
    ok: proof.ok && chainsOk,
    targets: proof.targets,
    unproven: proof.unproven,
    forbidden: proof.forbidden,
    allowed: proof.allowed,
    resources,
    paths: plan.policy.paths.map((p) => ({
      name: p.name,
      verdict: p.verdict,
      ...(p.verdict === "forbid" ? { mode: p.mode } : {}),
      from: p.from,
      to: p.to,
      services: p.serviceTexts,
      owner: p.owner,
      justification: p.justification,
      ...(p.expires ? { expires: p.expires } : {}),
      ...(p.ticket ? { ticket: p.ticket } : {}),
      ...(p.http ? { http: p.http } : {}),
      ...(p.reach === "any" ? { reach: p.reach } : {}),
      ...(p.through ? { through: [...p.through] } : {}),
    })),
    monitored: plan.monitored.map((m) => ({
      path: m.path.name,
      closes: (plan.wouldClose.get(m.path.name) ?? []).map((o) => ({
        allow: o.allow.name,
        from: o.from.name,
        to: o.to.name,
        services: o.connections.services().toString(),
      })),
    })),
    endpoints: {
      segments: Object.fromEntries([...plan.members].map(([k, v]) => [k, [...v]])),
      peers: plan.policy.peers.map((p) => p.name),
    },
    l7,
    warnings,
    rules: Object.fromEntries(
      Object.entries(options.usage ?? {}).map(([t, u]) => [t, (u as TargetUsage).rules]),
    ) as Partial<Record<TargetName, number>>,
    quotas,
    errors: [
      ...quotaText.errors,
      ...(deployment?.findings ?? [])
        .filter((f) => f.severity === "error")
        .map((f) => `${f.target}: ${f.message}`),
      ...(deployment?.unexplained ?? []).map(unexplainedMessage),
    ],
    unexplained: deployment?.unexplained ?? [],
    findings: deployment?.findings ?? [],
    binding: options.binding ?? {},
    ...(options.radius
      ? {
          chains: options.radius.chains,
          radius: { parties: options.radius.parties, critical: options.radius.critical },
        }
      : {}),
  };
}
