import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AwsSegmentation, type AwsSegmentationArgs } from "../../../components/aws";
import { awsVpcs } from "../../../components/aws/segmentation";
import { type RecordedResource, runProgram } from "../../../components/runner";
import { compilePolicy, type Plan, type ResourceRecord } from "../../../lib";
import { awsAdapter } from "../../../lib/targets/aws";

export const ROOT = join(__dirname, "..", "..", "..");
export const FLAGSHIP = join(ROOT, "stacks", "ai-platform", "policy.yaml");

export function flagshipPlan(): Plan {
  return compilePolicy({ text: readFileSync(FLAGSHIP, "utf8"), file: FLAGSHIP });
}

export function planOf(document: unknown): Plan {
  return compilePolicy({ document });
}

/** Runs one AwsSegmentation per VPC of the plan (or the given args) under the recording mocks. */
export async function runAws(
  plan: Plan,
  extra: Partial<Omit<AwsSegmentationArgs, "vpc" | "vpcId" | "plan">> = {},
  more?: () => void,
): Promise<RecordedResource[]> {
  const { resources } = await runProgram(() => {
    for (const vpc of awsVpcs(plan))
      new AwsSegmentation(`aws-${vpc}`, { vpc, vpcId: `vpc-${vpc}`, plan, ...extra });
    more?.();
  });
  return resources;
}

export function evaluatorOf(plan: Plan, resources: readonly RecordedResource[]) {
  const mine = resources.filter((r) => awsAdapter.owns(r as ResourceRecord));
  return awsAdapter.evaluator(mine as ResourceRecord[], plan);
}

/** A small document builder for test policies. */
export function doc(parts: {
  workloads: Array<{ name: string; labels: Record<string, string>; placements: Record<string, unknown> }>;
  segments: Record<string, unknown>;
  peers?: Record<string, { cidrs: string[] }>;
  paths: Array<Record<string, unknown>>;
}): unknown {
  return {
    name: "test",
    workloads: parts.workloads,
    segments: parts.segments,
    ...(parts.peers ? { peers: parts.peers } : {}),
    paths: parts.paths.map((p) => ({ owner: "t@example.com", justification: "test", ...p })),
  };
}
