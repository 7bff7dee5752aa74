import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The repository stands alone: a fresh clone with nothing beside it passes `npm test`. */
const ROOT = join(__dirname, "..", "..");
const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
  .split("\0")
  .filter((f) => f !== "" && !f.endsWith(".tgz"));

describe("the repository is self-contained", () => {
  it("no tracked file refers to anything beside the repository", () => {
    // Spelled in two parts so that this file does not match itself.
    const outside = ["../", "shared"].join("");
    const offenders = tracked.filter((f) => {
      try {
        return readFileSync(join(ROOT, f), "utf8").includes(outside);
      } catch {
        return false; // deleted in the working tree
      }
    });
    expect(offenders).toEqual([]);
  });

  it("vendors Cilium's CRD with its provenance, the digest SOURCE.md records", () => {
    const source = readFileSync(join(ROOT, "vendor", "cilium", "SOURCE.md"), "utf8");
    for (const fact of [
      "https://github.com/cilium/cilium",
      "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml",
      "02904c9bb25567e06b55639622528a8b8c829f25",
      "Apache License 2.0",
    ])
      expect(source).toContain(fact);
    const digest = createHash("sha256")
      .update(readFileSync(join(ROOT, "vendor", "cilium", "ciliumnetworkpolicies.yaml")))
      .digest("hex");
    expect(source).toContain(digest);
    expect(readFileSync(join(ROOT, "vendor", "cilium", "LICENSE"), "utf8")).toContain(
      "Apache License\n                           Version 2.0",
    );
  });

  it("has a LICENSE matching package.json's licence, and the design in docs/", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      license: string;
      files: string[];
    };
    expect(pkg.license).toBe("Apache-2.0");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(
      /^\s+Apache License\s+Version 2\.0, January 2004/,
    );
    expect(pkg.files).toContain("docs");
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("](docs/design.md)");
    const design = readFileSync(join(ROOT, "docs", "design.md"), "utf8");
    for (const heading of ["## Vocabulary", "## Semantics", "## Layers", "## Public contracts"])
      expect(design).toContain(heading);
  });
});
