/** The gcp target: render (plan → VPC firewall rules) and evaluate (firewall rules → connectivity). */
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
export { GcpRenderError, gcpNetworks, gcpRuleName, renderGcp, renderGcpNetwork } from "./render";
export * from "./types";
