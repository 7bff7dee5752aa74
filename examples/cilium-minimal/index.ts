import { loadPolicy, cilium as segmentation } from "blastradius/components";

// Uses the ambient Kubernetes provider; pass `{ provider }` as the third argument for another cluster.
new segmentation.CiliumSegmentation("dev", { cluster: "dev", plan: loadPolicy("policy.yaml") });
