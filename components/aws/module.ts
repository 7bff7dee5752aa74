import { awsAdapter, renderAws } from "../../lib/targets/aws";
import type { TargetModule } from "../targets";
import { AwsSegmentation, awsVpcs } from "./segmentation";

/**
 * The aws target's module for the CLI and the proof: an `AwsSegmentation` per VPC the plan places
 * workloads in (placeholder id `vpc-<name>`, default quotas), and `aws/<vpc>.json` artefacts.
 */
export const awsModule: TargetModule | undefined = {
  target: "aws",
  adapter: awsAdapter,
  placeholderProgram: (plan) => {
    for (const vpc of awsVpcs(plan)) new AwsSegmentation(`aws-${vpc}`, { vpc, vpcId: `vpc-${vpc}`, plan });
  },
  artefacts: (plan) =>
    awsVpcs(plan).map((vpc) => ({
      path: `aws/${vpc}.json`,
      content: `${JSON.stringify(renderAws(plan, { vpc }), null, 2)}\n`,
    })),
};
