import fc from "fast-check";
import { TARGET_MODULES } from "../../components/targets";
import { compile, type Plan, parsePolicyObject, type TargetEvaluator } from "../../lib";
import { AwsQuotaError } from "../../lib/targets/aws";

/**
 * Random policies over all five targets, for property tests of multi-hop reachability: several
 * workloads per segment, shared scopes (VPCs, networks, VNets, clusters, DPU hosts), workloads on
 * AWS behind a DPU, workloads known by identity only, IPv6, a peer and `internet`, allow and forbid paths (enforce and monitor), and
 * the multi-hop fields (`pivot`, `critical`, `reach`).
 */
export const SEGMENTS = ["red", "green", "blue"];
export const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22"];

const KINDS = ["aws", "gcp", "azure", "kubernetes", "bluefield", "aws+bluefield"] as const;
/** Known by identity only: no addresses, so every address for the proof. */
const IDENTITY_KINDS = ["gcp-identity", "kubernetes-identity"] as const;

const placementArb = (i: number, identityOnly: boolean) =>
  fc
    .record({
      kind: fc.constantFrom<string>(...KINDS, ...(identityOnly ? IDENTITY_KINDS : [])),
      scope: fc.constantFrom("a", "b"),
      host: fc.constantFrom("h1", "h2"),
      v6: fc.boolean(),
    })
    .map((p) => {
      const cidrs = [`10.${i}.0.0/24`, ...(p.v6 ? [`fd00:${i}::/64`] : [])];
      const aws = { aws: { vpc: p.scope, cidrs } };
      const bluefield = { bluefield: { hosts: [p.host], port: "pf0hpf", addresses: cidrs } };
      switch (p.kind) {
        case "aws":
          return aws;
        case "gcp":
          return { gcp: { network: p.scope, serviceAccount: `w${i}@p.iam.gserviceaccount.com`, cidrs } };
        case "azure":
          return { azure: { vnet: p.scope, cidrs } };
        case "kubernetes":
          return {
            kubernetes: { cluster: p.scope, namespace: `ns-${p.host}`, podLabels: { app: `w${i}` }, cidrs },
          };
        case "bluefield":
          return bluefield;
        case "gcp-identity":
          return { gcp: { network: p.scope, serviceAccount: `w${i}@p.iam.gserviceaccount.com` } };
        case "kubernetes-identity":
          return { kubernetes: { cluster: p.scope, namespace: `ns-${p.host}`, podLabels: { app: `w${i}` } } };
        default:
          return { ...aws, ...bluefield };
      }
    });

const workloadArb = (i: number, identityOnly: boolean) =>
  fc
    .record({
      color: fc.constantFrom(...SEGMENTS),
      placements: placementArb(i, identityOnly),
      pivot: fc.constantFrom(undefined, undefined, undefined, false),
    })
    .map((w) => ({
      name: `w${i}`,
      labels: { color: w.color },
      placements: w.placements,
      ...(w.pivot !== undefined ? { pivot: w.pivot } : {}),
    }));

const pathArb = fc.record({
  from: fc.constantFrom(...SEGMENTS, "ext", "internet"),
  to: fc.constantFrom(...SEGMENTS, "ext", "internet"),
  services: fc.uniqueArray(fc.constantFrom(...SERVICES), { minLength: 1, maxLength: 2 }),
  verdict: fc.constantFrom("allow", "allow", "allow", "forbid"),
  monitor: fc.boolean(),
  reachAny: fc.boolean(),
});

/**
 * With `identityOnly`, some workloads have no addresses (every address, for the proof): concrete
 * packets cannot cover a party at every address, so brute-force tests leave them out.
 */
export const policyArbWith = (options: { identityOnly: boolean }) =>
  fc
    .record({
      workloads: fc
        .integer({ min: 2, max: 8 })
        .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => workloadArb(i, options.identityOnly)))),
      paths: fc.array(pathArb, { minLength: 1, maxLength: 7 }),
      critical: fc.constantFrom(...SEGMENTS),
      nonPivotSegment: fc.constantFrom(undefined, ...SEGMENTS),
    })
    .map(({ workloads, paths, critical, nonPivotSegment }) => ({
      name: "random",
      workloads,
      segments: Object.fromEntries(
        SEGMENTS.map((s) => [
          s,
          {
            matchLabels: { color: s },
            ...(s === critical ? { critical: true } : {}),
            ...(s === nonPivotSegment ? { pivot: false } : {}),
          },
        ]),
      ),
      peers: { ext: { cidrs: ["198.51.100.0/24"] } },
      paths: paths
        // Both ends peers is invalid input; such policies would only be discarded.
        .filter((p) => SEGMENTS.includes(p.from) || SEGMENTS.includes(p.to))
        .map((p, k) => ({
          name: `p${k}`,
          from: p.from,
          to: p.to,
          services: p.services,
          ...(p.verdict === "forbid"
            ? {
                verdict: "forbid",
                mode: p.monitor ? "monitor" : "enforce",
                ...(p.reachAny ? { reach: "any" } : {}),
              }
            : {}),
          owner: "o@example.com",
          justification: "property test",
        })),
    }));

/** Random policies whose workloads all have addresses (for brute force over concrete packets). */
export const policyArb = policyArbWith({ identityOnly: false });

/**
 * The evaluators of the targets that render the plan, over their offline records. AWS refuses a
 * plan whose rules would not fit a security group under the default quota (`internet` alone is
 * dozens of CIDRs): such a target sits the policy out.
 */
export function evaluatorsFor(plan: Plan): TargetEvaluator[] {
  const out: TargetEvaluator[] = [];
  for (const m of TARGET_MODULES.filter((m) => plan.targets.includes(m.target))) {
    let records: ReturnType<typeof m.records>;
    try {
      records = m.records(plan);
    } catch (e) {
      if (e instanceof AwsQuotaError) continue;
      throw e;
    }
    out.push(m.adapter.evaluator(records, plan));
  }
  return out;
}

/**
 * The plan of a document whose every part is valid, even when the compiler reports conflicts (an
 * allow overlapping an enforce forbid, a chain reaching a reach: any forbid): those are what the
 * proof and reachability must find in what is rendered. Undefined when validation fails.
 */
export function planOf(doc: unknown): Plan | undefined {
  const parsed = parsePolicyObject(doc);
  if (!parsed.partial || parsed.diagnostics.some((d) => d.severity === "error")) return undefined;
  const plan = compile(parsed.partial);
  // Any other compile error (a workload no target can see by address) stops rendering: left out.
  const conflict = (m: string) =>
    m.includes("overlaps enforce forbid") || m.includes("is reached by a chain of allow paths");
  return plan.diagnostics.some((d) => d.severity === "error" && !conflict(d.message)) ? undefined : plan;
}

/**
 * `evaluatorsFor`, or undefined when a renderer refuses the policy (a workload a target cannot
 * name; property tests discard such policies).
 */
export function evaluatorsIfRendered(plan: Plan): TargetEvaluator[] | undefined {
  try {
    return evaluatorsFor(plan);
  } catch (e) {
    if (e instanceof Error && /RenderError$/.test(e.name)) return undefined;
    throw e;
  }
}
