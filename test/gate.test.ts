import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { run } from "../cli/program";
import { loadPolicy } from "../components/policy-file";
import { noForbiddenPathPolicy } from "../components/policypack";
import { runStackDir } from "../components/runner";
import { captureIo } from "./cli/capture";
import { gate, projectsIn, ROOT } from "./support/gate";

/**
 * The gate: no forbidden path in any stack. Every directory in stacks/ and examples/ with a
 * Pulumi.yaml is discovered, so adding a stack adds it here with no test edits.
 */
const stacks = projectsIn("stacks");
/** What `pulumi new` replaces with the project name. */
const PROJECT = `$\{PROJECT}`;
const DESCRIPTION = `$\{DESCRIPTION}`;
const examples = projectsIn("examples");

describe("the gate: no forbidden path open in any stack or example", () => {
  it("discovers the stack templates and the examples", () => {
    expect(stacks).toEqual(
      expect.arrayContaining([
        "stacks/ai-platform",
        "stacks/backup-blast-radius",
        "stacks/agent-containment",
      ]),
    );
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });

  it.each([...stacks, ...examples])(
    "%s: every enforce forbid blocked on every target, every allow open",
    async (dir) => {
      const { review, failures } = await gate(dir);
      expect(failures).toEqual([]);
      expect(review.targets.length).toBeGreaterThan(0);
      expect(review.forbidden.filter((f) => f.mode === "enforce").length).toBeGreaterThan(0);
    },
  );

  it.each(stacks)(
    "%s is a publishable template (placeholders, template config with descriptions, sample stack config, tsconfig, dependencies)",
    (dir) => {
      const read = (f: string) => readFileSync(join(ROOT, dir, f), "utf8");
      const project = parse(read("Pulumi.yaml"));
      // `pulumi new` replaces ${PROJECT} and ${DESCRIPTION} in every file it copies.
      expect(project.name).toBe(PROJECT);
      expect(project.description).toBe(DESCRIPTION);
      expect(project.runtime).toBe("nodejs");
      expect(project.template?.description).toEqual(expect.any(String));
      for (const [key, spec] of Object.entries(project.template?.config ?? {})) {
        const s = spec as { description?: string; default?: unknown };
        expect(s.description, key).toEqual(expect.any(String));
        // A default id would deploy against a resource that does not exist: ids are asked for.
        if (/Id$|ResourceGroup$|Project$|VnetName$/.test(key)) expect(s.default, key).toBeUndefined();
      }
      // `pulumi new` pastes the description (default: the template's) over ${DESCRIPTION} as plain
      // text: the result must still be the same YAML, and a project description is at most 256 characters.
      const description = project.template.description as string;
      expect(description.length).toBeLessThanOrEqual(256);
      const created = parse(
        read("Pulumi.yaml").split(DESCRIPTION).join(description).split(PROJECT).join("p"),
      );
      expect(created.description).toBe(description);
      expect(created.name).toBe("p");
      const sample = parse(read("Pulumi.dev.yaml")).config as Record<string, unknown>;
      expect(Object.keys(sample).length).toBeGreaterThan(0);
      for (const key of Object.keys(sample))
        expect(key, "sample stack config key").toMatch(/^\$\{PROJECT\}:/);
      const pkg = JSON.parse(read("package.json"));
      expect(pkg.name).toBe(PROJECT);
      expect(pkg.devDependencies.typescript).toEqual(expect.any(String));
      expect(pkg.dependencies.blastradius).toEqual(expect.any(String));
      expect(pkg.dependencies["@pulumi/pulumi"]).toEqual(expect.any(String));
      const tsconfig = JSON.parse(read("tsconfig.json"));
      expect(tsconfig.compilerOptions.moduleResolution).toBe("node");
      expect(read("policy.yaml")).toMatch(
        /^# yaml-language-server: \$schema=node_modules\/blastradius\/schema\/policy\.schema\.json$/m,
      );
      expect(read("index.ts")).not.toMatch(/blastradius\/components/);
    },
  );
});

describe("a renderer broken on purpose (a permissive rule added outside the library)", () => {
  const LEAKY = "test/fixtures/stacks/leaky-aws";

  it("fails the gate with a witness naming the hand-added rule", async () => {
    const { failures } = await gate(LEAKY);
    expect(failures).toEqual([
      expect.stringMatching(
        /^forbid "no-office-to-db" is open on aws \(by .*hand-added-office-to-db.*192\.168\.0\.1.*5432/,
      ),
    ]);
  });

  it("makes review exit 1", async () => {
    const io = captureIo();
    expect(await run(["review", join(ROOT, LEAKY)], io)).toBe(1);
    expect(io.stdout.join("\n")).toMatch(/no-office-to-db\s+enforce\s+aws\s+OPEN/);
  });

  it("is a mandatory violation of the policy pack on the same resources", async () => {
    const { resources } = await runStackDir(join(ROOT, LEAKY));
    const violations: string[] = [];
    const policy = noForbiddenPathPolicy({ plan: loadPolicy(join(ROOT, LEAKY, "policy.yaml")) });
    policy.validateStack(
      {
        resources: resources.map(
          (r) =>
            ({
              type: r.type,
              name: r.name,
              urn: r.urn,
              props: { ...r.inputs, ...(r.id ? { id: r.id } : {}) },
            }) as unknown as PolicyResource,
        ),
        getConfig: <T extends object>() => ({}) as T,
        stackTags: new Map(),
        notApplicable: () => {
          throw new Error("n/a");
        },
      } as StackValidationArgs,
      (message) => violations.push(message),
    );
    expect(violations).toEqual([
      expect.stringMatching(/^forbidden path "no-office-to-db" is open on aws: tcp\/5432 gets through/),
    ]);
  });
});
