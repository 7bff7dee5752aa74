import type { TargetName } from "../lib";
import type { TargetModule } from "./targets";

/**
 * The provider packages each target's components create resources with. They are optional peer
 * dependencies of blastradius: a project installs those of the targets it uses.
 */
export const TARGET_PACKAGES: Readonly<Record<TargetName, readonly string[]>> = {
  aws: ["@pulumi/aws"],
  gcp: ["@pulumi/gcp"],
  azure: ["@pulumi/azure-native"],
  cilium: ["@pulumi/kubernetes"],
  bluefield: ["@pulumi/kubernetes", "@pulumi/command"],
};

/** A target's provider package is not installed where blastradius can load it. */
export class MissingProviderError extends Error {
  constructor(
    readonly target: TargetName,
    readonly packages: readonly string[],
    readonly why: string,
  ) {
    super(
      `the ${target} target needs ${packages.join(" and ")}, which ${packages.length === 1 ? "is" : "are"} not installed${why}: run \`npm install ${packages.join(" ")}\` in your project`,
    );
    this.name = "MissingProviderError";
  }
}

/** The packages of `target` that cannot be resolved from this package's location (as Node would load them). */
export function missingPackages(target: TargetName): string[] {
  return TARGET_PACKAGES[target].filter((p) => {
    try {
      require.resolve(`${p}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
}

const LOADERS: Record<TargetName, () => Promise<TargetModule>> = {
  aws: async () => (await import("./aws/module")).awsModule,
  gcp: async () => (await import("./gcp/module")).gcpModule,
  azure: async () => (await import("./azure/module")).azureModule,
  cilium: async () => (await import("./cilium/module")).ciliumModule,
  bluefield: async () => (await import("./bluefield/module")).bluefieldModule,
};

/**
 * The modules (with their placeholder programs) of the given targets, loading only their provider
 * packages. Throws MissingProviderError, naming the packages to install, when one is missing.
 */
export async function loadTargetModules(targets: readonly TargetName[]): Promise<TargetModule[]> {
  const out: TargetModule[] = [];
  for (const target of targets) {
    const missing = missingPackages(target);
    if (missing.length > 0) throw new MissingProviderError(target, missing, "");
    try {
      out.push(await LOADERS[target]());
    } catch (e) {
      const m = /Cannot find module '(@pulumi\/[^'/]+)/.exec((e as Error).message ?? "");
      if (m)
        throw new MissingProviderError(
          target,
          [m[1]!],
          ` (loading it failed: ${(e as Error).message.split("\n")[0]})`,
        );
      throw e;
    }
  }
  return out;
}
