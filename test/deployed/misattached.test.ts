import * as aws from "@pulumi/aws";
import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AwsSegmentation } from "../../components/aws";
import { AzureSegmentation } from "../../components/azure";
import { GcpSegmentation } from "../../components/gcp";
import { fails, planOf, reviewProgram } from "./support";

/*
 * Rules the library rendered, attached where the policy does not put them: a group or ASG rendered
 * for one segment carried by a workload of another. Every rule written for (or naming) that group
 * now admits the workload, so what it opens is checked against the policy in full, like a rule the
 * library did not render. And a workload class and a peer class that a target sees alike (both by
 * address) are each checked: one must not stand in for the other.
 */

const AMI = "ami-0123456789abcdef0";

const awsPlan = (withGcp: boolean) =>
  planOf({
    name: "misattached",
    workloads: [
      {
        name: "trainer",
        labels: { role: "training" },
        placements: { aws: { vpc: "ml", cidrs: ["10.10.1.0/24"] } },
      },
      { name: "web", labels: { role: "web" }, placements: { aws: { vpc: "ml", cidrs: ["10.20.0.0/24"] } } },
      ...(withGcp
        ? [
            {
              name: "feature",
              labels: { role: "lake" },
              placements: {
                gcp: {
                  network: "data",
                  serviceAccount: "lake@p.iam.gserviceaccount.com",
                  cidrs: ["10.40.0.0/20"],
                },
              },
            },
          ]
        : []),
    ],
    segments: { training: { matchLabels: { role: "training" } }, web: { matchLabels: { role: "web" } } },
    peers: { corp: { cidrs: ["10.200.0.0/16"] } },
    paths: [
      {
        name: "corp-to-web",
        from: "corp",
        to: "web",
        services: ["tcp/443"],
        owner: "o@x",
        justification: "j",
      },
    ],
  });

describe("AWS: a group rendered for another segment, carried by a workload", () => {
  const plan = awsPlan(false);
  const program = (trainerGroups: (net: AwsSegmentation) => pulumi.Input<pulumi.Input<string>[]>) => () => {
    const ml = new AwsSegmentation("ml", { vpc: "ml", vpcId: "vpc-ml", plan });
    new aws.ec2.Instance("web-0", {
      ami: AMI,
      instanceType: "t3.micro",
      subnetId: "subnet-1",
      vpcSecurityGroupIds: ml.securityGroupIdsFor("web"),
      tags: ml.tagsFor("web"),
    });
    new aws.ec2.Instance("trainer-0", {
      ami: AMI,
      instanceType: "t3.micro",
      subnetId: "subnet-1",
      vpcSecurityGroupIds: trainerGroups(ml),
      tags: ml.tagsFor("trainer"),
    });
  };

  it("wired with its own groups: nothing beyond the policy", async () => {
    const { review } = await reviewProgram(
      plan,
      program((ml) => ml.securityGroupIdsFor("trainer")),
    );
    expect(review.errors).toEqual([]);
    expect(fails(review)).toBe(false);
  });

  it("the trainer also carrying web's group is open to corp on tcp/443, named by web's rule", async () => {
    const { review } = await reviewProgram(
      plan,
      program((ml) =>
        pulumi
          .all([ml.securityGroupIdsFor("trainer"), ml.securityGroupIdsFor("web")])
          .apply(([a, b]) => [...new Set([...a, ...b])]),
      ),
    );
    expect(fails(review)).toBe(true);
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({
        target: "aws",
        from: "corp",
        to: "trainer",
        services: "tcp/443",
        reason: "beyond-policy",
        by: expect.stringContaining("corp-to-web"),
      }),
    );
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "foreign-rules",
        workload: "trainer",
        message: expect.stringContaining("segment web"),
      }),
    );
  });
});

describe("a rule outside the library is found whatever else the stack holds", () => {
  for (const withGcp of [false, true])
    it(`a hand-added ssh rule on the training group (${withGcp ? "with" : "without"} a GCP workload, which AWS sees by address like the peer)`, async () => {
      const plan = awsPlan(withGcp);
      const { review } = await reviewProgram(plan, () => {
        const ml = new AwsSegmentation("ml", { vpc: "ml", vpcId: "vpc-ml", plan });
        if (withGcp)
          new GcpSegmentation("data", {
            network: "data",
            networkId: "projects/corp/global/networks/data",
            project: "corp",
            plan,
          });
        for (const w of ["trainer", "web"])
          new aws.ec2.Instance(`${w}-0`, {
            ami: AMI,
            instanceType: "t3.micro",
            subnetId: "subnet-1",
            vpcSecurityGroupIds: ml.securityGroupIdsFor(w),
            tags: ml.tagsFor(w),
          });
        new aws.vpc.SecurityGroupIngressRule("hand-added-ssh", {
          securityGroupId: ml.securityGroupIds.apply((ids) => ids.training!),
          ipProtocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrIpv4: "10.200.0.0/16",
        });
      });
      expect(fails(review)).toBe(true);
      expect(review.unexplained).toContainEqual(
        expect.objectContaining({
          target: "aws",
          from: "corp",
          to: "trainer",
          services: "tcp/22",
          by: "hand-added-ssh",
          reason: "beyond-policy",
        }),
      );
    });
});

describe("Azure: an ASG rendered for another segment, carried by a workload's NIC", () => {
  const plan = planOf({
    name: "misattached-azure",
    workloads: [
      {
        name: "portal",
        labels: { tier: "portal" },
        placements: { azure: { vnet: "hub", cidrs: ["10.30.1.0/24"] } },
      },
      {
        name: "reports",
        labels: { tier: "reports" },
        placements: { azure: { vnet: "hub", cidrs: ["10.30.2.0/24"] } },
      },
    ],
    segments: { portal: { matchLabels: { tier: "portal" } }, reports: { matchLabels: { tier: "reports" } } },
    peers: { corp: { cidrs: ["10.200.0.0/16"] } },
    paths: [
      {
        name: "corp-to-portal",
        from: "corp",
        to: "portal",
        services: ["tcp/443"],
        owner: "o@x",
        justification: "j",
      },
    ],
  });
  const RG = "rg-hub";
  const program =
    (reportsAsgs: (net: AzureSegmentation) => pulumi.Input<pulumi.Input<{ id: string }>[]>) => () => {
      const net = new AzureSegmentation("hub", {
        vnet: "hub",
        plan,
        resourceGroupName: RG,
        location: "westeurope",
        virtualNetworkName: "vnet-hub",
        subnets: [
          { name: "portal", addressPrefixes: ["10.30.1.0/24"] },
          { name: "reports", addressPrefixes: ["10.30.2.0/24"] },
        ],
      });
      const nic = (w: string, asgs: pulumi.Input<pulumi.Input<{ id: string }>[]>) =>
        new network.NetworkInterface(`${w}-nic`, {
          resourceGroupName: RG,
          networkInterfaceName: `${w}-nic`,
          tags: net.tagsFor(w),
          ipConfigurations: [
            {
              name: "ipconfig1",
              subnet: { id: net.subnetIds.apply((ids) => ids[w]!) },
              applicationSecurityGroups: asgs,
            },
          ],
        });
      nic("portal", net.applicationSecurityGroupsFor("portal"));
      nic("reports", reportsAsgs(net));
    };

  it("wired with its own ASGs: nothing beyond the policy", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => net.applicationSecurityGroupsFor("reports")),
    );
    expect(review.errors).toEqual([]);
    expect(fails(review)).toBe(false);
  });

  it("the reports NIC also in portal's ASG is open to corp on tcp/443", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) =>
        pulumi
          .all([net.applicationSecurityGroupsFor("reports"), net.applicationSecurityGroupsFor("portal")])
          .apply(([a, b]) => [...a, ...b]),
      ),
    );
    expect(fails(review)).toBe(true);
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({
        target: "azure",
        from: "corp",
        to: "reports",
        services: "tcp/443",
        reason: "beyond-policy",
      }),
    );
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "foreign-rules", workload: "reports" }),
    );
  });
});

describe("a target the policy places workloads on, with nothing of it in the stack", () => {
  it("is an unrendered error naming the target and its workloads (a component left out proves nothing)", async () => {
    const plan = awsPlan(true);
    const { review } = await reviewProgram(plan, () => {
      // The GCP component only: the AWS one is left out (or switched off by config).
      new GcpSegmentation("data", {
        network: "data",
        networkId: "projects/corp/global/networks/data",
        project: "corp",
        plan,
      });
    });
    expect(fails(review)).toBe(true);
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        target: "aws",
        kind: "unrendered",
        severity: "error",
        message: expect.stringContaining("(trainer, web)"),
      }),
    );
    expect(review.findings.filter((f) => f.kind === "unrendered").map((f) => f.target)).toEqual(["aws"]);
  });
});
