import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { reviewCommand } from "../../../cli/commands/review";
import { ciliumModule } from "../../../components/cilium/module";
import { runProgram } from "../../../components/runner";
import { type Plan, prove, type ResourceRecord, type ReviewJson } from "../../../lib";
import { l7Paths, type RenderedPolicy, renderCilium } from "../../../lib/targets/cilium";
import { captureIo } from "../../cli/capture";
import { flagship, l7Policy } from "./policies";
import { evaluatorOf, party, planOf, renderRecords } from "./support";

async function proofOf(plan: Plan, guardrails: "namespaced" | "clusterwide" = "namespaced") {
  const records = await renderRecords(plan, { guardrails });
  return { proof: prove(plan, [evaluatorOf(records, plan)]), records };
}

describe("proof: render → run the components → evaluate the recorded resources → prove", () => {
  for (const guardrails of ["namespaced", "clusterwide"] as const) {
    it(`the flagship (ai-platform.yaml) is proven, ${guardrails} guardrails`, async () => {
      const plan = planOf(flagship());
      const { proof } = await proofOf(plan, guardrails);
      expect(proof.ok).toBe(true);
      const forbids = proof.forbidden.map((f) => `${f.path}:${f.status}`).sort();
      expect(forbids).toEqual(["no-agent-to-billing:blocked", "no-inference-to-datalake:blocked"]);
      expect(proof.allowed.map((a) => `${a.path}:${a.status}`).sort()).toEqual([
        "agents-call-inference:open",
        "inference-pulls-models:open",
        "inference-queries-vectors:open",
      ]);
      // Blocked by the explicit deny guardrail, not only by default deny.
      const billing = proof.forbidden.find((f) => f.path === "no-agent-to-billing")!;
      expect(billing.by).toMatch(
        guardrails === "namespaced" ? /egressDeny\[0\]$/ : /CiliumClusterwideNetworkPolicy/,
      );
    });
  }

  it("L7, IPv6, port ranges, icmp, any, a monitor forbid, peers, internet and a second cluster", async () => {
    const plan = planOf(l7Policy());
    const { proof } = await proofOf(plan);
    expect(proof.ok).toBe(true);
    const status = Object.fromEntries(proof.forbidden.map((f) => [f.path, f.status]));
    expect(status).toMatchObject({
      "no-agent-to-billing": "blocked",
      "no-batch-to-billing": "blocked",
      "no-internet-to-agents": "blocked",
      "watch-tickets-internet": "open",
    });
    const monitored = proof.forbidden.find((f) => f.path === "watch-tickets-internet")!;
    expect(monitored.wouldClose).toBe("tcp/9000-9100, udp/4500");
    expect(proof.allowed.every((a) => a.status === "open")).toBe(true);
    expect(proof.allowed.map((a) => a.path)).toEqual(
      expect.arrayContaining([
        "agents-read-tickets",
        "tickets-sync-partner",
        "batch-pulls-tickets",
        "partner-pings-tickets",
      ]),
    );
  });

  it("L7: the agent may GET /tickets/123, but not POST /tickets nor GET /billing", async () => {
    const plan = planOf(l7Policy());
    const ev = evaluatorOf(await renderRecords(plan), plan);
    const [agent, api, batch] = ["ticket-agent", "ticket-api", "batch"].map((n) => party(plan, n)) as [
      ReturnType<typeof party>,
      ReturnType<typeof party>,
      ReturnType<typeof party>,
    ];
    // At L4 the port is open: the allow path is proven open.
    expect(ev.allowed(agent, api).services().toString()).toBe("tcp/8443");
    expect(ev.allowsHttp(agent, api, { port: 8443, method: "GET", path: "/tickets/123" })).toBe(true);
    expect(ev.allowsHttp(agent, api, { port: 8443, method: "POST", path: "/tickets" })).toBe(false);
    expect(ev.allowsHttp(agent, api, { port: 8443, method: "GET", path: "/billing" })).toBe(false);
    expect(ev.allowsHttp(agent, api, { port: 8443, method: "GET", path: "/tickets/123/../billing" })).toBe(
      false,
    );
    // The batch job's path has no HTTP rules: any request on its port.
    expect(ev.allowsHttp(batch, api, { port: 8443, method: "POST", path: "/tickets" })).toBe(true);
    // Both proxies enforce it: the agent's egress and the ticket API's ingress.
    expect(
      ev
        .httpRules()
        .map((r) => `${r.workload}:${r.direction}:${r.ports}`)
        .sort(),
    ).toEqual(["ticket-agent:egress:tcp/8443", "ticket-api:ingress:tcp/8443"]);
    expect(l7Paths(plan)).toEqual([
      { path: "agents-read-tickets", http: [{ method: "GET", path: "/tickets/[0-9]+" }], clusters: ["ai"] },
    ]);
  });
});

/** A test-only program: the rendered objects, mutated, as plain CustomResources. */
async function mutated(
  plan: Plan,
  guardrails: "namespaced" | "clusterwide",
  edit: (r: RenderedPolicy[]) => RenderedPolicy[],
) {
  const { resources } = await runProgram(() => {
    for (const r of edit(renderCilium(plan, { cluster: "ai", guardrails })))
      new k8s.apiextensions.CustomResource(r.key, { ...r.object });
  });
  return resources as ResourceRecord[];
}

const handAdded: RenderedPolicy = {
  key: "hand-added",
  role: "guardrail",
  paths: [],
  object: {
    apiVersion: "cilium.io/v2",
    kind: "CiliumClusterwideNetworkPolicy",
    metadata: { name: "hand-added-agent-to-billing", labels: { "blastradius.io/cluster": "ai" } },
    specs: [
      {
        endpointSelector: {
          matchLabels: { app: "ticket-summarizer", "k8s:io.kubernetes.pod.namespace": "agents" },
        },
        egress: [
          {
            toEndpoints: [
              { matchLabels: { app: "billing-api", "k8s:io.kubernetes.pod.namespace": "billing" } },
            ],
          },
        ],
      },
      {
        endpointSelector: {
          matchLabels: { app: "billing-api", "k8s:io.kubernetes.pod.namespace": "billing" },
        },
        ingress: [
          {
            fromEndpoints: [
              { matchLabels: { app: "ticket-summarizer", "k8s:io.kubernetes.pod.namespace": "agents" } },
            ],
          },
        ],
      },
    ],
  },
};

describe("the proof catches broken renderings", () => {
  it("a hand-added allow cannot reopen an enforce forbid while the deny guardrails stand", async () => {
    const plan = planOf(flagship());
    for (const guardrails of ["namespaced", "clusterwide"] as const) {
      const records = await mutated(plan, guardrails, (rs) => [...rs, handAdded]);
      const proof = prove(plan, [evaluatorOf(records, plan)]);
      expect(proof.ok).toBe(true);
      expect(proof.forbidden.find((f) => f.path === "no-agent-to-billing")!.status).toBe("blocked");
    }
  });

  it("dropping the guardrail and adding a permissive rule opens the forbid, with a witness naming the rule", async () => {
    const plan = planOf(flagship());
    const records = await mutated(plan, "clusterwide", (rs) => [
      ...rs.filter((r) => r.subject !== "no-agent-to-billing"),
      handAdded,
    ]);
    const proof = prove(plan, [evaluatorOf(records, plan)]);
    expect(proof.ok).toBe(false);
    const f = proof.forbidden.find((x) => x.path === "no-agent-to-billing")!;
    expect(f.status).toBe("open");
    expect(f.by).toBe(
      "CiliumClusterwideNetworkPolicy hand-added-agent-to-billing specs[0].egress[0] + CiliumClusterwideNetworkPolicy hand-added-agent-to-billing specs[1].ingress[0]",
    );
    expect(f.witness).toMatchObject({ from: "ticket-agent", to: "billing-api", protocol: "tcp", port: 443 });
    expect(f.open).toBe("any");
  });

  it("dropping a segment's policy breaks its allow paths, naming the default deny", async () => {
    const plan = planOf(flagship());
    const records = await mutated(plan, "namespaced", (rs) =>
      rs.filter((r) => !(r.role === "segment" && r.subject === "inference")),
    );
    const proof = prove(plan, [evaluatorOf(records, plan)]);
    expect(proof.ok).toBe(false);
    const broken = proof.allowed.find((a) => a.path === "agents-call-inference")!;
    expect(broken).toMatchObject({
      status: "broken",
      missing: "tcp/8080",
      by: "default-deny (ingress of serving/inference)",
    });
  });
});

describe("blastradius review and render with the cilium module", () => {
  it("review <policy file> proves cilium: every enforce forbid blocked, every allow open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cilium-review-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, stringify(l7Policy()));
    const io = captureIo();
    const code = await reviewCommand(file, { modules: [ciliumModule!], json: join(dir, "r.json") }, io);
    const review = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as ReviewJson;
    expect(code).toBe(0);
    expect(review.targets).toEqual(["cilium"]);
    expect(review.resources.cilium).toBe(9);
    const cilium = review.forbidden.filter((f) => f.target === "cilium" && f.mode === "enforce");
    expect(cilium.length).toBe(4);
    expect(cilium.every((f) => f.status === "blocked")).toBe(true);
    expect(review.allowed.filter((a) => a.target === "cilium").every((a) => a.status === "open")).toBe(true);
  });
});
