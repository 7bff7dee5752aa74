// The cilium target: render (plan → CiliumNetworkPolicy objects) and evaluate (policies → connectivity).
export * from "./artefacts";
export { type PodCompute, podComputes, podsFromKubectl } from "./bind";
export * from "./dns";
export * from "./evaluate";
export * from "./l7";
export * from "./records";
export * from "./render";
export { clustersOf, NAMESPACE_LABEL, REFERENCE_ONLY_LABEL } from "./selectors";
export * from "./types";
export * from "./usage";
