import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as gcp from "@pulumi/gcp";
import { describe, expect, it } from "vitest";
import { gcpModule, placeholderNetworkId } from "../../../components/gcp/module";
import { runProgram } from "../../../components/runner";
import { checkPolicyText, type Plan, prove, type ResourceRecord } from "../../../lib";
import { planOf, recordGcp } from "./helpers";
import { mixedPolicy } from "./policies";

const evaluate = (records: readonly ResourceRecord[], plan: Plan) =>
  prove(plan, [gcpModule.adapter.evaluator(records, plan)]);

describe("proof over recorded resources", () => {
  it("ai-platform: every enforce forbid on GCP is blocked and every allow open", async () => {
    const r = checkPolicyText(
      readFileSync(join(__dirname, "../../../stacks/ai-platform/policy.yaml"), "utf8"),
    );
    const plan = r.plan!;
    const proof = evaluate(await recordGcp(plan), plan);
    expect(proof.ok).toBe(true);
    expect(proof.forbidden).toContainEqual(
      expect.objectContaining({ path: "no-inference-to-datalake", target: "gcp", status: "blocked" }),
    );
    expect(proof.allowed).toEqual([{ path: "training-reads-datalake", target: "gcp", status: "open" }]);
  });

  it("mixed policy: cross-target, SA and SA-less, two networks, IPv6, port ranges, peers, internet, monitor", async () => {
    const plan = planOf(mixedPolicy);
    const records = await recordGcp(plan);
    const proof = evaluate(records, plan);
    expect(proof.forbidden.filter((f) => f.status !== "blocked" && f.mode === "enforce")).toEqual([]);
    expect(proof.allowed.filter((a) => a.status !== "open")).toEqual([]);
    expect(proof.ok).toBe(true);
    expect(proof.allowed.map((a) => a.path).sort()).toEqual(
      mixedPolicy.paths
        .filter((p) => !("verdict" in p))
        .map((p) => p.name)
        .sort(),
    );
    // The AWS workload → GCP workload path is proven by the ingress rule's source ranges.
    const plan2 = plan;
    const ev = gcpModule.adapter.evaluator(records, plan2);
    const decision = ev.decide(plan.party("workload:trainer")!, plan.party("workload:lake")!, {
      family: 4,
      src: "10.10.1.9",
      dst: "10.20.0.9",
      protocol: 6,
      port: 443,
    });
    expect(decision).toEqual({ verdict: "allow", by: "br-mixed-data-allow-in-datalake-tcp-443-0" });
    // Monitored: stays open and reports what enforcing would close.
    expect(proof.forbidden).toContainEqual(
      expect.objectContaining({
        path: "watch-etl-egress",
        mode: "monitor",
        status: "open",
        wouldClose: "tcp/443",
      }),
    );
    expect(proof.forbidden).toContainEqual(
      expect.objectContaining({
        path: "no-corp-to-lake",
        status: "blocked",
        by: "br-mixed-data-forbid-in-datalake-any-0",
      }),
    );
  });

  it("a rule added outside the library at priority 0 cannot reopen a guardrail (deny wins ties)", async () => {
    const plan = planOf(mixedPolicy);
    const rogue = async () =>
      (
        await runProgram(() => {
          gcpModule.placeholderProgram(plan);
          new gcp.compute.Firewall("rogue", {
            name: "rogue-ssh",
            network: placeholderNetworkId("data"),
            priority: 0,
            allows: [{ protocol: "tcp", ports: ["22"] }],
            sourceRanges: ["10.200.0.0/16"],
          });
        })
      ).resources as ResourceRecord[];
    const records = await rogue();
    expect(evaluate(records, plan).ok).toBe(true);
    // Without the guardrail it would be open, and the witness names the rogue rule.
    const withoutGuardrail = records.filter((r) => !/forbid-in-datalake-/.test(String(r.inputs.name)));
    const proof = evaluate(withoutGuardrail, plan);
    expect(proof.ok).toBe(false);
    expect(proof.forbidden).toContainEqual(
      expect.objectContaining({
        path: "no-corp-to-lake",
        status: "open",
        by: "rogue-ssh",
        open: "tcp/22",
        witness: expect.objectContaining({
          src: "10.200.0.1",
          protocol: "tcp",
          port: 22,
          from: "corp",
          to: "lake",
        }),
      }),
    );
  });

  it("a dropped allow rule breaks its path, named by the baseline deny that now decides", async () => {
    const plan = planOf(mixedPolicy);
    const records = (await recordGcp(plan)).filter((r) => !/allow-in-legacy-/.test(String(r.inputs.name)));
    const proof = evaluate(records, plan);
    expect(proof.ok).toBe(false);
    expect(proof.allowed).toContainEqual(
      expect.objectContaining({
        path: "etl-feeds-legacy",
        status: "broken",
        missing: "tcp/7000-7010",
        by: "br-mixed-data-deny-all-in-2",
      }),
    );
  });

  it("guardrail and baseline are two layers: without both, the implied allow-egress is caught", async () => {
    const plan = planOf(mixedPolicy);
    const records = await recordGcp(plan);
    const noGuard = records.filter((r) => !/forbid-out-datalake-/.test(String(r.inputs.name)));
    const blocked = evaluate(noGuard, plan).forbidden.find((f) => f.path === "no-lake-to-internet")!;
    expect(blocked).toEqual(
      expect.objectContaining({ status: "blocked", by: "br-mixed-data-deny-all-out-0" }),
    );
    const neither = noGuard.filter((r) => !/deny-all-out/.test(String(r.inputs.name)));
    const open = evaluate(neither, plan).forbidden.find((f) => f.path === "no-lake-to-internet")!;
    expect(open).toEqual(
      expect.objectContaining({ status: "open", by: "implied-allow-egress (priority 65535)" }),
    );
  });
});
