import * as segmentation from "blastradius/cilium";
import { loadPolicy } from "blastradius/cilium";

// Uses the ambient Kubernetes provider; pass `{ provider }` as the third argument for another cluster.
new segmentation.CiliumSegmentation("dev", { cluster: "dev", plan: loadPolicy("policy.yaml") });
