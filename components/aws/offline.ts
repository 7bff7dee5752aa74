import type { Plan } from "../../lib";
import { awsAdapter, awsRecords, awsResources, offlineId, renderAws } from "../../lib/targets/aws";
import type { OfflineTarget } from "../offline";

/** VPC names the plan places workloads in, sorted. */
export function awsVpcs(plan: Plan): string[] {
  const names = new Set<string>();
  for (const w of plan.policy.workloads) if (w.placements.aws) names.add(w.placements.aws.vpc);
  return [...names].sort();
}

/** The placeholder component name and VPC id `review <policy file>` renders a VPC with. */
export const awsPlaceholder = (vpc: string) => ({ name: `aws-${vpc}`, vpcId: `vpc-${vpc}` });

/**
 * The aws target without Pulumi: the resources of an `AwsSegmentation` per VPC the plan places
 * workloads in (placeholder id `vpc-<name>`), built from the list the component creates its
 * resources from, and `aws/<vpc>.json` artefacts.
 */
export const awsOffline: OfflineTarget = {
  target: "aws",
  adapter: awsAdapter,
  records: (plan) =>
    awsVpcs(plan).flatMap((vpc) => {
      const { name, vpcId } = awsPlaceholder(vpc);
      return awsRecords(name, awsResources(renderAws(plan, { vpc }), { name, vpcId, resolve: offlineId }));
    }),
  artefacts: (plan) =>
    awsVpcs(plan).map((vpc) => ({
      path: `aws/${vpc}.json`,
      content: `${JSON.stringify(renderAws(plan, { vpc }), null, 2)}\n`,
    })),
};
