import type { EndpointRef, PolicyBuilder, ServiceText } from "../../model/builder";
import type { KubernetesPlacement } from "../../model/types";
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
