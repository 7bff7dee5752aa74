import type { TargetModule } from "../targets";

/** The gcp target's module for the CLI and the proof; undefined until the gcp target lands. */
export const gcpModule: TargetModule | undefined = undefined;
