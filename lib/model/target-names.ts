import { shown } from "./shown";

/**
 * What each target accepts for the names a placement gives. These names reach file names
 * (`render --out`), resource and object names, OVS flow files, the agent's shell command line and
 * YAML, so `check` holds them to the narrowest rule of every place they reach: none of them may hold
 * "/", "..", spaces, quotes, control characters or line breaks, and each has its target's length.
 */
export interface NameRule {
  readonly pattern: RegExp;
  /** The rule in words, for the fix. */
  readonly rule: string;
}

export const TARGET_NAME_RULES = {
  /**
   * AWS: the VPC name a component is given; it is joined with segment names into security-group
   * names (GroupName at most 255 characters) and into `aws/<vpc>.json`.
   */
  awsVpc: {
    pattern: /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/,
    rule: "1-63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit",
  },
  /** GCP: network names are RFC 1035 labels (lowercase, at most 63, starting with a letter). */
  gcpNetwork: {
    pattern: /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/,
    rule: "an RFC 1035 name: 1-63 lowercase letters, digits and '-', starting with a letter, not ending with '-'",
  },
  /**
   * Azure: VNet names are at most 64 letters, digits, '_', '.', '-', beginning with a letter or digit
   * and ending with one or '_' (Azure's own minimum of 2 applies to the derived NSG/ASG names, which
   * are longer).
   */
  azureVnet: {
    pattern: /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$/,
    rule: "1-64 letters, digits, '_', '.' or '-', beginning with a letter or digit and ending with a letter, digit or '_'",
  },
  /** Kubernetes: the cluster name a CiliumSegmentation is given (also a directory of `render`). */
  kubernetesCluster: {
    pattern: /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/,
    rule: "1-63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit",
  },
  /**
   * BlueField: the DPU host name, which the agent knows itself by (a DNS name of at most 253
   * characters) and which names its flow file.
   */
  bluefieldHost: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/,
    rule: "1-253 letters, digits, '_', '.' or '-', beginning with a letter or digit",
  },
  /** BlueField: an OVS port (a Linux interface name: at most 15 characters, IFNAMSIZ - 1). */
  bluefieldPort: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/,
    rule: "an OVS port name: 1-15 letters, digits, '_', '.' or '-', beginning with a letter or digit",
  },
} as const satisfies Record<string, NameRule>;

/** The problem with `value` as a name of the given kind, or undefined when the target accepts it. */
export function targetNameProblem(value: string, what: string, rule: NameRule): string | undefined {
  if (rule.pattern.test(value)) return undefined;
  return `${what} ${shown(value)} is not a valid name: it must be ${rule.rule}`;
}
