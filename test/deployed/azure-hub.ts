import * as network from "@pulumi/azure-native/network";
import { AzureSegmentation } from "../../components/azure";
import { planOf } from "./support";

/*
 * The Azure stack of the deployed-stack tests (azure.test.ts, azure-binding.test.ts): two workloads
 * in VNet hub (placement name; `vnet-hub-prod` in Azure), portal allowed to reports, corp forbidden
 * to reach reports; the VNet and the component with one subnet per workload.
 */

export const plan = planOf({
  name: "deployed-azure",
  workloads: [
    {
      name: "portal",
      labels: { tier: "portal" },
      placements: { azure: { vnet: "hub", cidrs: ["10.30.1.0/24"] } },
    },
    {
      name: "reports",
      labels: { tier: "reports" },
      placements: { azure: { vnet: "hub", cidrs: ["10.30.2.0/24"] } },
    },
  ],
  segments: { portal: { matchLabels: { tier: "portal" } }, reports: { matchLabels: { tier: "reports" } } },
  peers: { corp: { cidrs: ["10.200.0.0/16"] } },
  paths: [
    {
      name: "portal-reads-reports",
      from: "portal",
      to: "reports",
      services: ["tcp/443"],
      owner: "o@x",
      justification: "j",
    },
    {
      name: "no-corp-to-reports",
      from: "corp",
      to: "reports",
      verdict: "forbid",
      owner: "o@x",
      justification: "j",
    },
  ],
});

export const RG = "rg-hub";

/** The VNet, the component with the workloads' subnets, and whatever the test adds. */
export function stack(more: (net: AzureSegmentation) => void) {
  return () => {
    const vnet = new network.VirtualNetwork("hub", {
      resourceGroupName: RG,
      virtualNetworkName: "vnet-hub-prod",
      addressSpace: { addressPrefixes: ["10.30.0.0/16"] },
    });
    const net = new AzureSegmentation("hub", {
      vnet: "hub",
      plan,
      resourceGroupName: RG,
      location: "westeurope",
      virtualNetworkName: vnet.name,
      subnets: [
        { name: "portal", addressPrefixes: ["10.30.1.0/24"] },
        { name: "reports", addressPrefixes: ["10.30.2.0/24"] },
      ],
    });
    more(net);
  };
}
