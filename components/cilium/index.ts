// The cilium target's Pulumi components.
export {
  CiliumSegmentation,
  type CiliumSegmentationArgs,
  CiliumSegmentationArgsError,
} from "./segmentation";
