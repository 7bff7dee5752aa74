import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AwsSegmentation } from "../../components/aws";
import { fails, planOf, reviewProgram, verdict } from "./support";

/*
 * The AWS proof reads what the stack attaches (issue: "the proof holds for the stack as
 * deployed"). Each program here is what a user could write; the review must see what the
 * instances really carry, whoever created it.
 */

const plan = planOf({
  name: "deployed",
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
    { name: "loner", labels: { role: "misc" }, placements: { aws: { vpc: "ml", cidrs: ["10.30.0.0/24"] } } },
  ],
  segments: {
    training: { matchLabels: { role: "training" } },
    datalake: { matchLabels: { role: "datalake" } },
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
  ],
});

const AMI = "ami-0123456789abcdef0";

/** The segmentation and one instance per workload, each wired as `wire` says (default: the helpers). */
function program(
  wire: (net: AwsSegmentation, workload: string) => Partial<aws.ec2.InstanceArgs> | undefined = (net, w) => ({
    vpcSecurityGroupIds: net.securityGroupIdsFor(w),
    tags: net.tagsFor(w),
  }),
) {
  return () => {
    const net = new AwsSegmentation("ml", { vpc: "ml", vpcId: "vpc-0a1b2c3d", plan });
    for (const w of ["trainer", "lake", "loner"]) {
      const args = wire(net, w);
      if (args)
        new aws.ec2.Instance(`${w}-0`, { ami: AMI, instanceType: "t3.micro", subnetId: "subnet-1", ...args });
    }
    return net;
  };
}

describe("AWS: the proof reads what the instances carry", () => {
  it("instances wired with the helpers: proven, nothing unexplained (the baseline closes the workload in no segment)", async () => {
    const { review } = await reviewProgram(plan, program());
    expect(review.binding.aws).toBe("bound");
    expect(review.errors).toEqual([]);
    expect(review.unexplained).toEqual([]);
    expect(review.ok).toBe(true);
    expect(verdict(review, "no-corp-to-training", "aws")?.status).toBe("blocked");
    expect(verdict(review, "training-reads-lake", "aws")?.status).toBe("open");
  });

  it("an extra, untagged group allowing 0.0.0.0/0 tcp/22 on the trainer opens the forbid and fails the review, naming the rule", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net, w) => {
        const groups = net.securityGroupIdsFor(w);
        if (w !== "trainer") return { vpcSecurityGroupIds: groups, tags: net.tagsFor(w) };
        const ssh = new aws.ec2.SecurityGroup("extra-ssh", {
          vpcId: "vpc-0a1b2c3d",
          ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
        });
        return {
          vpcSecurityGroupIds: pulumi.all([groups, ssh.id]).apply(([g, s]) => [...g, s]),
          tags: net.tagsFor(w),
        };
      }),
    );
    const f = verdict(review, "no-corp-to-training", "aws");
    expect(f).toMatchObject({ status: "open", by: "extra-ssh inline ingress[0]", open: "tcp/22" });
    expect(review.ok).toBe(false);
    // The rule also admits every unclaimed address and lets the review say so.
    expect(review.unexplained.map((u) => [u.from, u.to, u.services, u.by])).toContainEqual([
      "unmodelled addresses",
      "trainer",
      "tcp/22",
      "extra-ssh inline ingress[0]",
    ]);
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "foreign-rules", workload: "trainer", severity: "warning" }),
    );
  });

  it("the same rule added to the training group itself (outside the library) is found the same way", async () => {
    const { review } = await reviewProgram(plan, () => {
      const net = program()();
      new aws.vpc.SecurityGroupIngressRule("hand-added-ssh", {
        securityGroupId: net.securityGroupIds.apply((ids) => ids.training!),
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "10.0.0.0/8",
      });
    });
    expect(verdict(review, "no-corp-to-training", "aws")).toMatchObject({
      status: "open",
      by: "hand-added-ssh",
    });
    expect(review.errors.some((e) => e.includes("hand-added-ssh"))).toBe(true);
  });

  it("an instance with no group at all runs with the VPC's default group: open egress, the training group attached to nothing", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net, w) =>
        w === "trainer"
          ? { tags: net.tagsFor(w) }
          : { vpcSecurityGroupIds: net.securityGroupIdsFor(w), tags: net.tagsFor(w) },
      ),
    );
    expect(fails(review)).toBe(true);
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "unattached", severity: "error", resource: "ml-training" }),
    );
    // Training no longer carries its group: the lake's ingress (by group) drops it.
    expect(verdict(review, "training-reads-lake", "aws")?.status).toBe("broken");
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({
        from: "trainer",
        to: "unmodelled addresses",
        services: "any",
        reason: "unmodelled",
      }),
    );
  });

  it("a typo in the segment key (securityGroupIds['trainig']) is the same as no group, and the helper refuses the typo outright", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net, w) => ({
        vpcSecurityGroupIds:
          w === "trainer"
            ? net.securityGroupIds.apply((ids) => [(ids as Record<string, string>).trainig!].filter((x) => x))
            : net.securityGroupIdsFor(w),
        tags: net.tagsFor(w),
      })),
    );
    expect(fails(review)).toBe(true);
    expect(
      review.errors.some(
        (e) => e.includes("security group ml-training") && e.includes("attached to no compute"),
      ),
    ).toBe(true);
    await expect(
      reviewProgram(
        plan,
        program((net, w) => ({
          vpcSecurityGroupIds: net.securityGroupIdsFor(w === "trainer" ? "trainr" : w),
        })),
      ),
    ).rejects.toThrow('"trainr" is not a workload placed in VPC "ml" (placed there: trainer, lake, loner)');
  });

  it("a workload in no segment whose instance carries nothing is open; with the baseline group it is closed", async () => {
    const open = await reviewProgram(
      plan,
      program((net, w) =>
        w === "loner"
          ? { tags: net.tagsFor(w) }
          : { vpcSecurityGroupIds: net.securityGroupIdsFor(w), tags: net.tagsFor(w) },
      ),
    );
    expect(open.review.ok).toBe(true);
    expect(
      open.review.errors.some((e) => e.startsWith("aws: loner -> unmodelled addresses is open for any")),
    ).toBe(true);
    const closed = await reviewProgram(plan, program());
    expect(closed.review.errors).toEqual([]);
  });

  it("compute bound to no workload is an unmodelled endpoint: carrying the training group, it reaches the lake", async () => {
    const { review } = await reviewProgram(plan, () => {
      const net = program()();
      new aws.ec2.Instance("stray", {
        ami: AMI,
        instanceType: "t3.micro",
        vpcSecurityGroupIds: net.securityGroupIdsFor("trainer"),
      });
    });
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "unbound-compute", severity: "warning", resource: "stray" }),
    );
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({
        from: "instance stray",
        to: "lake",
        services: "tcp/443",
        reason: "unmodelled",
      }),
    );
    expect(fails(review)).toBe(true);
  });

  it("a tag naming no workload, and a workload with no compute, are errors naming both", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net, w) =>
        w === "lake"
          ? { vpcSecurityGroupIds: net.securityGroupIdsFor(w), tags: { "blastradius:workload": "lak" } }
          : { vpcSecurityGroupIds: net.securityGroupIdsFor(w), tags: net.tagsFor(w) },
      ),
    );
    expect(review.errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'instance lake-0 is tagged blastradius:workload=lak, but policy "deployed" has no workload of that name (did you mean "lake"?)',
        ),
        expect.stringContaining(
          'workload "lake" is placed in VPC ml but no compute of this stack is bound to it',
        ),
      ]),
    );
  });

  it("a group the stack does not create is an error: its rules cannot be read", async () => {
    const { review } = await reviewProgram(
      plan,
      program((net, w) => ({
        vpcSecurityGroupIds:
          w === "lake"
            ? net.securityGroupIdsFor(w).apply((g) => [...g, "sg-0feedfacecafe0001"])
            : net.securityGroupIdsFor(w),
        tags: net.tagsFor(w),
      })),
    );
    expect(
      review.errors.some((e) =>
        e.includes("carries security group sg-0feedfacecafe0001, which this stack does not create"),
      ),
    ).toBe(true);
  });

  it("with no compute in the stack the binding contract is assumed (and the review says so)", async () => {
    const { review } = await reviewProgram(plan, () => {
      new AwsSegmentation("ml", { vpc: "ml", vpcId: "vpc-0a1b2c3d", plan });
    });
    expect(review.binding.aws).toBe("assumed");
    expect(review.errors).toEqual([]);
    expect(review.ok).toBe(true);
  });
});
