import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { CiliumSegmentation, CiliumSegmentationArgsError } from "../../../components/cilium";
import { runProgram } from "../../../components/runner";
import { flagship } from "./policies";
import { planOf } from "./support";

describe("CiliumSegmentation (components/cilium) under the recording mocks", () => {
  it("creates one CustomResource per policy object, named from namespace, policy and segment, parented and labelled", async () => {
    const plan = planOf(flagship());
    let component: CiliumSegmentation | undefined;
    const { resources } = await runProgram(() => {
      const provider = new k8s.Provider("ai-cluster", { kubeconfig: "{}" });
      component = new CiliumSegmentation("seg", { cluster: "ai", plan }, { provider });
    });
    const comp = resources.find((r) => r.type === "blastradius:cilium:CiliumSegmentation")!;
    expect(comp.inputs).toEqual({ cluster: "ai" });
    const children = resources.filter((r) => r.parent === comp.urn);
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "kubernetes:cilium.io/v2:CiliumNetworkPolicy seg-agents.ai-platform-default-deny",
      "kubernetes:cilium.io/v2:CiliumNetworkPolicy seg-agents.ai-platform.agents",
      "kubernetes:cilium.io/v2:CiliumNetworkPolicy seg-billing.ai-platform-default-deny",
      "kubernetes:cilium.io/v2:CiliumNetworkPolicy seg-billing.ai-platform.billing",
      "kubernetes:cilium.io/v2:CiliumNetworkPolicy seg-serving.ai-platform-default-deny",
      "kubernetes:cilium.io/v2:CiliumNetworkPolicy seg-serving.ai-platform.inference",
    ]);
    for (const c of children) expect(c.provider).toMatch(/pulumi:providers:kubernetes::ai-cluster/);
    const agents = children.find((r) => r.name === "seg-agents.ai-platform.agents")!;
    expect(agents.inputs).toMatchObject({
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: {
        name: "ai-platform.agents",
        namespace: "agents",
        labels: {
          "app.kubernetes.io/managed-by": "blastradius",
          "blastradius.io/policy": "ai-platform",
          "blastradius.io/segment": "agents",
          "blastradius.io/cluster": "ai",
        },
      },
    });
    const specs = agents.inputs.specs as Array<Record<string, unknown>>;
    expect(specs.map((s) => s.description)).toEqual([
      "blastradius ai-platform: path agents-call-inference: allow agents -> inference tcp/8080 (egress of ticket-agent; owner agents@example.com)",
      "blastradius ai-platform: path no-agent-to-billing: forbid (deny guardrail) agents -> billing any (egress of ticket-agent; owner secops@example.com)",
    ]);
    expect(specs[0]).toEqual({
      endpointSelector: { matchLabels: { app: "ticket-summarizer" } },
      description: specs[0]!.description,
      egress: [
        {
          toEndpoints: [{ matchLabels: { app: "inference", "k8s:io.kubernetes.pod.namespace": "serving" } }],
          toPorts: [{ ports: [{ port: "8080", protocol: "TCP" }] }],
        },
      ],
      enableDefaultDeny: { ingress: true, egress: true },
    });
    // The forbid has no services: the deny has no toPorts (every protocol).
    expect(specs[1]!.egressDeny).toEqual([
      {
        toEndpoints: [{ matchLabels: { app: "billing-api", "k8s:io.kubernetes.pod.namespace": "billing" } }],
      },
    ]);
    const baseline = children.find((r) => r.name === "seg-agents.ai-platform-default-deny")!;
    expect(baseline.inputs.spec).toMatchObject({
      ingress: [{}],
      egress: [{}],
      enableDefaultDeny: { ingress: true, egress: true },
    });
    expect(component!.segmentPolicies).toEqual({
      agents: { agents: "agents/ai-platform.agents" },
      billing: { billing: "billing/ai-platform.billing" },
      inference: { serving: "serving/ai-platform.inference" },
    });
    expect(component!.defaultDenyPolicies.serving).toBe("serving/ai-platform-default-deny");
    expect(component!.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("clusterwide mode renders each enforce forbid as its own CiliumClusterwideNetworkPolicy", async () => {
    const plan = planOf(flagship());
    const { resources } = await runProgram(() => {
      new CiliumSegmentation("seg", { cluster: "ai", plan, guardrails: "clusterwide" });
    });
    const ccnps = resources.filter(
      (r) => r.type === "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy",
    );
    expect(ccnps.map((r) => r.name).sort()).toEqual([
      "seg-clusterwide.ai-platform.no-agent-to-billing",
      "seg-clusterwide.ai-platform.no-inference-to-datalake",
    ]);
    const billing = ccnps.find((r) => r.name.endsWith("no-agent-to-billing"))!;
    const spec = (billing.inputs.specs as Array<Record<string, unknown>>)[0]!;
    expect(spec.endpointSelector).toEqual({
      matchLabels: { app: "ticket-summarizer", "k8s:io.kubernetes.pod.namespace": "agents" },
    });
    // No deny stays in the namespaced policies.
    for (const r of resources.filter((x) => x.type === "kubernetes:cilium.io/v2:CiliumNetworkPolicy"))
      expect(JSON.stringify(r.inputs)).not.toMatch(/ingressDeny|egressDeny/);
  });

  it("bad arguments: a clear error naming the argument, and nothing is registered", async () => {
    const plan = planOf(flagship());
    const cases: Array<[unknown, RegExp]> = [
      [
        { cluster: "prod", plan },
        /args\.cluster "prod" places no workload in policy "ai-platform"; known clusters: ai/,
      ],
      [{ plan }, /args\.cluster is missing/],
      [{ cluster: "ai" }, /args\.plan is missing/],
      [
        { cluster: "ai", plan, guardrails: "global" },
        /args\.guardrails must be "namespaced" or "clusterwide"/,
      ],
    ];
    for (const [args, message] of cases) {
      let caught: unknown;
      const { resources } = await runProgram(() => {
        try {
          new CiliumSegmentation("seg", args as never);
        } catch (e) {
          caught = e;
        }
      });
      expect(caught).toBeInstanceOf(CiliumSegmentationArgsError);
      expect((caught as Error).message).toMatch(message);
      expect(resources).toEqual([]);
    }
  });
});
