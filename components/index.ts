/** blastradius/components: the Pulumi side (components, the offline runner, policy loading). */

export * as aws from "./aws";
export * as azure from "./azure";
export * as bluefield from "./bluefield";
export * as cilium from "./cilium";
export * as gcp from "./gcp";
export * from "./policy-file";
export * as policypack from "./policypack";
export * from "./runner";
export * from "./targets";
