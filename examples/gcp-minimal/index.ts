import * as gcp from "@pulumi/gcp";
import { loadPolicy, gcp as segmentation } from "blastradius/components";

const network = new gcp.compute.Network("prod", { autoCreateSubnetworks: false, project: "shop-prod" });
new segmentation.GcpSegmentation("prod", {
  network: "prod",
  networkId: network.id,
  project: "shop-prod",
  plan: loadPolicy("policy.yaml"),
});
