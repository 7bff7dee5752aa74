import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runStackDir, StackDirError } from "../../components/runner";

const fixture = (name: string) => path.join(__dirname, "fixtures", name);
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

describe("runStackDir", () => {
  it("runs a TypeScript stack with plain, namespaced, structured, project-default and secret config", async () => {
    const cwd = process.cwd();
    const result = await runStackDir(fixture("config-stack"));
    expect(process.cwd()).toBe(cwd);

    expect(result.project).toBe("cfgproj");
    expect(result.stack).toBe("dev");
    const sg = result.resources.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup");
    // cfgproj:name (namespaced) = web, aws:region (other namespace) = eu-west-3
    expect(sg?.name).toBe("web");
    expect(sg?.urn).toBe("urn:pulumi:dev::cfgproj::aws:ec2/securityGroup:SecurityGroup::web");
    expect(sg?.inputs).toEqual({ description: "web in eu-west-3" });

    const rules = result.resources.filter((r) => r.type === INGRESS);
    // Structured cfgproj:rules → two CIDRs + one from allowed.json read relative to the project dir;
    // un-namespaced `port: 8443` in the stack file overrides the project default (80).
    expect(
      rules.map((r) => r.inputs).sort((a, b) => String(a.cidrIpv4).localeCompare(String(b.cidrIpv4))),
    ).toEqual(
      ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((cidrIpv4) => ({
        securityGroupId: sg?.id,
        ipProtocol: "tcp",
        fromPort: 8443,
        toPort: 8443,
        cidrIpv4,
      })),
    );

    expect(result.outputs).toMatchObject({
      securityGroupId: sg?.id,
      project: "cfgproj",
      stack: "dev",
      greetingOut: "hello-from-project",
      password: "[secret cfgproj:dbPassword]",
    });
  });

  it("loads the program fresh on every run, in a process of its own", async () => {
    const first = await runStackDir(fixture("config-stack"));
    const second = await runStackDir(fixture("config-stack"));
    // The program counts its loads on globalThis: each run starts from nothing.
    expect(first.outputs.loads).toBe(1);
    expect(second.outputs.loads).toBe(1);
    expect(second.resources.map((r) => r.urn)).toEqual(first.resources.map((r) => r.urn));
    expect(second.resources).toHaveLength(4);
  });

  it("lets options.config override stack config (e.g. supply a secret)", async () => {
    const result = await runStackDir(fixture("config-stack"), {
      config: { dbPassword: "hunter2", "cfgproj:name": "api" },
    });
    expect(result.outputs.password).toBe("hunter2");
    expect(result.resources.map((r) => r.name)).toContain("api");
    expect(result.resources.map((r) => r.name)).not.toContain("web");
  });

  it("refuses to guess between several stack files, naming them", async () => {
    const run = runStackDir(fixture("two-stacks"));
    await expect(run).rejects.toBeInstanceOf(StackDirError);
    await expect(run).rejects.toThrow(/Pulumi\.dev\.yaml, Pulumi\.prod\.yaml/);
  });

  it("runs the requested stack with that stack's config", async () => {
    const prod = await runStackDir(fixture("two-stacks"), { stack: "prod" });
    const dev = await runStackDir(fixture("two-stacks"), { stack: "dev" });
    expect(prod.stack).toBe("prod");
    expect(prod.resources.map((r) => r.urn)).toEqual([
      "urn:pulumi:prod::twostacks::aws:ec2/securityGroup:SecurityGroup::sg-large",
    ]);
    expect(prod.outputs).toEqual({ sgName: "large" });
    expect(dev.resources.map((r) => r.name)).toEqual(["sg-small"]);
  });

  it("honours Pulumi.yaml `main` and a default-exported async function", async () => {
    const result = await runStackDir(fixture("main-function"));
    expect(result.project).toBe("mainfn");
    expect(result.stack).toBe("dev");
    expect(result.resources).toEqual([
      {
        type: "kubernetes:cilium.io/v2:CiliumNetworkPolicy",
        name: "allow-web",
        urn: "urn:pulumi:dev::mainfn::kubernetes:cilium.io/v2:CiliumNetworkPolicy::allow-web",
        custom: true,
        inputs: {
          apiVersion: "cilium.io/v2",
          kind: "CiliumNetworkPolicy",
          metadata: { name: "allow-web", namespace: "shop" },
          spec: { endpointSelector: { matchLabels: { app: "web" } } },
        },
        id: "shop/allow-web",
      },
    ]);
    expect(result.outputs).toEqual({ policyId: "shop/allow-web", stack: "dev" });
  });

  it("rejects directories that are not Node.js Pulumi projects", async () => {
    await expect(runStackDir(fixture("no-project"))).rejects.toThrow(/No Pulumi\.yaml in .*no-project/);
    await expect(runStackDir(fixture("not-nodejs"))).rejects.toThrow(/runtime is "python"/);
    await expect(runStackDir(fixture("does-not-exist"))).rejects.toThrow(/Not a directory/);
  });

  it("propagates the program's own error and keeps working afterwards", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-broken-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: broken\nruntime: nodejs\n");
      fs.writeFileSync(path.join(dir, "index.js"), 'throw new Error("broken program 99");\n');
      await expect(runStackDir(dir)).rejects.toThrow("broken program 99");
      const ok = await runStackDir(fixture("two-stacks"), { stack: "dev" });
      expect(ok.resources.map((r) => r.name)).toEqual(["sg-small"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
