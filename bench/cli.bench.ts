/**
 * `npm run bench:cli` (part of `npm run bench`): the CLI on generated policy FILES, as a user runs
 * it: `check`, `render --out` and `review --json` at 10,000 and 20,000 workloads by default
 * (`BENCH_CLI_SIZES=1000,5000`). Each command runs in a fresh Node process (bench/cli-child.ts) that
 * reports its wall time and peak RSS; each size's policy is written once as JSON (what
 * bench/generate.ts lays out). Prints a table and how each command's time and memory grow from one
 * size to the next against the workloads. Not a test: nothing fails on a figure, but a command that
 * exits 2 or crashes is reported.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePolicy } from "./generate";

const SIZES = (process.env.BENCH_CLI_SIZES ?? "10000,20000").split(",").map(Number);
const CHILD = join(__dirname, "cli-child.js");

interface Row {
  workloads: number;
  command: string;
  code: number;
  ms: number;
  maxRssMiB: number;
}

function measure(args: string[]): { code: number; ms: number; maxRssMiB: number } {
  try {
    const out = execFileSync(process.execPath, [CHILD, ...args], {
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const last = out.trim().split("\n").pop()!;
    return JSON.parse(last) as { code: number; ms: number; maxRssMiB: number };
  } catch (e) {
    const status = (e as { status?: number }).status ?? -1;
    return { code: status, ms: Number.NaN, maxRssMiB: Number.NaN };
  }
}

function main() {
  const dir = mkdtempSync(join(tmpdir(), "blastradius-bench-cli-"));
  const rows: Row[] = [];
  try {
    for (const workloads of SIZES) {
      const file = join(dir, `policy-${workloads}.json`);
      writeFileSync(
        file,
        JSON.stringify(generatePolicy({ workloads, segments: Math.round(workloads / 10) })),
      );
      const commands: Array<[string, string[]]> = [
        ["check", ["check", file]],
        ["render", ["render", file, "--out", join(dir, `out-${workloads}`)]],
        ["review", ["review", file, "--json", join(dir, `review-${workloads}.json`)]],
      ];
      for (const [command, args] of commands) {
        const r = measure(args);
        rows.push({ workloads, command, ...r });
        console.error(
          `  ${workloads} ${command}: exit ${r.code}, ${r.ms.toFixed(0)} ms, ${r.maxRssMiB.toFixed(0)} MiB`,
        );
      }
      rmSync(join(dir, `out-${workloads}`), { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("\n## CLI on policy files (fresh process per command)\n");
  console.log("| workloads | command | exit | wall | peak RSS |");
  console.log("|---:|---|---:|---:|---:|");
  for (const r of rows)
    console.log(
      `| ${r.workloads.toLocaleString("en-US")} | ${r.command} | ${r.code} | ${r.ms.toLocaleString("en-US", { maximumFractionDigits: 0 })} ms | ${r.maxRssMiB.toFixed(0)} MiB |`,
    );
  console.log("\n| command | sizes | workloads × | wall × | peak RSS × |");
  console.log("|---|---|---:|---:|---:|");
  for (const command of ["check", "render", "review"])
    for (let i = 1; i < SIZES.length; i++) {
      const a = rows.find((r) => r.command === command && r.workloads === SIZES[i - 1]);
      const b = rows.find((r) => r.command === command && r.workloads === SIZES[i]);
      if (!a || !b) continue;
      console.log(
        `| ${command} | ${SIZES[i - 1]} → ${SIZES[i]} | ${(SIZES[i]! / SIZES[i - 1]!).toFixed(1)} | ${(b.ms / a.ms).toFixed(2)} | ${(b.maxRssMiB / a.maxRssMiB).toFixed(2)} |`,
      );
    }
}

main();
