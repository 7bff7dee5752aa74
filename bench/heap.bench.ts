/**
 * `npm run bench:heap` (part of `npm run bench`): what stays on the heap at 10,000 workloads
 * (`BENCH_SIZES=5000` for another size), which is what the young generation copies and so most of
 * the garbage-collection time `bench:scale` reports.
 *
 * Runs compile, render, the five evaluators and one proof per target in a child process started
 * with `--expose-gc`, collecting garbage fully after each step, and prints the heap each step adds
 * and keeps (MiB). Then it writes a heap snapshot of that end state to a temporary file, reads it
 * back and prints what the live heap is made of, by V8 node type (for objects and arrays, by
 * constructor), with the count and size of BigInts. Not a test: nothing here fails on a figure.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { TARGET_MODULES } from "../components/targets";
import { checkPolicyText, type Proof, prove, type ResourceRecord, type TargetEvaluator } from "../lib";
import { generatePolicy } from "./generate";

const MiB = 2 ** 20;

interface Step {
  step: string;
  /** Heap the step adds and keeps, after a full collection (MiB). */
  kept: number;
}

interface Kind {
  kind: string;
  count: number;
  mib: number;
}

interface HeapReport {
  workloads: number;
  steps: Step[];
  liveMib: number;
  kinds: Kind[];
  bigints: { count: number; mib: number };
}

function collected(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc (npm run bench:heap does)");
  gc();
  gc();
  return process.memoryUsage().heapUsed / MiB;
}

/** Sizes and counts of the snapshot's nodes by type (objects and arrays by constructor name). */
function composition(file: string): {
  liveMib: number;
  kinds: Kind[];
  bigints: { count: number; mib: number };
} {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const byKind = new Map<string, Kind>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const kind =
      type === "object" || type === "array" ? `${type} ${snap.strings[snap.nodes[i + nameAt]!]}` : type;
    const size = snap.nodes[i + sizeAt]!;
    total += size;
    let k = byKind.get(kind);
    if (!k) byKind.set(kind, (k = { kind, count: 0, mib: 0 }));
    k.count++;
    k.mib += size / MiB;
  }
  const kinds = [...byKind.values()].sort((a, b) => b.mib - a.mib);
  const big = byKind.get("bigint");
  return {
    liveMib: total / MiB,
    kinds: kinds.slice(0, 15),
    bigints: { count: big?.count ?? 0, mib: big?.mib ?? 0 },
  };
}

function measure(workloads: number): HeapReport {
  const text = JSON.stringify(generatePolicy({ workloads, segments: Math.round(workloads / 10) }));
  const steps: Step[] = [];
  let before = collected();
  const step = <T>(name: string, fn: () => T): T => {
    const out = fn();
    const after = collected();
    steps.push({ step: name, kept: after - before });
    before = after;
    return out;
  };
  const plan = step("compile (plan)", () => checkPolicyText(text, `generated-${workloads}.json`).plan!);
  const modules = TARGET_MODULES.filter((m) => plan.targets.includes(m.target));
  const records = step("render (resources of 5 targets)", () =>
    modules.map((m) => m.records(plan) as ResourceRecord[]),
  );
  const evaluators = step("evaluators (5 targets)", () =>
    modules.map((m, i) => m.adapter.evaluator(records[i]!, plan) as TargetEvaluator),
  );
  const proofs: Proof[] = [];
  for (const ev of evaluators)
    proofs.push(
      step(`proof on ${ev.target} (its answers and what its evaluator built)`, () => prove(plan, [ev])),
    );
  const dir = mkdtempSync(join(tmpdir(), "blastradius-heap-"));
  try {
    const file = writeHeapSnapshot(join(dir, "end.heapsnapshot"));
    // Everything measured is still referenced here, so the snapshot holds it.
    void [plan, records, evaluators, proofs];
    return { workloads, steps, ...composition(file) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const [mode, size] = process.argv.slice(2);
  if (mode === "--measure") {
    console.log(JSON.stringify(measure(Number(size))));
    return;
  }
  const sizes = (process.env.BENCH_SIZES ?? "10000").split(",").map(Number);
  for (const n of sizes) {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=16384", __filename, "--measure", String(n)],
      { encoding: "utf8", maxBuffer: 64 * MiB, stdio: ["ignore", "pipe", "inherit"] },
    );
    const r = JSON.parse(out.trim().split("\n").pop()!) as HeapReport;
    console.log(`\n## Heap kept at ${r.workloads} workloads (after a full collection per step)\n`);
    console.log("| step | MiB kept |");
    console.log("|---|---:|");
    for (const s of r.steps) console.log(`| ${s.step} | ${s.kept.toFixed(1)} |`);
    console.log(
      `\nLive heap at the end (snapshot): ${r.liveMib.toFixed(0)} MiB; BigInts: ${r.bigints.count} (${r.bigints.mib.toFixed(1)} MiB)\n`,
    );
    console.log("| what (V8 node type; objects and arrays by constructor) | count | MiB |");
    console.log("|---|---:|---:|");
    for (const k of r.kinds) console.log(`| ${k.kind || "(unnamed)"} | ${k.count} | ${k.mib.toFixed(1)} |`);
  }
}

main();
