import { awsAdapter, awsRecords, awsResources, offlineId, renderAws } from "../../lib/targets/aws";
import type { TargetModule } from "../targets";
import { AwsSegmentation, awsVpcs } from "./segmentation";

/** The placeholder component name and VPC id `review <policy file>` renders a VPC with. */
const placeholder = (vpc: string) => ({ name: `aws-${vpc}`, vpcId: `vpc-${vpc}` });

/**
 * The aws target's module for the CLI and the proof: an `AwsSegmentation` per VPC the plan places
 * workloads in (placeholder id `vpc-<name>`, default quotas), the same resources built without
 * Pulumi (`records`, from the list the component creates its resources from), and `aws/<vpc>.json`
 * artefacts.
 */
export const awsModule: TargetModule = {
  target: "aws",
  adapter: awsAdapter,
  placeholderProgram: (plan) => {
    for (const vpc of awsVpcs(plan)) {
      const { name, vpcId } = placeholder(vpc);
      new AwsSegmentation(name, { vpc, vpcId, plan });
    }
  },
  records: (plan) =>
    awsVpcs(plan).flatMap((vpc) => {
      const { name, vpcId } = placeholder(vpc);
      return awsRecords(name, awsResources(renderAws(plan, { vpc }), { name, vpcId, resolve: offlineId }));
    }),
  artefacts: (plan) =>
    awsVpcs(plan).map((vpc) => ({
      path: `aws/${vpc}.json`,
      content: `${JSON.stringify(renderAws(plan, { vpc }), null, 2)}\n`,
    })),
};
