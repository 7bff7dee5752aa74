/**
 * `npm run bench`: compile time of a generated policy of 5,000 workloads, 500 segments and
 * 10,000 paths (10% forbids), from JSON text (what `blastradius check` does) and from an in-memory
 * document (what a Pulumi program using the builder does). Prints a table; not a test.
 */
import { checkPolicyDocument, checkPolicyText } from "../lib";
import { generatePolicy } from "./generate";

const SIZE = { workloads: 5000, segments: 500, paths: 10_000 };
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function measure<T>(fn: () => T): { ms: number; result: T } {
  const start = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

const doc = generatePolicy(SIZE);
const text = JSON.stringify(doc);
let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const timer = setInterval(sample, 5);

const rows: Array<[string, number[]]> = [
  ["check from JSON text (parse + validate + compile)", []],
  ["check from a document (validate + compile)", []],
];
let last: ReturnType<typeof checkPolicyText> | undefined;
for (let i = 0; i < RUNS; i++) {
  const a = measure(() => checkPolicyText(text, "generated.json"));
  rows[0]![1].push(a.ms);
  last = a.result;
  const b = measure(() => checkPolicyDocument(doc));
  rows[1]![1].push(b.ms);
  sample();
}
clearInterval(timer);
if (!last?.ok) {
  console.error("the generated policy is invalid:", last?.diagnostics.slice(0, 5));
  process.exit(1);
}
const plan = last.plan!;
console.log(
  `policy: ${SIZE.workloads} workloads, ${SIZE.segments} segments, ${SIZE.paths} paths ` +
    `(${plan.allows.length} allow, ${plan.guardrails.length} enforce forbid, ${plan.monitored.length} monitored); ` +
    `${(text.length / 1e6).toFixed(1)} MB of JSON; ${RUNS} runs; node ${process.version}`,
);
console.log("| stage | min ms | median ms | max ms |");
console.log("|---|---:|---:|---:|");
for (const [name, times] of rows) {
  const sorted = [...times].sort((x, y) => x - y);
  console.log(
    `| ${name} | ${sorted[0]!.toFixed(0)} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} | ${sorted[sorted.length - 1]!.toFixed(0)} |`,
  );
}
console.log(`peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB`);

// Validation of one peer with many CIDRs (a partner's or a cloud provider's published ranges).
const PEER_CIDRS = 8000;
const widePeer = {
  name: "wide-peer",
  workloads: [{ name: "w", labels: { a: "b" }, placements: { aws: { vpc: "v", cidrs: ["10.0.0.0/24"] } } }],
  segments: { s: { matchLabels: { a: "b" } } },
  peers: {
    partner: {
      cidrs: Array.from(
        { length: PEER_CIDRS },
        (_, i) => `${11 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.0/24`,
      ),
    },
  },
  paths: [],
};
const wide = measure(() => checkPolicyDocument(widePeer));
if (!wide.result.ok) throw new Error("the wide-peer policy is invalid");
console.log(`check of one peer with ${PEER_CIDRS} CIDRs: ${wide.ms.toFixed(0)} ms`);
