import { z } from "zod";
import type { RawPath, RawPeer, RawPolicy, RawSegment, RawWorkload } from "./document";
import { HTTP_METHODS } from "./types";

/**
 * The policy file format (YAML or JSON), structurally. Semantic checks (names resolve, CIDRs and
 * ports parse, overlaps, expiry) happen in `validate.ts`; this schema is also what
 * `schema/policy.schema.json` is generated from, for editor completion.
 */

export const NAME_PATTERN = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NAME_RULE =
  "1-63 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-'";

const name = (what: string) =>
  z.string().regex(NAME_PATTERN, `${what} must be ${NAME_RULE}`).describe(`${what}: ${NAME_RULE}.`);

const nonEmpty = (what: string) => z.string().min(1, `${what} must not be empty`);

const addressList = (what: string) =>
  z
    .array(z.string())
    .describe(
      `${what}: CIDRs (10.10.1.0/24, 2001:db8::/64), single addresses or ranges (10.0.0.5-10.0.0.9).`,
    );

const labels = z.record(z.string(), z.string()).describe("Labels: key/value pairs, Kubernetes label syntax.");

export const awsPlacementSchema = z
  .strictObject({
    vpc: nonEmpty("vpc").describe("The VPC name the AwsSegmentation component is given as `vpc`."),
    cidrs: addressList("Private addresses of the workload's interfaces"),
  })
  .describe("Placement on AWS: security groups in one VPC.");

export const gcpPlacementSchema = z
  .strictObject({
    network: nonEmpty("network").describe("The VPC network name the GcpSegmentation component is given."),
    serviceAccount: z
      .email("serviceAccount must be a service account e-mail, e.g. lake@corp-data.iam.gserviceaccount.com")
      .optional()
      .describe("The instances' service account: their identity in firewall rules."),
    cidrs: addressList("Addresses other targets see").optional(),
  })
  .describe("Placement on GCP: VPC firewall rules targeting the service account.");

export const azurePlacementSchema = z
  .strictObject({
    vnet: nonEmpty("vnet").describe("The VNet name the AzureSegmentation component is given."),
    cidrs: addressList("Addresses of the workload's NICs"),
  })
  .describe("Placement on Azure: NSGs with application security groups.");

export const kubernetesPlacementSchema = z
  .strictObject({
    cluster: nonEmpty("cluster").describe("The cluster name the CiliumSegmentation component is given."),
    namespace: name("namespace"),
    podLabels: labels.describe("Pod labels that select the workload's pods (at least one)."),
    cidrs: addressList("Pod addresses other targets see").optional(),
  })
  .describe("Placement on Kubernetes: rendered as CiliumNetworkPolicies.");

export const blueFieldPlacementSchema = z
  .strictObject({
    hosts: z.array(nonEmpty("host")).describe("DPU host names (one flow file per host)."),
    port: nonEmpty("port").describe("Representor port of the host, e.g. pf0hpf or pf0vf0."),
    addresses: addressList("The hosts' addresses"),
  })
  .describe("Placement behind NVIDIA BlueField DPUs: Open vSwitch flows.");

export const placementsSchema = z
  .strictObject({
    aws: awsPlacementSchema.optional(),
    gcp: gcpPlacementSchema.optional(),
    azure: azurePlacementSchema.optional(),
    kubernetes: kubernetesPlacementSchema.optional(),
    bluefield: blueFieldPlacementSchema.optional(),
  })
  .describe("Where the workload lives, per target.");

const pivot = z
  .boolean()
  .optional()
  .describe(
    "Default true. false: a compromise does not spread from here (a managed data store that runs no attacker code): reached, but no onward hop.",
  );

export const workloadSchema = z.strictObject({
  name: name("workload name"),
  labels: labels.optional(),
  placements: placementsSchema,
  pivot,
});

export const selectorRequirementSchema = z.strictObject({
  key: nonEmpty("key"),
  operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
  values: z
    .array(z.string())
    .optional()
    .describe("Required for In/NotIn; not allowed for Exists/DoesNotExist."),
});

export const segmentSchema = z
  .strictObject({
    matchLabels: labels.optional(),
    matchExpressions: z.array(selectorRequirementSchema).optional(),
    pivot: pivot.describe(
      "Default true. false: no member is a stepping stone (reached, but no onward hop), unless the workload says pivot: true.",
    ),
    critical: z
      .boolean()
      .optional()
      .describe(
        "A crown jewel: reviews list who reaches it in any number of hops and draw that blast radius.",
      ),
  })
  .describe("A label selector over workloads (all conditions must hold), with its multi-hop role.");

export const peerSchema = z
  .strictObject({
    cidrs: addressList("The peer's addresses"),
  })
  .describe("Something outside the model, known by its addresses.");

export const httpRuleSchema = z.strictObject({
  method: z.enum(HTTP_METHODS).optional(),
  path: nonEmpty("path").optional().describe("A regular expression matched against the whole request path."),
});

export const pathSchema = z.strictObject({
  name: name("path name"),
  from: nonEmpty("from").describe("A segment or peer name (`internet` is built in)."),
  to: nonEmpty("to").describe("A segment or peer name (`internet` is built in)."),
  services: z
    .array(z.string())
    .optional()
    .describe(
      "tcp/443, tcp/8000-8100, udp/53, icmp, any. Required for allow; a forbid without services forbids all.",
    ),
  verdict: z.enum(["allow", "forbid"]).optional().describe("Default allow."),
  mode: z.enum(["enforce", "monitor"]).optional().describe("Forbid paths only; default enforce."),
  owner: nonEmpty("owner").optional().describe("Who answers for this path (required)."),
  justification: nonEmpty("justification").optional().describe("Why the path exists (required)."),
  expires: z.string().optional().describe("YYYY-MM-DD; the path stands until the end of that day (UTC)."),
  ticket: z.string().optional(),
  http: z
    .array(httpRuleSchema)
    .optional()
    .describe("Allow paths only: L7 allowlist, enforced at L7 where the target can (Cilium)."),
  reach: z
    .enum(["direct", "any"])
    .optional()
    .describe(
      "Forbid paths only; default direct (the one hop). any: no chain of hops of any length from `from` to `to`.",
    ),
  through: z
    .array(z.string())
    .optional()
    .describe(
      "With reach: any: segments accepted as chokepoints (a jump host with MFA); chains through them do not count.",
    ),
});

export const policySchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: name("policy name"),
    workloads: z.array(workloadSchema).optional(),
    segments: z.record(z.string(), segmentSchema).optional(),
    peers: z.record(z.string(), peerSchema).optional(),
    paths: z.array(pathSchema).optional(),
  })
  .describe("A blastradius micro-segmentation policy.");

export type { RawPath, RawPeer, RawPolicy, RawSegment, RawWorkload } from "./document";

/** `true` when A and B are the same type (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The declared document types (document.ts, what the public API refers to) are exactly what this
// schema parses: a change to one without the other fails to compile here.
export const DOCUMENT_TYPES_MATCH_SCHEMA: [
  Same<z.infer<typeof policySchema>, RawPolicy>,
  Same<z.infer<typeof workloadSchema>, RawWorkload>,
  Same<z.infer<typeof pathSchema>, RawPath>,
  Same<z.infer<typeof segmentSchema>, RawSegment>,
  Same<z.infer<typeof peerSchema>, RawPeer>,
] = [true, true, true, true, true];
