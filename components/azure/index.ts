// The azure target's Pulumi components (AzureSegmentation) are exported from here.
export {
  AZURE_SEGMENTATION_TYPE,
  AzureSegmentation,
  type AzureSegmentationArgs,
  type AzureSubnetArgs,
} from "./segmentation";
