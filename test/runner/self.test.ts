import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/program";
import { PACKAGE_ROOT, packageVersion, SELF_MODULES, selfPath } from "../../components/runner/self";
import { captureIo } from "../cli/capture";

const ROOT = join(__dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: { "*": Record<string, string[]> };
};

describe("the package resolving itself (a stack program's `blastradius/…` imports)", () => {
  it("maps every module the package exports, to the same module package.json names", () => {
    const modules = Object.entries(pkg.exports).filter(([, v]) => typeof v !== "string");
    expect(Object.keys(SELF_MODULES).sort()).toEqual(
      modules.map(([k]) => (k === "." ? "blastradius" : `blastradius/${k.slice(2)}`)).sort(),
    );
    for (const [key, target] of modules) {
      const request = key === "." ? "blastradius" : `blastradius/${key.slice(2)}`;
      const { default: js } = target as { default: string };
      expect(`./dist/${SELF_MODULES[request]}.js`, request).toBe(js);
      // From the sources (no build needed): the TypeScript module exists.
      expect(existsSync(`${selfPath(request)}.ts`), request).toBe(true);
    }
  });

  it("resolves the non-module exports inside the package", () => {
    expect(PACKAGE_ROOT).toBe(ROOT);
    expect(selfPath("blastradius/package.json")).toBe(join(ROOT, "package.json"));
    expect(selfPath("blastradius/schema/policy.schema.json")).toBe(
      join(ROOT, "schema", "policy.schema.json"),
    );
    expect(selfPath("blastradiusx")).toBeUndefined();
    expect(selfPath("@pulumi/aws")).toBeUndefined();
  });

  it("declares typesVersions for every subpath, so `moduleResolution: node` finds the types", () => {
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string" || key === ".") continue;
      expect(pkg.typesVersions["*"][key.slice(2)], key).toEqual([target.types.replace(/^\.\//, "")]);
    }
  });

  it("prints its version (`blastradius --version`)", async () => {
    expect(packageVersion()).toBe(pkg.version);
    const io = captureIo();
    expect(await run(["--version"], io)).toBe(0);
    expect(io.stdout).toEqual([pkg.version]);
  });
});
