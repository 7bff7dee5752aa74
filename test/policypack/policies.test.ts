import { join } from "node:path";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../components/policy-file";
import {
  allowedPathsOpenPolicy,
  noForbiddenPathPolicy,
  quotaHeadroomPolicy,
  quotaLimitsPolicy,
} from "../../components/policypack";
import { runProgram } from "../../components/runner";
import type { TargetModule } from "../../components/targets";
import { toyModule } from "../support/toy-module";

const FLAGSHIP = join(__dirname, "..", "..", "stacks", "ai-platform", "policy.yaml");

/** The stack's resources as a real preview hands them to a stack policy: recorded under mocks. */
async function stackResources(modules: TargetModule[]): Promise<PolicyResource[]> {
  const plan = loadPolicy(FLAGSHIP);
  const { resources } = await runProgram(() => {
    for (const m of modules) m.placeholderProgram(plan);
  });
  return resources
    .filter((r) => r.custom)
    .map(
      (r) =>
        ({
          type: r.type,
          name: r.name,
          urn: r.urn,
          props: r.inputs,
          opts: {} as PolicyResource["opts"],
          dependencies: [],
          propertyDependencies: {},
        }) as unknown as PolicyResource,
    );
}

function validate(
  policy: ReturnType<typeof noForbiddenPathPolicy>,
  resources: PolicyResource[],
  config: object = {},
) {
  const violations: string[] = [];
  const args = {
    resources,
    stackTags: new Map(),
    getConfig: <T extends object>() => config as T,
    notApplicable: () => {
      throw new Error("not applicable");
    },
  } as StackValidationArgs;
  policy.validateStack(args, (message) => violations.push(message));
  return violations;
}

describe("policy pack policies", () => {
  it("pass a faithful stack (the policy file comes from the pack config)", async () => {
    const modules = [toyModule("aws"), toyModule("gcp")];
    const resources = await stackResources(modules);
    expect(resources.length).toBe(10);
    expect(validate(noForbiddenPathPolicy({ modules }), resources, { policyFile: FLAGSHIP })).toEqual([]);
    expect(validate(allowedPathsOpenPolicy({ modules }), resources, { policyFile: FLAGSHIP })).toEqual([]);
  });

  it("report a mandatory violation when a hand-added permissive rule reopens a forbidden path", async () => {
    const leaky = toyModule("aws", [
      {
        name: "hand-added-ssh",
        rule: { action: "allow", from: ["10.200.0.0/16"], to: ["10.10.1.0/24"], services: ["tcp/22"] },
      },
    ]);
    const resources = await stackResources([leaky]);
    const plan = loadPolicy(FLAGSHIP);
    const policy = noForbiddenPathPolicy({ modules: [leaky], plan });
    expect(policy.enforcementLevel).toBe("mandatory");
    expect(validate(policy, resources)).toEqual([
      'forbidden path "no-workstation-to-training" is open on aws: tcp/22 gets through, let in by hand-added-ssh (witness 10.200.0.1 → 10.10.1.1 tcp/22)',
    ]);
  });

  it("report a broken allow (advisory) when a rule is missing", async () => {
    const plan = loadPolicy(FLAGSHIP);
    const resources = (await stackResources([toyModule("aws")])).filter(
      (r) => r.name !== "allow-training-reads-datalake",
    );
    const violations = validate(allowedPathsOpenPolicy({ modules: [toyModule("aws")], plan }), resources);
    expect(violations).toEqual([
      'allowed path "training-reads-datalake" is broken on aws: tcp/443 does not get through (witness 10.10.1.1 → 10.20.0.1 tcp/443)',
    ]);
  });

  it("reads the policy file from BLASTRADIUS_POLICY, and fails clearly without one", async () => {
    const saved = process.env.BLASTRADIUS_POLICY;
    try {
      delete process.env.BLASTRADIUS_POLICY;
      expect(() => validate(noForbiddenPathPolicy({ modules: [] }), [])).toThrow(
        /no policy file; set it in the stack config \(pulumi config set blastradius:policyFile policy\.yaml\), in the pack config \(policyFile, --policy-pack-config\) or in BLASTRADIUS_POLICY/,
      );
      process.env.BLASTRADIUS_POLICY = FLAGSHIP;
      const leaky = toyModule("aws", [
        {
          name: "hand-added-ssh",
          rule: { action: "allow", from: ["10.200.0.0/16"], to: ["10.10.1.0/24"], services: ["tcp/22"] },
        },
      ]);
      const violations = validate(noForbiddenPathPolicy({ modules: [leaky] }), await stackResources([leaky]));
      expect(violations).toEqual([
        expect.stringContaining('forbidden path "no-workstation-to-training" is open on aws'),
      ]);
    } finally {
      if (saved === undefined) delete process.env.BLASTRADIUS_POLICY;
      else process.env.BLASTRADIUS_POLICY = saved;
    }
  });

  it("resolve the policy file from the project: stack config or pack config, relative to the project directory", async () => {
    const resources = await stackResources([toyModule("aws")]);
    const project = join(__dirname, "..", "..", "stacks", "ai-platform");
    const fromStack = noForbiddenPathPolicy({
      modules: [toyModule("aws")],
      baseDir: project,
      stackConfig: () => ({ "blastradius:policyFile": "policy.yaml" }),
    });
    expect(validate(fromStack, resources)).toEqual([]);
    // The pack config wins over the stack config; a missing file names where it was named and read.
    const missing = noForbiddenPathPolicy({ modules: [toyModule("aws")], baseDir: project });
    expect(() => validate(missing, resources, { policyFile: "nope.yaml" })).toThrow(
      `the policy file nope.yaml (from the pack config (policyFile), read as ${join(project, "nope.yaml")})`,
    );
  });

  it("report an exceeded limit (mandatory) and one above 80% (advisory), honouring raised limits", async () => {
    const tight = [toyModule("aws", [], { ruleLimit: 4 })];
    const close = [toyModule("aws", [], { ruleLimit: 6 })];
    const resources = await stackResources(tight);
    const config = { policyFile: FLAGSHIP };
    expect(validate(quotaLimitsPolicy({ modules: tight }), resources, config)).toEqual([
      expect.stringContaining(
        "aws: toy aws uses 5 of 4 toy rules (125%, quota aws.toyRules): over the limit",
      ),
    ]);
    expect(validate(quotaHeadroomPolicy({ modules: tight }), resources, config)).toEqual([]);
    expect(validate(quotaLimitsPolicy({ modules: close }), resources, config)).toEqual([]);
    expect(validate(quotaHeadroomPolicy({ modules: close }), resources, config)).toEqual([
      expect.stringContaining("aws: toy aws uses 5 of 6 toy rules (83%"),
    ]);
    const raised = { ...config, quotas: { "aws.toyRules": 50 } };
    expect(validate(quotaLimitsPolicy({ modules: tight }), resources, raised)).toEqual([]);
    expect(validate(quotaHeadroomPolicy({ modules: tight }), resources, raised)).toEqual([]);
  });
});
