import { readFileSync } from "node:fs";
import {
  blueFieldHosts,
  bluefieldAdapter,
  bluefieldRecords,
  renderBlueField,
} from "../../lib/targets/bluefield";
import type { OfflineTarget } from "../offline";
import { AGENT_PATH } from "./agent";

let agentScript: string | undefined;

/** The bluefield target without Pulumi: the signed rule sets' records and the flow files. */
export const bluefieldOffline: OfflineTarget = {
  target: "bluefield",
  adapter: bluefieldAdapter,
  records: (plan) => {
    if (blueFieldHosts(plan).size === 0) return [];
    if (!AGENT_PATH)
      throw new Error("BlueField: the agent script agent/blastradius-agent is missing from the package");
    agentScript ??= readFileSync(AGENT_PATH, "utf8");
    return bluefieldRecords(plan, agentScript);
  },
  artefacts: (plan) =>
    renderBlueField(plan).map((r) => ({ path: `bluefield/${r.host}.flows`, content: r.flows })),
};
