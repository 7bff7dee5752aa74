import type { Plan, TargetAdapter, TargetName } from "../lib";

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
  artefacts(plan: Plan): Artefact[];
}

/** Every target that has landed. A target issue adds its module here. */
export const TARGET_MODULES: readonly TargetModule[] = [];

export function targetModule(target: TargetName): TargetModule | undefined {
  return TARGET_MODULES.find((m) => m.target === target);
}
