import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AwsSegmentation } from "../../components/aws";
import { AzureSegmentation } from "../../components/azure";
import { BlueFieldSegmentation } from "../../components/bluefield";
import { CiliumSegmentation } from "../../components/cilium";
import { GcpSegmentation } from "../../components/gcp";
import { type RecordedResource, runProgram } from "../../components/runner";
import { compilePolicy } from "../../lib";
import { PLACEHOLDER_AGENT, placeholderSigningKey } from "../../lib/targets/bluefield";

/**
 * Names and lifecycle: physical names are Pulumi's own where the provider names resources (so two
 * stacks sharing an account, resource group or cluster do not collide), a `namePrefix` where a
 * name is fixed by what reads it, `deleteBeforeReplace` where a fixed name must be freed before
 * its replacement; and `dependsOn` given to a component reaches every resource it creates.
 */
const FLAGSHIP = join(__dirname, "..", "..", "stacks", "ai-platform", "policy.yaml");
const plan = compilePolicy({ text: readFileSync(FLAGSHIP, "utf8"), file: FLAGSHIP });

/** Every component of the flagship, each told to wait for a namespace created first. */
function flagship(opts: pulumi.ComponentResourceOptions, prefix = "") {
  new AwsSegmentation(`${prefix}ml`, { vpc: "ml", vpcId: "vpc-0a1b2c3d4e5f60718", plan }, opts);
  new GcpSegmentation(
    `${prefix}data`,
    {
      network: "data",
      networkId: "projects/corp-data/global/networks/data",
      plan,
      ...(prefix ? { namePrefix: `${prefix}br-data` } : {}),
    },
    opts,
  );
  new AzureSegmentation(
    `${prefix}core`,
    {
      vnet: "core",
      plan,
      resourceGroupName: "rg",
      subnets: [{ name: "registry", addressPrefixes: ["10.30.4.0/24"] }],
    },
    opts,
  );
  new CiliumSegmentation(
    `${prefix}ai`,
    { cluster: "ai", plan, ...(prefix ? { namePrefix: `${prefix}ai-platform` } : {}) },
    opts,
  );
  new BlueFieldSegmentation(
    `${prefix}gpu`,
    { plan, signingKey: placeholderSigningKey(plan), agent: { mode: "kubernetes", ...PLACEHOLDER_AGENT } },
    opts,
  );
}

const custom = (rs: RecordedResource[]) => rs.filter((r) => r.custom && r.parent !== undefined);

describe("names and lifecycle of the components' resources", () => {
  it("passes the component's dependsOn to every resource it creates", async () => {
    const { resources } = await runProgram(() => {
      const ns = new k8s.core.v1.Namespace("agents", { metadata: { name: "agents" } });
      flagship({ dependsOn: [ns] });
    });
    const ns = resources.find((r) => r.name === "agents")!.urn;
    const children = custom(resources);
    expect(new Set(children.map((r) => r.type.split(":")[0])).size).toBe(4); // aws, gcp, azure-native, kubernetes
    const missing = children.filter((r) => !r.dependencies?.includes(ns)).map((r) => `${r.type} ${r.name}`);
    expect(missing).toEqual([]);
  });

  it("lets Pulumi name what the provider names (no name inputs), and frees fixed names before replacing", async () => {
    const { resources } = await runProgram(() => flagship({}));
    const children = custom(resources);
    const of = (type: string) => children.filter((r) => r.type === type);
    // Named by Pulumi: no name input, replaced create-first.
    for (const r of [
      ...of("aws:ec2/securityGroup:SecurityGroup"),
      ...of("aws:ec2/managedPrefixList:ManagedPrefixList"),
    ]) {
      expect(r.inputs.name, r.name).toBeUndefined();
      expect(r.options?.deleteBeforeReplace, r.name).toBeUndefined();
    }
    for (const r of of("azure-native:network:NetworkSecurityGroup"))
      expect(r.inputs.networkSecurityGroupName, r.name).toBeUndefined();
    for (const r of of("azure-native:network:ApplicationSecurityGroup"))
      expect(r.inputs.applicationSecurityGroupName, r.name).toBeUndefined();
    // Fixed names: deleted before their replacement is created.
    const fixed = [
      ...of("gcp:compute/firewall:Firewall"),
      ...of("azure-native:network:SecurityRule"),
      ...of("azure-native:network:Subnet"),
      ...of("kubernetes:cilium.io/v2:CiliumNetworkPolicy"),
      ...of("kubernetes:core/v1:ConfigMap"),
      ...of("kubernetes:apps/v1:DaemonSet"),
    ];
    expect(fixed.length).toBeGreaterThan(10);
    expect(fixed.filter((r) => r.options?.deleteBeforeReplace !== true).map((r) => r.name)).toEqual([]);
  });

  it("gives two stacks of one policy distinct fixed names with namePrefix (GCP project, Cilium namespace)", async () => {
    const { resources } = await runProgram(() => {
      flagship({});
      flagship({}, "other-");
    });
    const physical = (type: string, name: (r: RecordedResource) => string) =>
      resources.filter((r) => r.type === type).map(name);
    const firewalls = physical("gcp:compute/firewall:Firewall", (r) => String(r.inputs.name));
    expect(new Set(firewalls).size).toBe(firewalls.length);
    expect(firewalls.filter((n) => n.startsWith("other-br-data-")).length).toBe(firewalls.length / 2);
    expect(firewalls.every((n) => n.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(n))).toBe(true);
    const policies = physical("kubernetes:cilium.io/v2:CiliumNetworkPolicy", (r) => {
      const m = r.inputs.metadata as { namespace: string; name: string };
      return `${m.namespace}/${m.name}`;
    });
    expect(new Set(policies).size).toBe(policies.length);
    expect(policies.filter((p) => p.split("/")[1]!.startsWith("other-ai-platform")).length).toBe(
      policies.length / 2,
    );
  });

  it("refuses a namePrefix the target cannot name with", async () => {
    await expect(
      runProgram(() => {
        new CiliumSegmentation("ai", { cluster: "ai", plan, namePrefix: "Not_A_Name" });
      }),
    ).rejects.toThrow(/args\.namePrefix "Not_A_Name" is not a Kubernetes name start/);
    await expect(
      runProgram(() => {
        new GcpSegmentation("data", { network: "data", networkId: "n", plan, namePrefix: "--" });
      }),
    ).rejects.toThrow(/args\.namePrefix must contain a letter or digit/);
  });
});
