/**
 * Default mocks: deterministic, plausible ids (derived from the resource's URN, which contains its
 * name) and outputs = inputs (+ id, + arn for AWS, + a few provider-specific outputs).
 */
import { createHash } from "node:crypto";
import type { MockCallArgs, MockResourceArgs } from "./types";

export const MOCK_AWS_ACCOUNT = "123456789012";
export const MOCK_AWS_REGION = "us-east-1";
export const MOCK_GCP_PROJECT = "mock-project";
export const MOCK_GCP_REGION = "us-central1";
export const MOCK_AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
export const MOCK_AZURE_TENANT = "00000000-0000-0000-0000-000000000001";

/** Config the mocks consult (provider regions/projects). */
export type ConfigLookup = (key: string) => string | undefined;

function hex(seed: string, len: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, len);
}

function digits(seed: string, len: number): string {
  const h = createHash("sha256").update(seed).digest();
  let s = "";
  for (let i = 0; s.length < len; i++) s += String(h[i % h.length]! % 10);
  return s;
}

/** AWS resource types whose ids have a well-known prefix + 17 hex digits. */
const AWS_ID_PREFIX: Record<string, string> = {
  "aws:ec2/securityGroup:SecurityGroup": "sg-",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
  "aws:ec2/vpc:Vpc": "vpc-",
  "aws:ec2/subnet:Subnet": "subnet-",
  "aws:ec2/networkAcl:NetworkAcl": "acl-",
  "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "acl-",
  "aws:ec2/instance:Instance": "i-",
  "aws:ec2/networkInterface:NetworkInterface": "eni-",
  "aws:ec2/routeTable:RouteTable": "rtb-",
  "aws:ec2/internetGateway:InternetGateway": "igw-",
  "aws:ec2/natGateway:NatGateway": "nat-",
  "aws:ec2/eip:Eip": "eipalloc-",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
  "aws:ec2/managedPrefixList:ManagedPrefixList": "pl-",
  "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx-",
  "aws:ec2/flowLog:FlowLog": "fl-",
  "aws:ec2transitgateway/transitGateway:TransitGateway": "tgw-",
  "aws:ec2transitgateway/vpcAttachment:VpcAttachment": "tgw-attach-",
};

/** Services whose ARNs have no region. */
const AWS_GLOBAL_SERVICES = new Set(["iam", "s3", "route53", "cloudfront", "organizations"]);

interface TypeParts {
  pkg: string;
  module: string;
  kind: string;
}

/** "aws:ec2/securityGroup:SecurityGroup" → {pkg: "aws", module: "ec2", kind: "SecurityGroup"}. */
export function typeParts(type: string): TypeParts {
  const [pkg = "", mod = "", kind = ""] = type.split(":");
  return { pkg, module: mod.split("/")[0] ?? "", kind };
}

function kebab(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Deterministic id for a resource (never random): derived from its URN (type, parents, name). */
export function defaultId(args: MockResourceArgs, config: ConfigLookup): string {
  const { type, name, urn, inputs } = args;
  const seed = urn;
  if (type.startsWith("pulumi:providers:")) {
    const h = hex(seed, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }
  const { pkg, module, kind } = typeParts(type);
  if (pkg === "aws") {
    if (type === "aws:ec2/securityGroupRule:SecurityGroupRule") return `sgrule-${digits(seed, 10)}`;
    if (type === "aws:ec2/networkAclRule:NetworkAclRule") return `nacl-${digits(seed, 10)}`;
    const prefix = AWS_ID_PREFIX[type];
    if (prefix) return prefix + hex(seed, 17);
    return str(inputs.name) ?? `${name}-id`;
  }
  if (pkg === "gcp" && module === "compute") {
    const project = str(inputs.project) ?? config("gcp:project") ?? MOCK_GCP_PROJECT;
    const resourceName = str(inputs.name) ?? name;
    const collection = `${lowerFirst(kind)}s`;
    if (kind === "Subnetwork" || kind === "Router" || kind.startsWith("Region")) {
      const region = str(inputs.region) ?? config("gcp:region") ?? MOCK_GCP_REGION;
      return `projects/${project}/regions/${region}/${collection}/${resourceName}`;
    }
    return `projects/${project}/global/${collection}/${resourceName}`;
  }
  if (pkg === "azure-native") {
    const sub = config("azure-native:subscriptionId") ?? MOCK_AZURE_SUBSCRIPTION;
    if (kind === "ResourceGroup") {
      return `/subscriptions/${sub}/resourceGroups/${str(inputs.resourceGroupName) ?? name}`;
    }
    const rg = str(inputs.resourceGroupName) ?? "mock-rg";
    const ns = `Microsoft.${module.charAt(0).toUpperCase()}${module.slice(1)}`;
    const resourceName = str(inputs[`${lowerFirst(kind)}Name`]) ?? name;
    return `/subscriptions/${sub}/resourceGroups/${rg}/providers/${ns}/${lowerFirst(kind)}s/${resourceName}`;
  }
  if (pkg === "kubernetes") {
    const meta = (inputs.metadata ?? {}) as Record<string, unknown>;
    const n = str(meta.name) ?? name;
    const ns = str(meta.namespace);
    return ns ? `${ns}/${n}` : n;
  }
  return `${name}-id`;
}

/** Extra outputs beyond the echoed inputs. */
export function defaultExtraState(
  args: MockResourceArgs,
  id: string,
  config: ConfigLookup,
): Record<string, unknown> {
  const { type, inputs } = args;
  const { pkg, module, kind } = typeParts(type);
  const extra: Record<string, unknown> = {};
  if (!args.custom || type.startsWith("pulumi:providers:")) return extra;
  if (pkg === "aws") {
    if (inputs.arn === undefined) {
      const service = module === "vpc" ? "ec2" : module;
      const region = AWS_GLOBAL_SERVICES.has(service) ? "" : (config("aws:region") ?? MOCK_AWS_REGION);
      extra.arn = `arn:aws:${service}:${region}:${MOCK_AWS_ACCOUNT}:${kebab(kind)}/${id}`;
    }
    if (type === "aws:ec2/securityGroup:SecurityGroup" && inputs.ownerId === undefined) {
      extra.ownerId = MOCK_AWS_ACCOUNT;
    }
    if (
      (type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" ||
        type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") &&
      inputs.securityGroupRuleId === undefined
    ) {
      extra.securityGroupRuleId = id;
    }
  } else if (pkg === "gcp" && module === "compute") {
    if (inputs.name === undefined) extra.name = id.split("/").pop();
    if (inputs.selfLink === undefined) extra.selfLink = `https://www.googleapis.com/compute/v1/${id}`;
  } else if (pkg === "azure-native") {
    if (inputs.name === undefined) extra.name = id.split("/").pop();
  }
  return extra;
}

/** Results for common invokes; `{}` for anything else. */
export function defaultCall(args: MockCallArgs, config: ConfigLookup): Record<string, unknown> {
  const awsRegion = config("aws:region") ?? MOCK_AWS_REGION;
  switch (args.token) {
    case "aws:index/getRegion:getRegion":
      return {
        id: awsRegion,
        name: awsRegion,
        region: awsRegion,
        endpoint: `ec2.${awsRegion}.amazonaws.com`,
      };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        id: MOCK_AWS_ACCOUNT,
        accountId: MOCK_AWS_ACCOUNT,
        arn: `arn:aws:iam::${MOCK_AWS_ACCOUNT}:user/mock`,
        userId: "AIDAMOCKUSER",
      };
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:index/getAvailabilityZones:getAvailabilityZones": {
      const names = ["a", "b", "c"].map((s) => `${awsRegion}${s}`);
      return { id: awsRegion, names, zoneIds: names.map((_, i) => `use1-az${i + 1}`), groupNames: names };
    }
    case "gcp:organizations/getProject:getProject":
    case "gcp:organizations/getClientConfig:getClientConfig": {
      const project = config("gcp:project") ?? MOCK_GCP_PROJECT;
      return {
        id: `projects/${project}`,
        project,
        projectId: project,
        number: "123456789012",
        region: config("gcp:region") ?? MOCK_GCP_REGION,
      };
    }
    case "azure-native:authorization:getClientConfig":
      return {
        subscriptionId: config("azure-native:subscriptionId") ?? MOCK_AZURE_SUBSCRIPTION,
        tenantId: MOCK_AZURE_TENANT,
        clientId: "00000000-0000-0000-0000-000000000002",
        objectId: "00000000-0000-0000-0000-000000000003",
      };
    default:
      return {};
  }
}
