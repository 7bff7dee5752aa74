import { gcpAdapter, gcpNetworks, gcpRecords, renderGcpNetwork } from "../../lib/targets/gcp";
import type { OfflineTarget } from "../offline";

/**
 * One placeholder project per network (as a Shared VPC host project per network would be): the
 * firewall-rule quota is per project, and a large estate's networks would not share one default quota.
 * A valid project id: 6-30 characters, hashed when the network name is long.
 */
export const placeholderProject = (network: string) => {
  const slug = network
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const id = `br-${slug}`;
  if (id.length >= 6 && id.length <= 30) return id;
  let h = 0x811c9dc5;
  for (let i = 0; i < network.length; i++) h = Math.imul(h ^ network.charCodeAt(i), 0x01000193) >>> 0;
  return `br-${slug.slice(0, 18).replace(/-+$/, "")}-${h.toString(16).padStart(8, "0")}`;
};
export const placeholderNetworkId = (network: string) =>
  `projects/${placeholderProject(network)}/global/networks/${network}`;
export const gcpPlaceholderScope = (network: string) => ({
  component: `gcp-${network}`,
  networkId: placeholderNetworkId(network),
  project: placeholderProject(network),
});

/** The gcp target without Pulumi. */
export const gcpOffline: OfflineTarget = {
  target: "gcp",
  adapter: gcpAdapter(),
  records(plan) {
    return gcpRecords(plan, gcpPlaceholderScope);
  },
  artefacts(plan) {
    return gcpNetworks(plan).map((network) => ({
      path: `gcp/${network}.firewall-rules.json`,
      content: `${JSON.stringify(
        renderGcpNetwork(plan, network).map(
          ({ key: _key, kind: _kind, paths: _paths, segment: _segment, ...rule }) => ({
            ...rule,
            network: placeholderNetworkId(network),
          }),
        ),
        null,
        2,
      )}\n`,
    }));
  },
};
