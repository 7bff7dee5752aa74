import * as pulumi from "@pulumi/pulumi";
import * as segmentation from "blastradius/bluefield";
import { loadPolicy } from "blastradius/bluefield";

const config = new pulumi.Config();
const ssh = (host: string) => ({ host, user: "ubuntu", privateKey: config.requireSecret("dpuSshKey") });

const dpus = new segmentation.BlueFieldSegmentation("dpus", {
  plan: loadPolicy("policy.yaml"),
  signingKey: config.requireSecret("signingKey"),
  agent: {
    mode: "ssh",
    connections: {
      "dpu-01": ssh(config.require("dpu01Address")),
      "dpu-02": ssh(config.require("dpu02Address")),
    },
  },
});

export const ruleSetDigests = dpus.digests;
