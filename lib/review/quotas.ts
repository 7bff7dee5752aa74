import { TARGETS, type TargetName } from "../model/types";
import type { QuotaLimits, QuotaUsage, TargetUsage } from "../verify/types";

/** Above this share of a limit the review warns; above the limit it fails. */
export const QUOTA_WARNING_SHARE = 0.8;

export interface QuotaFinding extends QuotaUsage {
  /** used / limit, in percent (rounded down, so 100 means at the limit, not over it). */
  percent: number;
  status: "ok" | "warning" | "exceeded";
}

function statusOf(u: QuotaUsage): QuotaFinding["status"] {
  if (u.used > u.limit) return "exceeded";
  return u.used > QUOTA_WARNING_SHARE * u.limit && !u.split ? "warning" : "ok";
}

/**
 * What the review shows of each target's limits: for every target and limit, the place it is
 * tightest (even when far from it: how much headroom is left), and every place above the warning
 * share. Nothing above the warning share is left out, however many places there are.
 */
export function quotaFindings(usage: Partial<Record<TargetName, TargetUsage>>): QuotaFinding[] {
  const out: QuotaFinding[] = [];
  for (const target of TARGETS) {
    const quotas = usage[target]?.quotas ?? [];
    const byQuota = new Map<string, QuotaUsage[]>();
    for (const q of quotas) {
      const list = byQuota.get(q.quota);
      if (list) list.push(q);
      else byQuota.set(q.quota, [q]);
    }
    for (const list of byQuota.values()) {
      const sorted = [...list].sort(
        (a, b) => b.used / b.limit - a.used / a.limit || (a.scope < b.scope ? -1 : 1),
      );
      const shown = sorted.filter((u, i) => i === 0 || statusOf(u) !== "ok");
      for (const u of shown)
        out.push({ ...u, percent: Math.floor((100 * u.used) / u.limit), status: statusOf(u) });
    }
  }
  return out;
}

export function formatQuota(f: QuotaFinding): string {
  return `${f.target}: ${f.scope} uses ${f.used} of ${f.limit} ${f.description} (${f.percent}%, quota ${f.quota})`;
}

/** Warnings for limits above the warning share, errors for limits exceeded. */
export function quotaMessages(findings: readonly QuotaFinding[]): { warnings: string[]; errors: string[] } {
  return {
    warnings: findings
      .filter((f) => f.status === "warning")
      .map(
        (f) =>
          `${formatQuota(f)}: close to the limit; raise the quota (--quota ${f.quota}=N once raised) or split the scope`,
      ),
    errors: findings
      .filter((f) => f.status === "exceeded")
      .map(
        (f) =>
          `${formatQuota(f)}: over the limit, the provider will reject this; split the scope, merge paths, or raise the quota and pass --quota ${f.quota}=N`,
      ),
  };
}

/**
 * Parses `--quota id=n` overrides. Unknown ids are an error only against the ids the targets
 * report (the caller checks), so a typo never silently keeps a default.
 */
export function parseQuotaOverrides(texts: readonly string[]): QuotaLimits {
  const out: Record<string, number> = {};
  for (const t of texts) {
    const m = /^([a-z0-9]+\.[A-Za-z0-9.]+)=(\d+)$/.exec(t.trim());
    if (!m || Number(m[2]) <= 0)
      throw new Error(
        `--quota ${t}: expected <quota id>=<positive integer>, e.g. aws.rulesPerSecurityGroup=200`,
      );
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
