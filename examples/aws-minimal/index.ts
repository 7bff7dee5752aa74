import * as aws from "@pulumi/aws";
import * as segmentation from "blastradius/aws";
import { loadPolicy } from "blastradius/aws";

const vpc = new aws.ec2.Vpc("main", { cidrBlock: "10.0.0.0/16" });
const net = new segmentation.AwsSegmentation("main", {
  vpc: "main",
  vpcId: vpc.id,
  plan: loadPolicy("policy.yaml"),
});

// Attach these to the instances of each segment.
export const securityGroupIds = net.securityGroupIds;
