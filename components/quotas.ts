/**
 * One vocabulary for provider limits: the quota ids the review reports (`aws.rulesPerSecurityGroup`,
 * `gcp.firewallRulesPerProject`, `bluefield.flowsPerDpu`, …) are also what `review --quota`, the
 * policy pack's `quotas` config, the stack config `blastradius:quotas` and the components'
 * `quotas` argument take. This file maps them onto each renderer's own options.
 */
import type { QuotaLimits, TargetName } from "../lib";
import { AWS_LIMITS, type AwsQuota } from "../lib/targets/aws";
import { AZURE_QUOTAS } from "../lib/targets/azure";
import { type BlueFieldOptions, FLOWS_PER_DPU_QUOTA } from "../lib/targets/bluefield";
import { CILIUM_DEFAULT_LIMITS } from "../lib/targets/cilium";
import { GCP_QUOTAS, type GcpRenderOptions } from "../lib/targets/gcp";

/** Every quota id, per target (what each target's review reports). */
export const QUOTA_IDS: Readonly<Record<TargetName, readonly string[]>> = {
  aws: Object.keys(AWS_LIMITS),
  gcp: Object.keys(GCP_QUOTAS),
  azure: Object.keys(AZURE_QUOTAS),
  cilium: Object.keys(CILIUM_DEFAULT_LIMITS),
  bluefield: [FLOWS_PER_DPU_QUOTA],
};

/**
 * The quotas of `target` among `limits`, validated: an id of this target that it does not have is
 * a typo (an error naming the known ids), a value must be a positive integer. Ids of other targets
 * are left to them (one `blastradius:quotas` serves every component of a stack).
 */
export function targetQuotas(
  target: TargetName,
  limits: QuotaLimits | undefined,
  where: string,
): QuotaLimits {
  const out: Record<string, number> = {};
  for (const [id, n] of Object.entries(limits ?? {})) {
    if (!id.startsWith(`${target}.`)) continue;
    if (!QUOTA_IDS[target].includes(id))
      throw new Error(
        `${where}: quota "${id}" is not a ${target} quota; known: ${QUOTA_IDS[target].join(", ")}`,
      );
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${where}: quota "${id}" must be a positive integer (got ${JSON.stringify(n)})`);
    out[id] = n;
  }
  return out;
}

const min = (...xs: Array<number | undefined>) => {
  const given = xs.filter((x): x is number => x !== undefined);
  return given.length > 0 ? Math.min(...given) : undefined;
};

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The AWS renderer's quota from quota ids (what a raised limit lets the renderer use). */
export function awsRenderQuota(q: QuotaLimits): AwsQuota {
  return defined({
    rulesPerGroup: q["aws.rulesPerSecurityGroup"],
    groupsPerInterface: q["aws.securityGroupsPerInterface"],
    naclRulesPerDirection: q["aws.rulesPerNetworkAcl"],
  });
}

/** The GCP renderer's limits from quota ids (a rule's ranges and accounts: the tighter side). */
export function gcpRenderLimits(q: QuotaLimits): NonNullable<GcpRenderOptions["limits"]> {
  return defined({
    rangesPerRule: min(q["gcp.sourceRangesPerRule"], q["gcp.destinationRangesPerRule"]),
    serviceAccountsPerRule: min(q["gcp.sourceServiceAccountsPerRule"], q["gcp.targetServiceAccountsPerRule"]),
    portsPerRule: q["gcp.portsPerRule"],
    rulesPerNetwork: q["gcp.firewallRulesPerProject"],
  });
}

/** The BlueField renderer's options from quota ids. */
export function bluefieldRenderOptions(q: QuotaLimits): BlueFieldOptions {
  return defined({ maxFlowsPerHost: q[FLOWS_PER_DPU_QUOTA] });
}
