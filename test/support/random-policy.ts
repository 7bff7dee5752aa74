import fc from "fast-check";
import { TARGET_MODULES } from "../../components/targets";
import { compile, type Plan, parsePolicyObject, type TargetEvaluator } from "../../lib";
import { AwsQuotaError } from "../../lib/targets/aws";

/**
 * Random policies over all five targets, for property tests of multi-hop reachability: several
 * workloads per segment, shared scopes (VPCs, networks, VNets, clusters, DPU hosts), workloads on
 * AWS behind a DPU, IPv6, a peer and `internet`, allow and forbid paths (enforce and monitor), and
 * the multi-hop fields (`pivot`, `critical`, `reach`).
 */
export const SEGMENTS = ["red", "green", "blue"];
export const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22"];

const placementArb = (i: number) =>
  fc
    .record({
      kind: fc.constantFrom("aws", "gcp", "azure", "kubernetes", "bluefield", "aws+bluefield"),
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
        default:
          return { ...aws, ...bluefield };
      }
    });

const workloadArb = (i: number) =>
  fc
    .record({
      color: fc.constantFrom(...SEGMENTS),
      placements: placementArb(i),
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

export const policyArb = fc
  .record({
    workloads: fc
      .integer({ min: 2, max: 8 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => workloadArb(i)))),
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
  return compile(parsed.partial);
}
