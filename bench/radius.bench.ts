/**
 * `npm run bench:radius` (part of `npm run bench`): multi-hop reachability (lib/radius) on the
 * enterprise-shaped policies of `bench:scale` (1k, 5k, 10k workloads by default; `BENCH_SIZES`),
 * each run in a fresh child process, `BENCH_RUNS` times (default 3; the table is the median run by
 * graph + blast radii + query).
 *
 * What `blastradius radius` does, stage by stage, from cold evaluators (no proof before it):
 * - the hop graph (party classes, footprints, `allowed` per candidate pair of classes, bicliques),
 *   with its own steps;
 * - the blast radius of every workload and peer (strongly connected components, bitsets);
 * - one `radius --from` query: the shortest chain to everything reached, every hop explained
 *   (witness packet, deciding rule per target, allow path), then its JSON text.
 * Then what `review` adds after its proofs (the paths' and the deployed stack's, which warm the evaluators):
 * the hop graph built again (the first dropped, as review holds one) and the radii. With
 * `BENCH_CHAINS=1`, three monitored `reach: any` forbids are added and proven last over that graph
 * (`proveChains`: shortest chain, minimum cut), one of them between parties of one tier (its from
 * and to share every party).
 *
 * The generated policy's allow paths run from each segment to the next twenty, around a ring of
 * segments: every workload reaches every other, in up to 50 hops, which is the worst case for the
 * query's output (every party reached, with its chain). Compile, render and the evaluators are
 * the prerequisites (`bench:scale` measures them); they are shown, not counted in the radius
 * figures. Not a test: nothing here fails on a figure.
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { TARGET_MODULES } from "../components/targets";
import {
  blastRadii,
  checkPolicyText,
  HopGraph,
  type HopGraphStats,
  prove,
  proveChains,
  proveDeployment,
  radius,
  radiusParties,
  type TargetEvaluator,
} from "../lib";
import { generatePolicy } from "./generate";

const MiB = 2 ** 20;

interface Stage {
  stage: string;
  ms: number;
  /** Peak RSS of the process up to the end of the stage (MiB). */
  peakRss: number;
  heap: number;
}

interface RunReport {
  workloads: number;
  stages: Stage[];
  graph: HopGraphStats;
  warmGraph: HopGraphStats;
  reached: number;
  maxHops: number;
  jsonMib: number;
  largest: number;
  /** Each reach: any forbid's verdict, chain and cut (or why the cut was left out). */
  chains: string[];
}

const memory = () => ({
  peakRss: (process.resourceUsage().maxRSS * 1024) / MiB,
  heap: process.memoryUsage().heapUsed / MiB,
});

const CHAINS = process.env.BENCH_CHAINS === "1";

/**
 * One tier to itself (its from and to share every party), one tier to the other, one segment to a
 * tier; monitored: the ring of allow paths reaches everything, which an enforce forbid would make
 * `check` refuse.
 */
function addChainForbids(doc: { segments: Record<string, unknown>; paths: unknown[] }): void {
  doc.segments.front = { matchLabels: { tier: "front" } };
  doc.segments.back = { matchLabels: { tier: "back" } };
  const forbid = (name: string, from: string, to: string) => ({
    name,
    from,
    to,
    verdict: "forbid",
    mode: "monitor",
    reach: "any",
    owner: "secops@example.com",
    justification: "bench: chains of allow paths",
  });
  doc.paths.push(
    forbid("chains-front-front", "front", "front"),
    forbid("chains-front-back", "front", "back"),
    forbid("chains-s0-front", "s0", "front"),
  );
}

function run(workloads: number): RunReport {
  const stages: Stage[] = [];
  const timed = <T>(stage: string, fn: () => T): T => {
    const start = performance.now();
    const out = fn();
    stages.push({ stage, ms: performance.now() - start, ...memory() });
    return out;
  };
  const doc = generatePolicy({ workloads, segments: Math.round(workloads / 10) }) as {
    segments: Record<string, unknown>;
    paths: unknown[];
  };
  // With BENCH_CHAINS=1, three monitored reach: any forbids for proveChains (see addChainForbids).
  // Off by default: the tiers' segments change the classes of parties, so the other figures would
  // not compare with earlier runs.
  if (CHAINS) addChainForbids(doc);
  const text = JSON.stringify(doc);
  const plan = timed("compile (prerequisite)", () => checkPolicyText(text).plan!);
  const evaluators = timed("render + evaluators (prerequisite)", () => {
    const out: TargetEvaluator[] = [];
    for (const m of TARGET_MODULES.filter((x) => plan.targets.includes(x.target)))
      out.push(m.adapter.evaluator(m.records(plan), plan));
    return out;
  });
  // The parties review and radius use: workloads by facet, peers, each target's unmodelled endpoints.
  let parties: ReturnType<typeof radiusParties> = [];
  let graph: HopGraph | undefined = timed("hop graph (cold evaluators)", () => {
    parties = radiusParties(plan, evaluators);
    return HopGraph.build(plan, evaluators, { parties });
  });
  const radii = timed("blast radius of every workload and peer", () => blastRadii(graph!));
  const from = plan.policy.workloads[0]!.name;
  let result: ReturnType<typeof radius> | undefined = timed(`radius --from ${from} (chains explained)`, () =>
    radius(graph!, { from }),
  );
  const reached = result.reached.length;
  const maxHops = result.reached.reduce((a, x) => Math.max(a, x.hops), 0);
  // As the CLI writes it (indented); dropped before the review's stages, which never hold it.
  const jsonMib = timed("  its JSON text", () => JSON.stringify(result, null, 2).length / MiB);
  result = undefined;
  // Review holds one graph: the first is dropped before the proof and the graph review builds.
  const graphStats = graph.stats;
  graph = undefined;
  timed("proof and deployed-stack proof (what review runs first)", () => {
    prove(plan, evaluators);
    return proveDeployment(plan, evaluators);
  });
  const warm = timed("hop graph again (warm evaluators, as in review)", () =>
    HopGraph.build(plan, evaluators),
  );
  const chains = (
    CHAINS ? timed("reach: any forbids (3, chains and cuts)", () => proveChains(warm)) : []
  ).map(
    (c) =>
      `${c.path}: ${c.status}${c.chain ? `, chain of ${c.chain.length}` : ""}${c.cut ? `, cut of ${c.cut.length}` : ""}${c.cutSkipped ? `, cut left out (${c.cutSkipped.split(";")[0]})` : ""}`,
  );
  return {
    workloads,
    stages,
    graph: graphStats,
    warmGraph: warm.stats,
    reached,
    maxHops,
    jsonMib,
    largest: radii.reduce((a, b) => Math.max(a, b.reaches), 0),
    chains,
  };
}

const RADIUS_STAGES = ["hop graph (cold evaluators)", "blast radius of every workload and peer"];
const allOf = (r: RunReport) =>
  r.stages.filter((s) => RADIUS_STAGES.includes(s.stage)).reduce((a, s) => a + s.ms, 0);
const queryOf = (r: RunReport) => r.stages.find((s) => s.stage.startsWith("radius --from"))!.ms;
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

function child(workloads: number): RunReport {
  const out = execFileSync(process.execPath, [...process.execArgv, __filename, "--run", String(workloads)], {
    encoding: "utf8",
    maxBuffer: 64 * MiB,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").pop()!) as RunReport;
}

function print(r: RunReport, runs: RunReport[]) {
  console.log(
    `\n### ${r.workloads} workloads: every workload reaches up to ${r.largest}; the query reaches ${r.reached} in up to ${r.maxHops} hops (JSON ${fmt(r.jsonMib, 1)} MiB)\n`,
  );
  console.log("| stage | wall ms | peak RSS MiB (so far) | heap MiB |");
  console.log("|---|---:|---:|---:|");
  for (const s of r.stages) console.log(`| ${s.stage} | ${fmt(s.ms)} | ${fmt(s.peakRss)} | ${fmt(s.heap)} |`);
  const g = r.graph;
  console.log(
    `\nhop graph: ${g.classes} classes of parties, ${g.candidatePairs} candidate pairs of classes after footprints, ${g.connectedPairs} connected, ${g.allowedCalls} allowed() calls, ${g.bicliques} edges (bicliques); steps ms: classes ${fmt(g.ms.classes)}, footprints ${fmt(g.ms.footprints)}, pairs ${fmt(g.ms.pairs)}, adjacency ${fmt(g.ms.adjacency)} (warm: footprints ${fmt(r.warmGraph.ms.footprints)}, pairs ${fmt(r.warmGraph.ms.pairs)})`,
  );
  const jsonStage = r.stages.find((s) => s.stage === "  its JSON text")!;
  const review = r.stages
    .filter((s) => s.stage.startsWith("hop graph again") || s.stage.startsWith("blast radius"))
    .reduce((a, s) => a + s.ms, 0);
  console.log(`\nwhat review adds after its proof (graph again + radii): ${fmt(review)} ms`);
  const chainStage = r.stages.find((s) => s.stage.startsWith("reach: any forbids"));
  if (chainStage) console.log(`\nreach: any forbids: ${fmt(chainStage.ms)} ms; ${r.chains.join("; ")}`);
  console.log(
    `\nevery blast radius (graph + radii): **${fmt(allOf(r))} ms** (runs: ${runs.map((x) => fmt(allOf(x))).join(", ")}); ` +
      `one query: **${fmt(queryOf(r))} ms** (runs: ${runs.map((x) => fmt(queryOf(x))).join(", ")}) + its JSON ${fmt(jsonStage.ms)} ms; ` +
      `peak RSS ${fmt(jsonStage.peakRss)} MiB up to the query's JSON (what blastradius radius holds), ${fmt(Math.max(...r.stages.map((s) => s.peakRss)))} MiB with the proof and the second graph`,
  );
}

function main() {
  if (process.argv[2] === "--run") {
    console.log(JSON.stringify(run(Number(process.argv[3]))));
    return;
  }
  const sizes = (process.env.BENCH_SIZES ?? "1000,5000,10000").split(",").map(Number);
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
  console.log(`## Radius benchmark: node ${process.version}; each run in a fresh process, median of ${runs}`);
  for (const n of sizes) {
    const reports = Array.from({ length: runs }, () => child(n));
    const sorted = [...reports].sort((a, b) => allOf(a) + queryOf(a) - (allOf(b) + queryOf(b)));
    print(sorted[Math.floor((sorted.length - 1) / 2)]!, reports);
  }
}

main();
