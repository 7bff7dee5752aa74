// The cilium target's Pulumi components.

// DNS is never allowed silently: these add the cluster's kube-dns and a path to it in one line.
export { allowKubeDns, kubeDnsDefinitions } from "../../lib/targets/cilium";

// Reading the policy file, so that a program needs only this target's entry point.
export { checkPolicyFile, loadPolicy } from "../policy-file";
export {
  CiliumSegmentation,
  type CiliumSegmentationArgs,
  CiliumSegmentationArgsError,
} from "./segmentation";
