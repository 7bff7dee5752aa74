import type { TargetModule } from "../targets";

/** The aws target's module for the CLI and the proof; undefined until the aws target lands. */
export const awsModule: TargetModule | undefined = undefined;
