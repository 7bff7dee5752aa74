import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AddressSet, ConnectionSet, type ResourceRecord, ServiceSet } from "../../../lib";
import {
  AZURE_LOAD_BALANCER,
  AZURE_TYPES,
  azureEvaluator,
  readNicExport,
  readNsgExport,
} from "../../../lib/targets/azure";
import { party, planOf, tcp } from "./support";

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, "fixtures", name), "utf8")) as unknown;
const SUB =
  "/subscriptions/6f1a2b3c-0000-4000-8000-000000000000/resourceGroups/rg-nsg-example/providers/Microsoft.Network";
const INTERNET_HOST = "52.174.10.20";
const withoutProbes = (c: ConnectionSet) =>
  c.subtract(ConnectionSet.of(AZURE_LOAD_BALANCER, AddressSet.ALL, ServiceSet.ALL));

const nsg = (name: string): ResourceRecord => ({
  type: AZURE_TYPES.nsg,
  name,
  inputs: { resourceGroupName: "rg-nsg-example", networkSecurityGroupName: name },
});
const rule = (nsgName: string, name: string, inputs: Record<string, unknown>): ResourceRecord => ({
  type: AZURE_TYPES.rule,
  name,
  inputs: {
    resourceGroupName: "rg-nsg-example",
    networkSecurityGroupName: nsgName,
    securityRuleName: name,
    sourcePortRange: "*",
    ...inputs,
  },
});
const subnet = (name: string, prefix: string, nsgName?: string): ResourceRecord => ({
  type: AZURE_TYPES.subnet,
  name,
  inputs: {
    resourceGroupName: "rg-nsg-example",
    virtualNetworkName: "vnet1",
    subnetName: name,
    addressPrefix: prefix,
    ...(nsgName ? { networkSecurityGroup: { id: `${SUB}/networkSecurityGroups/${nsgName}` } } : {}),
  },
});
const nic = (name: string, address: string, subnetName: string, nsgName?: string): ResourceRecord => ({
  type: AZURE_TYPES.nic,
  name,
  inputs: {
    resourceGroupName: "rg-nsg-example",
    networkInterfaceName: name,
    ipConfigurations: [
      {
        name: "ipconfig1",
        privateIPAddress: address,
        subnet: { id: `${SUB}/virtualNetworks/vnet1/subnets/${subnetName}` },
      },
    ],
    ...(nsgName ? { networkSecurityGroup: { id: `${SUB}/networkSecurityGroups/${nsgName}` } } : {}),
  },
});

/**
 * "How network security groups filter network traffic", the VM1–VM4 example:
 * https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works
 * NSG1 is on Subnet1 (VM1, VM2); NSG2 on the NICs of VM1 and VM3 (VM3 in Subnet2, no subnet NSG);
 * VM4 in Subnet3 has no NSG at all. Traffic: TCP port 80 from and to the internet.
 */
describe("documented example: subnet and NIC NSGs (VM1–VM4)", () => {
  const vm = (name: string, cidr: string) => ({
    name,
    labels: { vm: name },
    placements: { azure: { vnet: "vnet1", cidrs: [cidr] } },
  });
  const plan = planOf({
    name: "nsg-how-it-works",
    workloads: [
      vm("vm1", "10.0.1.4/32"),
      vm("vm2", "10.0.1.5/32"),
      vm("vm3", "10.0.2.4/32"),
      vm("vm4", "10.0.3.4/32"),
    ],
    segments: { vms: { matchExpressions: [{ key: "vm", operator: "Exists" }] } },
  });
  const topology = [
    nsg("NSG1"),
    nsg("NSG2"),
    subnet("Subnet1", "10.0.1.0/24", "NSG1"),
    subnet("Subnet2", "10.0.2.0/24"),
    subnet("Subnet3", "10.0.3.0/24"),
    nic("vm1-nic", "10.0.1.4", "Subnet1", "NSG2"),
    nic("vm2-nic", "10.0.1.5", "Subnet1"),
    nic("vm3-nic", "10.0.2.4", "Subnet2", "NSG2"),
    nic("vm4-nic", "10.0.3.4", "Subnet3"),
  ];
  const allow80In = (nsgName: string) =>
    rule(nsgName, "Allow-HTTP-Inbound", {
      priority: 100,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      sourceAddressPrefix: "Internet",
      destinationAddressPrefix: "*",
      destinationPortRange: "80",
    });
  const deny80Out = (nsgName: string) =>
    rule(nsgName, "Deny-HTTP-Outbound", {
      priority: 100,
      direction: "Outbound",
      access: "Deny",
      protocol: "Tcp",
      sourceAddressPrefix: "*",
      destinationAddressPrefix: "Internet",
      destinationPortRange: "80",
    });
  const internet = party(plan, "internet");
  const inbound = (records: ResourceRecord[], to: string, address: string) =>
    azureEvaluator(records, plan).decide(internet, party(plan, to), tcp(INTERNET_HOST, address, 80));
  const outbound = (records: ResourceRecord[], from: string, address: string) =>
    azureEvaluator(records, plan).decide(party(plan, from), internet, tcp(address, INTERNET_HOST, 80));

  it("inbound, no allow rule: VM1 and VM2 stop at NSG1's DenyAllInBound, VM3 at NSG2's, VM4 is open", () => {
    expect(inbound(topology, "vm1", "10.0.1.4")).toEqual({
      verdict: "deny",
      by: "NSG1/DenyAllInBound (inbound 65500)",
    });
    expect(inbound(topology, "vm2", "10.0.1.5")).toEqual({
      verdict: "deny",
      by: "NSG1/DenyAllInBound (inbound 65500)",
    });
    expect(inbound(topology, "vm3", "10.0.2.4")).toEqual({
      verdict: "deny",
      by: "NSG2/DenyAllInBound (inbound 65500)",
    });
    expect(inbound(topology, "vm4", "10.0.3.4")).toEqual({
      verdict: "allow",
      by: "no NSG associated (Azure allows everything)",
    });
  });

  it("inbound, NSG1 allows port 80: VM2 is reached, VM1 still needs NSG2 to allow it too", () => {
    const records = [...topology, allow80In("NSG1")];
    expect(inbound(records, "vm2", "10.0.1.5")).toEqual({
      verdict: "allow",
      by: "NSG1/Allow-HTTP-Inbound (inbound 100)",
    });
    expect(inbound(records, "vm1", "10.0.1.4")).toEqual({
      verdict: "deny",
      by: "NSG2/DenyAllInBound (inbound 65500)",
    });
    const both = [...records, allow80In("NSG2")];
    expect(inbound(both, "vm1", "10.0.1.4")).toEqual({
      verdict: "allow",
      by: "NSG1/Allow-HTTP-Inbound (inbound 100); NSG2/Allow-HTTP-Inbound (inbound 100)",
    });
    // The set view agrees: port 80 from the internet, plus everything from Azure's load balancer
    // probe address (AllowAzureLoadBalancerInBound, 65001), which is a public address too.
    const ev = azureEvaluator(both, plan);
    const open = ev.allowed(internet, party(plan, "vm1"));
    expect(withoutProbes(open).services().equals(ServiceSet.tcp(80))).toBe(true);
    expect(open.subtract(withoutProbes(open)).sources().equals(AZURE_LOAD_BALANCER)).toBe(true);
    expect(open.subtract(withoutProbes(open)).services().equals(ServiceSet.ALL)).toBe(true);
  });

  it("outbound: AllowInternetOutBound lets everything out until a NIC or subnet NSG denies port 80", () => {
    expect(outbound(topology, "vm1", "10.0.1.4")).toEqual({
      verdict: "allow",
      by: "NSG2/AllowInternetOutBound (outbound 65001); NSG1/AllowInternetOutBound (outbound 65001)",
    });
    expect(outbound(topology, "vm3", "10.0.2.4").by).toBe("NSG2/AllowInternetOutBound (outbound 65001)");
    expect(outbound(topology, "vm4", "10.0.3.4").verdict).toBe("allow");
    // NSG2 denies: VM1's traffic stops at its NIC and never reaches NSG1; VM3 likewise; VM2 (NSG1 only) goes out.
    const nicDeny = [...topology, deny80Out("NSG2")];
    expect(outbound(nicDeny, "vm1", "10.0.1.4")).toEqual({
      verdict: "deny",
      by: "NSG2/Deny-HTTP-Outbound (outbound 100)",
    });
    expect(outbound(nicDeny, "vm3", "10.0.2.4").verdict).toBe("deny");
    expect(outbound(nicDeny, "vm2", "10.0.1.5").verdict).toBe("allow");
    // "Either, or both": a deny in the subnet's NSG1 alone also stops VM1.
    expect(outbound([...topology, deny80Out("NSG1")], "vm1", "10.0.1.4")).toEqual({
      verdict: "deny",
      by: "NSG1/Deny-HTTP-Outbound (outbound 100)",
    });
  });

  it("reads NSG2 from an ARM-shaped export and reaches the same verdicts", () => {
    const exported = readNsgExport(fixture("vm-example-nsg2.arm.json"), {
      nicAddresses: { "vm1-nic": ["10.0.1.4"], "vm3-nic": ["10.0.2.4"] },
    });
    const records = [nsg("NSG1"), subnet("Subnet1", "10.0.1.0/24", "NSG1"), ...exported];
    expect(outbound(records, "vm1", "10.0.1.4")).toEqual({
      verdict: "deny",
      by: "NSG2/Deny-HTTP-Outbound-Internet (outbound 200)",
    });
    expect(outbound(records, "vm2", "10.0.1.5").verdict).toBe("allow");
    expect(inbound(records, "vm3", "10.0.2.4").by).toBe("NSG2/DenyAllInBound (inbound 65500)");
  });
});

/**
 * "Application security groups", the web/logic/db example:
 * https://learn.microsoft.com/azure/virtual-network/application-security-groups
 * NIC1 and NIC2 are in AsgWeb, NIC3 in AsgLogic, NIC4 in AsgDb; NSG1 is on both subnets; no NIC NSG.
 */
describe("documented example: application security groups (web, logic, db)", () => {
  const vm = (name: string, address: string) => ({
    name,
    labels: { nic: name },
    placements: { azure: { vnet: "VNet1", cidrs: [`${address}/32`] } },
  });
  const plan = planOf({
    name: "asg-example",
    workloads: [
      vm("nic1", "10.0.1.4"),
      vm("nic2", "10.0.1.5"),
      vm("nic3", "10.0.2.4"),
      vm("nic4", "10.0.2.5"),
    ],
    segments: { all: { matchExpressions: [{ key: "nic", operator: "Exists" }] } },
  });
  const records = [
    ...readNsgExport(fixture("asg-example-nsg1.az.json"), {
      subnetPrefixes: { "VNet1/Subnet1": ["10.0.1.0/24"], "VNet1/Subnet2": ["10.0.2.0/24"] },
    }),
    ...readNicExport(fixture("asg-example-nics.az.json")),
  ];
  const ev = azureEvaluator(records, plan);
  const p = (n: string) => party(plan, n);

  it("Allow-HTTP-Inbound-Internet opens port 80 to the web servers only", () => {
    expect(ev.decide(p("internet"), p("nic1"), tcp(INTERNET_HOST, "10.0.1.4", 80))).toEqual({
      verdict: "allow",
      by: "NSG1/Allow-HTTP-Inbound-Internet (inbound 100)",
    });
    expect(ev.decide(p("internet"), p("nic2"), tcp(INTERNET_HOST, "10.0.1.5", 80)).verdict).toBe("allow");
    // "no additional rule is needed for AsgLogic or AsgDb": DenyAllInbound drops it.
    expect(ev.decide(p("internet"), p("nic3"), tcp(INTERNET_HOST, "10.0.2.4", 80))).toEqual({
      verdict: "deny",
      by: "NSG1/DenyAllInBound (inbound 65500)",
    });
    expect(
      withoutProbes(ev.allowed(p("internet"), p("nic1")))
        .services()
        .equals(ServiceSet.tcp(80)),
    ).toBe(true);
  });

  it("Allow-Database-BusinessLogic (110) lets AsgLogic reach the database before Deny-Database-All (120)", () => {
    expect(ev.decide(p("nic3"), p("nic4"), tcp("10.0.2.4", "10.0.2.5", 1433))).toEqual({
      verdict: "allow",
      by: "NSG1/AllowVnetOutBound (outbound 65000); NSG1/Allow-Database-BusinessLogic (inbound 110)",
    });
  });

  it("Deny-Database-All blocks 1433 from every other source, over any protocol", () => {
    expect(ev.decide(p("nic1"), p("nic4"), tcp("10.0.1.4", "10.0.2.5", 1433))).toEqual({
      verdict: "deny",
      by: "NSG1/Deny-Database-All (inbound 120)",
    });
    const udp = { family: 4 as const, src: "10.0.1.4", dst: "10.0.2.5", protocol: 17, port: 1433 };
    expect(ev.decide(p("nic1"), p("nic4"), udp).by).toBe("NSG1/Deny-Database-All (inbound 120)");
    expect(ev.decide(p("internet"), p("nic4"), tcp(INTERNET_HOST, "10.0.2.5", 1433)).verdict).toBe("deny");
    const fromWeb = ev.allowed(p("nic1"), p("nic4"));
    expect(fromWeb.services().has(6, 1433)).toBe(false);
    expect(ev.allowed(p("nic3"), p("nic4")).services().has(6, 1433)).toBe(true);
  });

  it("everything else inside the VNet stays open through AllowVNetInBound, as the article warns", () => {
    expect(ev.decide(p("nic1"), p("nic3"), tcp("10.0.1.4", "10.0.2.4", 22))).toEqual({
      verdict: "allow",
      by: "NSG1/AllowVnetOutBound (outbound 65000); NSG1/AllowVnetInBound (inbound 65000)",
    });
    expect(ev.allowed(p("nic1"), p("nic3")).services().equals(ServiceSet.ALL)).toBe(true);
  });
});
