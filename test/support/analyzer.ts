import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

/**
 * Starting a policy pack the way the Pulumi CLI's nodejs language host does (`RunPlugin`, kind
 * analyzer, in sdk/nodejs/cmd/pulumi-language-nodejs): `node @pulumi/pulumi/cmd/run-policy-pack
 * <engine> <pack dir>` in the pack directory, the stack config in PULUMI_CONFIG, the CLI's
 * environment (PWD: where `pulumi` runs); then speaking the Analyzer gRPC protocol to it as the
 * engine does. Everything is loaded from `pulumiDir`'s copy of @pulumi/pulumi (the pack's own, in
 * a project outside the repository).
 */

// biome-ignore lint/suspicious/noExplicitAny: generated gRPC/protobuf classes are untyped here
type Any = any;

export interface Analyzer {
  info(): Promise<{ name: string; version: string; policies: string[] }>;
  analyzeStack(
    resources: ReadonlyArray<{
      type: string;
      name: string;
      urn: string;
      inputs: object;
      id?: string;
      parent?: string;
    }>,
  ): Promise<Array<{ policy: string; pack: string; mandatory: boolean; message: string }>>;
  close(): void;
}

export async function startPolicyPack(options: {
  /** The pack directory (package.json, PulumiPolicy.yaml, index.js). */
  packDir: string;
  /** The @pulumi/pulumi directory whose run-policy-pack, gRPC and protobuf classes are used. */
  pulumiDir: string;
  /** Where `pulumi` runs: the project. */
  projectDir: string;
  stackConfig: Record<string, string>;
}): Promise<Analyzer> {
  const { packDir, pulumiDir } = options;
  const grpc: Any = require(require.resolve("@grpc/grpc-js", { paths: [pulumiDir] }));
  const analyzerRpc: Any = require(join(pulumiDir, "proto", "analyzer_grpc_pb"));
  const analyzerProto: Any = require(join(pulumiDir, "proto", "analyzer_pb"));
  const structProto: Any = require(
    require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }),
  );
  const emptyProto: Any = require(
    require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [pulumiDir] }),
  );

  const child: ChildProcess = spawn(
    process.execPath,
    [join(pulumiDir, "cmd", "run-policy-pack", "index.js"), "127.0.0.1:1", packDir],
    {
      cwd: packDir,
      env: { ...process.env, PWD: options.projectDir, PULUMI_CONFIG: JSON.stringify(options.stackConfig) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) =>
      reject(new Error(`the policy pack exited (${code}) before serving:\n${out}\n${stderr}`)),
    );
  });
  const client: Any = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = <T>(method: string, request: Any): Promise<T> =>
    new Promise((resolve, reject) =>
      client[method](request, (err: unknown, resp: T) => (err ? reject(err) : resolve(resp))),
    );

  return {
    async info() {
      const info: Any = await call("getAnalyzerInfo", new emptyProto.Empty());
      return {
        name: info.getName(),
        version: info.getVersion(),
        policies: (info.getPoliciesList() as Any[]).map((p) => p.getName() as string),
      };
    },
    async analyzeStack(resources) {
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
      const resp: Any = await call("analyzeStack", req);
      return (resp.getDiagnosticsList() as Any[]).map((d) => ({
        policy: d.getPolicyname() as string,
        pack: `${d.getPolicypackname()}@${d.getPolicypackversion()}`,
        mandatory: d.getEnforcementlevel() === analyzerProto.EnforcementLevel.MANDATORY,
        message: d.getMessage() as string,
      }));
    },
    close() {
      client.close();
      child.kill("SIGKILL");
    },
  };
}
