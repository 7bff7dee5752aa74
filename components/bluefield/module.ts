import { generateKeyPairSync } from "node:crypto";
import type { Plan } from "../../lib";
import { blueFieldHosts, bluefieldAdapter, renderBlueField } from "../../lib/targets/bluefield";
import type { TargetModule } from "../targets";
import { BlueFieldSegmentation } from "./index";

/**
 * The program `review <policy file>` runs: one BlueFieldSegmentation over every DPU host, agent in
 * `kubernetes` mode with a placeholder image. The review needs signed bundles like a real stack, so
 * this program (not the component) signs with a throw-away key made for the review alone.
 */
export function bluefieldPlaceholderProgram(plan: Plan): void {
  if (blueFieldHosts(plan).size === 0) return;
  const { privateKey } = generateKeyPairSync("ed25519");
  new BlueFieldSegmentation(`bluefield-${plan.policy.name}`, {
    plan,
    signingKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    agent: {
      mode: "kubernetes",
      namespace: "blastradius-system",
      image: "registry.example.com/blastradius-agent:placeholder",
    },
  });
}

/** The bluefield target's module for the CLI and the proof. */
export const bluefieldModule: TargetModule | undefined = {
  target: "bluefield",
  adapter: bluefieldAdapter,
  placeholderProgram: bluefieldPlaceholderProgram,
  artefacts: (plan) =>
    renderBlueField(plan).map((r) => ({ path: `bluefield/${r.host}.flows`, content: r.flows })),
};
