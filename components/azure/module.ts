import type { TargetModule } from "../targets";

/** The azure target's module for the CLI and the proof; undefined until the azure target lands. */
export const azureModule: TargetModule | undefined = undefined;
