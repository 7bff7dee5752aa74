import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reviewCommand } from "../../cli/commands/review";
import { run } from "../../cli/program";
import type { ReviewDiff } from "../../lib";
import { toyModule } from "../support/toy-module";
import { captureIo } from "./capture";

const FLAGSHIP = join(__dirname, "..", "..", "stacks", "ai-platform", "policy.yaml");

describe("blastradius diff", () => {
  it("shows the forbidden path a change opens, on which target, and changed owners and new paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blastradius-diff-"));
    const before = join(dir, "before.json");
    const after = join(dir, "after.json");
    expect(await reviewCommand(FLAGSHIP, { modules: [toyModule("aws")], json: before }, captureIo())).toBe(0);
    // The change: a hand-added rule on aws, a new path and a new owner.
    const policy = readFileSync(FLAGSHIP, "utf8")
      .replace(
        "owner: serving@example.com\n    justification: Inference servers",
        "owner: inference-team@example.com\n    justification: Inference servers",
      )
      .concat(
        "  - name: training-metrics\n    from: training\n    to: inference\n    services: [tcp/9090]\n    owner: ml-platform@example.com\n    justification: Metrics scraping.\n",
      );
    const changed = join(dir, "policy.yaml");
    writeFileSync(changed, policy);
    const leaky = toyModule("aws", [
      {
        name: "hand-added-ssh",
        rule: { action: "allow", from: ["10.200.0.0/16"], to: ["10.10.1.0/24"], services: ["tcp/22"] },
      },
    ]);
    expect(await reviewCommand(changed, { modules: [leaky], json: after }, captureIo())).toBe(1);

    const io = captureIo();
    // A forbidden path opened: the diff fails (exit 1), saying why, unless told to only report.
    expect(
      await run(["diff", before, after, "--json", join(dir, "d.json"), "--markdown", join(dir, "d.md")], io),
    ).toBe(1);
    expect(io.stderr.join("\n")).toContain(
      'blastradius diff: failing (--fail-on opened):\n  forbidden path "no-workstation-to-training" opened on aws (tcp/22)',
    );
    expect(await run(["diff", before, after, "--fail-on", "never"], captureIo())).toBe(0);
    expect(await run(["diff", before, after, "--fail-on", "broken"], captureIo())).toBe(0);
    expect(await run(["diff", before, after, "--fail-on", "opened,broken"], captureIo())).toBe(1);
    const d = JSON.parse(readFileSync(join(dir, "d.json"), "utf8")) as ReviewDiff;
    expect(d.ok).toEqual({ old: true, new: false });
    expect(d.opened).toEqual([
      { path: "no-workstation-to-training", target: "aws", services: "tcp/22", mode: "enforce" },
    ]);
    expect(d.pathsAdded.map((p) => p.name)).toEqual(["training-metrics"]);
    expect(d.changed).toEqual([
      {
        path: "inference-pulls-models",
        field: "owner",
        old: "serving@example.com",
        new: "inference-team@example.com",
      },
    ]);
    const text = io.stdout.join("\n");
    expect(text).toContain('OPENED "no-workstation-to-training" on aws: tcp/22 now gets through');
    expect(readFileSync(join(dir, "d.md"), "utf8")).toContain("- OPENED `no-workstation-to-training` on aws");

    // And back: the same diff reversed closes it.
    const back = captureIo();
    expect(await run(["diff", after, before], back)).toBe(0);
    expect(back.stdout.join("\n")).toContain('closed "no-workstation-to-training" on aws');
  });

  it("fails on a broken allow with --fail-on broken, never on a monitored forbid opening", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blastradius-diff-"));
    const base = JSON.parse(
      (await (async () => {
        const f = join(dir, "base.json");
        await reviewCommand(FLAGSHIP, { modules: [toyModule("aws")], json: f }, captureIo());
        return readFileSync(f, "utf8");
      })()) as string,
    );
    const write = (name: string, review: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(review));
      return join(dir, name);
    };
    const before = write("before.json", base);
    const broken = structuredClone(base);
    broken.allowed[0].status = "broken";
    broken.allowed[0].missing = "tcp/443";
    expect(await run(["diff", before, write("broken.json", broken)], captureIo())).toBe(0);
    const io = captureIo();
    expect(await run(["diff", before, join(dir, "broken.json"), "--fail-on", "broken"], io)).toBe(1);
    expect(io.stderr.join("\n")).toContain(`allow path "${base.allowed[0].path}" broke on aws (tcp/443)`);
    const monitored = structuredClone(base);
    Object.assign(monitored.forbidden[0], { mode: "monitor", status: "open", open: "tcp/22" });
    expect(await run(["diff", before, write("monitored.json", monitored)], captureIo())).toBe(0);
  });

  it("exits 2 on an unknown --fail-on condition", async () => {
    const io = captureIo();
    expect(await run(["diff", FLAGSHIP, FLAGSHIP, "--fail-on", "sometimes"], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain("--fail-on sometimes: expected opened, broken, grown, never");
  });

  it("exits 2 on a file that is not a review", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blastradius-diff-"));
    writeFileSync(join(dir, "x.json"), '{"policy": "p"}');
    const io = captureIo();
    expect(await run(["diff", join(dir, "x.json"), join(dir, "x.json")], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain('not a blastradius review JSON (no "ok")');
  });
});
