/**
 * The public contract between what the AWS target renders and what anyone (our evaluator, a user's
 * audit, `aws ec2 describe-*` exports) reads back: provider type tokens and the tags that say which
 * blastradius policy, VPC, segment and path a resource belongs to. Not renderer internals: these
 * names are what a user sees in the console and in `pulumi preview`.
 */

/** Pulumi type tokens of the resources the AWS target renders (or audits). */
export const AWS_TYPES = {
  component: "blastradius:aws:AwsSegmentation",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  /** Legacy single-rule resource: never rendered, but interpreted when found (a hand-added rule). */
  legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  prefixList: "aws:ec2/managedPrefixList:ManagedPrefixList",
  networkAcl: "aws:ec2/networkAcl:NetworkAcl",
  networkAclRule: "aws:ec2/networkAclRule:NetworkAclRule",
  /** A security group created through Cloud Control (CloudFormation semantics): never rendered, audited. */
  nativeSecurityGroup: "aws-native:ec2:SecurityGroup",
} as const;

/** Tag keys on every rendered resource that has tags. */
export const AWS_TAGS = {
  policy: "blastradius:policy",
  vpc: "blastradius:vpc",
  segment: "blastradius:segment",
  path: "blastradius:path",
} as const;

/** Tag values on the baseline group (see `AwsGroup.baseline`). */
export const AWS_BASELINE_TAG = "blastradius:baseline";

/** Type tokens of the compute the binding reads (instances, templates, interfaces) and their context. */
export const AWS_COMPUTE_TYPES = {
  instance: "aws:ec2/instance:Instance",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  networkInterface: "aws:ec2/networkInterface:NetworkInterface",
  sgAttachment: "aws:ec2/networkInterfaceSecurityGroupAttachment:NetworkInterfaceSecurityGroupAttachment",
  eniAttachment: "aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment",
  /** Read like an instance (same inputs; its tags bind it). */
  spotInstanceRequest: "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
  launchConfiguration: "aws:ec2/launchConfiguration:LaunchConfiguration",
  /** Binds the launch configuration or template it launches from by its propagated tags. */
  autoscalingGroup: "aws:autoscaling/group:Group",
  /** Launches from launch templates (read as the templates). */
  fleet: "aws:ec2/fleet:Fleet",
  /** Launches from its launch specifications (read like instances) and launch templates. */
  spotFleetRequest: "aws:ec2/spotFleetRequest:SpotFleetRequest",
  subnet: "aws:ec2/subnet:Subnet",
  defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  securityGroup: AWS_TYPES.securityGroup,
  nativeSecurityGroup: AWS_TYPES.nativeSecurityGroup,
} as const;

export { UNKNOWN_VALUE, WORKLOAD_TAG as BINDING_TAG } from "../../verify/binding";
