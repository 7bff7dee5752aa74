import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import * as segmentation from "blastradius/azure";
import { loadPolicy } from "blastradius/azure";

const group = new resources.ResourceGroup("hub", { location: "westeurope" });
const vnet = new network.VirtualNetwork("hub", {
  resourceGroupName: group.name,
  location: group.location,
  addressSpace: { addressPrefixes: ["10.30.0.0/16"] },
});
const net = new segmentation.AzureSegmentation("hub", {
  vnet: "hub",
  plan: loadPolicy("policy.yaml"),
  resourceGroupName: group.name,
  location: group.location,
  virtualNetworkName: vnet.name,
  // The subnets are created with the NSG bound: without that binding Azure enforces nothing.
  subnets: [
    { name: "portal", addressPrefixes: ["10.30.1.0/24"] },
    { name: "reports", addressPrefixes: ["10.30.2.0/24"] },
  ],
});

// Put each VM's NIC in its segment's application security group.
export const applicationSecurityGroupIds = net.applicationSecurityGroupIds;
