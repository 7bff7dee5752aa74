import type { TargetModule } from "../targets";
import { awsOffline, awsPlaceholder, awsVpcs } from "./offline";
import { AwsSegmentation } from "./segmentation";

/**
 * The aws target's module for the CLI and the proof: its offline part, and the placeholder program
 * `review <policy file>` runs, an `AwsSegmentation` per VPC the plan places workloads in
 * (placeholder id `vpc-<name>`, default quotas).
 */
export const awsModule: TargetModule = {
  ...awsOffline,
  placeholderProgram: (plan) => {
    for (const vpc of awsVpcs(plan)) {
      const { name, vpcId } = awsPlaceholder(vpc);
      new AwsSegmentation(name, { vpc, vpcId, plan });
    }
  },
};
