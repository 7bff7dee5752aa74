import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runStackDir } from "../../components/runner";
import { type Analyzer, startPolicyPack } from "../support/analyzer";

/**
 * The repository's policy pack directory, started as `pulumi preview --policy-pack policypack`
 * starts it (see test/support/analyzer.ts). Starting a PolicyPack starts a server and may exit
 * the process: it runs in a child. test/package/ does the same with the packed tarball.
 */
const ROOT = join(__dirname, "..", "..");
const LEAKY = join(ROOT, "test", "fixtures", "stacks", "leaky-aws");
let pack: Analyzer;

beforeAll(async () => {
  // The project is where `pulumi` runs; its stack config names the policy file relative to it.
  pack = await startPolicyPack({
    packDir: join(ROOT, "policypack"),
    pulumiDir: join(require.resolve("@pulumi/pulumi/package.json"), ".."),
    projectDir: LEAKY,
    stackConfig: { "leaky-aws:x": "1", "blastradius:policyFile": "policy.yaml" },
  });
}, 120_000);

afterAll(() => pack?.close());

const resourcesOf = async (dir: string) => (await runStackDir(dir)).resources;

describe("the policy pack, as `pulumi preview --policy-pack <dir>` loads it", () => {
  it("serves the blastradius policies with the package's version", async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string })
      .version;
    expect(await pack.info()).toEqual({
      name: "blastradius",
      version,
      policies: [
        "blastradius-no-forbidden-path",
        "blastradius-allowed-paths-open",
        "blastradius-deployed-stack",
        "blastradius-deployed-stack-unknown",
        "blastradius-quota-limits",
        "blastradius-quota-headroom",
      ],
    });
  });

  it("reports the forbidden path a hand-added rule opens as mandatory, reading the project's policy file", async () => {
    expect(await pack.analyzeStack(await resourcesOf(LEAKY))).toEqual([
      {
        policy: "blastradius-no-forbidden-path",
        pack: "blastradius@0.1.0",
        mandatory: true,
        message: expect.stringMatching(
          /forbidden path "no-office-to-db" is open on aws: tcp\/5432 gets through, let in by .*hand-added-office-to-db/,
        ),
      },
    ]);
  });

  it("has nothing to say about a stack that keeps every forbidden path closed", async () => {
    const diagnostics = await pack.analyzeStack(await resourcesOf(join(ROOT, "examples", "aws-minimal")));
    expect(diagnostics.filter((d) => d.mandatory)).toEqual([]);
  });

  it("keeps the pack's package.json version the package's own", () => {
    const version = (p: string) => (JSON.parse(readFileSync(p, "utf8")) as { version: string }).version;
    expect(version(join(ROOT, "policypack", "package.json"))).toBe(version(join(ROOT, "package.json")));
  });
});
