import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../cli/program";
import { captureIo } from "../cli/capture";
import { propertyRuns } from "../support/property-runs";

/**
 * The CLI's rule: exit 0, 1 or 2, never a stack trace, whatever the input. Every command is driven
 * with generated bad input: policies, flow logs, review JSON and live exports mutated the way a
 * careless user or an attacker would (hostile tokens spliced in, slices cut, duplicated or
 * truncated), and bad option values. BLASTRADIUS_PROPERTY_RUNS (1000 in CI) scales each command.
 */
const ROOT = join(__dirname, "..", "..");
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), "utf8");
const POLICY = read("test", "fixtures", "flows", "policy.yaml");
const FLAGSHIP = read("stacks", "ai-platform", "policy.yaml");
const FLOW_LOGS = ["aws-default.log", "aws-custom.log", "gcp.jsonl", "hubble.jsonl", "azure-nsg.json"].map(
  (f) => read("test", "fixtures", "flows", f),
);
const AWS_EXPORT = read("test", "targets", "aws", "fixtures", "sg-ai-platform-live.json");
const GCP_EXPORT = read("test", "targets", "gcp", "fixtures", "service-accounts.gcloud.json");
const CNP_EXPORT = read("test", "targets", "cilium", "fixtures", "kubectl-get-cnp.json");

const TOKENS = [
  "__proto__",
  "constructor",
  "<<: *a",
  "&a ",
  "*a",
  "\u0000",
  "\n",
  "\r\n",
  "{",
  "}",
  "[",
  "]",
  ": ",
  "- ",
  '"',
  "'",
  "../../",
  "/",
  "::ffff:10.0.0.0/104",
  "sctp/1-65535",
  "tcp/0-65536",
  "proto/300",
  "(?=x)",
  "a{1001}",
  "null",
  "~",
  "-1",
  "1e309",
  "NaN",
  "x".repeat(300),
  "\u2028",
  "\uFEFF",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, as an attacker writes it.
  "${HOME}",
  "$(id)",
  "`id`",
  ";rm -rf /",
  "=== rules.flows",
  "verdict: forbid",
  "mode: monitor",
  "services: [any]",
];

/** A text mutated by a few edits. */
const mutated = (base: string) =>
  fc
    .array(
      fc.oneof(
        fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
        fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), token: fc.string({ maxLength: 8 }) }),
        fc.record({
          kind: fc.constant("delete" as const),
          at: fc.nat(),
          length: fc.integer({ min: 1, max: 40 }),
        }),
        fc.record({
          kind: fc.constant("repeat" as const),
          at: fc.nat(),
          length: fc.integer({ min: 1, max: 80 }),
        }),
        fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((edits) => {
      let t = base;
      for (const e of edits) {
        const at = t.length === 0 ? 0 : e.at % (t.length + 1);
        if (e.kind === "insert") t = t.slice(0, at) + e.token + t.slice(at);
        else if (e.kind === "delete") t = t.slice(0, at) + t.slice(at + e.length);
        else if (e.kind === "repeat")
          t = t.slice(0, at + e.length) + t.slice(at, at + e.length) + t.slice(at + e.length);
        else t = t.slice(0, at);
      }
      return t;
    });

const dir = mkdtempSync(join(tmpdir(), "blastradius-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (content: string, ext: string) => {
  const f = join(dir, `in-${n++}.${ext}`);
  writeFileSync(f, content);
  return f;
};
const outDir = () => mkdtempSync(join(dir, "out-"));

const seen = { runs: 0, codes: new Map<number, number>() };

async function holds(args: string[]): Promise<void> {
  const io = captureIo();
  const code = await run(args, io);
  const text = io.text();
  seen.runs++;
  seen.codes.set(code, (seen.codes.get(code) ?? 0) + 1);
  expect([0, 1, 2], `${args.join(" ")}\n${text.slice(0, 2000)}`).toContain(code);
  expect(text, args.join(" ")).not.toMatch(/\n\s+at .*:\d+:\d+\)?/);
  expect(text, args.join(" ")).not.toContain("internal error");
}

/** Mostly-valid runs are slow (they render and prove): those commands run a fifth as many cases. */
const FAST = propertyRuns(150);
const SLOW = Math.max(20, Math.floor(propertyRuns(150) / 5));
const opts = (runs: number) => ({
  numRuns: runs,
  seed: Number(process.env.BLASTRADIUS_FUZZ_SEED ?? 17),
  endOnFailure: true,
});

describe("CLI fuzz: exit codes 0/1/2 and no stack trace for any input", { timeout: 1_800_000 }, () => {
  it("check <mutated policy>", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated(POLICY), mutated(FLAGSHIP)), fc.boolean(), async (text, json) => {
        let body = text;
        if (json) {
          try {
            body = JSON.stringify(
              JSON.parse(JSON.stringify((await import("yaml")).parse(text, { logLevel: "silent" }))),
            );
          } catch {
            // Not YAML: keep the text.
          }
        }
        await holds(["check", file(body, json ? "json" : "yaml")]);
      }),
      opts(FAST),
    );
  });

  it("render <mutated policy> --out DIR", async () => {
    await fc.assert(
      fc.asyncProperty(mutated(FLAGSHIP), async (text) => {
        await holds(["render", file(text, "yaml"), "--out", outDir()]);
      }),
      opts(SLOW),
    );
  });

  it("review <mutated policy> --json --markdown", async () => {
    await fc.assert(
      fc.asyncProperty(mutated(POLICY), async (text) => {
        const out = outDir();
        await holds([
          "review",
          file(text, "yaml"),
          "--json",
          join(out, "r.json"),
          "--markdown",
          join(out, "r.md"),
        ]);
      }),
      opts(SLOW),
    );
  });

  it("simulate and recommend with mutated flow logs and option values", async () => {
    const policy = file(POLICY, "yaml");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: FLOW_LOGS.length - 1 }).chain((i) => mutated(FLOW_LOGS[i]!)),
        fc.constantFrom(undefined, "aws", "gcp", "azure", "hubble", "nope", ""),
        fc.constantFrom(undefined, "abc", "-5", "0", "3", "99999999999999999999"),
        fc.boolean(),
        async (log, format, limit, recommend) => {
          const flows = file(log, "log");
          const extra = [...(format !== undefined ? [`--format=${format}`] : [])];
          if (recommend) await holds(["recommend", "--policy", policy, "--flows", flows, ...extra]);
          else
            await holds([
              "simulate",
              policy,
              "--flows",
              flows,
              ...extra,
              ...(limit !== undefined ? [`--limit=${limit}`] : []),
              "--json",
              join(outDir(), "s.json"),
            ]);
        },
      ),
      opts(FAST),
    );
  });

  it("diff <mutated review JSON> <review JSON>", async () => {
    const base = join(dir, "base-review.json");
    const io = captureIo();
    expect(await run(["review", file(POLICY, "yaml"), "--json", base], io)).toBeLessThan(2);
    const review = readFileSync(base, "utf8");
    await fc.assert(
      fc.asyncProperty(mutated(review), fc.boolean(), async (text, swap) => {
        const a = file(text, "json");
        await holds(["diff", ...(swap ? [base, a] : [a, base]), "--json", join(outDir(), "d.json")]);
      }),
      opts(FAST),
    );
  });

  it("audit <policy> with mutated live exports", async () => {
    const policy = file(FLAGSHIP, "yaml");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutated(AWS_EXPORT).map((t) => ["--aws", file(t, "json")]),
          mutated(GCP_EXPORT).map((t) => ["--gcp", file(t, "json")]),
          mutated(CNP_EXPORT).map((t) => ["--cilium", file(t, "json")]),
        ),
        async (args) => {
          await holds(["audit", policy, ...args]);
        },
      ),
      opts(FAST),
    );
  });

  it("radius <mutated policy> --from/--to/--hops with mutated names and values", async () => {
    const names = [
      "llm-trainer",
      "training",
      "corp-workstations",
      "internet",
      "nope",
      "workload:llm-trainer",
      "\u001b[31m",
      "",
    ];
    await fc.assert(
      fc.asyncProperty(
        mutated(POLICY),
        fc.constantFrom(...names),
        fc.option(fc.constantFrom(...names), { nil: undefined }),
        fc.option(fc.constantFrom("1", "2", "0", "-1", "x", "99999999", ""), { nil: undefined }),
        async (text, from, to, hops) => {
          const out = outDir();
          await holds([
            "radius",
            file(text, "yaml"),
            "--from",
            from,
            ...(to !== undefined ? ["--to", to] : []),
            ...(hops !== undefined ? ["--hops", hops] : []),
            "--json",
            join(out, "r.json"),
            "--markdown",
            join(out, "r.md"),
          ]);
        },
      ),
      opts(SLOW),
    );
  });

  it("ran what it says", () => {
    expect(seen.runs).toBeGreaterThanOrEqual(4 * FAST + 3 * SLOW);
    // The generator reaches valid inputs and invalid ones alike.
    expect(seen.codes.get(2) ?? 0).toBeGreaterThan(0);
    expect((seen.codes.get(0) ?? 0) + (seen.codes.get(1) ?? 0)).toBeGreaterThan(0);
  });
});
