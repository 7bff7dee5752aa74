/** blastradius/components: the Pulumi side (components, the offline runner, policy loading). */
export * from "./policy-file";
export * from "./runner";
export * from "./targets";
