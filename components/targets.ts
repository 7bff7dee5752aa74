import type { Plan, TargetName } from "../lib";
import { awsModule } from "./aws/module";
import { azureModule } from "./azure/module";
import { bluefieldModule } from "./bluefield/module";
import { ciliumModule } from "./cilium/module";
import { gcpModule } from "./gcp/module";
import type { OfflineTarget } from "./offline";

export type { Artefact, OfflineTarget } from "./offline";

/**
 * A target's offline part plus a Pulumi program that creates its components for every scope the
 * plan places workloads in (with placeholder ids, for `review <policy file>`). Importing a module
 * loads the target's provider package; the CLI loads them one by one (`target-loader.ts`).
 */
export interface TargetModule extends OfflineTarget {
  placeholderProgram(plan: Plan): void;
}

/** Every target, in TARGETS order (loads every provider package: tests and benchmarks). */
export const TARGET_MODULES: readonly TargetModule[] = [
  awsModule,
  gcpModule,
  azureModule,
  ciliumModule,
  bluefieldModule,
];

export function targetModule(target: TargetName): TargetModule | undefined {
  return TARGET_MODULES.find((m) => m.target === target);
}
