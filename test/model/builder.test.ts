import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkPolicyDocument,
  checkPolicyText,
  compilePolicy,
  PolicyBuilder,
  PolicyError,
  Service,
} from "../../lib";

const FILE = join(__dirname, "..", "..", "stacks", "ai-platform", "policy.yaml");

/** The flagship policy, built in code. */
function flagship(): PolicyBuilder {
  const p = new PolicyBuilder("ai-platform");
  p.workload("llm-trainer", {
    labels: { role: "training", env: "prod" },
    placements: {
      aws: { vpc: "ml", cidrs: ["10.10.1.0/24"] },
      bluefield: { hosts: ["gpu-01", "gpu-02"], port: "pf0hpf", addresses: ["10.10.1.0/24"] },
    },
  });
  p.workload("feature-store", {
    labels: { role: "datalake", env: "prod" },
    placements: {
      gcp: {
        network: "data",
        serviceAccount: "lake@corp-data.iam.gserviceaccount.com",
        cidrs: ["10.20.0.0/20"],
      },
    },
  });
  p.workload("model-registry", {
    labels: { role: "registry", env: "prod" },
    placements: { azure: { vnet: "core", cidrs: ["10.30.4.0/24"] } },
  });
  p.workload("vector-db", {
    labels: { role: "vectors", env: "prod" },
    placements: { azure: { vnet: "core", cidrs: ["10.30.5.0/24"] } },
  });
  const k8s = (namespace: string, app: string, cidr: string) => ({
    kubernetes: { cluster: "ai", namespace, podLabels: { app }, cidrs: [cidr] },
  });
  p.workload("inference", {
    labels: { role: "inference", env: "prod" },
    placements: k8s("serving", "inference", "10.244.1.0/24"),
  });
  p.workload("ticket-agent", {
    labels: { role: "agent", env: "prod" },
    placements: k8s("agents", "ticket-summarizer", "10.244.2.0/24"),
  });
  p.workload("billing-api", {
    labels: { role: "billing", env: "prod" },
    placements: k8s("billing", "billing-api", "10.244.3.0/24"),
  });
  const training = p.segment("training", { matchLabels: { role: "training" } });
  const datalake = p.segment("datalake", { matchLabels: { role: "datalake" } }, { critical: true });
  const registry = p.segment("registry", { matchLabels: { role: "registry" } }, { critical: true });
  const vectors = p.segment("vectors", { matchLabels: { role: "vectors" } });
  const inference = p.segment("inference", { matchLabels: { role: "inference" } });
  const agents = p.segment("agents", {
    matchExpressions: [{ key: "role", operator: "In", values: ["agent"] }],
  });
  const billing = p.segment("billing", { matchLabels: { role: "billing", env: "prod" } });
  const workstations = p.peer("corp-workstations", ["10.200.0.0/16"]);
  const ml = { owner: "ml-platform@example.com" };
  const serving = { owner: "serving@example.com" };
  const secops = { owner: "secops@example.com" };
  p.allow("training-reads-datalake", training, datalake, [Service.tcp(443)], {
    ...ml,
    justification: "Training jobs read curated datasets.",
  })
    .allow("training-publishes-models", training, registry, [Service.tcp(443)], {
      ...ml,
      justification: "Finished checkpoints are published to the model registry.",
    })
    .allow("inference-pulls-models", inference, registry, [Service.tcp(443)], {
      ...serving,
      justification: "Inference servers load released models.",
    })
    .allow("inference-queries-vectors", inference, vectors, [Service.tcp(6333)], {
      ...serving,
      justification: "Retrieval-augmented generation reads the vector index.",
    })
    .allow("agents-call-inference", agents, inference, [Service.tcp(8080)], {
      owner: "agents@example.com",
      justification: "Agents use the model endpoint.",
    })
    .forbid("no-workstation-to-training", workstations, training, {
      ...secops,
      justification: "A compromised laptop must not reach the GPU cluster.",
    })
    .forbid("no-inference-to-datalake", inference, datalake, {
      ...secops,
      justification: "Serving must never read raw training data.",
    })
    .forbid("no-agent-to-billing", agents, billing, {
      ...secops,
      justification: "An AI agent must not call the production billing API.",
    })
    .forbid("no-training-exfiltration", training, PolicyBuilder.internet, {
      ...secops,
      justification: "Training data and weights must not leave for the internet.",
    });
  return p;
}

describe("PolicyBuilder", () => {
  it("builds the same validated policy as the policy file", () => {
    const fromFile = checkPolicyText(readFileSync(FILE, "utf8"), FILE);
    const fromCode = checkPolicyDocument(flagship().toDocument());
    expect(fromFile.ok).toBe(true);
    expect(fromCode.ok).toBe(true);
    // Same policy, field for field (address and service sets compared by their canonical keys).
    const canonical = (x: unknown) =>
      JSON.parse(
        JSON.stringify(x, (_k, v) =>
          v && typeof v === "object" && typeof v.key === "function" ? v.key() : v,
        ),
      );
    expect(canonical(fromCode.policy)).toEqual(canonical(fromFile.policy));
    expect(fromCode.plan!.members).toEqual(fromFile.plan!.members);
  });

  it("is validated exactly like a file: compilePolicy throws a PolicyError with every problem", () => {
    const p = new PolicyBuilder("bad");
    const web = p.segment("web", { matchLabels: { role: "web" } });
    p.allow("web-out", web, PolicyBuilder.internet, ["tcp/70000"], { owner: "", justification: "j" });
    p.allow("web-ghost", web, "ghots", ["tcp/80"], { owner: "o", justification: "j" });
    let error: unknown;
    try {
      compilePolicy({ document: p.toDocument(), source: "builder" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    const messages = (error as PolicyError).errors.map((d) => d.message).join("\n");
    expect(messages).toContain("port 70000 is outside 0-65535");
    expect(messages).toContain("owner must not be empty");
    expect(messages).toContain('"ghots" is neither a segment nor a peer');
  });
});
