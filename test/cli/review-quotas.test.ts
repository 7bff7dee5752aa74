import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reviewCommand } from "../../cli/commands/review";
import { parseQuotaOverrides, quotaFindings, type ReviewJson, type TargetUsage } from "../../lib";
import { toyModule } from "../support/toy-module";
import { captureIo } from "./capture";

/**
 * Quota headroom in the review: the flagship renders 5 toy rules on aws. With a limit of 100 the
 * review shows the headroom; with 6 (83%) it warns; with 4 it fails (exit 1) though the proof holds;
 * `--quota` raises a limit, and a limit no target reports is invalid input (exit 2).
 */

const FLAGSHIP = join(__dirname, "..", "..", "stacks", "ai-platform", "policy.yaml");

async function review(ruleLimit: number, quota?: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "blastradius-quota-"));
  const io = captureIo();
  const code = await reviewCommand(
    FLAGSHIP,
    {
      modules: [toyModule("aws", [], { ruleLimit })],
      json: join(dir, "r.json"),
      markdown: join(dir, "r.md"),
      ...(quota ? { quota } : {}),
    },
    io,
  );
  const json = code === 2 ? undefined : (JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as ReviewJson);
  const markdown = code === 2 ? "" : readFileSync(join(dir, "r.md"), "utf8");
  return { code, io, json, markdown };
}

describe("quota headroom in the review", () => {
  it("shows the headroom when far from the limit (exit 0)", async () => {
    const r = await review(100);
    expect(r.code).toBe(0);
    expect(r.json!.rules).toEqual({ aws: 5 });
    expect(r.json!.quotas).toEqual([
      expect.objectContaining({ quota: "aws.toyRules", used: 5, limit: 100, percent: 5, status: "ok" }),
    ]);
    expect(r.json!.errors).toEqual([]);
    expect(r.io.stdout.join("\n")).toMatch(/Quota headroom[\s\S]*aws\s+aws\.toyRules\s+5\s+100 \(5%\)/);
    expect(r.markdown).toContain("| aws | aws.toyRules | toy aws | 5 | 100 | 5 |");
  });

  it("warns above 80% of a limit (exit 0)", async () => {
    const r = await review(6);
    expect(r.code).toBe(0);
    expect(r.json!.quotas[0]).toMatchObject({ used: 5, limit: 6, percent: 83, status: "warning" });
    expect(r.json!.warnings).toContainEqual(expect.stringContaining("toy aws uses 5 of 6 toy rules (83%"));
    expect(r.io.stdout.join("\n")).toContain("warning: aws: toy aws uses 5 of 6 toy rules (83%");
  });

  it("fails when a limit is exceeded, naming the place and the limit (exit 1)", async () => {
    const r = await review(4);
    expect(r.code).toBe(1);
    expect(r.json!.ok).toBe(true); // the proof holds; the rendering cannot be deployed
    expect(r.json!.errors).toEqual([
      expect.stringContaining("toy aws uses 5 of 4 toy rules (125%, quota aws.toyRules)"),
    ]);
    expect(r.io.stdout.join("\n")).toContain("FAILED: 1 limit exceeded");
    expect(r.markdown).toContain("❌ limits exceeded");
  });

  it("takes raised limits with --quota", async () => {
    const r = await review(4, ["aws.toyRules=50"]);
    expect(r.code).toBe(0);
    expect(r.json!.quotas[0]).toMatchObject({ used: 5, limit: 50, status: "ok" });
  });

  it("rejects a limit no reviewed target has, and a malformed one (exit 2)", async () => {
    const unknown = await review(100, ["aws.toyRulez=50"]);
    expect(unknown.code).toBe(2);
    expect(unknown.io.stderr.join("\n")).toContain("--quota aws.toyRulez=50".split("=")[0]!);
    expect(unknown.io.stderr.join("\n")).toContain("known: aws.toyRules");
    const malformed = await review(100, ["toyRules"]);
    expect(malformed.code).toBe(2);
    expect(malformed.io.stderr.join("\n")).toContain(
      "--quota toyRules: expected <quota id>=<positive integer>",
    );
  });

  it("lists every place above 80%, and only the tightest of the others", () => {
    const usage = (used: number[]): TargetUsage => ({
      rules: 0,
      guardrailRules: 0,
      resources: 0,
      quotas: used.map((u, i) => ({
        target: "aws",
        quota: "aws.q",
        description: "q",
        scope: `g${i}`,
        used: u,
        limit: 10,
      })),
    });
    expect(quotaFindings({ aws: usage([1, 9, 3, 11, 2]) }).map((f) => [f.scope, f.status])).toEqual([
      ["g3", "exceeded"],
      ["g1", "warning"],
    ]);
    expect(quotaFindings({ aws: usage([1, 3, 2]) }).map((f) => [f.scope, f.status])).toEqual([["g1", "ok"]]);
    // A limit the renderer splits at (full chunks are normal): no warning at 100%, an error above.
    const split = (used: number): TargetUsage => ({
      ...usage([]),
      quotas: [{ target: "gcp", quota: "gcp.q", description: "q", scope: "r", used, limit: 10, split: true }],
    });
    expect(quotaFindings({ gcp: split(10) }).map((f) => f.status)).toEqual(["ok"]);
    expect(quotaFindings({ gcp: split(11) }).map((f) => f.status)).toEqual(["exceeded"]);
    expect(parseQuotaOverrides(["gcp.rangesPerRule=5000"])).toEqual({ "gcp.rangesPerRule": 5000 });
  });
});
