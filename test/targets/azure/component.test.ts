import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../../bench/generate";
import { AZURE_SEGMENTATION_TYPE, AzureSegmentation } from "../../../components/azure";
import {
  azureModule,
  azurePlaceholderProgram,
  azurePlaceholderRecords,
} from "../../../components/azure/module";
import { runProgram } from "../../../components/runner";
import { prove } from "../../../lib";
import { AZURE_TYPES, azureEvaluator, azureUsage } from "../../../lib/targets/azure";
import { MIXED } from "./policies";
import { planOf } from "./support";

const plan = planOf(MIXED);

describe("AzureSegmentation under the recording runner", () => {
  it("registers one NSG, ASGs per segment, standalone rules and subnets, all children of the component", async () => {
    const run = await runProgram(() => {
      const seg = new AzureSegmentation("spoke", {
        vnet: "spoke",
        plan,
        resourceGroupName: "rg-net",
        location: "westeurope",
        virtualNetworkName: "vnet-spoke-prod",
        subnets: [{ name: "data", addressPrefixes: ["10.41.1.0/24"] }],
        tags: { team: "platform" },
      });
      return {
        asgs: seg.applicationSecurityGroupIds,
        nsg: seg.networkSecurityGroupId,
        subnets: seg.subnetIds,
      };
    });
    const component = run.resources.find((r) => r.type === AZURE_SEGMENTATION_TYPE)!;
    expect(component).toMatchObject({ name: "spoke", custom: false });
    const children = run.resources.filter((r) => r.custom);
    expect(children.every((r) => r.parent === component.urn && r.name.startsWith("spoke-"))).toBe(true);

    const nsgs = children.filter((r) => r.type === AZURE_TYPES.nsg);
    expect(nsgs).toHaveLength(1);
    // No name input: Pulumi names the NSG (and the ASGs), so stacks sharing a resource group do not collide.
    expect(nsgs[0]!.inputs).toEqual({
      resourceGroupName: "rg-net",
      location: "westeurope",
      tags: { team: "platform", "blastradius-policy": "mixed", "blastradius-vnet": "spoke" },
    });
    expect(nsgs[0]!.inputs.securityRules).toBeUndefined();

    const asgs = children.filter((r) => r.type === AZURE_TYPES.asg);
    expect(asgs.map((a) => a.inputs.tags)).toEqual([
      {
        team: "platform",
        "blastradius-policy": "mixed",
        "blastradius-vnet": "spoke",
        "blastradius-segment": "db",
      },
    ]);
    expect(run.outputs.asgs).toEqual({
      db: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/applicationSecurityGroups/spoke-asg-db",
    });

    const rules = children.filter((r) => r.type === AZURE_TYPES.rule);
    const byName = Object.fromEntries(rules.map((r) => [r.inputs.securityRuleName as string, r.inputs]));
    expect(byName["api-to-db-in-v4-tcp"]).toEqual({
      resourceGroupName: "rg-net",
      // The NSG's name as the provider gives it (here the runner's mocks: its logical name).
      networkSecurityGroupName: "spoke-nsg",
      securityRuleName: "api-to-db-in-v4-tcp",
      description: 'blastradius mixed: allow "api-to-db" api -> db (tcp/5432)',
      priority: expect.any(Number),
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      sourcePortRange: "*",
      sourceAddressPrefixes: ["10.40.2.0/24"],
      destinationApplicationSecurityGroups: [{ id: (run.outputs.asgs as Record<string, string>).db }],
      destinationPortRanges: ["5432"],
    });
    expect(byName["deny-all-inbound"]).toMatchObject({
      priority: 4096,
      access: "Deny",
      protocol: "*",
      sourceAddressPrefix: "*",
      destinationAddressPrefix: "*",
      destinationPortRange: "*",
    });
    // Guardrails: Deny in the deny band, before every allow.
    const deny = rules.filter((r) => r.inputs.access === "Deny" && r.inputs.priority !== 4096);
    const allow = rules.filter((r) => r.inputs.access === "Allow");
    expect(deny.map((r) => r.inputs.securityRuleName).sort()).toEqual([
      "no-corp-to-db-in-v4-any",
      "no-db-exfil-out-v4-any",
      "no-db-exfil-out-v6-any",
      "no-web-to-db-in-v4-any",
      "no-web-to-db-in-v6-any",
    ]);
    const maxDeny = Math.max(...deny.map((r) => r.inputs.priority as number));
    expect(maxDeny).toBeLessThan(Math.min(...allow.map((r) => r.inputs.priority as number)));
    // Unique priorities per direction.
    for (const direction of ["Inbound", "Outbound"]) {
      const ps = rules.filter((r) => r.inputs.direction === direction).map((r) => r.inputs.priority);
      expect(new Set(ps).size).toBe(ps.length);
    }
    // Every rule's description names the policy and stays within Azure's 140 characters.
    expect(rules.every((r) => String(r.inputs.description).startsWith("blastradius mixed:"))).toBe(true);
    expect(rules.every((r) => String(r.inputs.description).length <= 140)).toBe(true);

    const subnets = children.filter((r) => r.type === AZURE_TYPES.subnet);
    expect(subnets.map((s) => s.inputs)).toEqual([
      {
        resourceGroupName: "rg-net",
        virtualNetworkName: "vnet-spoke-prod",
        subnetName: "data",
        addressPrefixes: ["10.41.1.0/24"],
        networkSecurityGroup: { id: run.outputs.nsg },
        // Defaults the azure-native SDK fills in.
        privateEndpointNetworkPolicies: "Disabled",
        privateLinkServiceNetworkPolicies: "Enabled",
      },
    ]);
  });

  it.each([
    ["MIXED", plan],
    ["a generated policy", planOf(generatePolicy({ workloads: 600, segments: 60, paths: 150 }))],
  ])(
    "records(plan) builds exactly what the placeholder program registers, ids included (%s)",
    async (_, p) => {
      const run = await runProgram(() => azureModule.placeholderProgram(p));
      const recorded = run.resources
        .filter((r) => r.custom)
        .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, id: r.id }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      const offline = azureModule.records(p).sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(recorded.length).toBeGreaterThan(10);
      expect(offline).toEqual(recorded);
    },
  );

  it("with rules inline: the ASGs, then one NSG carrying every rule with the ASG ids resolved, and no SecurityRule", async () => {
    const args = {
      vnet: "spoke",
      plan,
      resourceGroupName: "rg-net",
      location: "westeurope",
      subnets: [{ name: "data", addressPrefixes: ["10.41.1.0/24"] }],
    };
    let rendered: AzureSegmentation["rendering"] | undefined;
    const inline = await runProgram(() => {
      const seg = new AzureSegmentation("spoke", { ...args, rules: "inline" });
      rendered = seg.rendering;
      return { asgs: seg.applicationSecurityGroupIds, nsg: seg.networkSecurityGroupId };
    });
    const standalone = await runProgram(() => {
      new AzureSegmentation("spoke", args);
    });
    const custom = (run: typeof inline) => run.resources.filter((r) => r.custom);
    expect(custom(inline).map((r) => r.type)).toEqual([AZURE_TYPES.asg, AZURE_TYPES.nsg, AZURE_TYPES.subnet]);
    const nsg = custom(inline).find((r) => r.type === AZURE_TYPES.nsg)!;
    const rules = nsg.inputs.securityRules as Array<Record<string, unknown>>;
    // The same rules as the standalone resources, property for property, with `name` for
    // `securityRuleName` and without the resource group and NSG name.
    const separate = custom(standalone)
      .filter((r) => r.type === AZURE_TYPES.rule)
      .map(({ inputs: { resourceGroupName, networkSecurityGroupName, securityRuleName, ...rest } }) => ({
        name: securityRuleName,
        ...rest,
      }));
    expect(separate.length).toBeGreaterThan(5);
    const byName = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.name) < String(b.name) ? -1 : 1;
    // Inline, in the rendering's order.
    expect(rules.map((r) => r.name)).toEqual(rendered!.rules.map((r) => r.name));
    expect([...rules].sort(byName)).toEqual(separate.sort(byName));
    const db = (inline.outputs.asgs as Record<string, string>).db!;
    expect(rules.find((r) => r.name === "api-to-db-in-v4-tcp")?.destinationApplicationSecurityGroups).toEqual(
      [{ id: db }],
    );
    // Subnets still get the NSG; names do not depend on the mode.
    expect(custom(inline).find((r) => r.type === AZURE_TYPES.subnet)!.inputs.networkSecurityGroup).toEqual({
      id: inline.outputs.nsg,
    });
    expect(nsg.name).toBe("spoke-nsg");
  });

  it.each([
    ["MIXED", plan],
    ["a generated policy", planOf(generatePolicy({ workloads: 600, segments: 60, paths: 150 }))],
  ])(
    "with rules inline, the offline records equal what is registered and prove exactly what the standalone rules prove (%s)",
    async (_, p) => {
      const run = await runProgram(() => azurePlaceholderProgram(p, { rules: "inline" }));
      const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
      const recorded = run.resources
        .filter((r) => r.custom)
        .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, id: r.id }))
        .sort(byName);
      const inline = azurePlaceholderRecords(p, { rules: "inline" }).sort(byName);
      expect(inline).toEqual(recorded);
      expect(inline.some((r) => r.type === AZURE_TYPES.rule)).toBe(false);
      const standalone = azurePlaceholderRecords(p);
      const inlineProof = prove(p, [azureEvaluator(inline, p)]);
      const standaloneProof = prove(p, [azureEvaluator(standalone, p)]);
      expect(inlineProof.allowed.length + inlineProof.forbidden.length).toBeGreaterThan(3);
      expect(inlineProof).toEqual(standaloneProof);
      // Usage counts the inline rules as it counts the standalone ones.
      const u = azureUsage(inline, p);
      const v = azureUsage(standalone, p);
      expect(u.rules).toBe(v.rules);
      expect(u.quotas).toEqual(v.quotas);
      expect(u.resources).toBe(v.resources - v.rules);
    },
  );

  it.each([
    [{ rules: "separate" }, 'AzureSegmentation "bad": args.rules is "separate": use "resources" or "inline"'],
    [
      { vnet: "nowhere" },
      'AzureSegmentation "bad": args.vnet "nowhere" is not a VNet the policy places workloads in (known: hub, spoke)',
    ],
    [{ vnet: "" }, "args.vnet is required"],
    [{ resourceGroupName: "" }, "args.resourceGroupName is required"],
    [{ plan: undefined }, "args.plan is required"],
    [
      { subnets: [{ name: "a", addressPrefixes: [] }] },
      'args.subnets[0].addressPrefixes (subnet "a") needs at least one prefix',
    ],
    [
      { subnets: [{ name: "a", addressPrefixes: ["10.0.0.1/8"] }] },
      'args.subnets[0].addressPrefixes (subnet "a"): bad CIDR',
    ],
    [{ subnets: [{ name: "", addressPrefixes: ["10.0.0.0/8"] }] }, "args.subnets[0].name is required"],
  ])("bad input %j fails naming the argument, and nothing is registered", async (override, message) => {
    let error: Error | undefined;
    const run = await runProgram(() => {
      try {
        new AzureSegmentation("bad", {
          vnet: "hub",
          plan,
          resourceGroupName: "rg",
          ...(override as object),
        } as never);
      } catch (e) {
        error = e as Error;
      }
    });
    expect(error?.message).toContain(message);
    expect(run.resources).toEqual([]);
  });
});
