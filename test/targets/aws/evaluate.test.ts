import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Party, type Plan, prove, type ResourceRecord } from "../../../lib";
import {
  AWS_TYPES,
  awsAdapter,
  type DescribeNetworkAclsOutput,
  type DescribeSecurityGroupsOutput,
  evaluateAwsExport,
} from "../../../lib/targets/aws";
import { doc, flagshipPlan, planOf } from "./support";

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(join(__dirname, "fixtures", name), "utf8")) as T;
const party = (plan: Plan, key: string): Party => {
  const p = plan.party(key);
  if (!p) throw new Error(`no party ${key}`);
  return p;
};
const tcp = (src: string, dst: string, port: number) => ({ family: 4 as const, src, dst, protocol: 6, port });

describe("AWS network ACLs: the documented worked example", () => {
  // Source: Amazon VPC User Guide, "Control subnet traffic with network access control lists" →
  // "Network ACL rules" / "Example custom network ACL for IPv4"
  // https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html (formerly vpc-network-acls.html#nacl-rules):
  // "if a packet is received on the subnet with destination port 443 … It does match the second rule
  // (110), which allows the packet into the subnet. If the packet had been destined for port 139
  // (NetBIOS), it doesn't match any of the rules, and the * rule ultimately denies the packet."
  const plan = planOf(
    doc({
      workloads: [
        {
          name: "web",
          labels: { tier: "web" },
          placements: { aws: { vpc: "main", cidrs: ["10.0.1.0/24"] } },
        },
      ],
      segments: { web: { matchLabels: { tier: "web" } } },
      peers: { admins: { cidrs: ["192.0.2.0/24"] } },
      paths: [{ name: "web-in", from: "internet", to: "web", services: ["tcp/80", "tcp/443"] }],
    }),
  );
  const vpcNames = { "vpc-0a9b8c7d6e5f40312": "main" };
  const acls = fixture<DescribeNetworkAclsOutput>("nacl-doc-example.json");
  const sgs = fixture<DescribeSecurityGroupsOutput>("sg-web.json");
  const ev = evaluateAwsExport(sgs, plan, { networkAcls: acls, vpcNames });
  const internet = party(plan, "peer:internet");
  const web = party(plan, "workload:web");

  it("port 443 is allowed by rule 110", () => {
    const d = ev.decide(internet, web, tcp("8.8.8.8", "10.0.1.5", 443));
    expect(d.verdict).toBe("allow");
    expect(d.by).toContain("acl-0c5d9e1f2a3b4c5d6 inbound rule 110 allow");
  });

  it("port 139 (NetBIOS) matches no rule and is denied by the * rule, although the security group allows it", () => {
    const d = ev.decide(internet, web, tcp("8.8.8.8", "10.0.1.5", 139));
    expect(d).toEqual({ verdict: "deny", by: "acl-0c5d9e1f2a3b4c5d6 inbound rule * deny" });
  });

  it("as sets: inbound only tcp/80 and tcp/443 get through; outbound also the ephemeral range the example opens", () => {
    expect(ev.allowed(internet, web).services().toString()).toBe("tcp/80, tcp/443");
    expect(ev.allowed(web, internet).services().toString()).toBe("tcp/80, tcp/443, tcp/1024-65535");
  });

  it("is stateless: without the outbound ephemeral rule 120, replies die and https from the internet breaks", () => {
    const noReturn: DescribeNetworkAclsOutput = structuredClone(acls);
    noReturn.NetworkAcls[0]!.Entries = noReturn.NetworkAcls[0]!.Entries!.filter(
      (e) => !(e.Egress && e.RuleNumber === 120),
    );
    const ev2 = evaluateAwsExport(sgs, plan, { networkAcls: noReturn, vpcNames });
    expect(ev2.allowed(internet, web).isEmpty()).toBe(true);
    const d = ev2.decide(internet, web, tcp("8.8.8.8", "10.0.1.5", 443));
    expect(d.verdict).toBe("deny");
    expect(d.by).toMatch(/outbound rule \* deny \(reply 10\.0\.1\.5 -> 8\.8\.8\.8 port 1024\)/);
  });
});

/** Hand-written records: three groups in VPC v, rules on them, as Pulumi would record them. */
function sg(id: string, segment: string): ResourceRecord & { id: string } {
  return {
    type: AWS_TYPES.securityGroup,
    name: `sg-${segment}`,
    id,
    inputs: { vpcId: "vpc-1", tags: { "blastradius:vpc": "v", "blastradius:segment": segment } },
  };
}
function rule(
  name: string,
  direction: "ingress" | "egress",
  group: string,
  proto: string,
  port: number | undefined,
  peer: Record<string, string>,
): ResourceRecord {
  return {
    type: direction === "ingress" ? AWS_TYPES.ingressRule : AWS_TYPES.egressRule,
    name,
    inputs: {
      securityGroupId: group,
      ipProtocol: proto,
      ...(port !== undefined ? { fromPort: port, toPort: port } : {}),
      ...peer,
    },
  };
}

describe("security groups: union, both sides, references, stateful", () => {
  const plan = planOf(
    doc({
      workloads: [
        { name: "w1", labels: { a: "1", b: "1" }, placements: { aws: { vpc: "v", cidrs: ["10.0.1.0/24"] } } },
        { name: "w2", labels: { a: "1" }, placements: { aws: { vpc: "v", cidrs: ["10.0.2.0/24"] } } },
        { name: "db", labels: { db: "1" }, placements: { aws: { vpc: "v", cidrs: ["10.0.3.0/24"] } } },
      ],
      segments: {
        sa: { matchLabels: { a: "1" } },
        sb: { matchLabels: { b: "1" } },
        sd: { matchLabels: { db: "1" } },
      },
      peers: { ext: { cidrs: ["192.168.50.0/24"] } },
      paths: [],
    }),
  );
  const records: ResourceRecord[] = [
    sg("sg-a", "sa"),
    sg("sg-b", "sb"),
    sg("sg-d", "sd"),
    rule("a-out-443", "egress", "sg-a", "tcp", 443, { referencedSecurityGroupId: "sg-d" }),
    rule("d-in-443", "ingress", "sg-d", "tcp", 443, { referencedSecurityGroupId: "sg-a" }),
    rule("b-out-5432", "egress", "sg-b", "tcp", 5432, { referencedSecurityGroupId: "sg-d" }),
    rule("d-in-5432", "ingress", "sg-d", "tcp", 5432, { referencedSecurityGroupId: "sg-b" }),
    rule("b-out-dns", "egress", "sg-b", "udp", 53, { cidrIpv4: "192.168.50.0/24" }),
    rule("a-out-8080-no-ingress", "egress", "sg-a", "tcp", 8080, { referencedSecurityGroupId: "sg-d" }),
    rule("a-out-9000", "egress", "sg-a", "tcp", 9000, { cidrIpv4: "10.0.3.0/24" }),
    rule("d-in-9000-from-w2-cidr", "ingress", "sg-d", "tcp", 9000, { cidrIpv4: "10.0.2.0/24" }),
  ];
  const ev = awsAdapter.evaluator(records, plan);
  const [w1, w2, db, ext] = ["workload:w1", "workload:w2", "workload:db", "peer:ext"].map((k) =>
    party(plan, k),
  ) as [Party, Party, Party, Party];

  it("a workload in two segments carries both groups: their rules add up", () => {
    expect(ev.allowed(w1, db).services().toString()).toBe("tcp/443, tcp/5432");
    expect(ev.allowed(w2, db).services().toString()).toBe("tcp/443, tcp/9000");
    expect(ev.allowed(w1, ext).services().toString()).toBe("udp/53");
    expect(ev.allowed(w2, ext).isEmpty()).toBe(true);
    expect(ev.decide(w1, db, tcp("10.0.1.1", "10.0.3.1", 5432))).toEqual({
      verdict: "allow",
      by: "b-out-5432 + d-in-5432",
    });
  });

  it("inside the VPC both the source's egress and the destination's ingress are required", () => {
    expect(ev.allowed(w1, db).services().toString()).not.toContain("8080");
    expect(ev.decide(w1, db, tcp("10.0.1.1", "10.0.3.1", 8080))).toEqual({
      verdict: "deny",
      by: "default-deny",
    });
  });

  it("a CIDR rule matches members by their private addresses", () => {
    expect(ev.decide(w2, db, tcp("10.0.2.9", "10.0.3.1", 9000)).verdict).toBe("allow");
    expect(ev.decide(w1, db, tcp("10.0.1.9", "10.0.3.1", 9000))).toEqual({
      verdict: "deny",
      by: "default-deny",
    });
  });

  it("is stateful and directional: replies are not connections the other way", () => {
    expect(ev.allowed(db, w1).isEmpty()).toBe(true);
    expect(ev.allowed(db, ext).isEmpty()).toBe(true);
  });

  it("outside AWS only the AWS side decides; a workload not in AWS is not enforced", () => {
    expect(ev.enforces(ext)).toBe(false);
    expect(ev.enforces(w1)).toBe(true);
  });
});

describe("AWS's default allow-all egress is caught", () => {
  const plan = flagshipPlan();
  const trainer = party(plan, "workload:llm-trainer");
  const internet = party(plan, "peer:internet");

  it("a group created without the provider's revocation (Cloud Control) keeps 0.0.0.0/0 + ::/0 egress", () => {
    const records: ResourceRecord[] = [
      {
        type: AWS_TYPES.nativeSecurityGroup,
        name: "hand-made-training",
        id: "sg-native",
        inputs: {
          groupDescription: "training",
          vpcId: "vpc-ml",
          tags: [
            { key: "blastradius:vpc", value: "ml" },
            { key: "blastradius:segment", value: "training" },
          ],
        },
      } as ResourceRecord,
    ];
    const ev = awsAdapter.evaluator(records, plan);
    const proof = prove(plan, [ev]);
    const exfil = proof.forbidden.find((f) => f.path === "no-training-exfiltration");
    expect(exfil).toMatchObject({
      status: "open",
      by: "hand-made-training default egress (AWS allow-all 0.0.0.0/0, ::/0)",
      open: "any",
    });
    expect(ev.allowed(trainer, internet).sources().toString()).toBe("10.10.1.0/24");
  });

  it("the same group with explicit egress loses the default", () => {
    const records = [
      {
        type: AWS_TYPES.nativeSecurityGroup,
        name: "hand-made-training",
        id: "sg-native",
        inputs: {
          vpcId: "vpc-ml",
          tags: [
            { key: "blastradius:vpc", value: "ml" },
            { key: "blastradius:segment", value: "training" },
          ],
          securityGroupEgress: [{ ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIp: "10.20.0.0/20" }],
        },
      } as ResourceRecord,
    ];
    const ev = awsAdapter.evaluator(records, plan);
    expect(ev.allowed(trainer, internet).isEmpty()).toBe(true);
    expect(ev.allowed(trainer, party(plan, "workload:feature-store")).services().toString()).toBe("tcp/443");
  });

  it("a live export that still lists the default egress, plus a hand-added SSH rule, fails the proof with witnesses", () => {
    const live = fixture<DescribeSecurityGroupsOutput>("sg-ai-platform-live.json");
    const proof = prove(plan, [evaluateAwsExport(live, plan)]);
    expect(proof.ok).toBe(false);
    const byPath = new Map(proof.forbidden.map((f) => [f.path, f]));
    expect(byPath.get("no-training-exfiltration")).toMatchObject({
      status: "open",
      by: "sg-0aa11bb22cc33dd44 IpPermissionsEgress[1] 0.0.0.0/0",
      witness: { src: "10.10.1.1", protocol: "tcp", port: 443, from: "llm-trainer", to: "internet" },
    });
    expect(byPath.get("no-workstation-to-training")).toMatchObject({
      status: "open",
      by: "sg-0aa11bb22cc33dd44 IpPermissions[0] 10.200.7.0/24",
      witness: { src: "10.200.7.1", dst: "10.10.1.1", protocol: "tcp", port: 22 },
      open: "tcp/22",
    });
    expect(proof.allowed.filter((a) => a.target === "aws").every((a) => a.status === "open")).toBe(true);
  });

  it("an egress rule to a prefix list the export does not resolve counts as every address", () => {
    const live: DescribeSecurityGroupsOutput = {
      SecurityGroups: [
        {
          GroupId: "sg-1",
          VpcId: "vpc-1",
          Tags: [
            { Key: "blastradius:vpc", Value: "ml" },
            { Key: "blastradius:segment", Value: "training" },
          ],
          IpPermissions: [],
          IpPermissionsEgress: [
            { IpProtocol: "tcp", FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: "pl-x" }] },
          ],
        },
      ],
    };
    expect(evaluateAwsExport(live, plan).allowed(trainer, internet).services().toString()).toBe("tcp/443");
    const resolved = evaluateAwsExport(live, plan, {
      prefixLists: { "pl-x": { Entries: [{ Cidr: "10.20.0.0/20" }] } },
    });
    expect(resolved.allowed(trainer, internet).isEmpty()).toBe(true);
  });
});
