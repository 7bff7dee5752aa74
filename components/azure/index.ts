// The azure target's Pulumi components (AzureSegmentation) are exported from here.

export type { AzureRuleMode } from "../../lib/targets/azure";
export {
  AZURE_SEGMENTATION_TYPE,
  AzureSegmentation,
  type AzureSegmentationArgs,
  type AzureSubnetArgs,
} from "./segmentation";
