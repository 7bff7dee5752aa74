import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reviewCommand } from "../../cli/commands/review";
import { run } from "../../cli/program";
import type { ReviewDiff, ReviewJson } from "../../lib";
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

  describe("compares what is open, and the stack as deployed", () => {
    async function reviews() {
      const dir = mkdtempSync(join(tmpdir(), "blastradius-diff-"));
      const file = join(dir, "base.json");
      expect(await reviewCommand(FLAGSHIP, { modules: [toyModule("aws")], json: file }, captureIo())).toBe(0);
      const base = JSON.parse(readFileSync(file, "utf8")) as ReviewJson;
      const write = (name: string, review: unknown) => {
        const f = join(dir, name);
        writeFileSync(f, JSON.stringify(review));
        return f;
      };
      return { base, write };
    }
    const openForbid = (review: ReviewJson, open: string, mode: "enforce" | "monitor") => {
      const r = structuredClone(review);
      const f = r.forbidden.find((x) => x.target === "aws")!;
      Object.assign(f, {
        status: "open",
        open,
        mode,
        by: "x",
        witness: { src: "10.200.0.1", dst: "10.10.1.1", protocol: "tcp", port: 443 },
      });
      return r;
    };

    it("an open forbid letting through less is narrowed (exit 0), not widened", async () => {
      const { base, write } = await reviews();
      const before = write("a.json", openForbid(base, "tcp/22, tcp/443", "enforce"));
      const after = write("b.json", openForbid(base, "tcp/443", "enforce"));
      const io = captureIo();
      expect(await run(["diff", before, after], io), io.text()).toBe(0);
      expect(io.text()).toContain("narrowed");
      expect(io.text()).not.toContain("WIDENED");
      const io2 = captureIo();
      expect(await run(["diff", after, before], io2)).toBe(1);
      expect(io2.text()).toContain("WIDENED");
    });

    it("an open forbid switched from monitor to enforce fails the diff", async () => {
      const { base, write } = await reviews();
      const before = write("a.json", openForbid(base, "tcp/443", "monitor"));
      const after = write("b.json", openForbid(base, "tcp/443", "enforce"));
      const io = captureIo();
      expect(await run(["diff", before, after], io)).toBe(1);
      expect(io.stderr.join("\n")).toContain("widened on aws");
    });

    it("a new opening of the stack as deployed is shown and fails --fail-on opened", async () => {
      const { base, write } = await reviews();
      const opening = {
        target: "aws" as const,
        from: "unmodelled addresses",
        to: "trainer",
        services: "tcp/22",
        by: "extra-ssh inline ingress[0]",
        witness: { src: "10.0.0.1", dst: "10.10.1.1", protocol: "tcp", port: 22 },
        reason: "unmodelled" as const,
      };
      const after = structuredClone(base);
      after.unexplained = [opening];
      after.errors = [
        "aws: unmodelled addresses -> trainer is open for tcp/22 (but default deny holds between workloads and endpoints the policy does not name), let through by extra-ssh inline ingress[0]; witness 10.0.0.1 -> 10.10.1.1 tcp/22",
        "aws: a binding error",
      ];
      const a = write("a.json", base);
      const b = write("b.json", after);
      const io = captureIo();
      expect(await run(["diff", a, b, "--json", join(tmpdir(), `d-${process.pid}.json`)], io)).toBe(1);
      expect(io.text()).toContain("OPENED in the stack as deployed on aws");
      expect(io.text()).toContain("new error: aws: a binding error");
      expect(io.text().match(/extra-ssh/g)?.length).toBeGreaterThanOrEqual(1);
      expect(io.stderr.join("\n")).toContain(
        "the stack as deployed opened tcp/22 from unmodelled addresses to trainer",
      );
      expect(await run(["diff", b, a], captureIo())).toBe(0);
    });
  });
});
