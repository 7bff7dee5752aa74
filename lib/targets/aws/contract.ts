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
