import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../cli/program";
import { RunTimeoutError, runStackDir, StackDirError } from "../../components/runner";
import { captureIo } from "../cli/capture";

/**
 * A stack directory's program runs in a child process the runner can kill: a synchronous endless
 * loop (which no timer in the same process can interrupt) ends in a clear error, on time.
 */

const ROOT = path.join(__dirname, "..", "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "runner-isolation-"));
// The programs below load @pulumi/pulumi as a project's own dependency would be found.
fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(scratch, "node_modules"), "dir");
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function project(name: string, program: string, extra: Record<string, string> = {}): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\n`);
  fs.writeFileSync(path.join(dir, "index.js"), program);
  for (const [file, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

describe("a stack program run in a process of its own", () => {
  it("is stopped when a synchronous loop never ends, with a message naming the program and the limit", async () => {
    const dir = project("spins", "while (true) {}\n");
    const started = Date.now();
    const err = await runStackDir(dir, { timeoutMs: 2000 }).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(RunTimeoutError);
    expect((err as Error).message).toBe(
      `the Pulumi program in ${dir} did not finish within 2 s, so its process was stopped: look for a loop that never ends or a promise that never settles, or allow more time (review --timeout <seconds>)`,
    );
    // Killed at the limit (process start-up included), not left running.
    expect(took).toBeLessThan(15_000);
    // The runner still works afterwards.
    const ok = await runStackDir(project("fine", "exports.answer = 42;\n"));
    expect(ok.outputs).toEqual({ answer: 42 });
  });

  it("makes `review --timeout` exit 2 with that message instead of hanging", async () => {
    const dir = project("spins-review", "for (;;) {}\n", {
      "policy.yaml": "name: p\nworkloads: []\nsegments: {}\npaths: []\n",
    });
    const io = captureIo();
    expect(await run(["review", dir, "--timeout", "2"], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain(`the Pulumi program in ${dir} did not finish within 2 s`);
  });

  it("refuses a --timeout that is not a positive number of seconds", async () => {
    for (const bad of ["0", "-1", "abc", "1.5s"]) {
      const io = captureIo();
      expect(
        await run(["review", path.join(ROOT, "stacks", "agent-containment"), "--timeout", bad], io),
      ).toBe(2);
      expect(io.stderr.join("\n")).toContain("--timeout");
    }
  });

  it("reports a program that exits before it finishes, with the end of its output", async () => {
    const dir = project("exits", 'console.error("giving up: no credentials"); process.exit(3);\n');
    await expect(runStackDir(dir)).rejects.toThrow(
      new RegExp(
        `the Pulumi program in ${dir} exited \\(code 3\\) before it finished[\\s\\S]*giving up: no credentials`,
      ),
    );
  });

  it("keeps the program's errors as they were (the program's own, a duplicate URN)", async () => {
    await expect(runStackDir(project("throws", 'throw new TypeError("bad config 7");\n'))).rejects.toThrow(
      "bad config 7",
    );
    const dup = project(
      "dup",
      'const pulumi = require("@pulumi/pulumi");\nclass R extends pulumi.CustomResource { constructor(n) { super("test:x:R", n, {}); } }\nnew R("same"); new R("same");\n',
    );
    await expect(runStackDir(dup)).rejects.toMatchObject({
      name: "DuplicateUrnError",
      urn: "urn:pulumi:dev::dup::test:x:R::same",
    });
  });

  it("names the existing stack files when the requested stack has none (review exits 2)", async () => {
    const io = captureIo();
    expect(
      await run(["review", path.join(ROOT, "stacks", "backup-blast-radius"), "--stack", "prdo"], io),
    ).toBe(2);
    expect(io.stderr.join("\n")).toMatch(
      /No stack "prdo" in .*backup-blast-radius: there is no Pulumi\.prdo\.yaml; the stack files there are Pulumi\.dev\.yaml/,
    );
    await expect(
      runStackDir(path.join(ROOT, "stacks", "backup-blast-radius"), { stack: "prdo" }),
    ).rejects.toBeInstanceOf(StackDirError);
  });

  it("reviews a stack of this repository from any working directory (`blastradius/*` resolves to this copy)", () => {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const cli = path.join(ROOT, "cli", "main.ts");
    const r = spawnSync(tsx, [cli, "review", path.join(ROOT, "stacks", "agent-containment")], {
      cwd: os.tmpdir(),
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/Cannot find module/);
    expect(r.stdout).toMatch(/OK: \d+ forbid checks blocked, 0 open/);
    expect(r.status).toBe(0);
  });
});

describe("a program whose provider package is not installed", () => {
  it("fails the review with exit 2, naming the package to install", async () => {
    const dir = project("no-provider", 'require("@pulumi/not-a-provider");\n', {
      "policy.yaml": "name: p\nworkloads: []\nsegments: {}\npaths: []\n",
    });
    const io = captureIo();
    expect(await run(["review", dir], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain("(install it in the project: npm install @pulumi/not-a-provider)");
  });
});
