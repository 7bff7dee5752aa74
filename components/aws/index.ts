// The aws target's Pulumi components.
export {
  type AwsNaclGuardrailArgs,
  AwsSegmentation,
  type AwsSegmentationArgs,
  AwsSegmentationArgsError,
  awsVpcs,
} from "./segmentation";
