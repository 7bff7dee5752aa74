import { spawn, spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomically } from "../../cli/write";

/*
 * `--json`, `--markdown`, `--emit` destinations that are not plain files: a temporary file renamed
 * over them replaced a named pipe (its reader got nothing), a device node when run as root
 * (`--markdown /dev/full` became a regular file), and a symbolic link (the link, not its target).
 */
describe("output destinations that are not plain files", () => {
  it("a symbolic link is written through: the link stays, its target gets the content", () => {
    const dir = mkdtempSync(join(tmpdir(), "blastradius-write-"));
    writeFileSync(join(dir, "real.json"), "old");
    symlinkSync("real.json", join(dir, "link.json"));
    writeFileAtomically(join(dir, "link.json"), "new\n");
    expect(lstatSync(join(dir, "link.json")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "link.json"))).toBe("real.json");
    expect(readFileSync(join(dir, "real.json"), "utf8")).toBe("new\n");
  });

  it("a named pipe is written into, not replaced: its reader gets the content", {
    timeout: 20_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "blastradius-write-"));
    const fifo = join(dir, "review.fifo");
    const made = spawnSync("mkfifo", [fifo]);
    if (made.error || made.status !== 0) {
      if (process.env.CI) throw new Error(`mkfifo is needed for this test: ${made.error ?? made.stderr}`);
      console.warn("skipped: mkfifo is not available");
      return;
    }
    const reader = spawn("cat", [fifo]);
    let read = "";
    reader.stdout.on("data", (b: Buffer) => {
      read += b.toString();
    });
    const done = new Promise<void>((ok) => reader.on("close", () => ok()));
    try {
      writeFileAtomically(fifo, "through the pipe\n");
      // A pipe replaced by a file leaves its reader waiting for a writer forever.
      await Promise.race([done, new Promise((ok) => setTimeout(ok, 5000))]);
    } finally {
      reader.kill();
    }
    expect(read).toBe("through the pipe\n");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});
