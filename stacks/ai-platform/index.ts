// The blastradius flagship stack: one policy (policy.yaml), five enforcement points, one proof.
import * as awsProvider from "@pulumi/aws";
import * as network from "@pulumi/azure-native/network";
import * as gcpProvider from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "blastradius/aws";
import { loadPolicy } from "blastradius/aws";
import * as azure from "blastradius/azure";
import * as bluefield from "blastradius/bluefield";
import * as cilium from "blastradius/cilium";
import * as gcp from "blastradius/gcp";

const config = new pulumi.Config();
// Every problem in the policy fails here, before anything is registered.
const plan = loadPolicy("policy.yaml");

// Training (AWS VPC "ml"): one security group per segment; attach them to the training instances.
const training = new aws.AwsSegmentation("ml", { vpc: "ml", vpcId: config.require("awsVpcId"), plan });

// The feature store (GCP network "data"): firewall rules on service-account identities.
const data = new gcp.GcpSegmentation("data", {
  network: "data",
  networkId: config.require("gcpNetworkId"),
  project: config.require("gcpProject"),
  plan,
});

// Model registry and vector database (Azure VNet "core"): one NSG, an ASG per segment.
const core = new azure.AzureSegmentation("core", {
  vnet: "core",
  plan,
  resourceGroupName: config.require("azureResourceGroup"),
  location: config.require("azureLocation"),
  virtualNetworkName: config.require("azureVnetName"),
  // Subnets created with the NSG bound: an NSG bound to nothing enforces nothing.
  subnets: [
    { name: "model-registry", addressPrefixes: ["10.30.4.0/24"] },
    { name: "vector-db", addressPrefixes: ["10.30.5.0/24"] },
  ],
});

// Inference and agents (Kubernetes cluster "ai"): CiliumNetworkPolicies with deny guardrails.
new cilium.CiliumSegmentation("ai", { cluster: "ai", plan });

// The GPU nodes behind BlueField DPUs: signed OVS rule sets applied by the agent.
const dpus = new bluefield.BlueFieldSegmentation("gpu", {
  plan,
  signingKey: config.requireSecret("bluefieldSigningKey"),
  agent: {
    mode: "kubernetes",
    namespace: config.require("dpuAgentNamespace"),
    image: config.require("dpuAgentImage"),
  },
});

// The compute, bound to its workloads so that the review proves what it really carries (the pods of
// the Kubernetes workloads are deployed by their teams with `podBindingFor(<workload>)` labels).

// The trainers' launch template: the VPC's baseline group and the training group, and the tag that
// binds its instances to the workload llm-trainer.
new awsProvider.ec2.LaunchTemplate("llm-trainer", {
  description: "GPU training nodes (bound to workload llm-trainer)",
  vpcSecurityGroupIds: training.securityGroupIdsFor("llm-trainer"),
  tags: training.tagsFor("llm-trainer"),
  tagSpecifications: [{ resourceType: "instance", tags: training.tagsFor("llm-trainer") }],
});

// The feature store's VMs run as the service account its placement names: that is their identity.
const lake = plan.policy.workloads.find((w) => w.name === "feature-store")!.placements.gcp!;
new gcpProvider.compute.InstanceTemplate("feature-store", {
  project: config.require("gcpProject"),
  machineType: config.get("featureStoreMachineType") ?? "n2-standard-4",
  disks: [
    { sourceImage: "projects/debian-cloud/global/images/family/debian-12", boot: true, autoDelete: true },
  ],
  networkInterfaces: [{ network: config.require("gcpNetworkId") }],
  serviceAccount: { email: lake.serviceAccount!, scopes: ["cloud-platform"] },
});

// The registry's and the vector database's network interfaces, in the subnets that carry the NSG,
// in their segments' application security groups.
for (const [workload, subnet] of [
  ["model-registry", "model-registry"],
  ["vector-db", "vector-db"],
] as const)
  new network.NetworkInterface(workload, {
    resourceGroupName: config.require("azureResourceGroup"),
    location: config.require("azureLocation"),
    tags: core.tagsFor(workload),
    ipConfigurations: [
      {
        name: "primary",
        subnet: { id: core.subnetIds.apply((ids) => ids[subnet]!) },
        applicationSecurityGroups: core.applicationSecurityGroupsFor(workload),
      },
    ],
  });

export const securityGroupIds = training.securityGroupIds;
export const firewallIds = data.firewallIds;
export const applicationSecurityGroupIds = core.applicationSecurityGroupIds;
export const ruleSetDigests = dpus.digests;
