import * as fs from "node:fs";
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { run } from "../../cli/program";
import { captureIo } from "../cli/capture";

// Faults are injected into the real file system calls: ENOSPC after N writes, EACCES on open.
const fault: { writesBeforeEnospc?: number; eaccesOnOpen?: boolean } = {};
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  return {
    ...real,
    writeSync: (...args: Parameters<typeof real.writeSync>) => {
      if (fault.writesBeforeEnospc !== undefined && fault.writesBeforeEnospc-- <= 0) throw errno("ENOSPC");
      return (real.writeSync as (...a: unknown[]) => number)(...args);
    },
    openSync: (...args: Parameters<typeof real.openSync>) => {
      if (fault.eaccesOnOpen) throw errno("EACCES");
      return (real.openSync as (...a: unknown[]) => number)(...args);
    },
  };
});
afterEach(() => {
  delete fault.writesBeforeEnospc;
  delete fault.eaccesOnOpen;
});

const ROOT = join(__dirname, "..", "..");
const FLAGSHIP = join(ROOT, "stacks", "ai-platform", "policy.yaml");
const FLOWS = join(ROOT, "test", "fixtures", "flows");
const tmp = () => mkdtempSync(join(tmpdir(), "blastradius-faults-"));

/** Every file under dir, relative, sorted. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

async function cli(...args: string[]) {
  const io = captureIo();
  const code = await run(args, io);
  const text = io.text();
  expect(text, "no stack trace").not.toMatch(/\n\s+at .*:\d+:\d+/);
  return { code, text, io };
}

describe("render writes the whole set or nothing, and only inside --out", () => {
  it("control: the flagship renders (a set of several files)", async () => {
    const out = tmp();
    const r = await cli("render", FLAGSHIP, "--out", out);
    expect(r.code, r.text).toBe(0);
    expect(tree(out).filter((f) => f.includes(".")).length).toBeGreaterThan(3);
    expect(tree(out).some((f) => f.endsWith(".tmp"))).toBe(false);
  });

  it("disk full in the middle: exit 2, the message names ENOSPC, no file (not even a 0-byte one) is left", async () => {
    for (const after of [0, 1, 3]) {
      const out = join(tmp(), "out");
      fault.writesBeforeEnospc = after;
      const r = await cli("render", FLAGSHIP, "--out", out);
      expect(r.code).toBe(2);
      expect(r.text).toContain("no space left on the device (ENOSPC)");
      expect(tree(out)).toEqual([]);
    }
  });

  it("a set already there is left as it was when the new one cannot be written", async () => {
    const out = tmp();
    expect((await cli("render", FLAGSHIP, "--out", out)).code).toBe(0);
    const before = tree(out).map((f) => [
      f,
      fs.statSync(join(out, f)).isFile() ? readFileSync(join(out, f), "utf8") : "",
    ]);
    fault.writesBeforeEnospc = 2;
    expect((await cli("render", FLAGSHIP, "--out", out)).code).toBe(2);
    const after = tree(out).map((f) => [
      f,
      fs.statSync(join(out, f)).isFile() ? readFileSync(join(out, f), "utf8") : "",
    ]);
    expect(after).toEqual(before);
  });

  it("--out is a file (ENOTDIR) or not writable (EACCES): exit 2 with the reason", async () => {
    const file = join(tmp(), "a-file");
    writeFileSync(file, "x");
    const r = await cli("render", FLAGSHIP, "--out", join(file, "sub"));
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/ENOTDIR|ENOENT|EEXIST/);
    fault.eaccesOnOpen = true;
    const out = tmp();
    const r2 = await cli("render", FLAGSHIP, "--out", out);
    expect(r2.code).toBe(2);
    expect(r2.text).toContain("permission denied (EACCES)");
    expect(tree(out)).toEqual([]);
  });

  it("a symbolic link planted in --out does not redirect a write outside it", async () => {
    const out = tmp();
    const elsewhere = tmp();
    symlinkSync(elsewhere, join(out, "aws"));
    const r = await cli("render", FLAGSHIP, "--out", out);
    expect(r.code).toBe(2);
    expect(r.text).toContain("leads outside");
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe("every other write is atomic and fails with exit 2", () => {
  it("review --json/--markdown/--emit: all or none; ENOTDIR and ENOSPC exit 2", async () => {
    const dir = tmp();
    const file = join(dir, "f");
    writeFileSync(file, "x");
    const r = await cli("review", FLAGSHIP, "--json", join(dir, "r.json"), "--markdown", join(file, "r.md"));
    expect(r.code).toBe(2);
    expect(r.text).toContain("cannot write");
    expect(existsSync(join(dir, "r.json"))).toBe(false);
    fault.writesBeforeEnospc = 1;
    const r2 = await cli("review", FLAGSHIP, "--json", join(dir, "r.json"), "--emit", join(dir, "e.json"));
    expect(r2.code).toBe(2);
    expect(readdirSync(dir)).toEqual(["f"]);
  });

  it("simulate --json, recommend --out, diff --json/--markdown, audit --json: ENOSPC is exit 2 and leaves nothing", async () => {
    const dir = tmp();
    const flows = join(FLOWS, "aws-default.log");
    const policy = join(FLOWS, "policy.yaml");
    const review = join(dir, "review.json");
    expect((await cli("review", FLAGSHIP, "--json", review)).code).toBe(0);
    const runs: string[][] = [
      ["simulate", policy, "--flows", flows, "--json", join(dir, "s.json")],
      ["recommend", "--policy", policy, "--flows", flows, "--out", join(dir, "r.yaml")],
      ["diff", review, review, "--json", join(dir, "d.json"), "--markdown", join(dir, "d.md")],
      [
        "audit",
        FLAGSHIP,
        "--aws",
        join(ROOT, "test", "targets", "aws", "fixtures", "sg-ai-platform-live.json"),
        "--json",
        join(dir, "a.json"),
      ],
    ];
    for (const args of runs) {
      fault.writesBeforeEnospc = 0;
      const r = await cli(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.text).toContain("ENOSPC");
      expect(readdirSync(dir)).toEqual(["review.json"]);
    }
  });
});

describe("command-line values", () => {
  it("--limit abc, -5, 2.5 and 0 are refused with exit 2", async () => {
    const policy = join(FLOWS, "policy.yaml");
    const flows = join(FLOWS, "aws-default.log");
    for (const bad of ["abc", "-5", "2.5", "0", "1e3"]) {
      const r = await cli("simulate", policy, "--flows", flows, `--limit=${bad}`);
      expect(r.code, bad).toBe(2);
      expect(r.text).toContain("positive whole number");
    }
    expect((await cli("simulate", policy, "--flows", flows, "--limit", "3")).code).toBe(0);
  });

  it("simulate --flows DIR says it is a directory", async () => {
    const r = await cli("simulate", join(FLOWS, "policy.yaml"), "--flows", FLOWS);
    expect(r.code).toBe(2);
    expect(r.text).toContain("is a directory");
    expect(r.text).not.toContain("no such");
  });
});

describe("what the fuzz test found", () => {
  it("a flow log timestamp beyond the Date range is shown as unknown (recommend crashed: Invalid time value)", async () => {
    const log = join(tmp(), "t.log");
    writeFileSync(
      log,
      "2 123456789010 eni-1 10.10.1.6 10.20.0.8 40002 8443 6 4 300 1718000300 17180018000360 ACCEPT OK\n",
    );
    const r = await cli("recommend", "--policy", join(FLOWS, "policy.yaml"), "--flows", log);
    expect(r.code, r.text).toBe(0);
  });

  it("a review JSON whose path entry lacks its fields is invalid input (diff crashed reading services)", async () => {
    const dir = tmp();
    const review = join(dir, "r.json");
    expect((await cli("review", FLAGSHIP, "--json", review)).code).toBe(0);
    const data = JSON.parse(readFileSync(review, "utf8"));
    data.paths[1] = { name: data.paths[1].name };
    writeFileSync(join(dir, "bad.json"), JSON.stringify(data));
    const r = await cli("diff", join(dir, "bad.json"), review);
    expect(r.code).toBe(2);
    expect(r.text).toContain('not a blastradius review JSON (no "paths[1].from")');
  });
});

describe("the CLI's top level", () => {
  it("an exception no command anticipated is exit 2 and one line, not a stack trace", async () => {
    const policyFile = await import("../../components/policy-file");
    const spy = vi.spyOn(policyFile, "checkPolicyFile").mockImplementation(() => {
      throw new TypeError("boom\nsecond line");
    });
    try {
      const r = await cli("check", FLAGSHIP);
      expect(r.code).toBe(2);
      expect(r.io.stderr).toEqual([
        "blastradius: internal error: boom (this is a bug; BLASTRADIUS_DEBUG=1 shows where)",
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});
