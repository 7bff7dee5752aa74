/**
 * The aws target: `render` (plan → security groups, rules, prefix lists, NACL guardrails as plain
 * objects) and `evaluate` (recorded resources or `aws ec2 describe-*` exports → connectivity).
 */
export {
  type AwsBinding,
  type AwsBindingIssue,
  type AwsCompute,
  awsBinding,
  awsComputes,
  awsComputesFromExport,
  type DescribeInstancesOutput,
  type DescribeNetworkInterfacesOutput,
} from "./bind";
export { AWS_BASELINE_TAG, AWS_COMPUTE_TYPES, AWS_TAGS, AWS_TYPES } from "./contract";
export { type AwsEvaluatorOptions, awsAdapter, awsEvaluator } from "./evaluate";
export {
  type AwsExportOptions,
  type DescribeNetworkAclsOutput,
  type DescribeSecurityGroupsOutput,
  type GetManagedPrefixListEntriesOutput,
  networkFromExport,
} from "./export";
export { type AwsNetwork, networkFromRecords } from "./model";
export {
  AWS_DEFAULT_QUOTA,
  type AwsGroup,
  type AwsNaclEntry,
  type AwsPrefixList,
  type AwsQuota,
  AwsQuotaError,
  AwsRenderError,
  type AwsRendering,
  type AwsRenderOptions,
  type AwsRulePeer,
  type AwsSgRule,
  BASELINE_KEY,
  renderAws,
} from "./render";
export {
  type AwsResourceContext,
  type AwsResourceSpec,
  type AwsResourceType,
  awsRecords,
  awsResources,
  offlineId,
} from "./resources";
export { AWS_LIMITS, type AwsQuotaId, awsUsage } from "./usage";

import type { Plan } from "../../plan/types";
import type { TargetEvaluator } from "../../verify/types";
import type { AwsCompute } from "./bind";
import { awsEvaluator } from "./evaluate";
import type { AwsExportOptions, DescribeSecurityGroupsOutput } from "./export";
import { networkFromExport } from "./export";

/**
 * The evaluator of a live export (`aws ec2 describe-security-groups` [+ NACLs, prefix lists]) for a
 * plan; with `computes` (from `describe-instances` / `describe-network-interfaces`), what the live
 * interfaces really carry.
 */
export function evaluateAwsExport(
  securityGroups: DescribeSecurityGroupsOutput,
  plan: Plan,
  options?: AwsExportOptions & { computes?: readonly AwsCompute[] },
): TargetEvaluator {
  return awsEvaluator(networkFromExport(securityGroups, options), plan, {
    ...(options?.computes ? { computes: options.computes } : {}),
  });
}
