import type { Plan } from "../../plan/types";
import type { QuotaLimits, QuotaUsage, ResourceRecord, TargetUsage } from "../../verify/types";
import { FIREWALL_TYPE } from "./types";

/**
 * GCP's limits on VPC firewall rules, by quota id (docs/targets/gcp.md gives the sources).
 * Per rule: system limits of the Compute API. Per project: an adjustable quota whose default the
 * documentation does not state (the console shows it); 500 is the default seen in quota errors.
 */
export const GCP_QUOTAS = {
  "gcp.sourceRangesPerRule": { limit: 5000, description: "source IP ranges per VPC firewall rule" },
  "gcp.destinationRangesPerRule": { limit: 5000, description: "destination IP ranges per VPC firewall rule" },
  "gcp.sourceServiceAccountsPerRule": {
    limit: 10,
    description: "source service accounts per VPC firewall rule",
  },
  "gcp.targetServiceAccountsPerRule": {
    limit: 10,
    description: "target service accounts per VPC firewall rule",
  },
  "gcp.portsPerRule": {
    limit: 256,
    description: "ports and port ranges per VPC firewall rule (all protocols)",
  },
  "gcp.firewallRulesPerProject": { limit: 500, description: "VPC firewall rules per project (all networks)" },
} as const;

export type GcpQuotaId = keyof typeof GCP_QUOTAS;

/** Marks the deny rules rendered for enforce forbids (the renderer writes it into every guardrail's description). */
const GUARDRAIL = /: deny guardrail \(enforce forbid\)/;

const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
const ports = (v: unknown) =>
  Array.isArray(v)
    ? v.reduce((n: number, e) => n + Math.max(1, count((e as { ports?: unknown } | null)?.ports)), 0)
    : 0;
const lastSegment = (n: string) => n.replace(/\/+$/, "").split("/").pop() ?? n;

/**
 * Rules, resources and quota use of GCP firewall records. A rule is one `gcp.compute.Firewall`
 * (GCP's own unit: every quota counts firewall rules); per-rule limits are reported per rule, the
 * project quota per project (`project` input, else the provider's default project).
 */
export function gcpUsage(
  resources: readonly ResourceRecord[],
  _plan: Plan,
  limits: QuotaLimits = {},
): TargetUsage {
  const limit = (id: GcpQuotaId) => limits[id] ?? GCP_QUOTAS[id].limit;
  const quotas: QuotaUsage[] = [];
  // The renderer splits rules at the per-rule limits: full rules are normal, not a warning.
  const quota = (id: GcpQuotaId, scope: string, used: number, split = false) =>
    quotas.push({
      target: "gcp",
      quota: id,
      description: GCP_QUOTAS[id].description,
      scope,
      used,
      limit: limit(id),
      ...(split ? { split } : {}),
    });
  let rules = 0;
  let guardrailRules = 0;
  const byProject = new Map<string, number>();
  for (const r of resources) {
    if (r.type !== FIREWALL_TYPE) continue;
    rules++;
    const i = r.inputs;
    const denies = count(i.denies) > 0;
    if (denies && GUARDRAIL.test(String(i.description ?? ""))) guardrailRules++;
    const project = typeof i.project === "string" ? i.project : "(provider default project)";
    byProject.set(project, (byProject.get(project) ?? 0) + 1);
    const scope = `firewall rule ${String(i.name ?? r.name)} (network ${lastSegment(String(i.network ?? "?"))})`;
    quota("gcp.sourceRangesPerRule", scope, count(i.sourceRanges), true);
    quota("gcp.destinationRangesPerRule", scope, count(i.destinationRanges), true);
    quota("gcp.sourceServiceAccountsPerRule", scope, count(i.sourceServiceAccounts), true);
    quota("gcp.targetServiceAccountsPerRule", scope, count(i.targetServiceAccounts), true);
    quota("gcp.portsPerRule", scope, ports(denies ? i.denies : i.allows), true);
  }
  for (const [project, n] of [...byProject].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    quota("gcp.firewallRulesPerProject", `project ${project}`, n);
  return { rules, guardrailRules, resources: rules, quotas };
}
