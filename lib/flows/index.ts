/**
 * lib/flows — observed flows as evidence (never permission): streaming readers for AWS, GCP, Azure
 * and Hubble flow logs, mapping to the policy's parties, impact simulation and recommendations.
 */
export { AWS_DEFAULT_FIELDS, AwsFlowParser, parseAwsFormat } from "./aws";
export { type BroadReason, broadness, WIDE_PEER_V4, WIDE_PEER_V6 } from "./broad";
export { admits, type Connection, type Decision, PlanEvaluator } from "./evaluate";
export { FlowMapper, segmentIndex } from "./mapping";
export { type FileReport, FlowInputError, type ReadOptions, readFlows } from "./read";
export * from "./recommend";
export * from "./report";
export * from "./simulate";
export * from "./types";
