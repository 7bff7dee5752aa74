import { readFileSync } from "node:fs";
import type { Plan } from "../../lib";
import {
  blueFieldHosts,
  bluefieldAdapter,
  bluefieldRecords,
  PLACEHOLDER_AGENT,
  placeholderComponentName,
  placeholderSigningKey,
  renderBlueField,
} from "../../lib/targets/bluefield";
import type { TargetModule } from "../targets";
import { AGENT_PATH, BlueFieldSegmentation } from "./index";

/**
 * The program `review <policy file>` runs: one BlueFieldSegmentation over every DPU host, agent in
 * `kubernetes` mode with a placeholder image. The review needs signed bundles like a real stack, so
 * this program (not the component) signs with a throw-away key made for the review alone (derived
 * from the policy name, so that a review is deterministic and `records` can reproduce it).
 */
export function bluefieldPlaceholderProgram(plan: Plan): void {
  if (blueFieldHosts(plan).size === 0) return;
  new BlueFieldSegmentation(placeholderComponentName(plan), {
    plan,
    signingKey: placeholderSigningKey(plan),
    agent: { mode: "kubernetes", ...PLACEHOLDER_AGENT },
  });
}

let agentScript: string | undefined;

/** The bluefield target's module for the CLI and the proof. */
export const bluefieldModule: TargetModule | undefined = {
  target: "bluefield",
  adapter: bluefieldAdapter,
  placeholderProgram: bluefieldPlaceholderProgram,
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
