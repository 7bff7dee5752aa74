import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reviewCommand } from "../../cli/commands/review";
import { run } from "../../cli/program";
import { TARGET_MODULES } from "../../components/targets";
import type { ReviewJson } from "../../lib";
import { toyModule } from "../support/toy-module";
import { captureIo } from "./capture";

const ROOT = join(__dirname, "..", "..");
const FLAGSHIP = join(ROOT, "stacks", "ai-platform", "policy.yaml");
const tmp = () => mkdtempSync(join(tmpdir(), "blastradius-review-"));

describe("blastradius review <policy file>", () => {
  it("renders, records, proves and writes JSON, Markdown and the emitted resources (exit 0)", async () => {
    const dir = tmp();
    const io = captureIo();
    const code = await reviewCommand(
      FLAGSHIP,
      {
        modules: [toyModule("aws"), toyModule("gcp")],
        json: join(dir, "r.json"),
        markdown: join(dir, "r.md"),
        emit: join(dir, "e.json"),
      },
      io,
    );
    expect(code).toBe(0);
    const review = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as ReviewJson;
    expect(review.policy).toBe("ai-platform");
    expect(review.ok).toBe(true);
    expect(review.targets).toEqual(["aws", "gcp"]);
    expect(review.unproven).toEqual(["azure", "cilium", "bluefield"]);
    expect(review.resources).toEqual({ aws: 5, gcp: 5 });
    expect(review.forbidden).toContainEqual({
      path: "no-workstation-to-training",
      mode: "enforce",
      target: "aws",
      status: "blocked",
      by: "default-deny",
    });
    expect(review.allowed).toContainEqual({ path: "training-reads-datalake", target: "gcp", status: "open" });
    const emitted = JSON.parse(readFileSync(join(dir, "e.json"), "utf8")) as Array<{
      type: string;
      name: string;
      inputs: unknown;
    }>;
    expect(emitted).toHaveLength(10);
    expect(emitted[0]).toEqual({
      type: "toy:aws:Rule",
      name: expect.any(String),
      id: expect.any(String),
      inputs: expect.objectContaining({ action: "allow" }),
    });
    expect(readFileSync(join(dir, "r.md"), "utf8")).toContain(
      "| no-workstation-to-training | aws | blocked | `default-deny` |",
    );
    expect(io.stdout.join("\n")).toContain("NOT proven (no renderer yet): azure, cilium, bluefield");
  });

  it("exits 1 and shows the witness when a rendered rule reopens an enforce forbid", async () => {
    const dir = tmp();
    const io = captureIo();
    const leaky = toyModule("aws", [
      {
        name: "hand-added-ssh",
        rule: { action: "allow", from: ["10.200.0.0/16"], to: ["10.10.1.0/24"], services: ["tcp/22"] },
      },
    ]);
    expect(await reviewCommand(FLAGSHIP, { modules: [leaky], json: join(dir, "r.json") }, io)).toBe(1);
    const review = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as ReviewJson;
    expect(review.ok).toBe(false);
    expect(review.forbidden).toContainEqual({
      path: "no-workstation-to-training",
      mode: "enforce",
      target: "aws",
      status: "open",
      by: "hand-added-ssh",
      witness: {
        src: "10.200.0.1",
        dst: "10.10.1.1",
        protocol: "tcp",
        port: 22,
        from: "corp-workstations",
        to: "llm-trainer",
      },
      open: "tcp/22",
    });
    expect(io.stdout.join("\n")).toMatch(
      /no-workstation-to-training\s+enforce\s+aws\s+OPEN\s+hand-added-ssh\s+10\.200\.0\.1 -> 10\.10\.1\.1 tcp\/22/,
    );
  });

  it("with no target rendered, proves nothing and says so instead of claiming success silently", async () => {
    const io = captureIo();
    expect(await reviewCommand(FLAGSHIP, { modules: [] }, io)).toBe(0);
    const out = io.stdout.join("\n");
    expect(out).toContain("proven on: no target");
    expect(out).toContain("NOT proven (no renderer yet): aws, gcp, azure, cilium, bluefield");
    expect(out).toContain("NOTHING PROVEN");
    expect(out).not.toContain("OK:");
  });
});

describe("blastradius review <policy file>: options that do not apply are refused, not ignored", () => {
  it("a bad --timeout, and --stack or --policy given with a policy file, exit 2 naming them", async () => {
    for (const [args, message] of [
      [["--timeout", "abc"], /--timeout abc: expected a positive whole number/],
      [["--timeout", "0"], /--timeout 0: expected a positive whole number/],
      [["--policy", "other.yaml"], /--policy is for a stack directory/],
      [["--stack", "dev"], /--stack is for a stack directory/],
    ] as const) {
      const io = captureIo();
      expect(await run(["review", FLAGSHIP, ...args], io), io.text()).toBe(2);
      expect(io.stderr.join("\n")).toMatch(message);
    }
  });
});

describe("blastradius review <stack dir>", () => {
  it("runs the Pulumi program with the stack's config and emits what it registered", async () => {
    const dir = tmp();
    const io = captureIo();
    const code = await run(
      [
        "review",
        join(ROOT, "test", "fixtures", "stacks", "minimal"),
        "--stack",
        "dev",
        "--emit",
        join(dir, "e.json"),
      ],
      io,
    );
    expect(io.stderr).toEqual([]);
    // The program registers a VPC but no segmentation: the proof must fail, e.g. on the DPUs,
    // where Open vSwitch's default NORMAL flow lets a workstation reach the training hosts.
    expect(code).toBe(1);
    const out = io.stdout.join("\n");
    expect(out).toMatch(/no-workstation-to-training\s+enforce\s+bluefield\s+OPEN/);
    expect(out).toContain("FAILED:");
    const emitted = JSON.parse(readFileSync(join(dir, "e.json"), "utf8")) as Array<{
      type: string;
      name: string;
      inputs: Record<string, unknown>;
    }>;
    expect(emitted).toContainEqual({
      type: "aws:ec2/vpc:Vpc",
      name: "ml",
      id: expect.any(String),
      inputs: expect.objectContaining({ cidrBlock: "10.10.0.0/16" }),
    });
  });

  it("exits 2 naming the failure when the program throws", async () => {
    const io = captureIo();
    expect(await run(["review", join(ROOT, "test", "fixtures", "stacks", "broken")], io)).toBe(2);
    expect(io.stderr.join("\n")).toMatch(/the Pulumi program failed under mocks: .*missingKey/);
  });

  it("exits 2 on a path that is neither a stack directory nor a policy file", async () => {
    const io = captureIo();
    expect(await run(["review", join(ROOT, "test")], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain("not a Pulumi project (no Pulumi.yaml)");
    expect(await run(["review", join(ROOT, "nope.yaml")], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain("no such file or directory");
  });
});

describe("blastradius check / render / usage", () => {
  it("check prints a summary for a valid policy (exit 0)", async () => {
    const io = captureIo();
    expect(await run(["check", FLAGSHIP], io)).toBe(0);
    expect(io.stdout.join("\n")).toContain(
      'policy "ai-platform" is valid: 7 workloads, 7 segments, 1 peers (+ internet), 5 allow / 4 enforce-forbid / 0 monitored-forbid paths',
    );
  });

  it("render writes each landed target's artefacts and nothing for an invalid policy", async () => {
    const io = captureIo();
    const out = tmp();
    expect(await run(["render", FLAGSHIP, "--out", out], io)).toBe(0);
    const written = io.stdout.join("\n");
    for (const m of TARGET_MODULES) expect(written, m.target).toMatch(new RegExp(`\\n  ${m.target}/`));
    const bad = tmp();
    expect(
      await run(
        ["render", join(ROOT, "test", "fixtures", "malformed", "33-port-out-of-range.yaml"), "--out", bad],
        captureIo(),
      ),
    ).toBe(2);
    expect(readdirSync(bad)).toEqual([]);
  });

  it("unknown commands and missing arguments exit 2", async () => {
    expect(await run(["frobnicate"], captureIo())).toBe(2);
    expect(await run(["render", FLAGSHIP], captureIo())).toBe(2);
  });
});
