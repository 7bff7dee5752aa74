// "A compromised user workstation must not reach the backup management console."
import * as pulumi from "@pulumi/pulumi";
import * as aws from "blastradius/aws";
import { loadPolicy } from "blastradius/aws";
import * as azure from "blastradius/azure";

const config = new pulumi.Config();
const plan = loadPolicy("policy.yaml");

// The backup VPC: console, storage daemons and the admin jump host each get their segment's group.
const backup = new aws.AwsSegmentation("backup", {
  vpc: "backup",
  vpcId: config.require("backupVpcId"),
  plan,
});

// The application servers carrying backup agents (Azure VNet "apps"), with their subnet bound to the NSG.
const apps = new azure.AzureSegmentation("apps", {
  vnet: "apps",
  plan,
  resourceGroupName: config.require("appsResourceGroup"),
  location: config.require("appsLocation"),
  subnets: [{ name: "app-servers", addressPrefixes: [config.require("appsSubnetPrefix")] }],
});

export const securityGroupIds = backup.securityGroupIds;
export const applicationSecurityGroupIds = apps.applicationSecurityGroupIds;
export const networkSecurityGroupId = apps.networkSecurityGroupId;
