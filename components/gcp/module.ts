import { gcpAdapter, gcpNetworks, renderGcpNetwork } from "../../lib/targets/gcp";
import type { TargetModule } from "../targets";
import { GcpSegmentation } from "./index";

/** The placeholder project and network ids `review <policy file>` renders with. */
export const PLACEHOLDER_PROJECT = "blastradius-placeholder";
export const placeholderNetworkId = (network: string) =>
  `projects/${PLACEHOLDER_PROJECT}/global/networks/${network}`;

/** The gcp target's module for the CLI and the proof. */
export const gcpModule: TargetModule = {
  target: "gcp",
  adapter: gcpAdapter(),
  placeholderProgram(plan) {
    for (const network of gcpNetworks(plan))
      new GcpSegmentation(`gcp-${network}`, {
        network,
        networkId: placeholderNetworkId(network),
        project: PLACEHOLDER_PROJECT,
        plan,
      });
  },
  artefacts(plan) {
    return gcpNetworks(plan).map((network) => ({
      path: `gcp/${network}.firewall-rules.json`,
      content: `${JSON.stringify(
        renderGcpNetwork(plan, network).map(
          ({ key: _key, kind: _kind, path: _path, segment: _segment, ...rule }) => ({
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
