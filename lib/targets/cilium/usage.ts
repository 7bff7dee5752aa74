import type { Plan } from "../../plan/types";
import type { QuotaLimits, QuotaUsage, ResourceRecord, TargetUsage } from "../../verify/types";
import { CCNP_TYPE, CiliumEvaluator, CNP_TYPE, policiesFromRecords } from "./evaluate";
import { jsonBytes } from "./json-size";
import { MAX_ICMP_FIELDS, MAX_OBJECT_BYTES, MAX_PORTS_PER_RULE } from "./render";

/**
 * Default limits by quota id (override with `limits`):
 * - `cilium.objectBytes`: etcd's default request size (--max-request-bytes, 1.5 MiB), the largest
 *   policy object the API server stores (https://etcd.io/docs/latest/dev-guide/limit/).
 * - `cilium.portsPerPortRule`, `cilium.icmpFieldsPerRule`: 40 each (Cilium's pkg/policy/api
 *   maxPorts and maxICMPFields; the CRD rejects more).
 * - `cilium.policyMapEntriesPerEndpoint`: 16,384 (the Policy map's default, "max 16k allowed identity
 *   + port + protocol pairs for specific endpoint", https://docs.cilium.io/en/latest/network/ebpf/maps/),
 *   against an estimate of each pod's entries.
 */
export const CILIUM_DEFAULT_LIMITS = {
  "cilium.objectBytes": MAX_OBJECT_BYTES,
  "cilium.portsPerPortRule": MAX_PORTS_PER_RULE,
  "cilium.icmpFieldsPerRule": MAX_ICMP_FIELDS,
  "cilium.policyMapEntriesPerEndpoint": 16_384,
} as const;

const SECTIONS = ["ingress", "egress", "ingressDeny", "egressDeny"] as const;
const PEER_FIELDS = [
  "fromEndpoints",
  "fromCIDR",
  "fromCIDRSet",
  "fromEntities",
  "toEndpoints",
  "toCIDR",
  "toCIDRSet",
  "toEntities",
  "toFQDNs",
  "toServices",
  "toGroups",
  "toNodes",
  "fromNodes",
];

const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

/**
 * The cost of Cilium policies. The rule unit: each entry of a rule's `ingress`, `egress`,
 * `ingressDeny` or `egressDeny` list counts once per peer field it has (`toEndpoints`,
 * `toCIDRSet`, `toEntities`, …; none counts 1) times per `toPorts` and `icmps` entry (none counts
 * 1). The default-deny baseline's `{}` entries count 1 each.
 */
export function ciliumUsage(
  resources: readonly ResourceRecord[],
  plan: Plan,
  limits: QuotaLimits = {},
): TargetUsage {
  const limit = (id: keyof typeof CILIUM_DEFAULT_LIMITS) => limits[id] ?? CILIUM_DEFAULT_LIMITS[id];
  const policies = resources.filter((r) => r.type === CNP_TYPE || r.type === CCNP_TYPE);
  const quotas: QuotaUsage[] = [];
  let rules = 0;
  let guardrailRules = 0;
  const clustered = policiesFromRecords(policies, plan);
  const sizes = new WeakMap<object, number>();
  policies.forEach((r, i) => {
    const o = r.inputs;
    const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
    const scope = `${String(o.kind)} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? r.name} (cluster ${clustered[i]!.cluster})`;
    let ports = 0;
    let icmp = 0;
    for (const spec of [o.spec, ...list(o.specs)]) {
      if (!spec || typeof spec !== "object") continue;
      for (const section of SECTIONS)
        for (const raw of list((spec as Record<string, unknown>)[section])) {
          const e = (raw ?? {}) as Record<string, unknown>;
          const peers = PEER_FIELDS.filter((f) => e[f] !== undefined && e[f] !== null).length;
          const l4 = list(e.toPorts).length + list(e.icmps).length;
          const n = Math.max(peers, 1) * Math.max(l4, 1);
          rules += n;
          if (section.endsWith("Deny")) guardrailRules += n;
          for (const pr of list(e.toPorts))
            ports = Math.max(ports, list((pr as { ports?: unknown }).ports).length);
          for (const ir of list(e.icmps))
            icmp = Math.max(icmp, list((ir as { fields?: unknown }).fields).length);
        }
    }
    quotas.push(
      {
        target: "cilium",
        quota: "cilium.objectBytes",
        description: "bytes per policy object (etcd max-request-bytes)",
        scope,
        used: jsonBytes(o, sizes),
        limit: limit("cilium.objectBytes"),
      },
      {
        target: "cilium",
        quota: "cilium.portsPerPortRule",
        description: "ports per toPorts entry (largest in the object)",
        scope,
        used: ports,
        limit: limit("cilium.portsPerPortRule"),
      },
      {
        target: "cilium",
        quota: "cilium.icmpFieldsPerRule",
        description: "ICMP fields per icmps entry (largest in the object)",
        scope,
        used: icmp,
        limit: limit("cilium.icmpFieldsPerRule"),
      },
    );
  });
  const ev = new CiliumEvaluator(clustered, plan);
  for (const e of ev.policyMapEntries())
    quotas.push({
      target: "cilium",
      quota: "cilium.policyMapEntriesPerEndpoint",
      description: "policy map entries per endpoint (estimate: identities × ports of the rules selecting it)",
      scope: `pod ${e.namespace}/${e.workload} (cluster ${e.cluster})`,
      used: e.entries,
      limit: limit("cilium.policyMapEntriesPerEndpoint"),
    });
  return { rules, guardrailRules, resources: policies.length, quotas };
}
