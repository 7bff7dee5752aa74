import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runProgram } from "../../components/runner";

const SG = "aws:ec2/securityGroup:SecurityGroup";

/** Appends `mark` to a resource's `description` input (and records the order transforms ran in). */
const marking =
  (mark: string): pulumi.ResourceTransform =>
  (args) =>
    args.type === SG
      ? { props: { ...args.props, description: `${args.props.description ?? ""}${mark}` }, opts: args.opts }
      : undefined;

class Group extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:net:Group", name, {}, opts);
    new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { description: "d" },
      { parent: this, transforms: [marking("+own")] },
    );
    this.registerOutputs({});
  }
}

describe("resource transforms under the runner", () => {
  it("runs registerResourceTransform and `transforms` options in the engine's order: own, parents, stack", async () => {
    const result = await runProgram(() => {
      pulumi.runtime.registerResourceTransform(marking("+stack"));
      new Group("g", { transforms: [marking("+parent")] });
      new aws.ec2.SecurityGroup("plain", { description: "p" });
    });
    const sg = result.resources.filter((r) => r.type === SG).sort((a, b) => a.name.localeCompare(b.name));
    expect(sg.map((r) => [r.name, r.inputs.description])).toEqual([
      ["g-sg", "d+own+parent+stack"],
      ["plain", "p+stack"],
    ]);
  });

  it("lets a transform change options: what it sets is recorded", async () => {
    const result = await runProgram(() => {
      pulumi.runtime.registerResourceTransform((args) =>
        args.type === SG
          ? {
              props: args.props,
              opts: pulumi.mergeOptions(args.opts, { protect: true, ignoreChanges: ["tags"] }),
            }
          : undefined,
      );
      new aws.ec2.SecurityGroup("locked", { description: "x" });
    });
    expect(result.resources.find((r) => r.name === "locked")?.options).toEqual({
      protect: true,
      ignoreChanges: ["tags"],
    });
  });
});

describe("dependencies and options as the engine records them", () => {
  it("records dependsOn, the resources each input came from, and deleteBeforeReplace", async () => {
    const result = await runProgram(() => {
      const a = new aws.ec2.SecurityGroup("a", { description: "a" });
      const b = new aws.ec2.SecurityGroup("b", { description: "b" }, { dependsOn: [a] });
      new aws.vpc.SecurityGroupIngressRule(
        "rule",
        { securityGroupId: b.id, referencedSecurityGroupId: a.id, ipProtocol: "tcp", fromPort: 1, toPort: 1 },
        { deleteBeforeReplace: true },
      );
    });
    const urn = (n: string) => result.resources.find((r) => r.name === n)!.urn;
    const b = result.resources.find((r) => r.name === "b")!;
    expect(b.dependencies).toEqual([urn("a")]);
    const rule = result.resources.find((r) => r.name === "rule")!;
    expect(rule.propertyDependencies).toEqual({
      securityGroupId: [urn("b")],
      referencedSecurityGroupId: [urn("a")],
    });
    expect([...(rule.dependencies ?? [])].sort()).toEqual([urn("a"), urn("b")].sort());
    expect(rule.options).toEqual({ deleteBeforeReplace: true });
    expect(result.resources.find((r) => r.name === "a")).not.toHaveProperty("dependencies");
  });
});
