// The aws target's Pulumi components.

// Reading the policy file, so that a program needs only this target's entry point.
export { checkPolicyFile, loadPolicy } from "../policy-file";
export {
  type AwsNaclGuardrailArgs,
  AwsSegmentation,
  type AwsSegmentationArgs,
  AwsSegmentationArgsError,
  awsVpcs,
} from "./segmentation";
