import { describe, expect, it } from "vitest";
import { allowKubeDns } from "../../../components/cilium";
import { checkPolicyDocument, compilePolicy, PolicyBuilder, reviewJson, Service } from "../../../lib";
import { prove } from "../../../lib/verify/prove";

/**
 * Cilium puts every modelled pod in default deny both ways: without an allow path to kube-dns its
 * DNS queries are dropped. The review warns, naming the pods and the helper that adds the path.
 */
function builder() {
  const p = new PolicyBuilder("shop");
  p.workload("frontend", {
    labels: { tier: "frontend" },
    placements: {
      kubernetes: { cluster: "dev", namespace: "shop", podLabels: { app: "frontend" }, cidrs: [] },
    },
  });
  p.workload("catalog", {
    labels: { tier: "catalog" },
    placements: {
      kubernetes: { cluster: "dev", namespace: "shop", podLabels: { app: "catalog" }, cidrs: [] },
    },
  });
  const frontend = p.segment("frontend", { matchLabels: { tier: "frontend" } });
  const catalog = p.segment("catalog", { matchLabels: { tier: "catalog" } });
  p.allow("frontend-reads-catalog", frontend, catalog, [Service.tcp(8080)], {
    owner: "shop@example.com",
    justification: "The storefront lists products.",
  });
  return { p, frontend, catalog };
}

const warningsOf = (document: unknown) => {
  const plan = compilePolicy({ document });
  return reviewJson(plan, prove(plan, []), {}).warnings.filter((w) => w.startsWith("cilium:"));
};

describe("review warning: default-deny egress cuts Kubernetes pods off from kube-dns", () => {
  it("names every pod without a path to kube-dns, and the helper to use", () => {
    const { p } = builder();
    expect(warningsOf(p.toDocument())).toEqual([
      'cilium: in cluster "dev", workloads frontend (pods shop/app=frontend), catalog (pods shop/app=catalog) cannot resolve names: default-deny egress drops their DNS queries to kube-dns (udp/53 to kube-system, k8s-app=kube-dns) and no allow path lets them through. Add one: allowKubeDns(builder, <segment>, { cluster: "dev", owner, justification }) (from blastradius/cilium) in TypeScript, or the workload and segment of kubeDnsDefinitions("dev") and a path over udp/53 and tcp/53 in a policy file; ignore this if they resolve no names.',
    ]);
  });

  it("names only the pods still without one once allowKubeDns gives the others theirs", () => {
    const { p, frontend } = builder();
    allowKubeDns(p, frontend, {
      cluster: "dev",
      owner: "platform@example.com",
      justification: "Service names.",
    });
    const [warning, ...rest] = warningsOf(p.toDocument());
    expect(rest).toEqual([]);
    expect(warning).toMatch(
      /^cilium: in cluster "dev", workload catalog \(pods shop\/app=catalog\) cannot resolve names/,
    );
    const { p: all, frontend: f, catalog: c } = builder();
    allowKubeDns(all, f, { cluster: "dev", owner: "platform@example.com", justification: "Service names." });
    allowKubeDns(all, c, { cluster: "dev", owner: "platform@example.com", justification: "Service names." });
    expect(warningsOf(all.toDocument())).toEqual([]);
  });

  it("says nothing for a policy without Kubernetes placements", () => {
    const r = checkPolicyDocument({ name: "x", workloads: [], paths: [] });
    expect(r.ok).toBe(true);
    expect(warningsOf({ name: "x" })).toEqual([]);
  });
});
