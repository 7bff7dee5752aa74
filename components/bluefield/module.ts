import type { TargetModule } from "../targets";

/** The bluefield target's module for the CLI and the proof; undefined until the bluefield target lands. */
export const bluefieldModule: TargetModule | undefined = undefined;
