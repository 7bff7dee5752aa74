import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { AwsSegmentation } from "../../components/aws";
import { awsBinding } from "../../lib/targets/aws";
import { fails, planOf, reviewProgram, verdict } from "./support";

/*
 * How the AWS proof binds compute to workloads, on the shapes a stack can take beyond one instance
 * per workload: security groups attached to an instance's primary interface, interfaces the stack
 * does not record, one instance with interfaces of two workloads, spot requests, launch
 * configurations and fleets, launch-template tags, fixed private addresses. Each program is one a
 * user could write; the review must never pass with compute or groups it cannot see.
 */

const plan = planOf({
  name: "binding",
  workloads: [
    {
      name: "trainer",
      labels: { role: "training" },
      placements: { aws: { vpc: "ml", cidrs: ["10.10.1.0/24"] } },
    },
    {
      name: "lake",
      labels: { role: "datalake" },
      placements: { aws: { vpc: "ml", cidrs: ["10.20.0.0/24"] } },
    },
    {
      name: "billing",
      labels: { role: "billing" },
      placements: { aws: { vpc: "ml", cidrs: ["10.40.0.0/24"] } },
    },
  ],
  segments: {
    training: { matchLabels: { role: "training" } },
    datalake: { matchLabels: { role: "datalake" } },
    billing: { matchLabels: { role: "billing" } },
  },
  peers: { corp: { cidrs: ["10.200.0.0/16"] } },
  paths: [
    {
      name: "training-reads-lake",
      from: "training",
      to: "datalake",
      services: ["tcp/443"],
      owner: "ml@example.com",
      justification: "Training reads datasets.",
    },
    {
      name: "no-corp-to-training",
      from: "corp",
      to: "training",
      verdict: "forbid",
      owner: "secops@example.com",
      justification: "A laptop must not reach the GPUs.",
    },
    {
      name: "lake-to-billing",
      from: "datalake",
      to: "billing",
      services: ["tcp/5432"],
      owner: "ml@example.com",
      justification: "Usage records.",
    },
    {
      name: "no-training-to-billing",
      from: "training",
      to: "billing",
      verdict: "forbid",
      owner: "secops@example.com",
      justification: "Training never touches billing.",
    },
  ],
});

const AMI = "ami-0123456789abcdef0";
const VPC = "vpc-0a1b2c3d";

/** The segmentation, one helper-wired instance per workload (but `skip`), then `extra`. */
function program(extra: (net: AwsSegmentation) => void, skip: string[] = []) {
  return () => {
    const net = new AwsSegmentation("ml", { vpc: "ml", vpcId: VPC, plan });
    for (const w of ["trainer", "lake", "billing"])
      if (!skip.includes(w))
        new aws.ec2.Instance(`${w}-0`, {
          ami: AMI,
          instanceType: "t3.micro",
          subnetId: "subnet-1",
          vpcSecurityGroupIds: net.securityGroupIdsFor(w),
          tags: net.tagsFor(w),
        });
    extra(net);
    return net;
  };
}

/** A group the library did not render, open to the world on ssh. */
const ssh = () =>
  new aws.ec2.SecurityGroup("extra-ssh", {
    vpcId: VPC,
    ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
  });

const errorsOf = (review: Awaited<ReturnType<typeof reviewProgram>>["review"]) =>
  review.findings.filter((f) => f.target === "aws" && f.severity === "error");

describe("AWS binding: the helpers' baseline", () => {
  it("one helper-wired instance per workload: proven, no error", async () => {
    const { review } = await reviewProgram(
      plan,
      program(() => {}),
    );
    expect(review.errors).toEqual([]);
    expect(review.ok).toBe(true);
    expect(verdict(review, "no-training-to-billing", "aws")?.status).toBe("blocked");
  });
});

describe("AWS binding: security groups attached to an interface (NetworkInterfaceSecurityGroupAttachment)", () => {
  it("a group attached to a tagged instance's primaryNetworkInterfaceId is carried by that instance", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const t = new aws.ec2.Instance("trainer-1", {
          ami: AMI,
          instanceType: "t3.micro",
          subnetId: "subnet-1",
          vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
        new aws.ec2.NetworkInterfaceSecurityGroupAttachment("ssh-on-trainer", {
          networkInterfaceId: t.primaryNetworkInterfaceId,
          securityGroupId: ssh().id,
        });
      }),
    );
    expect(fails(review)).toBe(true);
    // The ssh group opens tcp/22 from anywhere, corp included, to that trainer instance.
    expect(verdict(review, "no-corp-to-training", "aws")?.status).toBe("open");
    expect(review.findings.some((f) => f.kind === "foreign-rules" && f.workload === "trainer")).toBe(true);
  });

  it("a group attached to an interface id the stack cannot tie to compute is an unknown error", async () => {
    const { review } = await reviewProgram(
      plan,
      program(() => {
        new aws.ec2.NetworkInterfaceSecurityGroupAttachment("ssh-on-eni", {
          networkInterfaceId: "eni-0aaaabbbbccccdddd",
          securityGroupId: ssh().id,
        });
      }),
    );
    expect(fails(review)).toBe(true);
    const f = errorsOf(review).find((x) => x.kind === "unknown" && x.resource === "ssh-on-eni");
    expect(f?.message).toContain("eni-0aaaabbbbccccdddd");
  });
});

describe("AWS binding: interfaces the stack does not record", () => {
  it("a tagged instance given an interface the stack does not create is an unknown error", async () => {
    const { review } = await reviewProgram(
      plan,
      program(() => {
        new aws.ec2.Instance("trainer-1", {
          ami: AMI,
          instanceType: "t3.micro",
          networkInterfaces: [{ networkInterfaceId: "eni-0existing00000001", deviceIndex: 0 }],
          tags: { "blastradius:workload": "trainer" },
        });
      }),
    );
    expect(fails(review)).toBe(true);
    const f = errorsOf(review).find((x) => x.kind === "unknown" && x.resource === "trainer-1");
    expect(f?.message).toContain("eni-0existing00000001");
  });
});

describe("AWS binding: one instance, interfaces of two workloads", () => {
  it("a lake-tagged interface attached to a trainer instance is an error (the instance sends with lake's groups)", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const t = new aws.ec2.Instance("trainer-1", {
          ami: AMI,
          instanceType: "t3.micro",
          subnetId: "subnet-1",
          vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
        const eni = new aws.ec2.NetworkInterface("lake-eni", {
          subnetId: "subnet-1",
          securityGroups: net.securityGroupIdsFor("lake"),
          tags: net.tagsFor("lake"),
        });
        new aws.ec2.NetworkInterfaceAttachment("att", {
          instanceId: t.id,
          networkInterfaceId: eni.id,
          deviceIndex: 1,
        });
      }),
    );
    expect(fails(review)).toBe(true);
    const f = errorsOf(review).find((x) => x.kind === "unbound-compute" && x.resource === "trainer-1");
    expect(f?.message).toContain('workload "lake": network interface lake-eni');
  });

  it("interfaces given to one instance and tagged for two workloads are an error", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const a = new aws.ec2.NetworkInterface("trainer-eni", {
          subnetId: "subnet-1",
          securityGroups: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
        const b = new aws.ec2.NetworkInterface("lake-eni", {
          subnetId: "subnet-1",
          securityGroups: net.securityGroupIdsFor("lake"),
          tags: net.tagsFor("lake"),
        });
        new aws.ec2.Instance("two-faced", {
          ami: AMI,
          instanceType: "t3.micro",
          networkInterfaces: [
            { networkInterfaceId: a.id, deviceIndex: 0 },
            { networkInterfaceId: b.id, deviceIndex: 1 },
          ],
        });
      }),
    );
    expect(fails(review)).toBe(true);
    expect(errorsOf(review).some((x) => x.kind === "unbound-compute" && x.resource === "two-faced")).toBe(
      true,
    );
  });

  it("an untagged interface attached to a tagged instance is bound with it (no error)", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const t = new aws.ec2.Instance("trainer-1", {
          ami: AMI,
          instanceType: "t3.micro",
          subnetId: "subnet-1",
          vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
        const eni = new aws.ec2.NetworkInterface("t1-eni", {
          subnetId: "subnet-1",
          securityGroups: net.securityGroupIdsFor("trainer"),
        });
        new aws.ec2.NetworkInterfaceAttachment("att", {
          instanceId: t.id,
          networkInterfaceId: eni.id,
          deviceIndex: 1,
        });
      }),
    );
    expect(review.errors).toEqual([]);
  });
});

describe("AWS binding: spot requests, launch configurations, Auto Scaling groups, fleets", () => {
  it("a spot instance request is read like an instance: tagged trainer with lake's groups opens training -> billing", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        new aws.ec2.SpotInstanceRequest("spot-trainer", {
          ami: AMI,
          instanceType: "t3.micro",
          subnetId: "subnet-1",
          vpcSecurityGroupIds: net.securityGroupIdsFor("lake"),
          tags: net.tagsFor("trainer"),
        });
      }),
    );
    expect(fails(review)).toBe(true);
    expect(verdict(review, "no-training-to-billing", "aws")?.status).toBe("open");
  });

  it("a helper-wired spot instance request alone binds its workload (no error)", async () => {
    const { review } = await reviewProgram(
      plan,
      program(
        (net) => {
          new aws.ec2.SpotInstanceRequest("spot-trainer", {
            ami: AMI,
            instanceType: "t3.micro",
            subnetId: "subnet-1",
            vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
            tags: net.tagsFor("trainer"),
          });
        },
        ["trainer"],
      ),
    );
    expect(review.errors).toEqual([]);
    expect(verdict(review, "no-training-to-billing", "aws")?.status).toBe("blocked");
  });

  it("an untagged Auto Scaling group from a launch configuration carrying lake's groups is unmodelled compute reaching billing", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const lc = new aws.ec2.LaunchConfiguration("lc", {
          imageId: AMI,
          instanceType: "t3.micro",
          securityGroups: net.securityGroupIdsFor("lake"),
        });
        new aws.autoscaling.Group("asg", {
          launchConfiguration: lc.name,
          minSize: 1,
          maxSize: 1,
          vpcZoneIdentifiers: ["subnet-1"],
        });
      }),
    );
    expect(fails(review)).toBe(true);
    expect(review.findings.some((f) => f.kind === "unbound-compute" && f.resource === "asg")).toBe(true);
    expect(review.errors.some((e) => e.includes("auto scaling group asg -> billing"))).toBe(true);
  });

  it("an Auto Scaling group's propagated workload tag binds what it launches from a launch configuration", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const lc = new aws.ec2.LaunchConfiguration("lc", {
          imageId: AMI,
          instanceType: "t3.micro",
          securityGroups: net.securityGroupIdsFor("lake"),
        });
        new aws.autoscaling.Group("asg", {
          launchConfiguration: lc.name,
          minSize: 1,
          maxSize: 1,
          vpcZoneIdentifiers: ["subnet-1"],
          tags: [{ key: "blastradius:workload", value: "trainer", propagateAtLaunch: true }],
        });
      }),
    );
    expect(verdict(review, "no-training-to-billing", "aws")?.status).toBe("open");
  });

  it("an Auto Scaling group launching from a configuration the stack does not record is an unknown error", async () => {
    const { review } = await reviewProgram(
      plan,
      program(() => {
        new aws.autoscaling.Group("asg", {
          launchConfiguration: "legacy-lc",
          minSize: 1,
          maxSize: 1,
          vpcZoneIdentifiers: ["subnet-1"],
        });
      }),
    );
    expect(fails(review)).toBe(true);
    const f = errorsOf(review).find((x) => x.kind === "unknown" && x.resource === "asg");
    expect(f?.message).toContain("legacy-lc");
  });

  it("an Auto Scaling group tagging a template's instances with another workload than the template's is an error", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const lt = new aws.ec2.LaunchTemplate("trainer-lt", {
          imageId: AMI,
          vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
        new aws.autoscaling.Group("asg", {
          launchTemplate: { id: lt.id },
          minSize: 1,
          maxSize: 1,
          vpcZoneIdentifiers: ["subnet-1"],
          tags: [{ key: "blastradius:workload", value: "lake", propagateAtLaunch: true }],
        });
      }),
    );
    expect(errorsOf(review).some((x) => x.kind === "unbound-compute" && x.resource === "trainer-lt")).toBe(
      true,
    );
  });

  it("an EC2 Fleet is read through its launch template; one the stack does not record is an unknown error", async () => {
    const ok = await reviewProgram(
      plan,
      program((net) => {
        const lt = new aws.ec2.LaunchTemplate("trainer-lt", {
          imageId: AMI,
          vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
        new aws.ec2.Fleet("fleet", {
          launchTemplateConfigs: [
            { launchTemplateSpecification: { launchTemplateId: lt.id, version: "$Latest" } },
          ],
          targetCapacitySpecification: { defaultTargetCapacityType: "spot", totalTargetCapacity: 1 },
        });
      }),
    );
    expect(ok.review.errors).toEqual([]);
    const { review } = await reviewProgram(
      plan,
      program(() => {
        new aws.ec2.Fleet("fleet", {
          launchTemplateConfigs: [
            { launchTemplateSpecification: { launchTemplateId: "lt-0123456789abcdef0", version: "$Latest" } },
          ],
          targetCapacitySpecification: { defaultTargetCapacityType: "spot", totalTargetCapacity: 1 },
        });
      }),
    );
    expect(fails(review)).toBe(true);
    const f = errorsOf(review).find((x) => x.kind === "unknown" && x.resource === "fleet");
    expect(f?.message).toContain("lt-0123456789abcdef0");
  });

  it("a Spot Fleet request's launch specifications are read like instances; an unrecorded template is an unknown error", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        new aws.ec2.SpotFleetRequest("spot-fleet", {
          iamFleetRole: "arn:aws:iam::123456789012:role/fleet",
          targetCapacity: 1,
          launchSpecifications: [
            {
              ami: AMI,
              instanceType: "t3.micro",
              subnetId: "subnet-1",
              vpcSecurityGroupIds: net.securityGroupIdsFor("lake"),
              tags: net.tagsFor("trainer"),
            },
          ],
          launchTemplateConfigs: [{ launchTemplateSpecification: { name: "legacy-template", version: "1" } }],
        });
      }),
    );
    expect(verdict(review, "no-training-to-billing", "aws")?.status).toBe("open");
    const f = errorsOf(review).find((x) => x.kind === "unknown" && x.resource === "spot-fleet");
    expect(f?.message).toContain("legacy-template");
  });
});

describe("AWS binding: fixed private addresses", () => {
  it("a bound instance whose privateIp lies outside its workload's cidrs is an error", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        new aws.ec2.Instance("trainer-odd", {
          ami: AMI,
          instanceType: "t3.micro",
          subnetId: "subnet-1",
          privateIp: "10.20.0.9",
          vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
      }),
    );
    expect(fails(review)).toBe(true);
    const f = errorsOf(review).find((x) => x.kind === "unbound-compute" && x.resource === "trainer-odd");
    expect(f?.message).toContain("10.20.0.9");
  });

  it("a bound interface with privateIps outside its workload's cidrs is an error; inside them is not", async () => {
    const outside = await reviewProgram(
      plan,
      program((net) => {
        new aws.ec2.NetworkInterface("trainer-eni", {
          subnetId: "subnet-1",
          privateIps: ["10.10.1.7", "10.40.0.7"],
          securityGroups: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
      }),
    );
    expect(
      errorsOf(outside.review).some((x) => x.kind === "unbound-compute" && x.resource === "trainer-eni"),
    ).toBe(true);
    const inside = await reviewProgram(
      plan,
      program((net) => {
        new aws.ec2.NetworkInterface("trainer-eni", {
          subnetId: "subnet-1",
          privateIps: ["10.10.1.7"],
          securityGroups: net.securityGroupIdsFor("trainer"),
          tags: net.tagsFor("trainer"),
        });
      }),
    );
    expect(inside.review.errors).toEqual([]);
  });
});

describe("AWS binding: instances launched from a launch template", () => {
  it("an untagged instance inherits the template's instance tag (tagSpecifications), as AWS tags it at launch", async () => {
    const { review } = await reviewProgram(
      plan,
      program(
        (net) => {
          const lt = new aws.ec2.LaunchTemplate("trainer-lt", {
            imageId: AMI,
            vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
            tagSpecifications: [{ resourceType: "instance", tags: net.tagsFor("trainer") }],
          });
          new aws.ec2.Instance("from-lt", { launchTemplate: { id: lt.id } });
        },
        ["trainer"],
      ),
    );
    expect(review.errors).toEqual([]);
    expect(verdict(review, "no-training-to-billing", "aws")?.status).toBe("blocked");
  });

  it("the instance's own tag wins over the template's: tagged lake from a trainer template is lake carrying trainer's groups", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        const lt = new aws.ec2.LaunchTemplate("trainer-lt", {
          imageId: AMI,
          vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          tagSpecifications: [{ resourceType: "instance", tags: net.tagsFor("trainer") }],
        });
        new aws.ec2.Instance("from-lt", { launchTemplate: { id: lt.id }, tags: net.tagsFor("lake") });
      }),
    );
    expect(
      review.findings.some(
        (f) => f.kind === "foreign-rules" && f.workload === "lake" && f.message.includes("ml-training"),
      ),
    ).toBe(true);
  });

  it("an instance launched from a template the stack does not record is an unknown error", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net) => {
        new aws.ec2.Instance("from-lt", {
          launchTemplate: { name: "golden-image" },
          tags: net.tagsFor("trainer"),
        });
      }),
    );
    expect(fails(review)).toBe(true);
    const f = errorsOf(review).find((x) => x.kind === "unknown" && x.resource === "from-lt");
    expect(f?.message).toContain("golden-image");
  });
});

describe("AWS binding: what the records say once applied (the policy pack reads outputs)", () => {
  it("a group attached to a literal interface id that is an instance's recorded primaryNetworkInterfaceId joins that instance", () => {
    const { computes, issues } = awsBinding([
      { type: "aws:ec2/securityGroup:SecurityGroup", name: "ssh", id: "sg-1", inputs: { vpcId: VPC } },
      {
        type: "aws:ec2/instance:Instance",
        name: "trainer-0",
        id: "i-1",
        inputs: {
          vpcSecurityGroupIds: ["sg-0"],
          primaryNetworkInterfaceId: "eni-9",
          tags: { "blastradius:workload": "trainer" },
        },
      },
      {
        type: "aws:ec2/networkInterfaceSecurityGroupAttachment:NetworkInterfaceSecurityGroupAttachment",
        name: "att",
        inputs: { networkInterfaceId: "eni-9", securityGroupId: "sg-1" },
      },
    ]);
    expect(issues).toEqual([]);
    expect(computes.find((c) => c.resource === "trainer-0")?.groups).toEqual(["sg-0", "sg-1"]);
  });
});

describe("AWS binding: an Auto Scaling group's propagated tag binds the template it launches from", () => {
  it("an untagged template launched by an ASG tagged trainer (propagated) is trainer's compute", async () => {
    const { review } = await reviewProgram(
      plan,
      program(
        (net) => {
          const lt = new aws.ec2.LaunchTemplate("trainer-lt", {
            imageId: AMI,
            vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
          });
          new aws.autoscaling.Group("asg", {
            launchTemplate: { id: lt.id },
            minSize: 1,
            maxSize: 1,
            vpcZoneIdentifiers: ["subnet-1"],
            tags: [{ key: "blastradius:workload", value: "trainer", propagateAtLaunch: true }],
          });
        },
        ["trainer"],
      ),
    );
    expect(review.errors).toEqual([]);
    expect(verdict(review, "no-training-to-billing", "aws")?.status).toBe("blocked");
  });
});
