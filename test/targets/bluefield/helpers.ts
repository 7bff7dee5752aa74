import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { BlueFieldSegmentation, type BlueFieldSegmentationArgs } from "../../../components/bluefield";
import { type RecordedResource, runProgram } from "../../../components/runner";
import { checkPolicyDocument, checkPolicyText, type Plan, type ResourceRecord } from "../../../lib";
import { type BlueFieldEvaluator, bluefieldAdapter } from "../../../lib/targets/bluefield";

export const ROOT = join(__dirname, "..", "..", "..");
export const FLAGSHIP = join(ROOT, "stacks", "ai-platform", "policy.yaml");
export const DUAL_STACK = join(__dirname, "fixtures", "dual-stack.yaml");
export const AGENT = join(ROOT, "agent", "blastradius-agent");

export function planOf(file: string): Plan {
  const r = checkPolicyText(readFileSync(file, "utf8"), file);
  if (!r.ok || !r.plan) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  return r.plan;
}

export function planOfDocument(doc: unknown): Plan {
  const r = checkPolicyDocument(doc);
  if (!r.ok || !r.plan) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return r.plan;
}

export function newSigningKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export const KEY = newSigningKey();

export type Args = Omit<BlueFieldSegmentationArgs, "plan" | "signingKey"> & {
  signingKey?: pulumi.Input<string>;
};

export const K8S_AGENT = {
  mode: "kubernetes" as const,
  namespace: "dpu-system",
  image: "registry.example.com/doca-ovs-tools:1.0",
};

/** Runs BlueFieldSegmentation under the recording mock monitor (signing key passed as a secret). */
export async function runBlueField(
  plan: Plan,
  args: Partial<Args> = {},
  extra?: () => void,
): Promise<{ resources: RecordedResource[]; outputs: Record<string, unknown> }> {
  return runProgram(() => {
    const c = new BlueFieldSegmentation("seg", {
      plan,
      agent: K8S_AGENT,
      ...args,
      signingKey: args.signingKey ?? pulumi.secret(KEY.privatePem),
    } as BlueFieldSegmentationArgs);
    extra?.();
    return { digests: c.digests, publicKey: c.publicKey };
  });
}

export function evaluatorOf(resources: readonly RecordedResource[], plan: Plan): BlueFieldEvaluator {
  const mine = resources.filter((r) => bluefieldAdapter.owns(r as ResourceRecord));
  return bluefieldAdapter.evaluator(mine, plan) as BlueFieldEvaluator;
}

export function flowsOf(resources: readonly RecordedResource[], host: string): string {
  const cm = resources.find(
    (r) =>
      r.type === "kubernetes:core/v1:ConfigMap" &&
      (r.inputs.metadata as { annotations?: Record<string, string> }).annotations?.[
        "blastradius.io/dpu-host"
      ] === host,
  );
  if (!cm) throw new Error(`no rule-set ConfigMap for ${host}`);
  return (cm.inputs.data as Record<string, string>)["rules.flows"]!;
}
