/**
 * Flow simulation benchmark: generates an AWS VPC flow log (default version 2 format) of
 * BENCH_FLOWS records (default 1,000,000; set BENCH_FLOWS=10000000 for the 10-million figure) in a
 * temporary directory, streamed to disk, then times `blastradius simulate` on it against the
 * flagship policy: records per second and peak RSS. Prints a table; not a test.
 *
 *   npx tsx bench/flows.bench.ts
 *   BENCH_FLOWS=10000000 npx tsx bench/flows.bench.ts
 */

import { once } from "node:events";
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulateCommand } from "../cli/commands/simulate";

const N = Number(process.env.BENCH_FLOWS ?? 1_000_000);
// From bench/ (tsx) or bench-dist/bench/ (compiled, `npm run bench`): the repository's flagship stack.
const ROOT = existsSync(join(__dirname, "..", "stacks"))
  ? join(__dirname, "..")
  : join(__dirname, "..", "..");
const POLICY = join(ROOT, "stacks", "ai-platform", "policy.yaml");

/** Deterministic pseudo-random numbers (a 32-bit LCG), so every run reads the same file. */
let seed = 42;
const rand = (n: number) => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed % n;
};

// Traffic shapes: [source prefix, destination prefix, destination port, weight].
const SHAPES: Array<[string, string, number, number]> = [
  ["10.10.1.", "10.20.0.", 443, 40], // training → datalake, allowed
  ["10.10.1.", "10.20.0.", 5432, 10], // training → datalake, would be blocked
  ["10.244.1.", "10.30.4.", 443, 20], // inference → registry, allowed
  ["10.244.2.", "10.244.1.", 8080, 15], // agents → inference, allowed
  ["10.200.7.", "10.10.1.", 22, 5], // workstations → training, enforce forbid
  ["10.244.2.", "10.244.3.", 8443, 5], // agents → billing, enforce forbid
  ["10.10.1.", "93.184.216.", 443, 3], // training → internet, enforce forbid
  ["10.10.1.", "10.99.0.", 443, 2], // unmapped
];
const TOTAL_WEIGHT = SHAPES.reduce((s, x) => s + x[3], 0);

function record(i: number): string {
  let w = rand(TOTAL_WEIGHT);
  let shape = SHAPES[0]!;
  for (const s of SHAPES) {
    if (w < s[3]) {
      shape = s;
      break;
    }
    w -= s[3];
  }
  const src = `${shape[0]}${1 + rand(250)}`;
  const dst = `${shape[1]}${1 + rand(250)}`;
  const sport = 32768 + rand(28000);
  const start = 1718000000 + Math.floor(i / 1000);
  const packets = 1 + rand(50);
  // One record in ten is the reply half, as per-ENI logs have it.
  if (i % 10 === 9)
    return `2 123456789010 eni-0a1b2c3d ${dst} ${src} ${shape[2]} ${sport} 6 ${packets} ${packets * 120} ${start} ${start + 60} ACCEPT OK\n`;
  return `2 123456789010 eni-0a1b2c3d ${src} ${dst} ${sport} ${shape[2]} 6 ${packets} ${packets * 90} ${start} ${start + 60} ACCEPT OK\n`;
}

async function generate(file: string): Promise<void> {
  const out = createWriteStream(file);
  const BATCH = 2000;
  for (let i = 0; i < N; ) {
    let chunk = "";
    for (let j = 0; j < BATCH && i < N; j++, i++) chunk += record(i);
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "blastradius-flows-bench-"));
  const file = join(dir, "flows.log");
  try {
    const g0 = process.hrtime.bigint();
    await generate(file);
    const genMs = Number(process.hrtime.bigint() - g0) / 1e6;
    const bytes = statSync(file).size;

    let peakRss = process.memoryUsage().rss;
    const baseline = peakRss;
    const timer = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const t0 = process.hrtime.bigint();
    const code = await simulateCommand(POLICY, { flows: [file], limit: 5 }, io);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    clearInterval(timer);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (code !== 0) {
      console.error(lines.join("\n"));
      process.exit(1);
    }
    console.log(
      `node ${process.version}; generated ${N.toLocaleString("en-US")} records (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${(genMs / 1000).toFixed(1)} s`,
    );
    console.log(lines[0]);
    console.log("| records | simulate s | records/s | MiB/s | peak RSS MiB | RSS before MiB |");
    console.log("|---:|---:|---:|---:|---:|---:|");
    console.log(
      `| ${N.toLocaleString("en-US")} | ${(ms / 1000).toFixed(1)} | ${Math.round(N / (ms / 1000)).toLocaleString("en-US")} | ${(bytes / 2 ** 20 / (ms / 1000)).toFixed(0)} | ${(peakRss / 2 ** 20).toFixed(0)} | ${(baseline / 2 ** 20).toFixed(0)} |`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
