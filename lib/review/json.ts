import type { Diagnostic } from "../model/diagnostics";
import { formatDiagnostic } from "../model/diagnostics";
import type { TargetName } from "../model/types";
import type { Plan } from "../plan/types";
import type { AllowedResult, ForbiddenResult, Proof } from "../verify/prove";

/**
 * The review JSON (`blastradius review --json`): a public contract (DESIGN.md). Fields may be
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
  }>;
  /** Monitored forbids: the allow paths that keep them open and what enforcing would close. */
  monitored: Array<{
    path: string;
    closes: Array<{ allow: string; from: string; to: string; services: string }>;
  }>;
  warnings: string[];
}

export function reviewJson(
  plan: Plan,
  proof: Proof,
  resources: Partial<Record<TargetName, number>>,
  warnings: readonly Diagnostic[] = plan.diagnostics.filter((d) => d.severity === "warning"),
): ReviewJson {
  return {
    policy: plan.policy.name,
    ok: proof.ok,
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
    warnings: warnings.map(formatDiagnostic),
  };
}
