// The azure target's Pulumi components (AzureSegmentation) are exported from here.

export type { AzureRuleMode } from "../../lib/targets/azure";
// Reading the policy file, so that a program needs only this target's entry point.
export { checkPolicyFile, loadPolicy } from "../policy-file";
export {
  AZURE_SEGMENTATION_TYPE,
  AzureSegmentation,
  type AzureSegmentationArgs,
  type AzureSubnetArgs,
} from "./segmentation";
