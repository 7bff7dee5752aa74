import * as aws from "@pulumi/aws";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { AwsSegmentation } from "../../components/aws";
import { deployedStackPolicy, deployedStackUnknownPolicy } from "../../components/policypack";
import { runProgram } from "../../components/runner";
import { UNKNOWN_VALUE } from "../../lib";
import { planOf } from "../deployed/support";

/*
 * The policy pack applies the deployed-stack proof during `pulumi preview`: what the stack's
 * compute carries, rules added outside the library, unmodelled endpoints; an attachment to a
 * resource not created yet is unknown, never proven.
 */

const plan = planOf({
  name: "pack",
  workloads: [
    { name: "web", labels: { role: "web" }, placements: { aws: { vpc: "v", cidrs: ["10.1.0.0/24"] } } },
    { name: "db", labels: { role: "db" }, placements: { aws: { vpc: "v", cidrs: ["10.2.0.0/24"] } } },
  ],
  segments: { web: { matchLabels: { role: "web" } }, db: { matchLabels: { role: "db" } } },
  paths: [
    { name: "web-to-db", from: "web", to: "db", services: ["tcp/5432"], owner: "o@x", justification: "j" },
  ],
});

async function resourcesOf(extra: (net: AwsSegmentation) => void): Promise<PolicyResource[]> {
  const { resources } = await runProgram(() => {
    const net = new AwsSegmentation("v", { vpc: "v", vpcId: "vpc-1", plan });
    for (const w of ["web", "db"])
      new aws.ec2.Instance(w, {
        ami: "ami-1",
        instanceType: "t3.micro",
        vpcSecurityGroupIds: net.securityGroupIdsFor(w),
        tags: net.tagsFor(w),
      });
    extra(net);
  });
  return resources.map(
    (r) =>
      ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: { ...r.inputs, ...(r.id ? { id: r.id } : {}) },
        opts: {},
        dependencies: [],
        // What the engine gives a policy: each property's source resources.
        propertyDependencies: Object.fromEntries(
          Object.entries(r.propertyDependencies ?? {}).map(([k, urns]) => [k, urns.map((urn) => ({ urn }))]),
        ),
      }) as unknown as PolicyResource,
  );
}

function validate(policy: ReturnType<typeof deployedStackPolicy>, resources: PolicyResource[]) {
  const violations: string[] = [];
  policy.validateStack(
    { resources, stackTags: new Map(), getConfig: <T>() => ({}) as T } as unknown as StackValidationArgs,
    (m) => violations.push(m),
  );
  return violations;
}

describe("policy pack: the deployed stack", () => {
  it("a group attached to an instance's primary interface (its id unknown in the preview) is tied to the instance through the property's source", async () => {
    const leaky = await resourcesOf((net) => {
      const ssh = new aws.ec2.SecurityGroup("ssh", {
        vpcId: "vpc-1",
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
      });
      const jump = new aws.ec2.Instance("jump", {
        ami: "ami-1",
        instanceType: "t3.micro",
        vpcSecurityGroupIds: net.securityGroupIdsFor("db"),
        tags: net.tagsFor("db"),
      });
      new aws.ec2.NetworkInterfaceSecurityGroupAttachment("jump-ssh", {
        networkInterfaceId: jump.primaryNetworkInterfaceId,
        securityGroupId: ssh.id,
      });
    });
    const violations = validate(deployedStackPolicy({ plan }), leaky);
    expect(violations).toContainEqual(expect.stringContaining("-> db is open for tcp/22"));
  });

  it("passes a faithful stack; fails one where a second interface of the db carries a group opening ssh to every address", async () => {
    expect(validate(deployedStackPolicy({ plan }), await resourcesOf(() => {}))).toEqual([]);
    const leaky = await resourcesOf((net) => {
      const ssh = new aws.ec2.SecurityGroup("ssh", {
        vpcId: "vpc-1",
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
      });
      new aws.ec2.NetworkInterface("db-eni-2", {
        subnetId: "subnet-1",
        securityGroups: [ssh.id],
        tags: net.tagsFor("db"),
      });
    });
    const violations = validate(deployedStackPolicy({ plan }), leaky);
    expect(violations).toContainEqual(
      expect.stringContaining("aws: unmodelled addresses -> db is open for tcp/22"),
    );
  });

  it("an attachment unknown during the preview is reported as unknown (advisory), not proven", async () => {
    const resources = await resourcesOf(() => {});
    const web = resources.find((r) => r.name === "web")!;
    (web.props as Record<string, unknown>).vpcSecurityGroupIds = [UNKNOWN_VALUE];
    const unknown = validate(deployedStackUnknownPolicy({ plan }), resources);
    expect(unknown.join("\n")).toContain("not proven: instance web");
    // The mandatory policy does not call it proven either: web carries none of its groups yet.
    expect(validate(deployedStackPolicy({ plan }), resources).join("\n")).toContain("attached to no compute");
  });
});
