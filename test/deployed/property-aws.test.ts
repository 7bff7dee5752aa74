import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { offlineTarget } from "../../components/offline";
import {
  AddressSet,
  checkPolicyDocument,
  everythingElse,
  type Packet,
  type Party,
  type Plan,
  parseAddress,
  type ResourceRecord,
} from "../../lib";
import { awsAdapter } from "../../lib/targets/aws";
import { propertyRuns } from "../support/property-runs";

/*
 * Random programs against an independent, brute-force reading of AWS security groups over
 * concrete packets (DESIGN.md rules 1, 8): the rendered groups plus groups and rules a user adds,
 * instances bound to workloads (or to none) carrying random groups, and hosts at unclaimed
 * addresses. For every concrete packet between concrete endpoints, the evaluator must say exactly
 * what AWS would: a workload reaches a destination when some instance of it does.
 */

const SEGMENTS = ["red", "green"];
const PORTS = [22, 443, 5432];
const POOL = ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/24", "10.2.0.0/24", "198.51.100.0/24", "172.16.0.0/12"];

interface Rule {
  egress: boolean;
  protocol: "tcp" | "udp" | "-1";
  from: number;
  to: number;
  cidr?: string;
  /** Index into the groups (rendered first, then the user's). */
  group?: number;
}

const ruleArb = fc.record({
  egress: fc.boolean(),
  protocol: fc.constantFrom("tcp", "udp", "-1") as fc.Arbitrary<Rule["protocol"]>,
  from: fc.constantFrom(...PORTS),
  span: fc.constantFrom(0, 100),
  cidr: fc.option(fc.constantFrom(...POOL), { nil: undefined }),
  group: fc.nat(8),
});

const programArb = fc.record({
  colors: fc.array(fc.constantFrom(...SEGMENTS, "none"), { minLength: 3, maxLength: 3 }),
  paths: fc.array(
    fc.record({
      from: fc.constantFrom(...SEGMENTS, "ext"),
      to: fc.constantFrom(...SEGMENTS, "ext"),
      port: fc.constantFrom(...PORTS),
      forbid: fc.boolean(),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  userGroups: fc.array(fc.array(ruleArb, { maxLength: 2 }), { maxLength: 2 }),
  extraRules: fc.array(ruleArb, { maxLength: 2 }),
  instances: fc.array(
    fc.record({
      workload: fc.option(fc.nat(2), { nil: undefined }),
      extra: fc.array(fc.nat(8), { maxLength: 2 }),
      dropContract: fc.boolean(),
      host: fc.nat(200),
    }),
    { maxLength: 4 },
  ),
});

type Program = typeof programArb extends fc.Arbitrary<infer T> ? T : never;

function documentOf(p: Program) {
  const workloads = p.colors.map((c, i) => ({
    name: `w${i}`,
    labels: { color: c },
    placements: { aws: { vpc: "a", cidrs: [`10.${i}.0.0/24`] } },
  }));
  return {
    name: "prop",
    workloads,
    segments: Object.fromEntries(SEGMENTS.map((s) => [s, { matchLabels: { color: s } }])),
    peers: { ext: { cidrs: ["198.51.100.0/24"] } },
    paths: p.paths
      .filter((x) => x.from !== x.to || x.from !== "ext")
      .map((x, k) => ({
        name: `p${k}`,
        from: x.from,
        to: x.to,
        ...(x.forbid ? { verdict: "forbid", mode: "monitor" } : { services: [`tcp/${x.port}`] }),
        owner: "o@x",
        justification: "j",
      })),
  };
}

/** The program's records: what AwsSegmentation renders, then what the user adds. */
function recordsOf(plan: Plan, p: Program) {
  const rendered = offlineTarget("aws")!.records(plan);
  const groupIds = rendered.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup").map((r) => r.id!);
  const user: ResourceRecord[] = [];
  const rules: Array<Rule & { groupId: string }> = [];
  const allGroups = [...groupIds];
  for (let i = 0; i < p.userGroups.length; i++) allGroups.push(`sg-user${i}`);
  const asRule = (r: (typeof p.extraRules)[number]): Rule => {
    const out: Rule = { egress: r.egress, protocol: r.protocol, from: r.from, to: r.from + r.span };
    if (r.cidr !== undefined) out.cidr = r.cidr;
    else out.group = r.group % allGroups.length;
    return out;
  };
  p.userGroups.forEach((gr, i) => {
    const id = `sg-user${i}`;
    const inline = gr.map(asRule);
    const spec = (r: Rule) => ({
      protocol: r.protocol,
      fromPort: r.protocol === "-1" ? 0 : r.from,
      toPort: r.protocol === "-1" ? 0 : r.to,
      ...(r.cidr !== undefined ? { cidrBlocks: [r.cidr] } : { securityGroups: [allGroups[r.group!]] }),
    });
    user.push({
      type: "aws:ec2/securityGroup:SecurityGroup",
      name: `user${i}`,
      id,
      inputs: {
        vpcId: "vpc-a",
        ingress: inline.filter((r) => !r.egress).map(spec),
        egress: inline.filter((r) => r.egress).map(spec),
      },
    });
    for (const r of inline) rules.push({ ...r, groupId: id });
  });
  p.extraRules.forEach((raw, k) => {
    const r = asRule(raw);
    const groupId = allGroups[raw.group % allGroups.length]!;
    rules.push({ ...r, groupId });
    user.push({
      type: r.egress
        ? "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
        : "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      name: `hand-${k}`,
      id: `sgr-hand-${k}`,
      inputs: {
        securityGroupId: groupId,
        ipProtocol: r.protocol,
        ...(r.protocol === "-1" ? {} : { fromPort: r.from, toPort: r.to }),
        ...(r.cidr !== undefined ? { cidrIpv4: r.cidr } : { referencedSecurityGroupId: allGroups[r.group!] }),
      },
    });
  });
  // The rendered rules, read back from the records (their own inputs), for the brute force.
  for (const r of rendered) {
    const i = r.inputs;
    if (
      r.type !== "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" &&
      r.type !== "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
    )
      continue;
    const protocol = String(i.ipProtocol) as Rule["protocol"];
    const base = {
      egress: r.type.includes("Egress"),
      protocol,
      from: Number(i.fromPort ?? 0),
      to: Number(i.toPort ?? 65535),
      groupId: String(i.securityGroupId),
    };
    if (typeof i.cidrIpv4 === "string") rules.push({ ...base, cidr: i.cidrIpv4 });
    else if (typeof i.referencedSecurityGroupId === "string")
      rules.push({ ...base, group: allGroups.indexOf(i.referencedSecurityGroupId) });
    else if (typeof i.prefixListId === "string") {
      const list = rendered.find((x) => x.id === i.prefixListId)!;
      for (const e of list.inputs.entries as Array<{ cidr: string }>)
        if (!e.cidr.includes(":")) rules.push({ ...base, cidr: e.cidr });
    }
  }
  // Instances: bound ones carry the contract (baseline + segments) unless dropped, plus extras.
  const contract = (w: number) => {
    const segs = plan.members;
    const ids = [rendered.find((r) => r.name.endsWith("-_baseline"))!.id!];
    for (const [s, members] of segs)
      if (members.includes(`w${w}`)) {
        const g = rendered.find(
          (r) => r.name.endsWith(`-${s}`) && r.type === "aws:ec2/securityGroup:SecurityGroup",
        );
        if (g) ids.push(g.id!);
      }
    return ids;
  };
  const instances: Array<{ name: string; workload?: number; groups: string[]; ip: string }> = [];
  // Every workload has an instance of its own (a workload without one is a binding error, tested elsewhere).
  const wanted = [
    ...p.colors.map((_, w) => ({ workload: w, extra: [], dropContract: false, host: 10 + w })),
    ...p.instances,
  ];
  wanted.forEach((x, k) => {
    const own = x.workload !== undefined && !x.dropContract ? contract(x.workload) : [];
    const groups = [...new Set([...own, ...x.extra.map((g) => allGroups[g % allGroups.length]!)])];
    const ip =
      x.workload !== undefined
        ? `10.${x.workload}.0.${1 + (x.host % 250)}`
        : `172.20.0.${1 + (x.host % 250)}`;
    const name = `vm${k}`;
    instances.push({ name, ...(x.workload !== undefined ? { workload: x.workload } : {}), groups, ip });
    user.push({
      type: "aws:ec2/instance:Instance",
      name,
      id: `i-${k}`,
      inputs: {
        ami: "ami-1",
        vpcSecurityGroupIds: groups,
        subnetId: "subnet-a",
        privateIp: ip,
        ...(x.workload !== undefined ? { tags: { "blastradius:workload": `w${x.workload}` } } : {}),
      },
    });
  });
  // The subnet says which VPC an instance without groups is in (its default group is that VPC's).
  const vpcId = rendered.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup")!.inputs.vpcId;
  user.push({ type: "aws:ec2/subnet:Subnet", name: "subnet-a", id: "subnet-a", inputs: { vpcId } });
  return { records: [...rendered, ...user], rules, instances };
}

/** AWS, packet by packet: egress of the source's groups, ingress of the destination's. */
function awsAllows(
  rules: ReadonlyArray<Rule & { groupId: string }>,
  src: { ip: string; groups?: string[] },
  dst: { ip: string; groups?: string[] },
  protocol: "tcp" | "udp",
  port: number,
): boolean {
  const matches = (r: Rule, far: { ip: string; groups?: string[] }) =>
    (r.protocol === "-1" || (r.protocol === protocol && port >= r.from && port <= r.to)) &&
    (r.cidr !== undefined
      ? AddressSet.parse(r.cidr).has(far.ip)
      : (far.groups ?? []).includes(r.group === undefined ? "" : ALL_GROUPS.current[r.group]!));
  const side = (own: string[], egress: boolean, far: { ip: string; groups?: string[] }) => {
    // No group at all: the VPC's default group (everything out; in from its own members).
    if (own.length === 0) return egress || (far.groups !== undefined && far.groups.length === 0);
    return rules.some((r) => r.egress === egress && own.includes(r.groupId) && matches(r, far));
  };
  return (!src.groups || side(src.groups, true, dst)) && (!dst.groups || side(dst.groups, false, src));
}
const ALL_GROUPS = { current: [] as string[] };

describe("property: AWS over random programs equals a brute-force reading packet by packet", () => {
  it("bound, unbound and user-grouped instances, user rules, peers and unclaimed hosts", () => {
    let checked = 0;
    fc.assert(
      fc.property(programArb, (p) => {
        const r = checkPolicyDocument(documentOf(p));
        fc.pre(r.ok && r.plan !== undefined);
        const plan = r.plan!;
        const { records, rules, instances } = recordsOf(plan, p);
        ALL_GROUPS.current = [
          ...records.filter((x) => x.type === "aws:ec2/securityGroup:SecurityGroup").map((x) => x.id!),
        ];
        const ev = awsAdapter.evaluator(records, plan);
        const universe = ev.universe?.() ?? [];
        const partyOfInstance = (k: number): Party => {
          const inst = instances[k]!;
          if (inst.workload !== undefined) return plan.party(`workload:w${inst.workload}`)!;
          return universe.find((u) => u.name === `instance ${inst.name}`)!;
        };
        const ext = plan.party("peer:ext")!;
        const unclaimed = everythingElse(plan);
        // Endpoints: each instance; a peer host; a host at an unclaimed address (no group of ours).
        const endpoints: Array<{ party: Party; ip: string; groups?: string[]; of?: number }> = [
          ...instances.map((inst, k) => ({
            party: partyOfInstance(k),
            ip: inst.ip,
            groups: inst.groups,
            of: k,
          })),
          { party: ext, ip: "198.51.100.9" },
          { party: unclaimed, ip: "172.31.9.9" },
        ];
        for (const a of endpoints)
          for (const b of endpoints) {
            if (a === b || (a.groups === undefined && b.groups === undefined)) continue;
            for (const protocol of ["tcp", "udp"] as const)
              for (const port of PORTS) {
                const packet: Packet = {
                  src: a.ip,
                  dst: b.ip,
                  protocol: protocol === "tcp" ? 6 : 17,
                  port,
                  family: parseAddress(a.ip).family,
                };
                // A workload reaches when some instance of it does: every instance of the same
                // workload, at this instance's address.
                const senders =
                  a.of === undefined || instances[a.of]!.workload === undefined
                    ? [a]
                    : endpoints
                        .filter(
                          (e) =>
                            e.of !== undefined && instances[e.of]!.workload === instances[a.of!]!.workload,
                        )
                        .map((e) => ({ ...e, ip: a.ip }));
                const receivers =
                  b.of === undefined || instances[b.of]!.workload === undefined
                    ? [b]
                    : endpoints
                        .filter(
                          (e) =>
                            e.of !== undefined && instances[e.of]!.workload === instances[b.of!]!.workload,
                        )
                        .map((e) => ({ ...e, ip: b.ip }));
                const want = senders.some((s) =>
                  receivers.some((t) => awsAllows(rules, s, t, protocol, port)),
                );
                const got = ev.allowed(a.party, b.party).has(packet);
                if (got !== want)
                  expect.fail(
                    `${JSON.stringify(p)}\n${a.party.name} (${a.ip}) -> ${b.party.name} (${b.ip}) ${protocol}/${port}: evaluator ${got}, AWS ${want}`,
                  );
                checked++;
              }
          }
      }),
      { numRuns: propertyRuns(150), seed: 20261206 },
    );
    expect(checked).toBeGreaterThan(1000);
  }, 120_000);
});
