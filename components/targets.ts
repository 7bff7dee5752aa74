import type { Plan, ResourceRecord, TargetAdapter, TargetName } from "../lib";
import { awsModule } from "./aws/module";
import { azureModule } from "./azure/module";
import { bluefieldModule } from "./bluefield/module";
import { ciliumModule } from "./cilium/module";
import { gcpModule } from "./gcp/module";

/** A file a target renders for `blastradius render`, relative to the output directory. */
export interface Artefact {
  path: string;
  content: string;
}

/**
 * What a target contributes to the CLI and the proof: its evaluator adapter (from
 * `lib/targets/<t>/evaluate`), a Pulumi program that creates its components for every scope the plan
 * places workloads in (with placeholder ids, for `review <policy file>`), and its native artefacts.
 */
export interface TargetModule {
  readonly target: TargetName;
  readonly adapter: TargetAdapter;
  placeholderProgram(plan: Plan): void;
  /**
   * The resources `placeholderProgram` registers that the adapter owns, built without the Pulumi
   * engine (for benchmarks and large proofs): the same types, names and inputs, with ids that are
   * consistent among themselves (references by id resolve) though not the mock engine's.
   * `test/targets/offline-records.test.ts` checks it against the runner for every target.
   */
  records(plan: Plan): ResourceRecord[];
  artefacts(plan: Plan): Artefact[];
}

/** Every target that has landed, in TARGETS order (each target fills its own `components/<t>/module.ts`). */
export const TARGET_MODULES: readonly TargetModule[] = [
  awsModule,
  gcpModule,
  azureModule,
  ciliumModule,
  bluefieldModule,
].filter((m): m is TargetModule => m !== undefined);

export function targetModule(target: TargetName): TargetModule | undefined {
  return TARGET_MODULES.find((m) => m.target === target);
}
