import { clustersOf, segmentationName } from "../../lib/targets/cilium";
import type { TargetModule } from "../targets";
import { ciliumOffline } from "./offline";
import { CiliumSegmentation } from "./segmentation";

/**
 * The cilium target's module for the CLI and the proof: its offline part, and a `CiliumSegmentation`
 * per cluster the plan places workloads in (named `cilium-<cluster>`).
 */
export const ciliumModule: TargetModule = {
  ...ciliumOffline,
  placeholderProgram: (plan) => {
    for (const cluster of clustersOf(plan))
      new CiliumSegmentation(segmentationName(cluster), { cluster, plan });
  },
};
