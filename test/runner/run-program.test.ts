import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  DuplicateUrnError,
  type RecordedResource,
  type RunResult,
  RunTimeoutError,
  runProgram,
} from "../../components/runner";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

function byName(result: RunResult, name: string): RecordedResource {
  const found = result.resources.filter((r) => r.name === name);
  expect(found, `exactly one resource named ${name}`).toHaveLength(1);
  return found[0]!;
}

class Segment extends pulumi.ComponentResource {
  readonly groupId: pulumi.Output<string>;
  constructor(name: string, args: { port: number }, opts?: pulumi.ComponentResourceOptions) {
    super("test:net:Segment", name, args, opts);
    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, { description: `segment ${name}` }, { parent: this });
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-in`,
      {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: args.port,
        toPort: args.port,
        referencedSecurityGroupId: sg.id,
      },
      { parent: sg },
    );
    this.groupId = sg.id;
    this.registerOutputs({ groupId: this.groupId });
  }
}

describe("runProgram: recording", () => {
  it("records custom resources with resolved inputs, mock ids and provider-format ids", async () => {
    const result = await runProgram(() => {
      const sg = new aws.ec2.SecurityGroup("web", { vpcId: "vpc-0abc", description: "web tier" });
      new aws.vpc.SecurityGroupIngressRule("web-https", {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "10.0.0.0/8",
      });
      return { webId: sg.id, webArn: sg.arn };
    });

    expect(result.resources.map((r) => [r.type, r.name])).toEqual([
      [SG, "web"],
      [INGRESS, "web-https"],
    ]);
    const sg = byName(result, "web");
    expect(sg.custom).toBe(true);
    expect(sg.urn).toBe("urn:pulumi:dev::blastradius-offline::aws:ec2/securityGroup:SecurityGroup::web");
    expect(sg.inputs).toEqual({ vpcId: "vpc-0abc", description: "web tier" });
    expect(sg.id).toMatch(/^sg-[0-9a-f]{17}$/);
    expect(sg.parent).toBeUndefined();
    expect(sg.provider).toBeUndefined();

    const rule = byName(result, "web-https");
    // The Output input resolved to the security group's mock id.
    expect(rule.inputs).toEqual({
      securityGroupId: sg.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "10.0.0.0/8",
    });
    expect(rule.id).toMatch(/^sgr-[0-9a-f]{17}$/);

    expect(result.outputs.webId).toBe(sg.id);
    expect(result.outputs.webArn).toBe(`arn:aws:ec2:us-east-1:123456789012:security-group/${sg.id}`);
    expect(result.stackUrn).toBe(
      "urn:pulumi:dev::blastradius-offline::pulumi:pulumi:Stack::blastradius-offline-dev",
    );
  });

  it("records components and their children with parent URNs", async () => {
    const result = await runProgram(() => {
      const seg = new Segment("db", { port: 5432 });
      return { dbGroup: seg.groupId };
    });

    expect(result.resources.map((r) => r.type).sort()).toEqual([INGRESS, SG, "test:net:Segment"].sort());
    const comp = byName(result, "db");
    expect(comp.custom).toBe(false);
    expect(comp.urn).toBe("urn:pulumi:dev::blastradius-offline::test:net:Segment::db");
    expect(comp.parent).toBeUndefined();
    expect(comp.inputs).toEqual({ port: 5432 });
    expect(comp.id).toBeUndefined();

    const sg = byName(result, "db-sg");
    expect(sg.parent).toBe(comp.urn);
    expect(sg.urn).toBe(
      "urn:pulumi:dev::blastradius-offline::test:net:Segment$aws:ec2/securityGroup:SecurityGroup::db-sg",
    );
    const rule = byName(result, "db-in");
    expect(rule.parent).toBe(sg.urn);
    expect(rule.urn).toBe(
      "urn:pulumi:dev::blastradius-offline::test:net:Segment$aws:ec2/securityGroup:SecurityGroup$" +
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::db-in",
    );
    expect(rule.inputs.securityGroupId).toBe(sg.id);
    expect(rule.inputs.referencedSecurityGroupId).toBe(sg.id);
    expect(result.outputs).toEqual({ dbGroup: sg.id });
  });

  it("waits for resources created inside apply callbacks (also nested ones)", async () => {
    const result = await runProgram(() => {
      const sg = new aws.ec2.SecurityGroup("base", {});
      sg.id.apply((id) => {
        const inner = new aws.ec2.SecurityGroup(`derived-${id.slice(3, 8)}`, { description: id });
        inner.arn.apply((arn) => {
          new aws.vpc.SecurityGroupEgressRule("deep", {
            securityGroupId: inner.id,
            ipProtocol: "-1",
            cidrIpv4: "0.0.0.0/0",
            description: arn,
          });
        });
      });
    });
    const base = byName(result, "base");
    const derived = result.resources.find((r) => r.name.startsWith("derived-"));
    expect(derived?.name).toBe(`derived-${base.id!.slice(3, 8)}`);
    expect(derived?.inputs.description).toBe(base.id);
    const deep = byName(result, "deep");
    expect(deep.type).toBe("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    expect(deep.inputs.securityGroupId).toBe(derived!.id);
    expect(deep.inputs.description).toMatch(/^arn:aws:ec2:us-east-1:123456789012:security-group\/sg-/);
  });

  it("records Kubernetes custom resources, explicit providers and secrets (unwrapped)", async () => {
    const result = await runProgram(() => {
      const provider = new k8s.Provider("cluster", { namespace: "shop" });
      const cnp = new k8s.apiextensions.CustomResource(
        "allow-web",
        {
          apiVersion: "cilium.io/v2",
          kind: "CiliumNetworkPolicy",
          metadata: { name: "allow-web", namespace: "shop", labels: { token: pulumi.secret("s3cr3t") } },
          spec: { endpointSelector: { matchLabels: { app: "web" } } },
        },
        { provider },
      );
      return { policyId: cnp.id };
    });
    const provider = byName(result, "cluster");
    expect(provider.type).toBe("pulumi:providers:kubernetes");
    expect(provider.custom).toBe(true);
    const cnp = byName(result, "allow-web");
    expect(cnp.type).toBe("kubernetes:cilium.io/v2:CiliumNetworkPolicy");
    expect(cnp.inputs).toEqual({
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: { name: "allow-web", namespace: "shop", labels: { token: "s3cr3t" } },
      spec: { endpointSelector: { matchLabels: { app: "web" } } },
    });
    expect(cnp.provider).toBe(`${provider.urn}::${provider.id}`);
    expect(cnp.id).toBe("shop/allow-web");
    expect(result.outputs.policyId).toBe("shop/allow-web");
  });

  it("passes config (namespaced, un-namespaced, structured) and answers common invokes", async () => {
    const result = await runProgram(
      async () => {
        const cfg = new pulumi.Config();
        const region = await aws.getRegion();
        const identity = await aws.getCallerIdentity();
        return {
          name: cfg.require("name"),
          port: cfg.requireNumber("port"),
          enabled: cfg.requireBoolean("enabled"),
          tiers: cfg.requireObject<{ tiers: string[] }>("layout").tiers,
          region: new pulumi.Config("aws").get("region"),
          invokedRegion: region.name,
          account: identity.accountId,
          project: pulumi.getProject(),
          stack: pulumi.getStack(),
          dryRun: pulumi.runtime.isDryRun(),
        };
      },
      {
        project: "cfgtest",
        stack: "qa",
        config: {
          name: "edge",
          "cfgtest:port": 8080,
          enabled: true,
          layout: { tiers: ["web", "db"] },
          "aws:region": "eu-central-1",
        },
      },
    );
    expect(result.outputs).toEqual({
      name: "edge",
      port: 8080,
      enabled: true,
      tiers: ["web", "db"],
      region: "eu-central-1",
      invokedRegion: "eu-central-1",
      account: "123456789012",
      project: "cfgtest",
      stack: "qa",
      dryRun: true,
    });
  });

  it("uses the region from config in ARNs, supports preview: false and custom mocks", async () => {
    const result = await runProgram(
      () => {
        const sg = new aws.ec2.SecurityGroup("app", {});
        const vpc = new aws.ec2.Vpc("main", { cidrBlock: "10.1.0.0/16" });
        return { arn: sg.arn, vpcId: vpc.id, owner: sg.ownerId, dryRun: pulumi.runtime.isDryRun() };
      },
      {
        preview: false,
        config: { "aws:region": "ap-south-1" },
        mocks: {
          newResource: (args) =>
            args.type === "aws:ec2/vpc:Vpc" ? { id: "vpc-fixed", state: { ownerId: "999" } } : undefined,
        },
      },
    );
    const sg = byName(result, "app");
    expect(result.outputs.arn).toBe(`arn:aws:ec2:ap-south-1:123456789012:security-group/${sg.id}`);
    expect(result.outputs.owner).toBe("123456789012");
    expect(result.outputs.vpcId).toBe("vpc-fixed");
    expect(byName(result, "main").id).toBe("vpc-fixed");
    expect(result.outputs.dryRun).toBe(false);
  });

  it("assigns deterministic ids (same program → same ids), distinct per URN", async () => {
    const program = () => {
      new aws.ec2.SecurityGroup("a", {});
      new aws.ec2.SecurityGroup("b", {});
    };
    const first = await runProgram(program);
    const second = await runProgram(program);
    expect(first.resources.map((r) => r.id)).toEqual(second.resources.map((r) => r.id));
    expect(byName(first, "a").id).not.toBe(byName(first, "b").id);
  });

  it("keeps Resource.get reads out of the registered resources", async () => {
    const result = await runProgram(() => {
      const existing = aws.ec2.SecurityGroup.get("existing", "sg-0123456789abcdef0");
      new aws.vpc.SecurityGroupIngressRule("to-existing", {
        securityGroupId: existing.id,
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "10.0.0.0/8",
      });
    });
    expect(result.resources.map((r) => r.name)).toEqual(["to-existing"]);
    expect(result.resources[0]!.inputs.securityGroupId).toBe("sg-0123456789abcdef0");
    expect(result.reads.map((r) => [r.type, r.name, r.id])).toEqual([
      ["aws:ec2/securityGroup:SecurityGroup", "existing", "sg-0123456789abcdef0"],
    ]);
  });

  it("captures pulumi.log messages instead of printing them", async () => {
    const result = await runProgram(() => {
      pulumi.log.info("hello");
      pulumi.log.warn("careful");
    });
    expect(result.logs).toEqual([
      { severity: "info", message: "hello" },
      { severity: "warning", message: "careful" },
    ]);
  });
});

describe("runProgram: failures", () => {
  it("rejects duplicate URNs with DuplicateUrnError naming the URN", async () => {
    const run = runProgram(() => {
      new aws.ec2.SecurityGroup("twice", { description: "one" });
      new aws.ec2.SecurityGroup("twice", { description: "two" });
    });
    await expect(run).rejects.toBeInstanceOf(DuplicateUrnError);
    await expect(run).rejects.toThrow(
      "Duplicate resource URN 'urn:pulumi:dev::blastradius-offline::aws:ec2/securityGroup:SecurityGroup::twice'",
    );
  });

  it("names both parents when two components create the same child URN", async () => {
    class Leaky extends pulumi.ComponentResource {
      constructor(name: string) {
        super("test:Leaky", name, {});
        // Child name not derived from the component name: both instances produce the same URN.
        new aws.ec2.SecurityGroup("shared", {}, { parent: this });
      }
    }
    const error = await runProgram(() => {
      new Leaky("left");
      new Leaky("right");
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DuplicateUrnError);
    const dup = error as DuplicateUrnError;
    expect(dup.urn).toBe(
      "urn:pulumi:dev::blastradius-offline::test:Leaky$aws:ec2/securityGroup:SecurityGroup::shared",
    );
    expect(dup.message).toContain("(parent urn:pulumi:dev::blastradius-offline::test:Leaky::left)");
    expect(dup.message).toContain("(parent urn:pulumi:dev::blastradius-offline::test:Leaky::right)");
    expect(dup.message).toContain('aws:ec2/securityGroup:SecurityGroup "shared"');
  });

  it("propagates a synchronous program error", async () => {
    await expect(
      runProgram(() => {
        new aws.ec2.SecurityGroup("before-error", {});
        throw new Error("sync failure 42");
      }),
    ).rejects.toThrow("sync failure 42");
  });

  it("propagates an asynchronous program error", async () => {
    await expect(
      runProgram(async () => {
        await new Promise((r) => setTimeout(r, 5));
        throw new Error("async failure 43");
      }),
    ).rejects.toThrow("async failure 43");
  });

  it("propagates an error thrown inside an apply nobody awaits", async () => {
    await expect(
      runProgram(() => {
        const sg = new aws.ec2.SecurityGroup("x", {});
        sg.id.apply(() => {
          throw new Error("apply failure 44");
        });
      }),
    ).rejects.toThrow("apply failure 44");
  });

  it("propagates an error thrown inside an apply feeding another resource", async () => {
    await expect(
      runProgram(() => {
        const sg = new aws.ec2.SecurityGroup("x", {});
        new aws.ec2.SecurityGroup("y", {
          description: sg.id.apply((): string => {
            throw new Error("apply failure 45");
          }),
        });
      }),
    ).rejects.toThrow("apply failure 45");
  });

  it("fails when the program logs an error, with the logged message", async () => {
    await expect(
      runProgram(() => {
        pulumi.log.error("policy violation 46");
      }),
    ).rejects.toThrow("policy violation 46");
  });

  it("restores the host's unhandledRejection/uncaughtException listeners after a failed run", async () => {
    const before = [process.listeners("unhandledRejection"), process.listeners("uncaughtException")];
    await expect(
      runProgram(() => {
        const sg = new aws.ec2.SecurityGroup("x", {});
        sg.id.apply(() => Promise.reject(new Error("late rejection 47")));
      }),
    ).rejects.toThrow("late rejection 47");
    expect([process.listeners("unhandledRejection"), process.listeners("uncaughtException")]).toEqual(before);
  });

  it("rejects with RunTimeoutError instead of hanging", async () => {
    const run = runProgram(() => new Promise(() => {}), { timeoutMs: 300 });
    await expect(run).rejects.toBeInstanceOf(RunTimeoutError);
  });
});

describe("runProgram: sequential runs are isolated", () => {
  it("does not leak resources, config, project/stack or failures between runs", async () => {
    const first = await runProgram(
      () => {
        new aws.ec2.SecurityGroup("only-in-first", {});
        return { x: new pulumi.Config().get("x") };
      },
      { project: "p1", stack: "s1", config: { x: "first" } },
    );

    await expect(
      runProgram(() => {
        new aws.ec2.SecurityGroup("in-failed-run", {});
        throw new Error("in between");
      }),
    ).rejects.toThrow("in between");

    const second = await runProgram(() => {
      new aws.ec2.Vpc("only-in-second", { cidrBlock: "10.0.0.0/16" });
      // Same name as in the first run: must not be a duplicate.
      new aws.ec2.SecurityGroup("only-in-first", {});
      return { x: new pulumi.Config("p1").get("x") ?? "unset", project: pulumi.getProject() };
    });

    const third = await runProgram(
      () => {
        new aws.ec2.SecurityGroup("third", {});
        return { stack: pulumi.getStack() };
      },
      { stack: "s3" },
    );

    expect(first.resources.map((r) => r.urn)).toEqual([
      "urn:pulumi:s1::p1::aws:ec2/securityGroup:SecurityGroup::only-in-first",
    ]);
    expect(first.outputs).toEqual({ x: "first" });
    // Order is the order the engine saw the registrations (not necessarily construction order).
    expect(second.resources.map((r) => r.urn).sort()).toEqual([
      "urn:pulumi:dev::blastradius-offline::aws:ec2/securityGroup:SecurityGroup::only-in-first",
      "urn:pulumi:dev::blastradius-offline::aws:ec2/vpc:Vpc::only-in-second",
    ]);
    expect(second.outputs).toEqual({ x: "unset", project: "blastradius-offline" });
    expect(third.resources.map((r) => r.name)).toEqual(["third"]);
    expect(third.outputs).toEqual({ stack: "s3" });
  });

  it("serializes concurrent calls instead of mixing them", async () => {
    const [a, b] = await Promise.all([
      runProgram(async () => {
        new aws.ec2.SecurityGroup("a1", {});
        await new Promise((r) => setTimeout(r, 20));
        new aws.ec2.SecurityGroup("a2", {});
      }),
      runProgram(() => {
        new aws.ec2.SecurityGroup("b1", {});
      }),
    ]);
    expect(a.resources.map((r) => r.name)).toEqual(["a1", "a2"]);
    expect(b.resources.map((r) => r.name)).toEqual(["b1"]);
  });
});
