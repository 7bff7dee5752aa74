// The azure target's render (plan → native rules) and evaluate (rules → connectivity) are exported from here.
export { azureAdapter } from "./adapter";
export {
  type Attachment,
  AZURE_TYPES,
  type AzureEvaluator,
  type AzureEvaluatorOptions,
  type AzureNetworkModel,
  azureAddresses,
  azureEvaluator,
  readModel,
  readRule,
  TAGS,
} from "./evaluate";
export { type NsgExportOptions, readNicExport, readNsgExport } from "./export";
export {
  type Access,
  AZURE_LOAD_BALANCER,
  allowedByNsg,
  DEFAULT_RULES,
  type Direction,
  decideByNsg,
  type Nsg,
  type NsgContext,
  type NsgRule,
  prefixAddresses,
  ruleSet,
} from "./nsg";
export {
  AZURE_LIMITS,
  AzureRenderError,
  type AzureSecurityRule,
  type AzureVnetRendering,
  azureName,
  azureVnets,
  BANDS,
  prefixCounts,
  renderAzure,
  renderAzureVnet,
} from "./render";
export {
  AZURE_RULE_MODES,
  type AzureRef,
  type AzureResourceContext,
  type AzureResourceSpec,
  type AzureResourceType,
  type AzureRuleMode,
  type AzureSubnetSpec,
  azureRecords,
  azureResources,
  OFFLINE_SUBSCRIPTION,
  ruleModeProblem,
  withRefs,
} from "./resources";
export { AZURE_QUOTAS, type AzureQuotaId, azureUsage } from "./usage";
