import {
  ciliumAdapter,
  ciliumArtefacts,
  ciliumRecords,
  clustersOf,
  segmentationName,
} from "../../lib/targets/cilium";
import type { TargetModule } from "../targets";
import { CiliumSegmentation } from "./segmentation";

/**
 * The cilium target's module for the CLI and the proof: a `CiliumSegmentation` per cluster the plan
 * places workloads in (named `cilium-<cluster>`), and the policies' YAML as artefacts.
 */
export const ciliumModule: TargetModule | undefined = {
  target: "cilium",
  adapter: ciliumAdapter,
  placeholderProgram: (plan) => {
    for (const cluster of clustersOf(plan))
      new CiliumSegmentation(segmentationName(cluster), { cluster, plan });
  },
  records: (plan) => ciliumRecords(plan),
  artefacts: (plan) => ciliumArtefacts(plan),
};
