import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AwsSegmentation, awsVpcs } from "../../../components/aws";
import { runProgram } from "../../../components/runner";
import { checkPolicyDocument, type Party, type Plan, type ResourceRecord } from "../../../lib";
import { AddressSet, ConnectionSet, ServiceSet } from "../../../lib/net";
import {
  AWS_TYPES,
  type AwsRendering,
  awsAdapter,
  awsRecords,
  awsResources,
  renderAws,
} from "../../../lib/targets/aws";
import { replaceIds } from "../../support/ids";
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
 * without the mock engine (~15 ms per resource) from the list the component creates its resources
 * from. The first test checks, on a sample, that these are exactly what the component registers.
 */
function recordsOf(rendering: AwsRendering, name: string, vpcId: string): ResourceRecord[] {
  return awsRecords(name, awsResources(rendering, { name, vpcId })).filter(
    (r) => r.type !== AWS_TYPES.component,
  );
}

const QUOTA = { rulesPerGroup: 100_000 };

/** One slice per protocol and family, to draw packets of each from a set. */
const PROBES = [AddressSet.ALL_V4, AddressSet.ALL_V6].flatMap((family) =>
  [ServiceSet.tcp(0, 65535), ServiceSet.udp(0, 65535), ServiceSet.icmp(), ServiceSet.protocol(47)].map((s) =>
    ConnectionSet.of(family, family, s),
  ),
);

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
    const normal = (v: unknown) => replaceIds(v, names);
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
    for (const [k, { document, plan }] of plans.entries()) {
      const ev = awsAdapter.evaluator(recordsFor(plan, ""), plan);
      const probes = k < 150 ? PROBES : [];
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
          // decide agrees with allowed: a member of the allowed set is allowed, a non-member denied
          // (one packet of each protocol and family each way; on the first 150 policies, for time).
          const outside = ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL).subtract(got);
          for (const probe of probes) {
            const inside = got.intersect(probe).sample();
            if (inside) expect(ev.decide(from, to, inside).verdict, JSON.stringify(inside)).toBe("allow");
            const out = outside.intersect(probe).sample();
            if (out) expect(ev.decide(from, to, out).verdict, JSON.stringify(out)).toBe("deny");
          }
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(1500);
  }, 30_000);
});

describe("property: party keys (prove asks one member per key, with the class's addresses)", () => {
  /**
   * For every ordered pair of parties: the answer for their classes (first member of each, with
   * the union of the class's addresses), cut to the pair's addresses, is the answer for the pair;
   * and members of a class agree on `enforces`. With and without NACL guardrails (where a party's
   * traffic to itself skips the NACL, so keys there are per party).
   */
  it("members of a class get the class's verdict, as source and destination, over random small policies", () => {
    const plans = samplePlans(2 * propertyRuns(150)).slice(0, propertyRuns(150));
    let checked = 0;
    for (const [k, { document, plan }] of plans.entries()) {
      const nacl = k % 2 === 1;
      const records = awsVpcs(plan).flatMap((vpc) => {
        const name = `aws-${vpc}`;
        const rendering = renderAws(plan, { vpc, quota: { ...QUOTA, naclRulesPerDirection: 100_000 }, nacl });
        return awsRecords(
          name,
          awsResources(rendering, { name, vpcId: `vpc-${vpc}`, subnetIds: ["subnet-1"] }),
        );
      });
      const ev = awsAdapter.evaluator(records, plan);
      const key = ev.partyKey!;
      const members = new Map<string, Party[]>();
      for (const p of plan.parties) members.set(key(p), [...(members.get(key(p)) ?? []), p]);
      const classOf = (p: Party): Party => {
        const list = members.get(key(p))!;
        expect(list.every((m) => ev.enforces(m) === ev.enforces(p))).toBe(true);
        return { ...list[0]!, addresses: AddressSet.unionAll(list.map((m) => m.addresses)) } as Party;
      };
      for (const from of plan.parties)
        for (const to of plan.parties) {
          if (!ev.enforces(from) && !ev.enforces(to)) continue;
          const pair = ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL);
          const byClass = ev.allowed(classOf(from), classOf(to)).intersect(pair);
          const direct = ev.allowed(from, to);
          if (!byClass.equals(direct))
            expect.fail(
              `policy ${JSON.stringify(document)} (nacl ${nacl})\n${from.name} -> ${to.name}: by class ${byClass.toString()}; direct ${direct.toString()}`,
            );
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(500);
  }, 60_000);
});
