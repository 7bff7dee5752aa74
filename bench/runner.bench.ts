/**
 * `npm run bench:runner`: the offline runner's cost per registered resource (N security-group
 * rules under one group), with the SDK's per-promise stack traces captured
 * (BLASTRADIUS_RUNNER_STACKS=1, what the SDK does by default) and without (the runner's default).
 * Prints a table; not a test.
 */
import * as aws from "@pulumi/aws";
import { runProgram } from "../components/runner";

const SIZES = (process.env.BENCH_RESOURCES ?? "50,200,400").split(",").map(Number);

function program(n: number) {
  return () => {
    const sg = new aws.ec2.SecurityGroup("bench", { vpcId: "vpc-0123456789abcdef0", description: "bench" });
    for (let i = 0; i < n; i++)
      new aws.vpc.SecurityGroupIngressRule(`rule-${i}`, {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: i,
        toPort: i,
        cidrIpv4: "10.0.0.0/8",
      });
  };
}

async function timed(n: number, stacks: boolean): Promise<number> {
  if (stacks) process.env.BLASTRADIUS_RUNNER_STACKS = "1";
  else delete process.env.BLASTRADIUS_RUNNER_STACKS;
  const start = process.hrtime.bigint();
  const { resources } = await runProgram(program(n));
  if (resources.length !== n + 1)
    throw new Error(`expected ${n + 1} resources, recorded ${resources.length}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main() {
  await timed(10, false); // warm-up: module loading and JIT
  console.log("| resources | with stack capture ms | without (default) ms |");
  console.log("|---:|---:|---:|");
  for (const n of SIZES) {
    const withStacks = await timed(n, true);
    const without = await timed(n, false);
    console.log(`| ${n + 1} | ${withStacks.toFixed(0)} | ${without.toFixed(0)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
