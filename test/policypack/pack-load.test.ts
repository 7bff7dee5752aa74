import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runStackDir } from "../../components/runner";

/**
 * The shipped policy pack, started the way the Pulumi CLI's nodejs language host starts a policy
 * pack (`RunPlugin` with kind analyzer, sdk/nodejs/cmd/pulumi-language-nodejs): `node
 * @pulumi/pulumi/cmd/run-policy-pack <engine> <pack dir>` with the pack directory as the working
 * directory, the stack config in PULUMI_CONFIG, and the CLI's environment (PWD: where `pulumi`
 * runs). The pack prints the port of its analyzer server; the test then speaks the Analyzer gRPC
 * protocol to it as the engine does. Starting a PolicyPack starts a server and may exit the
 * process: it runs in a child here.
 */

// biome-ignore lint/suspicious/noExplicitAny: generated gRPC/protobuf classes are untyped here
type Any = any;
const ROOT = join(__dirname, "..", "..");
const PACK = join(ROOT, "policypack");
const pulumiDir = join(require.resolve("@pulumi/pulumi/package.json"), "..");
const grpc: Any = require(require.resolve("@grpc/grpc-js", { paths: [pulumiDir] }));
const analyzerRpc: Any = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerProto: Any = require("@pulumi/pulumi/proto/analyzer_pb");
const structProto: Any = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }),
);
const emptyProto: Any = require(
  require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [pulumiDir] }),
);

function startPack(
  projectDir: string,
  stackConfig: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [join(pulumiDir, "cmd", "run-policy-pack", "index.js"), "127.0.0.1:1", PACK],
    {
      cwd: PACK,
      env: { ...process.env, PWD: projectDir, PULUMI_CONFIG: JSON.stringify(stackConfig) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on("exit", (code) =>
      reject(new Error(`the policy pack exited (${code}) before serving:\n${out}\n${stderr}`)),
    );
  });
}

function call<T>(client: Any, method: string, request: Any): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](request, (err: unknown, resp: T) => (err ? reject(err) : resolve(resp))),
  );
}

async function analyzeStack(client: Any, dir: string) {
  const { resources } = await runStackDir(dir);
  const req = new analyzerProto.AnalyzeStackRequest();
  req.setResourcesList(
    resources.map((r) => {
      const a = new analyzerProto.AnalyzerResource();
      a.setType(r.type);
      a.setName(r.name);
      a.setUrn(r.urn);
      a.setProperties(structProto.Struct.fromJavaScript({ ...r.inputs, ...(r.id ? { id: r.id } : {}) }));
      a.setOptions(new analyzerProto.AnalyzerResourceOptions());
      if (r.parent) a.setParent(r.parent);
      return a;
    }),
  );
  const resp: Any = await call(client, "analyzeStack", req);
  return (resp.getDiagnosticsList() as Any[]).map((d) => ({
    policy: d.getPolicyname() as string,
    pack: `${d.getPolicypackname()}@${d.getPolicypackversion()}`,
    mandatory: d.getEnforcementlevel() === analyzerProto.EnforcementLevel.MANDATORY,
    message: d.getMessage() as string,
  }));
}

const LEAKY = join(ROOT, "test", "fixtures", "stacks", "leaky-aws");
let pack: { child: ChildProcess; port: number };
let client: Any;

beforeAll(async () => {
  // The project is where `pulumi` runs; its stack config names the policy file relative to it.
  pack = await startPack(LEAKY, { "leaky-aws:x": "1", "blastradius:policyFile": "policy.yaml" });
  client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  pack?.child.kill("SIGKILL");
});

describe("the policy pack, as `pulumi preview --policy-pack <dir>` loads it", () => {
  it("serves the blastradius policies with the package's version", async () => {
    const info: Any = await call(client, "getAnalyzerInfo", new emptyProto.Empty());
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string })
      .version;
    expect(info.getName()).toBe("blastradius");
    expect(info.getVersion()).toBe(version);
    expect((info.getPoliciesList() as Any[]).map((p) => p.getName())).toEqual([
      "blastradius-no-forbidden-path",
      "blastradius-allowed-paths-open",
      "blastradius-quota-limits",
      "blastradius-quota-headroom",
    ]);
  });

  it("reports the forbidden path a hand-added rule opens as mandatory, reading the project's policy file", async () => {
    const diagnostics = await analyzeStack(client, LEAKY);
    expect(diagnostics).toEqual([
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
    const diagnostics = await analyzeStack(client, join(ROOT, "examples", "aws-minimal"));
    expect(diagnostics.filter((d) => d.mandatory)).toEqual([]);
  });
});
