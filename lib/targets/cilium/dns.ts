import type { EndpointRef, PolicyBuilder, ServiceText } from "../../model/builder";
import type { KubernetesPlacement } from "../../model/types";
import { Protocol } from "../../net";
import type { Plan } from "../../plan/types";
import { REFERENCE_ONLY_LABEL } from "./selectors";

/** Where kube-dns (CoreDNS) runs in a standard cluster. */
export const KUBE_DNS = {
  namespace: "kube-system",
  podLabels: { "k8s-app": "kube-dns" } as Record<string, string>,
  services: ["udp/53", "tcp/53"] as ServiceText[],
};

/** Label naming the cluster whose DNS a kube-dns workload stands for (its segment selects on it). */
export const CLUSTER_DNS_LABEL = "blastradius.io/cluster-dns";

function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "");
  return s === "" ? "cluster" : s;
}

const cut = (s: string) => s.slice(0, 63).replace(/-+$/, "");

/**
 * The workload and segment that stand for a cluster's DNS (kube-dns in kube-system), as a policy
 * file holds them. The workload is reference-only: paths may reach it, but the library never puts
 * the DNS pods themselves into default deny (every unmodelled pod of the cluster depends on them).
 */
export function kubeDnsDefinitions(cluster: string): {
  workload: {
    name: string;
    labels: Record<string, string>;
    placements: { kubernetes: KubernetesPlacement };
  };
  segment: { name: string; selector: { matchLabels: Record<string, string> } };
} {
  const name = cut(`kube-dns-${slug(cluster)}`);
  return {
    workload: {
      name,
      labels: { [CLUSTER_DNS_LABEL]: slug(cluster).slice(0, 63), [REFERENCE_ONLY_LABEL]: "true" },
      placements: {
        kubernetes: {
          cluster,
          namespace: KUBE_DNS.namespace,
          podLabels: { ...KUBE_DNS.podLabels },
          cidrs: [],
        },
      },
    },
    segment: { name, selector: { matchLabels: { [CLUSTER_DNS_LABEL]: slug(cluster).slice(0, 63) } } },
  };
}

const declared = new WeakMap<PolicyBuilder, Set<string>>();

/**
 * DNS is never allowed silently; this makes the common explicit path one line:
 *
 * ```ts
 * allowKubeDns(p, agents, { cluster: "ai", owner: "platform@example.com", justification: "Agents resolve service names." });
 * ```
 *
 * adds (once per cluster) the cluster's kube-dns workload and segment, then the allow path
 * `<from>-uses-dns` (or `options.name`) from `from` to it over udp/53 and tcp/53. Returns the
 * kube-dns segment, for further paths.
 */
export function allowKubeDns(
  builder: PolicyBuilder,
  from: EndpointRef | string,
  options: { cluster: string; owner: string; justification: string; name?: string; ticket?: string },
): EndpointRef {
  const defs = kubeDnsDefinitions(options.cluster);
  let seen = declared.get(builder);
  if (!seen) declared.set(builder, (seen = new Set()));
  let segment: EndpointRef = { kind: "segment", name: defs.segment.name };
  if (!seen.has(defs.workload.name)) {
    seen.add(defs.workload.name);
    builder.workload(defs.workload.name, {
      labels: defs.workload.labels,
      placements: defs.workload.placements,
    });
    segment = builder.segment(defs.segment.name, defs.segment.selector);
  }
  const fromName = typeof from === "string" ? from : from.name;
  const { cluster: _c, name, ...meta } = options;
  builder.allow(name ?? cut(`${fromName}-uses-dns`), from, segment, KUBE_DNS.services, meta);
  return segment;
}

/** Whether a workload is a cluster's kube-dns: kube-system pods labelled like CoreDNS. */
function isKubeDns(w: { placements: { kubernetes?: KubernetesPlacement } }, cluster: string): boolean {
  const k = w.placements.kubernetes;
  if (!k || k.cluster !== cluster || k.namespace !== KUBE_DNS.namespace) return false;
  return Object.entries(KUBE_DNS.podLabels).every(([key, value]) => k.podLabels[key] === value);
}

/**
 * The Kubernetes workloads whose pods cannot resolve names: Cilium puts them in default deny both
 * ways, so their DNS queries to kube-dns (udp/53) are dropped unless an allow path lets them
 * through, and the review says nothing else about it (DNS failures look like every other outage).
 * One warning per cluster, naming the pods and the helper that adds the path.
 */
export function kubeDnsWarnings(plan: Plan): string[] {
  const out: string[] = [];
  const resolving = new Set<string>();
  for (const c of plan.allows) {
    if (!c.path.services.has(Protocol.UDP, 53)) continue;
    for (const to of c.to) {
      if (to.party.kind !== "workload") continue;
      const dns = to.party.workload;
      const cluster = dns.placements.kubernetes?.cluster;
      if (cluster === undefined || !isKubeDns(dns, cluster)) continue;
      for (const from of c.from)
        if (from.party.kind === "workload" && from.party.workload.placements.kubernetes?.cluster === cluster)
          resolving.add(from.party.workload.name);
    }
  }
  const byCluster = new Map<string, Array<{ name: string; pods: string }>>();
  for (const w of plan.policy.workloads) {
    const k = w.placements.kubernetes;
    if (!k || w.labels[REFERENCE_ONLY_LABEL] === "true" || isKubeDns(w, k.cluster) || resolving.has(w.name))
      continue;
    const pods = `${k.namespace}/${Object.entries(k.podLabels)
      .map(([key, value]) => `${key}=${value}`)
      .join(",")}`;
    const list = byCluster.get(k.cluster);
    if (list) list.push({ name: w.name, pods });
    else byCluster.set(k.cluster, [{ name: w.name, pods }]);
  }
  for (const [cluster, list] of [...byCluster].sort(([a], [b]) => (a < b ? -1 : 1)))
    out.push(
      `cilium: in cluster "${cluster}", ${list.length === 1 ? "workload" : "workloads"} ${list
        .map((w) => `${w.name} (pods ${w.pods})`)
        .join(", ")} cannot resolve names: default-deny egress drops their DNS queries to kube-dns ` +
        `(udp/53 to ${KUBE_DNS.namespace}, ${Object.entries(KUBE_DNS.podLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(
            ",",
          )}) and no allow path lets them through. Add one: allowKubeDns(builder, <segment>, { cluster: "${cluster}", owner, justification }) ` +
        `(from blastradius/cilium) in TypeScript, or the workload and segment of kubeDnsDefinitions("${cluster}") and a path over udp/53 and tcp/53 in a policy file; ignore this if they resolve no names.`,
    );
  return out;
}
