import * as gcp from "@pulumi/gcp";
import * as segmentation from "blastradius/gcp";
import { loadPolicy } from "blastradius/gcp";

const network = new gcp.compute.Network("prod", { autoCreateSubnetworks: false, project: "shop-prod" });
new segmentation.GcpSegmentation("prod", {
  network: "prod",
  networkId: network.id,
  project: "shop-prod",
  plan: loadPolicy("policy.yaml"),
});
