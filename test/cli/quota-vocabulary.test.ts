import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/program";
import { AwsSegmentation } from "../../components/aws";
import { loadPolicy } from "../../components/policy-file";
import { runProgram } from "../../components/runner";
import { captureIo } from "./capture";

/**
 * One vocabulary for provider limits: the quota ids of the review (`aws.rulesPerSecurityGroup`)
 * are what `review --quota`, the components' `quotas`, the stack config `blastradius:quotas` and
 * the policy pack take, and a raised limit really lets the renderer use it. An AWS allow to the
 * internet needs ~116 rules per group (the internet prefix lists' max entries), over the default 60.
 */
const STACK = join(__dirname, "..", "fixtures", "stacks", "raised-quota");
const POLICY = join(STACK, "policy.yaml");

describe("raised provider limits, one vocabulary", () => {
  it("review --quota raises the renderer's limit: an AWS allow to the internet can be reviewed", async () => {
    const refused = captureIo();
    expect(await run(["review", POLICY], refused)).toBe(2);
    expect(refused.stderr.join("\n")).toContain("--quota aws.rulesPerSecurityGroup=N");

    const io = captureIo();
    expect(await run(["review", POLICY, "--quota", "aws.rulesPerSecurityGroup=1000"], io)).toBe(0);
    expect(io.stdout.join("\n")).toMatch(/aws\s+aws\.rulesPerSecurityGroup\s+\d+\s+1000 \(\d+%\)/);
  });

  it("the stack config blastradius:quotas raises it for the program and the review alike", async () => {
    const io = captureIo();
    expect(await run(["review", STACK], io)).toBe(0);
    expect(io.stdout.join("\n")).toMatch(/aws\s+aws\.rulesPerSecurityGroup\s+\d+\s+1000 \(\d+%\)/);
    // --quota over the stack config: lower it again, and the renderer refuses.
    const lowered = captureIo();
    expect(await run(["review", STACK, "--quota", "aws.rulesPerSecurityGroup=60"], lowered)).toBe(2);
    expect(lowered.stderr.join("\n")).toContain("over the limit of 60 (quota aws.rulesPerSecurityGroup");
  });

  it("the component takes the same ids, refuses a typo and a limit given twice", async () => {
    const plan = loadPolicy(POLICY);
    const program = (args: object) => () => {
      new AwsSegmentation("main", { vpc: "main", vpcId: "vpc-1", plan, ...args });
    };
    await expect(runProgram(program({}))).rejects.toThrow(/over the limit of 60/);
    const { resources } = await runProgram(program({ quotas: { "aws.rulesPerSecurityGroup": 1000 } }));
    expect(resources.some((r) => r.type === "aws:ec2/managedPrefixList:ManagedPrefixList")).toBe(true);
    await expect(runProgram(program({ quotas: { "aws.rulesPerSecurityGroupp": 1000 } }))).rejects.toThrow(
      /quota "aws\.rulesPerSecurityGroupp" is not a aws quota; known: aws\.rulesPerSecurityGroup, /,
    );
    await expect(
      runProgram(program({ quotas: { "aws.rulesPerSecurityGroup": 1000 }, quota: { rulesPerGroup: 500 } })),
    ).rejects.toThrow(/args\.quota\.rulesPerGroup and a quota id in args\.quotas .* set the same limit/);
  });
});
