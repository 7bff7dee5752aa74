import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { generatePolicy } from "../../bench/generate";
import { OFFLINE_REVIEW_WORKLOADS, runReview } from "../../cli/commands/review";
import { run } from "../../cli/program";
import * as runner from "../../components/runner";
import { captureIo } from "./capture";

vi.mock("../../components/runner", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../components/runner")>();
  return { ...original, runProgram: vi.fn(original.runProgram) };
});

const ROOT = join(__dirname, "..", "..");
const FILES = [
  ...["ai-platform", "backup-blast-radius", "agent-containment"].map((s) =>
    join(ROOT, "stacks", s, "policy.yaml"),
  ),
  join(ROOT, "test", "fixtures", "flows", "policy.yaml"),
];

/**
 * A large policy file is reviewed from each target's offline records, not by registering every
 * resource through the Pulumi engine (20,000 workloads ran out of heap after 117 s at 4.3 GB). The
 * two must give the same review.
 */
describe("review <policy file> from offline records", () => {
  it.each(FILES)("gives the same review JSON as the Pulumi engine: %s", async (file) => {
    const engine = await runReview(file, { offline: false }, captureIo());
    const offline = await runReview(file, { offline: true }, captureIo());
    expect(offline.review).toEqual(engine.review);
  });

  it(`above ${OFFLINE_REVIEW_WORKLOADS} workloads the engine is not started, and the review proves the policy`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "blastradius-offline-"));
    const file = join(dir, "big.json");
    writeFileSync(file, JSON.stringify(generatePolicy({ workloads: 1500, segments: 150 })));
    vi.mocked(runner.runProgram).mockClear();
    const io = captureIo();
    const code = await run(["review", file, "--json", join(dir, "r.json")], io);
    expect(code, io.text().slice(-2000)).toBe(0);
    expect(runner.runProgram).not.toHaveBeenCalled();
    const review = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    expect(review.ok).toBe(true);
    expect(review.targets).toEqual(["aws", "gcp", "azure", "cilium", "bluefield"]);
    expect(review.allowed.length).toBeGreaterThan(1000);
  });
});
