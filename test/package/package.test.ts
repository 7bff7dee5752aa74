import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startPolicyPack } from "../support/analyzer";
import { expectExit, pinned, pulumiNew, pulumiTsconfig, REPO, sh, writeJson } from "./support";

/**
 * blastradius as a user gets it: `npm pack`, the tarball installed into projects OUTSIDE the
 * repository, type-checked with Pulumi's default tsconfig (`moduleResolution: node`, no
 * `skipLibCheck`), run under Pulumi's mocks with the exported test helper, reviewed with the
 * installed CLI, the installed policy pack started as the Pulumi CLI starts it, and each stack
 * template copied out as `pulumi new` copies it. Slow (installs, type-checks): `npm run
 * test:package`, run by CI (.ci/run); not part of `npm test`.
 */

const SCRATCH = mkdtempSync(join(tmpdir(), "blastradius-package-"));
const INSTALL = ["install", "--no-audit", "--no-fund", "--prefer-offline"];
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
let tarball: string;

beforeAll(() => {
  expect(relative(REPO, SCRATCH).startsWith("..")).toBe(true);
  // `npm pack` runs `prepack` (a clean build), exactly what `npm publish` would ship.
  const packed = expectExit(sh("npm", ["pack", "--pack-destination", SCRATCH], REPO), 0, "npm pack");
  tarball = join(SCRATCH, packed.stdout.trim().split("\n").pop()!);
  expect(existsSync(tarball)).toBe(true);
});

afterAll(() => {
  if (!process.env.BLASTRADIUS_KEEP_SCRATCH) rmSync(SCRATCH, { recursive: true, force: true });
});

/** A scratch Pulumi project with the tarball and `packages` installed. */
function project(name: string, packages: readonly string[]): string {
  const dir = join(SCRATCH, name);
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, "package.json"), { name, private: true, main: "index.ts" });
  expectExit(sh("npm", [...INSTALL, tarball, ...packages], dir), 0, `npm install in ${name}`);
  return dir;
}

const npx = (dir: string, args: readonly string[], env?: NodeJS.ProcessEnv) =>
  sh("npx", ["--no-install", ...args], dir, env ? { env } : {});

const BASE = [pinned("@pulumi/pulumi"), pinned("typescript"), "@types/node@^20"];

/** The policy of the AWS-only project, built in TypeScript with the root entry point. */
const POLICY_TS = `import { compilePolicy, PolicyBuilder, Service } from "blastradius";

const p = new PolicyBuilder("aws-only");
p.workload("web", { labels: { tier: "web" }, placements: { aws: { vpc: "main", cidrs: ["10.0.1.0/24"] } } });
p.workload("db", { labels: { tier: "db" }, placements: { aws: { vpc: "main", cidrs: ["10.0.2.0/24"] } } });
const web = p.segment("web", { matchLabels: { tier: "web" } });
const db = p.segment("db", { matchLabels: { tier: "db" } });
const office = p.peer("office", ["192.168.0.0/16"]);
p.allow("web-queries-db", web, db, [Service.tcp(5432)], { owner: "app@example.com", justification: "The web tier reads data." });
p.forbid("no-office-to-db", office, db, { owner: "secops@example.com", justification: "No laptop reaches the database." });

export const document = p.toDocument();
export const plan = compilePolicy({ document, source: "policy.ts" });
`;

const PROGRAM_TS = `import * as aws from "@pulumi/aws";
import { AwsSegmentation } from "blastradius/aws";
import { document, plan } from "./policy";

const vpc = new aws.ec2.Vpc("main", { cidrBlock: "10.0.0.0/16" });
const net = new AwsSegmentation("main", { vpc: "main", vpcId: vpc.id, plan });
export const securityGroupIds = net.securityGroupIds;
export const blastradiusPolicy = document;

// What a colleague adds by hand one day: the office reaches the database.
if (process.env.LEAKY === "1")
  new aws.vpc.SecurityGroupIngressRule("hand-added-office-to-db", {
    securityGroupId: net.securityGroupIds.apply((ids) => ids.db!),
    ipProtocol: "tcp",
    fromPort: 5432,
    toPort: 5432,
    cidrIpv4: "192.168.0.0/16",
  });
`;

/** A user's own unit test, the Pulumi way: setMocks, then the helper. */
const TEST_TS = `import * as assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { expectNoForbiddenPath } from "blastradius/testing";

pulumi.runtime.setMocks(
  {
    newResource: (args: pulumi.runtime.MockResourceArgs) => ({ id: args.name + "-id", state: args.inputs }),
    call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
  },
  "aws-only",
  "dev",
);

test("no forbidden path is open", async () => {
  // No policy given: the program exports its document as blastradiusPolicy.
  const proof = await expectNoForbiddenPath(() => import("./index"));
  assert.equal(proof.review.ok, true);
  assert.deepEqual(proof.review.targets, ["aws"]);
});
`;

/**
 * A newer @pulumi/pulumi than the repository's own (a peer dependency: the project's one copy is
 * the one blastradius uses, so `instanceof pulumi.ComponentResource` holds and the runner drives it).
 */
const NEWER_PULUMI = "@pulumi/pulumi@3.276.0";

describe("an AWS-only project (only @pulumi/aws installed, a newer @pulumi/pulumi)", () => {
  let dir: string;
  beforeAll(() => {
    dir = project("aws-only", [NEWER_PULUMI, pinned("typescript"), "@types/node@^20", pinned("@pulumi/aws")]);
    writeFileSync(join(dir, "Pulumi.yaml"), "name: aws-only\nruntime: nodejs\n");
    writeFileSync(join(dir, "policy.ts"), POLICY_TS);
    writeFileSync(join(dir, "index.ts"), PROGRAM_TS);
    writeFileSync(join(dir, "index.test.ts"), TEST_TS);
    writeJson(join(dir, "tsconfig.json"), pulumiTsconfig(["index.ts", "index.test.ts"]));
  });

  it("installs no other provider and a single @pulumi/pulumi (a peer dependency)", () => {
    const installed = readdirSync(join(dir, "node_modules", "@pulumi")).sort();
    expect(installed).toEqual(["aws", "pulumi"]);
    expect(existsSync(join(dir, "node_modules", "blastradius", "node_modules", "@pulumi"))).toBe(false);
    const version = (p: string) =>
      (JSON.parse(readFileSync(join(p, "package.json"), "utf8")) as { version: string }).version;
    expect(`@pulumi/pulumi@${version(join(dir, "node_modules", "@pulumi", "pulumi"))}`).toBe(NEWER_PULUMI);
  });

  it("type-checks with Pulumi's default tsconfig (moduleResolution node, no skipLibCheck)", () => {
    expectExit(npx(dir, ["tsc", "-p", "tsconfig.json", "--noEmit"]), 0, "tsc");
  });

  it("loads only @pulumi/aws through blastradius/aws", () => {
    const ran = expectExit(
      sh(
        process.execPath,
        [
          "-e",
          `require("blastradius/aws"); const s = new Set(); for (const k of Object.keys(require.cache)) { const m = /node_modules[\\\\/]@pulumi[\\\\/]([^\\\\/]+)/.exec(k); if (m) s.add(m[1]); } console.log(JSON.stringify([...s].sort()));`,
        ],
        dir,
      ),
      0,
      "require blastradius/aws",
    );
    expect(JSON.parse(ran.stdout.trim())).toEqual(["aws", "pulumi"]);
  });

  it("passes its own unit test (Pulumi's setMocks + expectNoForbiddenPath) and fails it when a rule opens the forbidden path", () => {
    expectExit(npx(dir, ["tsx", "--test", "index.test.ts"]), 0, "node:test with the helper");
    const leaky = expectExit(npx(dir, ["tsx", "--test", "index.test.ts"], { LEAKY: "1" }), 1, "leaky test");
    expect(leaky.output).toMatch(/forbidden path "no-office-to-db" is open on aws: tcp\/5432 gets through/);
  });

  it("reviews the stack with the installed CLI; names the provider to install for a target it lacks", () => {
    expect(expectExit(npx(dir, ["blastradius", "--version"]), 0, "--version").stdout.trim()).toBe(VERSION);
    expect(expectExit(npx(dir, ["blastradius", "review", "."]), 0, "review").stdout).toMatch(
      /OK: 1 forbid checks blocked, 0 open/,
    );
    expectExit(npx(dir, ["blastradius", "review", "."], { LEAKY: "1" }), 1, "review of the leaky stack");
    writeFileSync(
      join(dir, "gcp.yaml"),
      [
        "name: gcp-only",
        "workloads:",
        "  - name: api",
        "    labels: { tier: api }",
        "    placements: { gcp: { network: prod, serviceAccount: api@p.iam.gserviceaccount.com, cidrs: [10.1.0.0/24] } }",
        "segments:",
        "  api: { matchLabels: { tier: api } }",
        "paths:",
        "  - { name: no-internet-to-api, from: internet, to: api, verdict: forbid, owner: a@example.com, justification: x }",
        "",
      ].join("\n"),
    );
    const missing = expectExit(
      npx(dir, ["blastradius", "review", "gcp.yaml"]),
      2,
      "review without @pulumi/gcp",
    );
    expect(missing.stderr).toContain("the gcp target needs @pulumi/gcp, which is not installed");
    expect(missing.stderr).toContain("npm install @pulumi/gcp");
    expect(missing.output).not.toMatch(/\n\s+at /);
    // render needs no provider at all.
    expectExit(npx(dir, ["blastradius", "render", "gcp.yaml", "--out", "rendered"]), 0, "render");
    expect(existsSync(join(dir, "rendered", "gcp", "prod.firewall-rules.json"))).toBe(true);
  });
});

const EXAMPLES = readdirSync(join(REPO, "examples"));

/** A node:test proof of one example with Pulumi's mocks, its sample stack config set as Pulumi would. */
function proofTest(project: string, config: Record<string, string>, policy: string | undefined): string {
  return `import * as assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { expectNoForbiddenPath } from "blastradius/testing";

pulumi.runtime.setMocks(
  {
    newResource: (args: pulumi.runtime.MockResourceArgs) => ({ id: args.inputs.name + "_id", state: args.inputs }),
    call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
  },
  ${JSON.stringify(project)},
  "dev",
);
const config: Record<string, string> = ${JSON.stringify(config)};
for (const [k, v] of Object.entries(config)) pulumi.runtime.setConfig(k, v);

test(${JSON.stringify(`${project}: no forbidden path is open`)}, async () => {
  process.chdir(__dirname);
  const proof = await expectNoForbiddenPath(() => import("./index")${policy ? `, { policy: ${JSON.stringify(policy)} }` : ""});
  assert.equal(proof.review.ok, true);
});
`;
}

describe("a project with every provider: the examples, one program per target", () => {
  let dir: string;
  beforeAll(() => {
    dir = project("all-targets", [
      ...BASE,
      ...[
        "@pulumi/aws",
        "@pulumi/gcp",
        "@pulumi/azure-native",
        "@pulumi/kubernetes",
        "@pulumi/command",
        "@pulumi/policy",
      ].map(pinned),
    ]);
    for (const e of EXAMPLES) {
      const to = join(dir, "examples", e);
      cpSync(join(REPO, "examples", e), to, { recursive: true });
      const stack = join(to, "Pulumi.dev.yaml");
      const config = existsSync(stack)
        ? (parse(readFileSync(stack, "utf8")).config as Record<string, string>)
        : {};
      const policy = existsSync(join(to, "policy.yaml")) ? "policy.yaml" : undefined;
      writeFileSync(join(to, "index.test.ts"), proofTest(e, config, policy));
    }
    // blastradius/components (every target at once) and the policy pack's policies, as a user's
    // own pack imports them: without @pulumi/policy's declarations in the compilation.
    writeFileSync(
      join(dir, "components.ts"),
      [
        'import { aws, loadPolicy, policypack } from "blastradius/components";',
        "export const component: typeof aws.AwsSegmentation = aws.AwsSegmentation;",
        "export const read: typeof loadPolicy = loadPolicy;",
        'export const policies = policypack.blastradiusPolicies({ policyFile: "policy.yaml" });',
        "",
      ].join("\n"),
    );
    writeJson(
      join(dir, "tsconfig.json"),
      pulumiTsconfig([
        "components.ts",
        ...EXAMPLES.flatMap((e) => [`examples/${e}/index.ts`, `examples/${e}/index.test.ts`]),
      ]),
    );
  });

  it("ships @pulumi/policy's types only in the pack itself, which no entry point reaches", () => {
    const dist = join(dir, "node_modules", "blastradius", "dist");
    const declarations = sh(
      "grep",
      ["-rlE", "--include=*.d.ts", 'from "@pulumi/policy"|import\\("@pulumi/policy"\\)', dist],
      dir,
    )
      .stdout.trim()
      .split("\n");
    expect(declarations.map((f) => relative(dist, f))).toEqual(["components/policypack/pack.d.ts"]);
    const importers = sh("grep", ["-rl", "--include=*.d.ts", './pack"', dist], dir).stdout.trim();
    expect(importers).toBe("");
  });

  it("has an example per target (and the quickstart)", () => {
    expect(EXAMPLES).toEqual(
      expect.arrayContaining([
        "aws-minimal",
        "gcp-minimal",
        "azure-minimal",
        "cilium-minimal",
        "bluefield-minimal",
        "quickstart",
      ]),
    );
  });

  it("type-checks every example, and blastradius/components with the policies, with Pulumi's default tsconfig", () => {
    expectExit(npx(dir, ["tsc", "-p", "tsconfig.json", "--noEmit"]), 0, "tsc");
  });

  it.each(EXAMPLES)(
    "%s: the installed CLI proves it, and so does the test helper under Pulumi's mocks",
    (e) => {
      expect(
        expectExit(npx(dir, ["blastradius", "review", `examples/${e}`]), 0, `review ${e}`).stdout,
      ).toMatch(/OK: \d+ forbid checks blocked, 0 open/);
      expectExit(npx(join(dir, "examples", e), ["tsx", "--test", "index.test.ts"]), 0, `helper test of ${e}`);
    },
  );

  it("loads the installed policy pack as the Pulumi CLI does: silent on a proven stack, mandatory on an opened path", async () => {
    const example = join(dir, "examples", "aws-minimal");
    expectExit(
      npx(dir, ["blastradius", "review", "examples/aws-minimal", "--emit", "emitted.json"]),
      0,
      "review --emit",
    );
    const emitted = JSON.parse(readFileSync(join(dir, "emitted.json"), "utf8")) as Array<{
      type: string;
      name: string;
      id?: string;
      inputs: Record<string, unknown>;
    }>;
    const resources = emitted.map((r) => ({
      ...r,
      urn: `urn:pulumi:dev::aws-minimal::${r.type}::${r.name}`,
    }));
    const db = emitted.find(
      (r) =>
        r.type === "aws:ec2/securityGroup:SecurityGroup" &&
        (r.inputs.tags as Record<string, string>)?.["blastradius:segment"] === "db",
    );
    expect(db?.id).toEqual(expect.any(String));
    const pack = await startPolicyPack({
      packDir: join(dir, "node_modules", "blastradius", "policypack"),
      pulumiDir: join(dir, "node_modules", "@pulumi", "pulumi"),
      projectDir: example,
      stackConfig: { "aws-minimal:x": "1", "blastradius:policyFile": "policy.yaml" },
    });
    try {
      expect((await pack.info()).version).toBe(VERSION);
      expect((await pack.analyzeStack(resources)).filter((d) => d.mandatory)).toEqual([]);
      const leaky = [
        ...resources,
        {
          type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          name: "hand-added-office-to-db",
          urn: "urn:pulumi:dev::aws-minimal::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::hand-added-office-to-db",
          id: "sgr-0000000000000000a",
          inputs: {
            securityGroupId: db!.id,
            ipProtocol: "tcp",
            fromPort: 5432,
            toPort: 5432,
            cidrIpv4: "192.168.0.0/16",
          },
        },
      ];
      expect((await pack.analyzeStack(leaky)).filter((d) => d.mandatory)).toEqual([
        expect.objectContaining({
          policy: "blastradius-no-forbidden-path",
          message: expect.stringContaining('forbidden path "no-office-to-db" is open on aws'),
        }),
      ]);
    } finally {
      pack.close();
    }
  });
});

const TEMPLATES = readdirSync(join(REPO, "stacks"));

describe("the stack templates, copied out of the repository as `pulumi new` copies them", () => {
  it.each(TEMPLATES)(
    "%s: installs its own dependencies and the tarball, type-checks, and reviews its sample stack",
    (t) => {
      const dir = join(SCRATCH, "templates", t);
      const template = parse(readFileSync(join(REPO, "stacks", t, "Pulumi.yaml"), "utf8")) as {
        template: { description: string };
      };
      pulumiNew(join(REPO, "stacks", t), dir, t, template.template.description);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        dependencies: Record<string, string>;
        devDependencies: Record<string, string>;
      };
      expect(pkg.name).toBe(t);
      // Its own dependency list, at the versions this repository tests (the tarball for blastradius).
      const specs = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
        .filter((d) => d !== "blastradius")
        .map((d) => (d === "@types/node" ? "@types/node@^20" : pinned(d)));
      expectExit(sh("npm", [...INSTALL, tarball, ...specs], dir), 0, `npm install in template ${t}`);
      const policy = readFileSync(join(dir, "policy.yaml"), "utf8");
      const schema = /\$schema=(\S+)/.exec(policy)![1]!;
      expect(existsSync(join(dir, schema))).toBe(true);
      expectExit(npx(dir, ["tsc", "-p", "tsconfig.json", "--noEmit"]), 0, `tsc in template ${t}`);
      expect(
        expectExit(npx(dir, ["blastradius", "review", "."]), 0, `review of template ${t}`).stdout,
      ).toMatch(/OK: \d+ forbid checks blocked, 0 open/);
    },
  );
});
