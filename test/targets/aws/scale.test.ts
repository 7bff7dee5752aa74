import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../../bench/generate";
import { awsModule } from "../../../components/aws/module";
import { runProgram } from "../../../components/runner";
import { type Party, type Plan, type ResourceRecord, ruleBound } from "../../../lib";
import { AddressSet, ConnectionSet, ServiceSet } from "../../../lib/net";
import {
  AWS_LIMITS,
  AWS_TYPES,
  awsAdapter,
  awsRecords,
  awsResources,
  awsUsage,
  renderAws,
} from "../../../lib/targets/aws";
import { replaceIds } from "../../support/ids";
import { doc, flagshipPlan, planOf } from "./support";

const same = (got: ConnectionSet, want: ConnectionSet) => expect(got.toString()).toBe(want.toString());

const party = (plan: Plan, key: string): Party => {
  const p = plan.party(key);
  if (!p) throw new Error(`no party ${key}`);
  return p;
};

/** The runner's records of the placeholder program, the adapter's only, ids replaced by `id:<name>`. */
async function recordedByRunner(plan: Plan) {
  const { resources } = await runProgram(() => awsModule.placeholderProgram(plan));
  const mine = resources.filter((r) => awsAdapter.owns(r as ResourceRecord));
  const names = new Map(mine.filter((r) => r.id).map((r) => [r.id!, `id:${r.name}`]));
  const normal = (v: unknown) => replaceIds(v, names);
  return mine.map((r) => ({ type: r.type, name: r.name, inputs: normal(r.inputs) }));
}

describe("records(plan): the placeholder program's resources without the Pulumi engine", () => {
  for (const [what, plan] of [
    ["the flagship", flagshipPlan()],
    [
      "a generated policy (2 VPCs, cross-target paths)",
      planOf(generatePolicy({ workloads: 60, segments: 60 })),
    ],
  ] as const)
    it(`are exactly what the runner records: ${what}`, async () => {
      const built = awsModule.records(plan).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
      // The engine records in registration order, which waits on ids: compare as sets of names.
      const recorded = await recordedByRunner(plan);
      const byName = (x: { name: string }, y: { name: string }) =>
        x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
      expect([...recorded].sort(byName)).toEqual([...built].sort(byName));
      expect(built.length).toBeGreaterThan(3);
    }, 30_000);

  it("references resolve among the records: every rule names a group (and peer) recorded before it", () => {
    const records = awsModule.records(planOf(generatePolicy({ workloads: 200, segments: 20 })));
    const ids = new Set<string>();
    for (const r of records) {
      for (const k of ["securityGroupId", "referencedSecurityGroupId", "prefixListId"])
        if (r.inputs[k] !== undefined) expect(ids.has(String(r.inputs[k]))).toBe(true);
      if (r.id) ids.add(r.id);
    }
    expect(records.filter((r) => r.inputs.referencedSecurityGroupId !== undefined).length).toBeGreaterThan(0);
  });
});

describe("partyKey", () => {
  // Two workloads of one segment in a VPC whose (hand-written) NACL denies ssh between them: their
  // groups allow it, the NACL drops it between them, and a workload's traffic to itself never
  // crosses the NACL. So in a VPC with a NACL, equal groups are not enough for one class.
  const plan = planOf(
    doc({
      workloads: [
        { name: "a", labels: { role: "app" }, placements: { aws: { vpc: "v", cidrs: ["10.0.1.0/24"] } } },
        { name: "b", labels: { role: "app" }, placements: { aws: { vpc: "v", cidrs: ["10.0.2.0/24"] } } },
        { name: "c", labels: { role: "app" }, placements: { aws: { vpc: "w", cidrs: ["10.1.1.0/24"] } } },
        { name: "d", labels: { role: "app" }, placements: { aws: { vpc: "w", cidrs: ["10.1.2.0/24"] } } },
        { name: "e", labels: { role: "db" }, placements: { aws: { vpc: "w", cidrs: ["10.1.3.0/24"] } } },
      ],
      segments: { app: { matchLabels: { role: "app" } }, db: { matchLabels: { role: "db" } } },
      peers: { office: { cidrs: ["10.200.0.0/16"] } },
      paths: [
        { name: "app-ssh", from: "app", to: "app", services: ["tcp/22"] },
        { name: "office-db", from: "office", to: "db", services: ["tcp/5432"] },
      ],
    }),
  );
  const records: ResourceRecord[] = [
    ...awsModule.records(plan),
    { type: AWS_TYPES.networkAcl, name: "v-acl", id: "acl-v", inputs: { tags: { "blastradius:vpc": "v" } } },
    ...[false, true].flatMap((egress) => [
      {
        type: AWS_TYPES.networkAclRule,
        name: `v-acl-${egress}-deny-ssh`,
        inputs: {
          networkAclId: "acl-v",
          egress,
          ruleNumber: 100,
          ruleAction: "deny",
          protocol: "6",
          fromPort: 22,
          toPort: 22,
          cidrBlock: "10.0.0.0/16",
        },
      },
      {
        type: AWS_TYPES.networkAclRule,
        name: `v-acl-${egress}-allow`,
        inputs: {
          networkAclId: "acl-v",
          egress,
          ruleNumber: 200,
          ruleAction: "allow",
          protocol: "-1",
          cidrBlock: "0.0.0.0/0",
        },
      },
    ]),
  ];
  const ev = awsAdapter.evaluator(records, plan);
  const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((n) => party(plan, `workload:${n}`)) as [
    Party,
    Party,
    Party,
    Party,
    Party,
  ];
  const office = party(plan, "peer:office");
  const internet = party(plan, "peer:internet");
  const union = (ps: Party[]): Party =>
    ({ ...ps[0]!, addresses: AddressSet.unionAll(ps.map((p) => p.addresses)) }) as Party;

  it("is the VPC and the groups carried; per party where a NACL applies; one key for what AWS sees by address", () => {
    expect(ev.partyKey!(c)).toBe(ev.partyKey!(d));
    expect(ev.partyKey!(c)).not.toBe(ev.partyKey!(e));
    expect(ev.partyKey!(a)).not.toBe(ev.partyKey!(b));
    expect(ev.partyKey!(office)).toBe(ev.partyKey!(internet));
  });

  it("the NACL drops a → b but not a → a, so a class {a, b} would be wrong; {c, d} is right", () => {
    const ssh = (x: Party, y: Party) => ConnectionSet.of(x.addresses, y.addresses, ServiceSet.tcp(22));
    expect(ev.allowed(a, b).isEmpty()).toBe(true);
    expect(ev.allowed(a, a).equals(ssh(a, a))).toBe(true);
    expect(
      ev
        .allowed(union([a, b]), union([a, b]))
        .intersect(ssh(a, b))
        .isEmpty(),
    ).toBe(false);
    const cd = union([c, d]);
    for (const [x, y] of [
      [c, d],
      [d, c],
      [c, c],
    ] as const)
      same(
        ev.allowed(cd, cd).intersect(ConnectionSet.of(x.addresses, y.addresses, ServiceSet.ALL)),
        ev.allowed(x, y),
      );
  });

  it("a class of address-only parties with the union of their addresses answers for each", () => {
    const cls = union([office, internet]);
    for (const p of [office, internet])
      same(
        ev.allowed(cls, e).intersect(ConnectionSet.of(p.addresses, e.addresses, ServiceSet.ALL)),
        ev.allowed(p, e),
      );
    expect(
      ev.allowed(office, e).equals(ConnectionSet.of(office.addresses, e.addresses, ServiceSet.tcp(5432))),
    ).toBe(true);
  });
});

describe("usage", () => {
  // api and worker in VPC app; a partner reaches api on two ports over both families; api calls
  // worker inside the VPC (group references on both sides).
  const plan = planOf(
    doc({
      workloads: [
        {
          name: "api",
          labels: { role: "api" },
          placements: { aws: { vpc: "app", cidrs: ["10.1.1.0/24", "fd00:1:1::/64"] } },
        },
        {
          name: "worker",
          labels: { role: "worker" },
          placements: { aws: { vpc: "app", cidrs: ["10.1.2.0/24"] } },
        },
      ],
      segments: { api: { matchLabels: { role: "api" } }, worker: { matchLabels: { role: "worker" } } },
      peers: { partner: { cidrs: ["198.51.100.0/24", "2001:db8:77::/48"] } },
      paths: [
        { name: "partner-calls-api", from: "partner", to: "api", services: ["tcp/443", "tcp/8443"] },
        { name: "api-calls-worker", from: "api", to: "worker", services: ["tcp/8000-8100"] },
      ],
    }),
  );
  const records = awsModule.records(plan);
  const usage = awsUsage(records, plan);
  const used = (quota: string, scope: string, description?: string) =>
    usage.quotas
      .filter(
        (q) =>
          q.quota === quota &&
          q.scope === scope &&
          (description === undefined || q.description.endsWith(description)),
      )
      .map((q) => [q.used, q.limit]);

  it("counts rules as AWS does: a CIDR or a group reference one rule, per direction and family", () => {
    // partner → api: 2 CIDRs (one per family) × 2 ports on api's ingress; api → worker: one group
    // reference on each side.
    expect(usage).toMatchObject({ rules: 6, guardrailRules: 0, resources: 9 });
    const api = "security group aws-app-api (vpc app)";
    const worker = "security group aws-app-worker (vpc app)";
    expect(used("aws.rulesPerSecurityGroup", api, "inbound IPv4")).toEqual([[2, 60]]);
    expect(used("aws.rulesPerSecurityGroup", api, "inbound IPv6")).toEqual([[2, 60]]);
    // A group reference has no family of its own: it counts in both.
    expect(used("aws.rulesPerSecurityGroup", api, "outbound IPv4")).toEqual([[1, 60]]);
    expect(used("aws.rulesPerSecurityGroup", api, "outbound IPv6")).toEqual([[1, 60]]);
    expect(used("aws.rulesPerSecurityGroup", worker, "inbound IPv4")).toEqual([[1, 60]]);
    expect(used("aws.rulesPerSecurityGroup", worker, "outbound IPv4")).toEqual([[0, 60]]);
    // The baseline group and api's segment group.
    expect(used("aws.securityGroupsPerInterface", "workload api (vpc app)")).toEqual([[2, 5]]);
    expect(used("aws.securityGroupsPerRegion", "all VPCs of the rendering (one Region)")).toEqual([
      [3, 2500],
    ]);
    expect(usage.quotas.filter((q) => q.quota === "aws.rulesPerSecurityGroup")).toHaveLength(12);
    // The bound: partner → api is 2 edges (two port ranges) at one end, api → worker 1 edge at two.
    expect(ruleBound(plan, "aws")).toEqual({ allows: 4, guardrails: 0 });
  });

  it("limits override the defaults by quota id; a use above the limit is reported as such", () => {
    const raised = awsUsage(records, plan, { "aws.rulesPerSecurityGroup": 1 });
    const over = raised.quotas.filter((q) => q.used > q.limit);
    expect(over.map((q) => [q.scope, q.description, q.used, q.limit])).toEqual([
      ["security group aws-app-api (vpc app)", "rules per security group, inbound IPv4", 2, 1],
      ["security group aws-app-api (vpc app)", "rules per security group, inbound IPv6", 2, 1],
    ]);
    expect(Object.keys(AWS_LIMITS)).toContain("aws.rulesPerSecurityGroup");
  });

  it("a rule naming a prefix list counts as the list's max entries (a hand-added list of 100 exceeds 60)", () => {
    const extra: ResourceRecord[] = [
      {
        type: AWS_TYPES.prefixList,
        name: "partners",
        id: "pl-partners",
        inputs: { addressFamily: "IPv4", maxEntries: 100, entries: [{ cidr: "203.0.113.0/24" }] },
      },
      {
        type: AWS_TYPES.egressRule,
        name: "hand-added",
        inputs: {
          securityGroupId: "id:aws-app-worker",
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          prefixListId: "pl-partners",
        },
      },
    ];
    const u = awsUsage([...records, ...extra], plan);
    expect(u.rules).toBe(6 + 100);
    const worker = u.quotas.filter(
      (q) => q.scope === "security group aws-app-worker (vpc app)" && q.description.endsWith("outbound IPv4"),
    );
    expect(worker.map((q) => [q.used, q.limit])).toEqual([[100, 60]]);
    expect(
      u.quotas.filter((q) => q.scope === "prefix list partners").map((q) => [q.quota, q.used, q.limit]),
    ).toEqual([
      ["aws.entriesPerPrefixList", 100, 1000],
      ["aws.prefixListReferences", 1, 5000],
    ]);
  });

  it("NACL guardrails: entries per direction and family plus the default deny; the denies are guardrail rules", () => {
    const forbid = planOf(
      doc({
        workloads: [
          {
            name: "db",
            labels: { role: "db" },
            placements: { aws: { vpc: "data", cidrs: ["10.2.1.0/24"] } },
          },
        ],
        segments: { db: { matchLabels: { role: "db" } } },
        peers: { office: { cidrs: ["10.200.0.0/16"] } },
        paths: [{ name: "no-office-db", from: "office", to: "db", verdict: "forbid" }],
      }),
    );
    const rendering = renderAws(forbid, { vpc: "data", nacl: true });
    const recs = awsRecords(
      "aws-data",
      awsResources(rendering, { name: "aws-data", vpcId: "vpc-data", subnetIds: ["subnet-1"] }),
    );
    const u = awsUsage(recs, forbid);
    // One deny (inbound from the office), four allow-all entries (two directions × two families);
    // resources: the baseline and db groups, the NACL, its five entries.
    expect(u).toMatchObject({ rules: 5, guardrailRules: 1, resources: 2 + 1 + 5 });
    const nacl = u.quotas
      .filter((q) => q.quota === "aws.rulesPerNetworkAcl")
      .map((q) => [q.description, q.used, q.limit]);
    expect(nacl).toEqual([
      ["rules per network ACL, inbound IPv4 (with the default deny)", 3, 20],
      ["rules per network ACL, inbound IPv6 (with the default deny)", 2, 20],
      ["rules per network ACL, outbound IPv4 (with the default deny)", 2, 20],
      ["rules per network ACL, outbound IPv6 (with the default deny)", 2, 20],
    ]);
    // The renderer counts the default deny too: 2 entries + `*` do not fit a limit of 2.
    expect(() => renderAws(forbid, { vpc: "data", nacl: true, quota: { naclRulesPerDirection: 2 } })).toThrow(
      /need 3 IPv4 inbound entries .*the default deny AWS counts\), over the limit of 2/,
    );
    expect(() =>
      renderAws(forbid, { vpc: "data", nacl: true, quota: { naclRulesPerDirection: 3 } }),
    ).not.toThrow();
  });
});
