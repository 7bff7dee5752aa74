import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { reviewCommand } from "../../../cli/commands/review";
import { AwsSegmentation } from "../../../components/aws";
import { awsModule } from "../../../components/aws/module";
import type { TargetModule } from "../../../components/targets";
import { type Proof, prove, type ReviewJson } from "../../../lib";
import { AWS_TYPES } from "../../../lib/targets/aws";
import { captureIo } from "../../cli/capture";
import { MIXED } from "./policies";
import { evaluatorOf, FLAGSHIP, flagshipPlan, planOf, runAws } from "./support";

function expectProven(proof: Proof) {
  expect(proof.targets).toEqual(["aws"]);
  const aws = proof.forbidden.filter((f) => f.target === "aws");
  for (const f of aws) if (f.mode === "enforce") expect(f, f.path).toMatchObject({ status: "blocked" });
  for (const a of proof.allowed) expect(a, a.path).toMatchObject({ status: "open" });
  expect(proof.ok).toBe(true);
  return aws;
}

describe("proof over the recorded resources", () => {
  it("the flagship: both AWS forbids blocked, both AWS allows open", async () => {
    const plan = flagshipPlan();
    const proof = prove(plan, [evaluatorOf(plan, await runAws(plan))]);
    const forbids = expectProven(proof);
    expect(forbids.map((f) => [f.path, f.status, f.by])).toEqual([
      ["no-workstation-to-training", "blocked", "default-deny"],
      ["no-training-exfiltration", "blocked", "default-deny"],
    ]);
    expect(proof.allowed.map((a) => a.path)).toEqual([
      "training-reads-datalake",
      "training-publishes-models",
    ]);
  });

  it("cross-target, two VPCs, IPv6, port ranges, peers, internet and a monitored forbid", async () => {
    const plan = planOf(MIXED);
    const proof = prove(plan, [evaluatorOf(plan, await runAws(plan, { quota: { rulesPerGroup: 1000 } }))]);
    const forbids = expectProven(proof);
    expect(forbids.map((f) => [f.path, f.mode, f.status])).toEqual([
      ["no-office-to-worker", "enforce", "blocked"],
      ["no-api-exfiltration", "enforce", "blocked"],
      ["no-batch-to-api", "enforce", "blocked"],
      ["watch-worker-lake", "monitor", "open"],
    ]);
    expect(forbids.at(-1)).toMatchObject({
      wouldClose: "tcp/443",
      witness: { src: "10.1.2.1", dst: "10.20.0.1" },
    });
    expect(proof.allowed.map((a) => a.path).sort()).toEqual([
      "api-calls-worker",
      "batch-feeds-worker",
      "partner-calls-api",
      "worker-reads-lake",
      "worker-updates",
    ]);
  });

  it("with NACL guardrails the proof still holds (stateless replies included), and the NACL alone blocks the forbid", async () => {
    const plan = planOf(MIXED);
    const resources = await runAws(plan, {
      quota: { rulesPerGroup: 1000 },
      guardrails: { nacl: { subnetIds: ["subnet-a"], forbids: ["no-office-to-worker", "no-batch-to-api"] } },
    });
    expectProven(prove(plan, [evaluatorOf(plan, resources)]));
    // Defence in depth: add an SG rule that reopens office → worker; the NACL deny still blocks it.
    const workerSg = resources.find((r) => r.name === "aws-app-worker")!;
    const leak = {
      type: AWS_TYPES.ingressRule,
      name: "hand-added",
      urn: "urn:hand-added",
      custom: true,
      inputs: { securityGroupId: workerSg.id, ipProtocol: "-1", cidrIpv4: "10.200.0.0/16" },
    };
    const proof = prove(plan, [evaluatorOf(plan, [...resources, leak])]);
    expect(proof.forbidden.find((f) => f.path === "no-office-to-worker")).toMatchObject({
      status: "blocked",
      by: expect.stringMatching(/^aws-app-nacl-in-\d+ \(rule \d+ deny\)$/),
    });
  });

  it("an extra permissive rule added by a test-only program fails the proof with a witness naming the rule", async () => {
    const plan = flagshipPlan();
    const resources = await runAws(plan, {}, () => {
      new aws.vpc.SecurityGroupIngressRule("hand-added-ssh", {
        securityGroupId: "sg-will-be-replaced",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "10.200.0.0/16",
      });
    });
    // Point the hand-added rule at the real training group (ids are only known after registration).
    const training = resources.find((r) => r.name === "aws-ml-training")!;
    const patched = resources.map((r) =>
      r.name === "hand-added-ssh" ? { ...r, inputs: { ...r.inputs, securityGroupId: training.id } } : r,
    );
    const proof = prove(plan, [evaluatorOf(plan, patched)]);
    expect(proof.ok).toBe(false);
    expect(proof.forbidden.find((f) => f.path === "no-workstation-to-training")).toEqual({
      path: "no-workstation-to-training",
      mode: "enforce",
      target: "aws",
      status: "open",
      by: "hand-added-ssh",
      witness: {
        src: "10.200.0.1",
        dst: "10.10.1.1",
        protocol: "tcp",
        port: 22,
        from: "corp-workstations",
        to: "llm-trainer",
      },
      open: "tcp/22",
    });
  });

  it("a dropped rule breaks its allow path, with the missing service and a witness", async () => {
    const plan = planOf(MIXED);
    const resources = (await runAws(plan, { quota: { rulesPerGroup: 1000 } })).filter(
      (r) => r.name !== "aws-app-worker-in-api-calls-worker-sg-api-tcp-8000-8100",
    );
    const proof = prove(plan, [evaluatorOf(plan, resources)]);
    expect(proof.ok).toBe(false);
    expect(proof.allowed.find((a) => a.path === "api-calls-worker")).toEqual({
      path: "api-calls-worker",
      target: "aws",
      status: "broken",
      missing: "tcp/8000-8100",
      witness: { src: "10.1.1.1", dst: "10.1.2.1", protocol: "tcp", port: 8000, from: "api", to: "worker" },
      by: "default-deny",
    });
  });
});

describe("blastradius review with the aws module", () => {
  const tmp = () => mkdtempSync(join(tmpdir(), "blastradius-aws-"));

  it("proves the flagship: every AWS forbid blocked, every AWS allow open (exit 0)", async () => {
    const dir = tmp();
    const io = captureIo();
    expect(await reviewCommand(FLAGSHIP, { modules: [awsModule!], json: join(dir, "r.json") }, io)).toBe(0);
    const review = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as ReviewJson;
    expect(review.targets).toEqual(["aws"]);
    expect(review.resources).toEqual({ aws: 4 });
    expect(review.forbidden.filter((f) => f.target === "aws").map((f) => f.status)).toEqual([
      "blocked",
      "blocked",
    ]);
    expect(review.allowed.filter((a) => a.target === "aws").map((a) => a.status)).toEqual(["open", "open"]);
  });

  it("exits 1 with the witness in JSON when the program adds a rule that reopens a forbid", async () => {
    const leaky: TargetModule = {
      ...awsModule!,
      placeholderProgram: (plan) => {
        const c = new AwsSegmentation("aws-ml", { vpc: "ml", vpcId: "vpc-ml", plan });
        new aws.vpc.SecurityGroupEgressRule("hand-added-egress", {
          securityGroupId: c.securityGroupIds.apply((ids) => ids.training!),
          ipProtocol: "-1",
          cidrIpv4: "0.0.0.0/0",
        });
      },
    };
    const dir = tmp();
    const io = captureIo();
    expect(await reviewCommand(FLAGSHIP, { modules: [leaky], json: join(dir, "r.json") }, io)).toBe(1);
    const review = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as ReviewJson;
    expect(review.forbidden).toContainEqual({
      path: "no-training-exfiltration",
      mode: "enforce",
      target: "aws",
      status: "open",
      by: "hand-added-egress",
      witness: {
        src: "10.10.1.1",
        dst: "1.0.0.1",
        protocol: "tcp",
        port: 443,
        from: "llm-trainer",
        to: "internet",
      },
      open: "any",
    });
  });
});
