import type { TargetModule } from "../targets";

/** The cilium target's module for the CLI and the proof; undefined until the cilium target lands. */
export const ciliumModule: TargetModule | undefined = undefined;
