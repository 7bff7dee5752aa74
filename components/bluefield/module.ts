import type { Plan } from "../../lib";
import {
  blueFieldHosts,
  PLACEHOLDER_AGENT,
  placeholderComponentName,
  placeholderSigningKey,
} from "../../lib/targets/bluefield";
import type { TargetModule } from "../targets";
import { BlueFieldSegmentation } from "./index";
import { bluefieldOffline } from "./offline";

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

/** The bluefield target's module for the CLI and the proof. */
export const bluefieldModule: TargetModule = {
  ...bluefieldOffline,
  placeholderProgram: bluefieldPlaceholderProgram,
};
