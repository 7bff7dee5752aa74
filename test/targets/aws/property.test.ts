import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AwsSegmentation, awsVpcs } from "../../../components/aws";
import { runProgram } from "../../../components/runner";
import { checkPolicyDocument, type Plan, type ResourceRecord } from "../../../lib";
import { AWS_TYPES, type AwsRendering, awsAdapter, renderAws } from "../../../lib/targets/aws";
import { propertyRuns } from "../../support/property-runs";
import { doc } from "./support";

const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22", "udp/5000-5010"];
const SEGMENTS = ["red", "green", "blue"];
const PEERS = { ext: { cidrs: ["198.51.100.0/24"] }, pub: { cidrs: ["9.9.9.0/24", "2a01::/32"] } };

const workloadArb = (i: number) =>
  fc
    .record({
      color: fc.constantFrom(...SEGMENTS),
      extra: fc.boolean(),
      place: fc.constantFrom("aws-a", "aws-a", "aws-b", "gcp"),
      v6: fc.boolean(),
    })
    .map((w) => {
      const cidrs = [`10.${i}.0.0/24`, ...(w.v6 ? [`fd00:${i}::/64`] : [])];
      const placements =
        w.place === "gcp"
          ? { gcp: { network: "n", serviceAccount: `w${i}@p.iam.gserviceaccount.com`, cidrs } }
          : { aws: { vpc: w.place === "aws-a" ? "a" : "b", cidrs } };
      return { name: `w${i}`, labels: { color: w.color, ...(w.extra ? { tier: "x" } : {}) }, placements };
    });

const endArb = fc.constantFrom(...SEGMENTS, "tiered", "ext", "pub", "internet");
const pathArb = fc.record({
  from: endArb,
  to: endArb,
  services: fc.uniqueArray(fc.constantFrom(...SERVICES), { minLength: 1, maxLength: 2 }),
});

const policyArb = fc
  .record({
    workloads: fc
      .integer({ min: 1, max: 4 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => workloadArb(i)))),
    paths: fc.array(pathArb, { minLength: 1, maxLength: 4 }),
  })
  .map(({ workloads, paths }) =>
    doc({
      workloads,
      segments: {
        ...Object.fromEntries(SEGMENTS.map((s) => [s, { matchLabels: { color: s } }])),
        tiered: { matchLabels: { tier: "x" } },
      },
      peers: PEERS,
      paths: paths.map((p, k) => ({ name: `p${k}`, ...p })),
    }),
  );

/**
 * The records the component registers for a rendering (type, name, inputs; ids `id:<name>`), built
 * without the mock engine, which costs ~15 ms per resource. The first test checks, on a sample,
 * that these are exactly what the component registers.
 */
function recordsOf(rendering: AwsRendering, name: string, vpcId: string): ResourceRecord[] {
  const id = (n: string) => `id:${n}`;
  const out: Array<ResourceRecord & { id: string }> = [];
  for (const g of rendering.groups) {
    const n = `${name}-${g.key}`;
    out.push({
      type: AWS_TYPES.securityGroup,
      name: n,
      id: id(n),
      inputs: { vpcId, description: g.description, tags: g.tags, revokeRulesOnDelete: true },
    });
  }
  for (const l of rendering.prefixLists) {
    const n = `${name}-${l.key}`;
    out.push({
      type: AWS_TYPES.prefixList,
      name: n,
      id: id(n),
      inputs: {
        name: l.name,
        addressFamily: l.addressFamily,
        maxEntries: l.maxEntries,
        entries: l.entries.map((cidr) => ({ cidr })),
        tags: l.tags,
      },
    });
  }
  for (const r of rendering.rules) {
    const n = `${name}-${r.key}`;
    const peer =
      r.peer.kind === "group"
        ? { referencedSecurityGroupId: id(`${name}-${r.peer.segment}`) }
        : r.peer.kind === "prefixList"
          ? { prefixListId: id(`${name}-${r.peer.list}`) }
          : r.peer.family === 4
            ? { cidrIpv4: r.peer.cidr }
            : { cidrIpv6: r.peer.cidr };
    out.push({
      type: r.direction === "ingress" ? AWS_TYPES.ingressRule : AWS_TYPES.egressRule,
      name: n,
      id: id(n),
      inputs: {
        securityGroupId: id(`${name}-${r.segment}`),
        ipProtocol: r.ipProtocol,
        ...(r.fromPort !== undefined ? { fromPort: r.fromPort } : {}),
        ...(r.toPort !== undefined ? { toPort: r.toPort } : {}),
        ...peer,
        description: r.description,
        tags: r.tags,
      },
    });
  }
  return out;
}

const QUOTA = { rulesPerGroup: 100_000 };

function samplePlans(n: number) {
  return fc
    .sample(policyArb, { numRuns: n, seed: 20240611 })
    .map((d) => ({ document: d, result: checkPolicyDocument(d) }))
    .filter((c) => c.result.ok && c.result.plan!.targets.includes("aws"))
    .map((c) => ({ document: c.document, plan: c.result.plan! }));
}

const recordsFor = (plan: Plan, prefix: string) =>
  awsVpcs(plan).flatMap((vpc) =>
    recordsOf(renderAws(plan, { vpc, quota: QUOTA }), `${prefix}aws-${vpc}`, `vpc-${vpc}`),
  );

describe("property: the evaluator over the rendered resources allows exactly the intended connectivity", () => {
  it("the records are exactly what AwsSegmentation registers (sample of 20 policies through the mock engine)", async () => {
    const plans = samplePlans(40).slice(0, 20);
    const { resources } = await runProgram(() => {
      plans.forEach(({ plan }, k) => {
        for (const vpc of awsVpcs(plan))
          new AwsSegmentation(`c${k}-aws-${vpc}`, { vpc, vpcId: `vpc-${vpc}`, plan, quota: QUOTA });
      });
    });
    const names = new Map(resources.map((r) => [r.id, `id:${r.name}`]));
    const normal = (v: unknown): unknown =>
      typeof v === "string" && names.has(v)
        ? names.get(v)
        : Array.isArray(v)
          ? v.map(normal)
          : v && typeof v === "object"
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]))
            : v;
    const recorded = resources
      .filter((r) => r.custom)
      .map((r) => ({ type: r.type, name: r.name, inputs: normal(r.inputs) }));
    const built = plans
      .flatMap(({ plan }, k) => recordsFor(plan, `c${k}-`))
      .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
    const byName = (a: { name: string }, b: { name: string }) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    expect(recorded.sort(byName)).toEqual(built.sort(byName));
    expect(recorded.length).toBeGreaterThan(40);
  }, 30_000);

  it("for every ordered pair of parties the aws target enforces, over random small policies", () => {
    const plans = samplePlans(2 * propertyRuns(300)).slice(0, propertyRuns(300));
    expect(plans.length).toBe(propertyRuns(300));
    let checked = 0;
    for (const { document, plan } of plans) {
      const ev = awsAdapter.evaluator(recordsFor(plan, ""), plan);
      for (const from of plan.parties)
        for (const to of plan.parties) {
          if (!ev.enforces(from) && !ev.enforces(to)) continue;
          const got = ev.allowed(from, to);
          const want = plan.intended(from, to);
          if (!got.equals(want)) {
            const extra = got.subtract(want);
            const missing = want.subtract(got);
            expect.fail(
              `policy ${JSON.stringify(document)}\n${from.name} -> ${to.name}: extra ${extra.isEmpty() ? "none" : extra.toString()}; missing ${missing.isEmpty() ? "none" : missing.toString()}`,
            );
          }
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(1500);
  }, 30_000);
});
