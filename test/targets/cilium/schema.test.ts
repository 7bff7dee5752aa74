import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ciliumArtefacts, clustersOf, renderCilium } from "../../../lib/targets/cilium";
import { flagship, l7Policy } from "./policies";
import { CRD_PATH, crdValidator, planOf, re2ToJs } from "./support";

describe("rendered objects validate against Cilium's own CRD schema (vendor/cilium)", () => {
  it("finds the CRD beside the repository", () => {
    expect(existsSync(CRD_PATH)).toBe(true);
    expect(re2ToJs("^\\PC*$")).toBe("^\\P{C}*$");
  });

  const cases: Array<[string, () => Record<string, unknown>, "namespaced" | "clusterwide"]> = [
    ["flagship", flagship, "namespaced"],
    ["flagship, clusterwide guardrails", flagship, "clusterwide"],
    ["L7, IPv6, ranges, icmp, any, cross-cluster", l7Policy, "namespaced"],
    ["L7 policy, clusterwide guardrails", l7Policy, "clusterwide"],
  ];
  for (const [name, doc, guardrails] of cases) {
    it(name, () => {
      const plan = planOf(doc());
      const validate = crdValidator();
      let n = 0;
      for (const cluster of clustersOf(plan)) {
        for (const r of renderCilium(plan, { cluster, guardrails })) {
          // CiliumClusterwideNetworkPolicy: its CRD is not vendored, and its spec schema is the
          // same Rule type, so it is validated against the CiliumNetworkPolicy schema.
          const ok = validate(r.object);
          if (!ok) throw new Error(`${r.key}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
          n++;
        }
      }
      expect(n).toBeGreaterThan(3);
    });
  }

  it("the schema check can fail: a protocol outside the enum and a non-CIDR are rejected", () => {
    const validate = crdValidator();
    const bad = {
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: { name: "x", namespace: "y" },
      spec: {
        endpointSelector: { matchLabels: { app: "a" } },
        egress: [
          { toCIDRSet: [{ cidr: "not-a-cidr" }], toPorts: [{ ports: [{ port: "53", protocol: "ICMP" }] }] },
        ],
      },
    };
    expect(validate(bad)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths.some((p) => p.includes("toCIDRSet"))).toBe(true);
    expect(paths.some((p) => p.includes("protocol"))).toBe(true);
  });

  it("the YAML artefacts parse back to schema-valid objects", () => {
    const plan = planOf(l7Policy());
    const files = ciliumArtefacts(plan);
    expect(files.map((f) => f.path)).toContain("cilium/ai/agents-ai-platform.agents.yaml");
    const validate = crdValidator();
    for (const f of files) expect(validate(parse(f.content)), f.path).toBe(true);
  });
});
