/** Each target's pure pair: `render` (plan → native rule objects) and `evaluate` (native rules → connectivity). */
export * as aws from "./aws";
export * as azure from "./azure";
export * as bluefield from "./bluefield";
export * as cilium from "./cilium";
export * as gcp from "./gcp";
