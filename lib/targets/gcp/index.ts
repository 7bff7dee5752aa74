/** The gcp target: render (plan → VPC firewall rules) and evaluate (firewall rules → connectivity). */

export {
  GCP_COMPUTE_TYPES,
  GCP_SUBNETWORK_TYPE,
  type GcpCompute,
  gcpComputes,
  gcpComputesFromExport,
} from "./bind";
export {
  type FirewallRuleView,
  type GcpEvaluatorOptions,
  GcpRuleError,
  gcpAdapter,
  gcpEvaluator,
  networksFromComponents,
  rulesFromGcloudExport,
  rulesFromRecords,
} from "./evaluate";
export { firewallInputs, type GcpFirewallInputs, type GcpNetworkScope, gcpRecords } from "./records";
export { GcpRenderError, gcpNetworks, gcpRuleName, renderGcp, renderGcpNetwork } from "./render";
export * from "./types";
export { GCP_QUOTAS, type GcpQuotaId, gcpUsage } from "./usage";
