import { join } from "node:path";
import * as network from "@pulumi/azure-native/network";
import { describe, expect, it } from "vitest";
import { azurePlaceholderProgram } from "../../../components/azure/module";
import { loadPolicy } from "../../../components/policy-file";
import { prove } from "../../../lib";
import { azureEvaluator, azureName } from "../../../lib/targets/azure";
import { MIXED, QUIET } from "./policies";
import { party, planOf, recordsOf, renderAndEvaluate } from "./support";

const FLAGSHIP = join(__dirname, "..", "..", "..", "stacks", "ai-platform", "policy.yaml");

const MIXED_PLAN = planOf(MIXED);
/** MIXED rendered once under the runner, shared by the tests that only read it. */
let mixed: ReturnType<typeof renderAndEvaluate> | undefined;
const renderMixed = () => {
  mixed ??= renderAndEvaluate(MIXED_PLAN);
  return mixed;
};

describe("proof over the recorded Azure resources", () => {
  it("the flagship: every allow touching Azure is open", async () => {
    const plan = loadPolicy(FLAGSHIP);
    const { evaluator } = await renderAndEvaluate(plan);
    const proof = prove(plan, [evaluator]);
    expect(proof.ok).toBe(true);
    expect(proof.allowed.map((a) => `${a.path}:${a.status}`).sort()).toEqual([
      "inference-pulls-models:open",
      "inference-queries-vectors:open",
      "training-publishes-models:open",
    ]);
  });

  it("a cross-target, cross-VNet, dual-stack policy with peers, internet, port ranges and a monitor forbid", async () => {
    const plan = MIXED_PLAN;
    const { evaluator, records } = await renderMixed();
    const proof = prove(plan, [evaluator]);
    expect(proof.forbidden.filter((f) => f.status === "open").map((f) => f.path)).toEqual([
      "watch-api-to-db",
    ]);
    expect(proof.ok).toBe(true);
    expect(proof.allowed.every((a) => a.status === "open")).toBe(true);
    expect(proof.allowed.map((a) => a.path).sort()).toEqual(
      [
        "api-egress",
        "api-to-db",
        "batch-to-db",
        "internet-to-web",
        "partner-to-api",
        "web-ping-web",
        "web-to-api",
      ].sort(),
    );
    const blocked = Object.fromEntries(proof.forbidden.map((f) => [f.path, f]));
    expect(blocked["no-corp-to-db"]!.status).toBe("blocked");
    expect(blocked["no-corp-to-db"]!.by).toMatch(
      /^azure-spoke-nsg\/no-corp-to-db-in-v4-any \(inbound \d+\)$/,
    );
    expect(blocked["no-db-exfil"]!.by).toMatch(/azure-spoke-nsg\/no-db-exfil-out-v4-any/);
    // The monitored forbid overlaps an allow: open, with what enforcing would close.
    expect(blocked["watch-api-to-db"]).toMatchObject({
      mode: "monitor",
      status: "open",
      wouldClose: "tcp/5432",
    });
    // IPv6: web reaches api over IPv6 on the allowed ports only, by ASG.
    const v6 = evaluator
      .allowed(party(plan, "web"), party(plan, "api"))
      .intersect(evaluator.allowed(party(plan, "web"), party(plan, "api")));
    expect(v6.cubes().some((c) => c.src.toCidrs()[0] === "fd00:40:1::/64")).toBe(true);
    expect(evaluator.allowed(party(plan, "web"), party(plan, "api")).services().toString()).toBe(
      "tcp/8000-8100, udp/53",
    );
    expect(records.filter((r) => r.type === "azure-native:network:NetworkSecurityGroup")).toHaveLength(2);
  });

  it("an extra permissive rule cannot reopen an enforce forbid (deny guardrails outrank it) ...", async () => {
    const plan = MIXED_PLAN;
    const extra = () =>
      new network.SecurityRule("hand-added-ssh", {
        resourceGroupName: azureName("rg-mixed-spoke"),
        networkSecurityGroupName: "azure-spoke-nsg",
        securityRuleName: "hand-added-ssh",
        priority: 1650,
        direction: "Inbound",
        access: "Allow",
        protocol: "Tcp",
        sourceAddressPrefix: "10.200.0.0/16",
        sourcePortRange: "*",
        destinationAddressPrefix: "*",
        destinationPortRange: "22",
      });
    const rendered = (await renderMixed()).records;
    const records = [...rendered, ...(await recordsOf(extra))];
    expect(records).toHaveLength(rendered.length + 1);
    expect(prove(plan, [azureEvaluator(records, plan)]).ok).toBe(true);

    // ... but once the guardrail rules are gone, the proof fails and the witness names the rule.
    const withoutGuardrails = records.filter(
      (r) => !String(r.inputs.securityRuleName).startsWith("no-corp-to-db"),
    );
    const proof = prove(plan, [azureEvaluator(withoutGuardrails, plan)]);
    expect(proof.ok).toBe(false);
    expect(proof.forbidden.find((f) => f.path === "no-corp-to-db")).toEqual({
      path: "no-corp-to-db",
      mode: "enforce",
      target: "azure",
      status: "open",
      by: "azure-spoke-nsg/hand-added-ssh (inbound 1650)",
      witness: { src: "10.200.0.1", dst: "10.41.1.1", protocol: "tcp", port: 22, from: "corp", to: "db" },
      open: "tcp/22",
    });
  });

  it("a dropped allow rule breaks its path, naming the rule that now decides", async () => {
    const plan = MIXED_PLAN;
    const { records } = await renderMixed();
    const dropped = records.filter((r) => r.inputs.securityRuleName !== "api-to-db-in-v4-tcp");
    expect(dropped).toHaveLength(records.length - 1);
    const proof = prove(plan, [azureEvaluator(dropped, plan)]);
    expect(proof.ok).toBe(false);
    expect(proof.allowed.find((a) => a.path === "api-to-db")).toMatchObject({
      status: "broken",
      missing: "tcp/5432",
      by: "azure-spoke-nsg/deny-all-inbound (inbound 4096)",
    });
  });

  it("without the explicit DenyAll, Azure's AllowVnetInBound default opens what no path allows", async () => {
    const plan = planOf(QUIET);
    const { records, evaluator } = await renderAndEvaluate(plan);
    const closed = prove(plan, [evaluator]);
    expect(closed.forbidden).toEqual([
      {
        path: "watch-cache-to-app",
        mode: "monitor",
        target: "azure",
        status: "blocked",
        by: "azure-core-nsg/deny-all-outbound (outbound 4096)",
      },
    ]);
    const noDenyAll = records.filter((r) => !String(r.inputs.securityRuleName).startsWith("deny-all-"));
    const open = prove(plan, [azureEvaluator(noDenyAll, plan)]);
    expect(open.forbidden[0]).toMatchObject({
      path: "watch-cache-to-app",
      status: "open",
      by: "azure-core-nsg/AllowVnetOutBound (outbound 65000); azure-core-nsg/AllowVnetInBound (inbound 65000)",
      open: "any",
    });
    // Internet egress is open too (AllowInternetOutBound), though no path allows it.
    const egress = azureEvaluator(noDenyAll, plan).allowed(party(plan, "app"), party(plan, "internet"));
    expect(egress.isEmpty()).toBe(false);
    expect(evaluator.allowed(party(plan, "app"), party(plan, "internet")).isEmpty()).toBe(true);
  });

  it("an NSG that no subnet or NIC associates enforces nothing", async () => {
    const plan = planOf(QUIET);
    const records = await recordsOf(() => azurePlaceholderProgram(plan));
    const unassociated = records.filter((r) => r.type !== "azure-native:network:Subnet");
    const proof = prove(plan, [azureEvaluator(unassociated, plan)]);
    expect(proof.forbidden[0]).toMatchObject({
      status: "open",
      by: "no NSG associated (Azure allows everything)",
    });
  });
});
