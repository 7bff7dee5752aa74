// The cilium target's Pulumi components.

// Reading the policy file, so that a program needs only this target's entry point.
export { checkPolicyFile, loadPolicy } from "../policy-file";
export {
  CiliumSegmentation,
  type CiliumSegmentationArgs,
  CiliumSegmentationArgsError,
} from "./segmentation";
