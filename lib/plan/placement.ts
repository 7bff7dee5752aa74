import { type PlacementKey, TARGET_OF_PLACEMENT, type TargetName, type Workload } from "../model/types";

/**
 * The scope in which a target can name a workload by identity: security-group references stay
 * inside a VPC, service-account rules inside a network, ASGs inside a VNet, pod selectors inside a
 * cluster. BlueField flows always match addresses, so they have no identity scope.
 */
export function identityScope(workload: Workload, target: TargetName): string | undefined {
  const p = workload.placements;
  switch (target) {
    case "aws":
      return p.aws ? `vpc:${p.aws.vpc}` : undefined;
    case "gcp":
      return p.gcp?.serviceAccount ? `network:${p.gcp.network}` : undefined;
    case "azure":
      return p.azure ? `vnet:${p.azure.vnet}` : undefined;
    case "cilium":
      return p.kubernetes ? `cluster:${p.kubernetes.cluster}` : undefined;
    case "bluefield":
      return undefined;
  }
}

/** Targets the workload is placed on. */
export function targetsOf(workload: Workload): TargetName[] {
  return (Object.keys(workload.placements) as PlacementKey[]).map((k) => TARGET_OF_PLACEMENT[k]);
}

export function isPlacedOn(workload: Workload, target: TargetName): boolean {
  return targetsOf(workload).includes(target);
}
