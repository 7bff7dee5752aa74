/**
 * blastradius: the pure core (no Pulumi). Model → plan → (targets render/evaluate) → proof → review.
 */

export * from "./check";
export * as flows from "./flows";
export * from "./model/builder";
export * from "./model/diagnostics";
export type {
  AwsPlacementDocument,
  AzurePlacementDocument,
  BlueFieldPlacementDocument,
  GcpPlacementDocument,
  HttpRuleDocument,
  KubernetesPlacementDocument,
  PathDocument,
  PeerDocument,
  PlacementsDocument,
  PolicyDocument,
  RawPolicy,
  SegmentDocument,
  SelectorRequirementDocument,
  WorkloadDocument,
} from "./model/document";
export { type ParseResult, parsePolicyObject, parsePolicyText } from "./model/parse";
export { selectorMatches } from "./model/selector";
export * from "./model/types";
export { INTERNET_PEER, type ValidateOptions, validatePolicy } from "./model/validate";
export * from "./net";
export { type CompileOptions, compile } from "./plan/compile";
export { type RuleBound, ruleBound } from "./plan/economy";
export { type Facet, facetParties, facetSlices, facetsOf, governs } from "./plan/facets";
export { identityScope, isPlacedOn, targetsOf } from "./plan/placement";
export * from "./plan/types";
export { everythingElse, unclaimedAddresses } from "./plan/universe";
export * from "./radius";
export * from "./review/diff";
export * from "./review/json";
export { formatMarkdown, mermaidDiagram } from "./review/markdown";
export { formatPacket } from "./review/packet";
export * from "./review/quotas";
export { reviewRecords } from "./review/records";
export { formatReview } from "./review/terminal";
export * as targets from "./targets";
export * from "./verify/binding";
export * from "./verify/deployment";
export * from "./verify/prove";
export * from "./verify/records";
export * from "./verify/types";
export * from "./verify/unexplained";
