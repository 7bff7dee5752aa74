import type { Plan } from "../../plan/types";
import type { QuotaLimits, QuotaUsage, ResourceRecord, TargetUsage } from "../../verify/types";
import { COMPONENT_TYPE, ruleSetsFromResources } from "./evaluate";
import { DEFAULT_BLUEFIELD_OPTIONS } from "./options";
import { PRIORITY } from "./render";

/** Quota id of the OpenFlow flows our rule set installs on one DPU bridge. */
export const FLOWS_PER_DPU_QUOTA = "bluefield.flowsPerDpu";

/**
 * Rules, resources and limit usage of BlueField resources. The rule unit is the OpenFlow flow: each
 * `add` of a host's rule set is one flow the agent installs under our cookie (pipeline flows
 * included). Guardrail rules are the enforce-forbid drop flows. The limit is per DPU: flows per
 * bridge (default `maxFlowsPerHost`'s default, 100,000; see docs/targets/bluefield.md).
 */
export function bluefieldUsage(
  resources: readonly ResourceRecord[],
  _plan: Plan,
  limits: QuotaLimits = {},
): TargetUsage {
  const limit = limits[FLOWS_PER_DPU_QUOTA] ?? DEFAULT_BLUEFIELD_OPTIONS.maxFlowsPerHost;
  const perHost = new Map<string, number>();
  let rules = 0;
  let guardrailRules = 0;
  const guardrail = `,priority=${PRIORITY.guardrail},`;
  for (const s of ruleSetsFromResources(resources)) {
    let n = 0;
    for (const line of s.flows.split("\n")) {
      if (!line.startsWith("add ")) continue;
      n++;
      if (line.includes(guardrail) && line.endsWith(",actions=drop")) guardrailRules++;
    }
    rules += n;
    perHost.set(s.host, (perHost.get(s.host) ?? 0) + n);
  }
  const quotas: QuotaUsage[] = [...perHost.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([host, used]) => ({
      target: "bluefield",
      quota: FLOWS_PER_DPU_QUOTA,
      description: "OpenFlow flows installed on the DPU bridge",
      scope: host,
      used,
      limit,
    }));
  return {
    rules,
    guardrailRules,
    resources: resources.filter((r) => r.type !== COMPONENT_TYPE).length,
    quotas,
  };
}
