import { gcpNetworks } from "../../lib/targets/gcp";
import type { TargetModule } from "../targets";
import { GcpSegmentation } from "./index";
import { gcpOffline, gcpPlaceholderScope } from "./offline";

export { placeholderNetworkId, placeholderProject } from "./offline";

/** The gcp target's module for the CLI and the proof: a `GcpSegmentation` per network, in its placeholder project. */
export const gcpModule: TargetModule = {
  ...gcpOffline,
  placeholderProgram(plan) {
    for (const network of gcpNetworks(plan)) {
      const scope = gcpPlaceholderScope(network);
      new GcpSegmentation(scope.component, {
        network,
        networkId: scope.networkId,
        project: scope.project,
        plan,
      });
    }
  },
};
