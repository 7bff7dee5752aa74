import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { run } from "../../cli/program";
import * as runner from "../../components/runner";
import { captureIo } from "./capture";

// Count every Pulumi run the CLI starts: for invalid input there must be none.
vi.mock("../../components/runner", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../components/runner")>();
  return { ...original, runProgram: vi.fn(original.runProgram), runStackDir: vi.fn(original.runStackDir) };
});

const DIR = join(__dirname, "..", "fixtures", "malformed");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") || f.endsWith(".json"));

/** Each fixture states what the error must name: `# expect:` lines, or a `.expect` file beside a JSON one. */
function expectations(file: string): string[] {
  if (file.endsWith(".json"))
    return readFileSync(join(DIR, file.replace(/\.json$/, ".expect")), "utf8")
      .split("\n")
      .filter(Boolean);
  return readFileSync(join(DIR, file), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("# expect: "))
    .map((l) => l.slice("# expect: ".length));
}

describe("malformed policy corpus", () => {
  it("has at least 40 files, each stating what its error must name", () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    for (const f of files) expect(expectations(f).length, f).toBeGreaterThan(0);
  });

  it.each(files)("%s fails check with exit 2 naming the file and the field", async (file) => {
    const io = captureIo();
    const path = join(DIR, file);
    expect(await run(["check", path], io)).toBe(2);
    const errors = io.stderr.join("\n");
    expect(errors).toContain(`${path}:`);
    for (const e of expectations(file)) expect(errors).toContain(e);
  });

  it("control: a valid policy does reach the Pulumi run (so the spy below can see one)", async () => {
    vi.mocked(runner.runProgram).mockClear();
    const io = captureIo();
    expect(
      await run(["review", join(__dirname, "..", "..", "stacks", "ai-platform", "policy.yaml")], io),
    ).toBe(0);
    expect(runner.runProgram).toHaveBeenCalledTimes(1);
  });

  it.each(files)("%s: review exits 2 and registers nothing", async (file) => {
    const io = captureIo();
    vi.mocked(runner.runProgram).mockClear();
    expect(await run(["review", join(DIR, file)], io)).toBe(2);
    expect(runner.runProgram).not.toHaveBeenCalled();
    expect(io.stderr.join("\n")).toContain("nothing was rendered or proven");
  });
});
