import { describe, expect, it } from "vitest";
import { AwsSegmentation, type AwsSegmentationArgs } from "../../../components/aws";
import { type RecordedResource, runProgram } from "../../../components/runner";
import { AWS_TYPES, AwsQuotaError } from "../../../lib/targets/aws";
import { MIXED, manyPaths } from "./policies";
import { flagshipPlan, planOf, runAws } from "./support";

const byName = (rs: RecordedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}; have ${rs.map((x) => x.name).join(", ")}`);
  return r;
};

describe("AwsSegmentation under the recording mocks", () => {
  it("creates one group per segment with no inline rules, one rule resource per rule, and exports the ids", async () => {
    const plan = flagshipPlan();
    const { resources, outputs } = await runProgram(() => {
      const c = new AwsSegmentation("seg", { vpc: "ml", vpcId: "vpc-0abc", plan });
      return { ids: c.securityGroupIds };
    });
    const ids = outputs.ids as Record<string, string>;
    expect(resources.map((r) => [r.type, r.name])).toEqual([
      [AWS_TYPES.component, "seg"],
      // The VPC's baseline group (no rules) comes first: every workload here carries it.
      [AWS_TYPES.securityGroup, "seg-_baseline"],
      [AWS_TYPES.securityGroup, "seg-training"],
      [AWS_TYPES.egressRule, "seg-training-out-training-publishes-models-10.30.4.0_24-tcp-443"],
      [AWS_TYPES.egressRule, "seg-training-out-training-reads-datalake-10.20.0.0_20-tcp-443"],
    ]);
    const sg = byName(resources, "seg-training");
    expect(sg.inputs).toEqual({
      vpcId: "vpc-0abc",
      description: "blastradius ai-platform: segment training",
      revokeRulesOnDelete: true,
      tags: {
        Name: "ai-platform-training",
        "blastradius:policy": "ai-platform",
        "blastradius:vpc": "ml",
        "blastradius:segment": "training",
      },
    });
    expect(sg.inputs).not.toHaveProperty("egress");
    expect(sg.inputs).not.toHaveProperty("ingress");
    expect(ids).toEqual({ training: sg.id });
    const rule = byName(resources, "seg-training-out-training-reads-datalake-10.20.0.0_20-tcp-443");
    expect(rule.parent).toBe(byName(resources, "seg").urn);
    expect(rule.inputs).toEqual({
      securityGroupId: sg.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "10.20.0.0/20",
      description: "path training-reads-datalake: training to datalake, egress to 10.20.0.0/20 tcp-443",
      tags: {
        "blastradius:policy": "ai-platform",
        "blastradius:vpc": "ml",
        "blastradius:segment": "training",
        "blastradius:path": "training-reads-datalake",
      },
    });
  });

  it("references groups inside the VPC, CIDRs per family elsewhere, icmp per family, and the internet by exact prefix lists", async () => {
    const plan = planOf(MIXED);
    const resources = await runAws(plan, { quota: { rulesPerGroup: 1000 } });
    const rules = resources.filter(
      (r) => r.type === AWS_TYPES.ingressRule || r.type === AWS_TYPES.egressRule,
    );
    const sgId = (vpc: string, seg: string) => byName(resources, `aws-${vpc}-${seg}`).id;
    // api → worker inside VPC app: group references on both sides, icmp and icmpv6 each.
    const apiOut = rules.filter((r) => r.name.startsWith("aws-app-api-out-api-calls-worker"));
    expect(
      apiOut.map((r) => [
        r.inputs.ipProtocol,
        r.inputs.fromPort,
        r.inputs.toPort,
        r.inputs.referencedSecurityGroupId,
      ]),
    ).toEqual([
      ["icmp", -1, -1, sgId("app", "worker")],
      ["icmpv6", -1, -1, sgId("app", "worker")],
      ["tcp", 8000, 8100, sgId("app", "worker")],
    ]);
    expect(
      byName(resources, "aws-app-worker-in-api-calls-worker-sg-api-tcp-8000-8100").inputs
        .referencedSecurityGroupId,
    ).toBe(sgId("app", "api"));
    // partner (IPv4 + IPv6) → api: one rule per family and merged service.
    const partner = rules.filter((r) => r.name.startsWith("aws-app-api-in-partner-calls-api"));
    expect(partner.map((r) => [r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6, r.inputs.fromPort]).sort()).toEqual([
      ["198.51.100.0/24", 443],
      ["198.51.100.0/24", 8443],
      ["2001:db8:77::/48", 443],
      ["2001:db8:77::/48", 8443],
    ]);
    // batch (VPC data) → worker (VPC app): CIDRs on both sides, in both components.
    expect(
      byName(resources, "aws-data-batch-out-batch-feeds-worker-10.1.2.0_24-udp-9000-9009").inputs.cidrIpv4,
    ).toBe("10.1.2.0/24");
    expect(
      byName(resources, "aws-data-batch-out-batch-feeds-worker-fd00.1.2.._64-tcp-9000-9009").inputs.cidrIpv6,
    ).toBe("fd00:1:2::/64");
    expect(
      byName(resources, "aws-app-worker-in-batch-feeds-worker-10.2.1.0_24-tcp-9000-9009").inputs.cidrIpv4,
    ).toBe("10.2.1.0/24");
    // internet: prefix lists with the exact public space, never 0.0.0.0/0.
    const v4 = byName(resources, "aws-app-internet-ipv4");
    expect(v4.type).toBe(AWS_TYPES.prefixList);
    const entries = (v4.inputs.entries as Array<{ cidr: string }>).map((e) => e.cidr);
    expect(entries).toContain("8.0.0.0/7");
    expect(entries).not.toContain("0.0.0.0/0");
    expect(entries.some((c) => c.startsWith("10."))).toBe(false);
    expect(v4.inputs.maxEntries).toBe(entries.length);
    expect(
      byName(resources, "aws-app-worker-out-worker-updates-pl-internet-ipv4-tcp-443").inputs.prefixListId,
    ).toBe(v4.id);
    for (const r of rules) {
      expect(r.inputs.cidrIpv4).not.toBe("0.0.0.0/0");
      expect(r.inputs.cidrIpv6).not.toBe("::/0");
    }
  });

  it("renders NACL guardrails: numbered denies before the allow-all entries", async () => {
    const plan = flagshipPlan();
    const resources = await runAws(plan, {
      guardrails: { nacl: { subnetIds: ["subnet-1", "subnet-2"], forbids: ["no-workstation-to-training"] } },
    });
    const acl = byName(resources, "aws-ml-nacl");
    expect(acl.inputs).toMatchObject({ vpcId: "vpc-ml", subnetIds: ["subnet-1", "subnet-2"] });
    expect(acl.inputs).not.toHaveProperty("ingress");
    const entries = resources.filter((r) => r.type === AWS_TYPES.networkAclRule).map((r) => r.inputs);
    expect(entries).toContainEqual({
      networkAclId: acl.id,
      egress: false,
      ruleNumber: 100,
      ruleAction: "deny",
      protocol: "-1",
      cidrBlock: "10.200.0.0/16",
    });
    const allowAll = entries.filter((e) => e.ruleAction === "allow");
    expect(allowAll.map((e) => e.ruleNumber).sort()).toEqual([32700, 32700, 32701, 32701]);
  });
});

describe("AwsSegmentation: bad input and quotas fail before anything is registered", () => {
  const plan = flagshipPlan();
  const attempt = async (args: Partial<AwsSegmentationArgs>) => {
    let error: Error | undefined;
    const { resources } = await runProgram(() => {
      try {
        new AwsSegmentation("seg", args as AwsSegmentationArgs);
      } catch (e) {
        error = e as Error;
      }
    });
    expect(resources).toEqual([]);
    return error?.message;
  };

  it("names the argument", async () => {
    expect(await attempt({ vpc: "nope", vpcId: "vpc-1", plan })).toBe(
      'AwsSegmentation "seg": args.vpc "nope" is not a VPC any workload of policy "ai-platform" is placed in (known: ml)',
    );
    expect(await attempt({ vpc: "ml", plan })).toMatch(/args\.vpcId is missing: pass the id of VPC "ml"/);
    expect(await attempt({ vpc: "ml", vpcId: "vpc-1" })).toMatch(/args\.plan is missing/);
    expect(await attempt({ vpc: "ml", vpcId: "vpc-1", plan, quota: { rulesPerGroup: 0 } })).toMatch(
      /args\.quota\.rulesPerGroup must be a positive integer/,
    );
    expect(
      await attempt({ vpc: "ml", vpcId: "vpc-1", plan, guardrails: { nacl: { subnetIds: [] } } }),
    ).toMatch(/args\.guardrails\.nacl\.subnetIds must list the subnets/);
  });

  it("a path to the internet does not fit the default 60 rules: the error names segment, count and limit", async () => {
    const mixed = planOf(MIXED);
    let error: Error | undefined;
    const { resources } = await runProgram(() => {
      try {
        new AwsSegmentation("app", { vpc: "app", vpcId: "vpc-1", plan: mixed });
      } catch (e) {
        error = e as Error;
      }
    });
    expect(resources).toEqual([]);
    expect(error).toBeInstanceOf(AwsQuotaError);
    expect(error!.message).toMatch(
      /^security group for segment "worker" in VPC "app" needs 117 IPv4 egress rules after merging adjacent ports and CIDRs, over the limit of 60 .*Paths: worker-updates \(116\), worker-reads-lake \(1\)\. /,
    );
  });

  it("too many CIDRs for one group: merged first, then a clear error", async () => {
    // 70 peers on distinct, non-adjacent /24s: nothing merges.
    const peers = Object.fromEntries(
      Array.from({ length: 70 }, (_, i) => [`p${i}`, { cidrs: [`172.16.${i * 2}.0/24`] }]),
    );
    const meta = { owner: "t@example.com", justification: "test" };
    const paths = Array.from({ length: 70 }, (_, i) => ({
      name: `p${i}-in`,
      from: `p${i}`,
      to: "s0",
      services: ["tcp/443"],
      ...meta,
    }));
    const base = manyPaths(2) as { workloads: unknown[]; segments: unknown; paths: unknown[] };
    const overflow = planOf({ ...base, peers, paths: [...base.paths, ...paths] });
    await expect(
      runProgram(() => {
        new AwsSegmentation("big", { vpc: "big", vpcId: "vpc-1", plan: overflow });
      }),
    ).rejects.toThrow(
      /security group for segment "s0" in VPC "big" needs 71 IPv4 ingress rules .* limit of 60/,
    );
    // One peer on 70 adjacent /24s and two adjacent ports: merged into 3 CIDRs × 1 port range.
    const many = Array.from({ length: 70 }, (_, i) => `172.16.${i}.0/24`);
    const merged = planOf({
      ...base,
      peers: { many: { cidrs: many } },
      paths: [
        ...base.paths,
        { name: "all-in", from: "many", to: "s0", services: ["tcp/443", "tcp/444"], ...meta },
      ],
    });
    const resources = await runAws(merged);
    const allIn = resources.filter((r) => r.name.includes("all-in"));
    expect(allIn.map((r) => [r.inputs.cidrIpv4, r.inputs.fromPort, r.inputs.toPort])).toEqual([
      ["172.16.0.0/18", 443, 444],
      ["172.16.64.0/22", 443, 444],
      ["172.16.68.0/23", 443, 444],
    ]);
  });

  it("more segments per workload than groups per interface", async () => {
    const d = manyPaths(1) as {
      workloads: Array<{ labels: Record<string, string> }>;
      segments: Record<string, unknown>;
    };
    d.workloads[0]!.labels = { seg: "s0", a: "1" };
    for (let i = 0; i < 5; i++) d.segments[`extra${i}`] = { matchLabels: { a: "1" } };
    await expect(runAws(planOf(d))).rejects.toThrow(
      'workload "w0" in VPC "big" is a member of 6 segments (s0, extra0, extra1, extra2, extra3, extra4), so its interface would need 7 security groups (the baseline included); the limit is 5',
    );
  });
});

describe("stable names", () => {
  it("adding one path to a 50-path policy changes only that path's resources", async () => {
    const before = await runAws(planOf(manyPaths(50)));
    const after = await runAws(
      planOf(manyPaths(50, [{ name: "s7-to-s30", from: "s7", to: "s30", services: ["tcp/5432"] }])),
    );
    const key = (r: RecordedResource) => `${r.type} ${r.name}`;
    const old = new Map(before.map((r) => [key(r), JSON.stringify(r.inputs)]));
    const changed = after.filter((r) => old.get(key(r)) !== JSON.stringify(r.inputs)).map((r) => r.name);
    expect(changed.sort()).toEqual([
      "aws-big-s30-in-s7-to-s30-sg-s7-tcp-5432",
      "aws-big-s7-out-s7-to-s30-sg-s30-tcp-5432",
    ]);
    const gone = before.filter((r) => !after.some((a) => key(a) === key(r)));
    expect(gone).toEqual([]);
    expect(before.length).toBe(50 + 100 + 1 + 1);
  });

  it("renders byte-identical resources in the same order twice", async () => {
    const plan = planOf(MIXED);
    const strip = (rs: RecordedResource[]) => JSON.stringify(rs.map((r) => [r.type, r.name, r.inputs]));
    expect(strip(await runAws(plan, { quota: { rulesPerGroup: 1000 } }))).toBe(
      strip(await runAws(plan, { quota: { rulesPerGroup: 1000 } })),
    );
  });
});
