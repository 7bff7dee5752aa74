// "The support-ticket summarising agent must not call production billing APIs."
import * as pulumi from "@pulumi/pulumi";
import * as cilium from "blastradius/cilium";
import { loadPolicy } from "blastradius/cilium";

const config = new pulumi.Config();
const plan = loadPolicy("policy.yaml");

// One CiliumNetworkPolicy per segment per namespace: default deny both ways, the L7 GET allowlist
// on the ticket API, and deny guardrails for billing and the internet.
new cilium.CiliumSegmentation("support", {
  cluster: "support",
  plan,
  guardrails: config.getBoolean("clusterwideGuardrails") ? "clusterwide" : "namespaced",
});
