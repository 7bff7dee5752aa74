/**
 * `npm run bench:scale` (part of `npm run bench`): enterprise-sized policies (1k, 5k, 10k workloads
 * by default; `BENCH_SIZES=1000,5000`), each measured in a fresh child process, stage by stage:
 *
 * - compile: parse the JSON text, validate, compile (what `blastradius check` does);
 * - render: each target's resources as Pulumi would receive them (`module.records`, no engine);
 * - evaluators: each target's evaluator built from those resources;
 * - proof: `prove` over all five targets;
 * - deployed stack: `proveDeployment` (default deny between every workload and every endpoint the
 *   model does not name: other ports of each DPU, other pods of each namespace by label class, other
 *   VMs of each network, other NICs of each VNet, every unclaimed address), part of the 5 s target;
 * - serialise: `JSON.stringify` of every rendered resource, the floor any analysis of them pays;
 * - review: the review JSON, its text, the terminal review and the Markdown;
 * - register: the same resources registered through the Pulumi SDK under the offline runner's mocks,
 *   one fresh child process per target (`BENCH_REGISTER=0` skips it). The SDK's cost per resource
 *   differs widely by provider (azure-native gives every resource some 60 type aliases, each
 *   resolved to a URN through outputs: ~40 ms and ~3 MiB per resource against ~2 ms for AWS), so a
 *   target whose registration, projected from its rate at the previous size, would take longer than
 *   `BENCH_REGISTER_BUDGET_S` (default 180) or more memory than `BENCH_REGISTER_MAX_MIB` (default
 *   12288) is not run, and the table says so with the projection. Azure is registered twice: as the
 *   review registers it (standalone SecurityRules) and with `rules: "inline"`.
 *
 * Each size's pipeline runs `BENCH_RUNS` times (default 5), each in a fresh process; the table is
 * the median run (by compile + render + proof) and lists every run's total.
 *
 * Prints, per size: wall time and memory per stage, rules, resources and the rule economy per
 * target (rules against `ruleBound`), the tightest quota per target; then how each stage grows from
 * one size to the next against how the rules grow. Not a test: nothing here fails on a figure.
 */
import { execFileSync } from "node:child_process";
import { type PerformanceEntry, PerformanceObserver, performance } from "node:perf_hooks";
import { TARGET_MODULES } from "../components/targets";
import {
  checkPolicyText,
  formatMarkdown,
  formatReview,
  prove,
  proveDeployment,
  type ResourceRecord,
  reviewJson,
  ruleBound,
  type TargetEvaluator,
  type TargetName,
  type TargetUsage,
} from "../lib";
import { generatePolicy } from "./generate";

interface Stage {
  stage: string;
  ms: number;
  /** CPU time of the whole process (every thread: V8's GC helpers run beside this one) during the stage. */
  cpuMs: number;
  /** Garbage-collection pauses of this thread during the stage (V8's `gc` performance entries). */
  gcMs: number;
  /** When the stage ran (performance.now() clock), to attribute GC entries delivered afterwards. */
  startAt: number;
  endAt: number;
  /** Peak RSS of the process up to the end of this stage (MiB). */
  peakRss: number;
  /** Heap in use at the end of the stage (MiB). */
  heap: number;
}

interface TargetRow {
  target: TargetName;
  renderMs: number;
  evaluatorMs: number;
  rules: number;
  guardrailRules: number;
  resources: number;
  boundAllows: number;
  boundGuardrails: number;
  tightest?: { quota: string; scope: string; used: number; limit: number };
}

interface SizeReport {
  workloads: number;
  segments: number;
  paths: number;
  stages: Stage[];
  targets: TargetRow[];
  ok: boolean;
  proofResults: number;
  /** compile + render + evaluators + proof of every run of this size (the report is the median run). */
  coreRuns?: number[];
}

const MiB = 2 ** 20;

function now(): number {
  return performance.now();
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Measures one stage: wall time, CPU time of every thread, memory after it; GC pauses are added later. */
function stageTimer(): (stage: string) => Stage {
  const startAt = now();
  const cpu = cpuNow();
  return (stage) => {
    const endAt = now();
    return { stage, ms: endAt - startAt, cpuMs: cpuNow() - cpu, gcMs: 0, startAt, endAt, ...memory() };
  };
}

function memory(): { peakRss: number; heap: number } {
  // maxRSS is in KiB: the high-water mark, which a synchronous stage cannot hide from.
  return {
    peakRss: (process.resourceUsage().maxRSS * 1024) / MiB,
    heap: process.memoryUsage().heapUsed / MiB,
  };
}

function pipeline(workloads: number): SizeReport {
  const segments = Math.round(workloads / 10);
  const text = JSON.stringify(generatePolicy({ workloads, segments }));
  const stages: Stage[] = [];
  const timed = <T>(stage: string, fn: () => T): T => {
    const end = stageTimer();
    const out = fn();
    stages.push(end(stage));
    return out;
  };

  const checked = timed("compile", () => checkPolicyText(text, `generated-${workloads}.json`));
  if (!checked.ok || !checked.plan)
    throw new Error(`generated policy invalid: ${checked.diagnostics[0]?.message}`);
  const plan = checked.plan;
  const modules = TARGET_MODULES.filter((m) => plan.targets.includes(m.target));

  const rows: TargetRow[] = [];
  const records = new Map<TargetName, ResourceRecord[]>();
  const renderEnd = stageTimer();
  for (const m of modules) {
    const start = now();
    records.set(m.target, m.records(plan));
    rows.push({
      target: m.target,
      renderMs: now() - start,
      evaluatorMs: 0,
      rules: 0,
      guardrailRules: 0,
      resources: 0,
      boundAllows: 0,
      boundGuardrails: 0,
    });
  }
  stages.push(renderEnd("render (5 targets)"));

  const evaluators: TargetEvaluator[] = [];
  const evalEnd = stageTimer();
  for (const [i, m] of modules.entries()) {
    const start = now();
    evaluators.push(m.adapter.evaluator(records.get(m.target)!, plan));
    rows[i]!.evaluatorMs = now() - start;
  }
  stages.push(evalEnd("evaluators (5 targets)"));

  const proof = timed("proof", () => prove(plan, evaluators));
  const deployment = timed("deployed stack (unmodelled endpoints)", () => proveDeployment(plan, evaluators));

  const all = [...records.values()].flat();
  const json = timed("serialise rendered resources (floor)", () => JSON.stringify(all));

  timed("review (JSON, terminal, Markdown)", () => {
    const counts = Object.fromEntries(modules.map((m) => [m.target, records.get(m.target)!.length]));
    const review = reviewJson(plan, proof, counts, { deployment });
    return JSON.stringify(review).length + formatReview(review).length + formatMarkdown(review).length;
  });

  for (const [i, m] of modules.entries()) {
    const usage: TargetUsage | undefined = m.adapter.usage?.(records.get(m.target)!, plan);
    const bound = ruleBound(plan, m.target);
    const row = rows[i]!;
    row.rules = usage?.rules ?? Number.NaN;
    row.guardrailRules = usage?.guardrailRules ?? Number.NaN;
    row.resources = records.get(m.target)!.length;
    row.boundAllows = bound.allows;
    row.boundGuardrails = bound.guardrails;
    // Quotas the renderer splits at (a list per rule chunked at its limit) sit at 100% by design
    // and never warn in the review: the tightest is taken among the others.
    const tight = [...(usage?.quotas ?? [])]
      .filter((q) => !q.split)
      .sort((a, b) => b.used / b.limit - a.used / a.limit)[0];
    if (tight)
      row.tightest = { quota: tight.quota, scope: tight.scope, used: tight.used, limit: tight.limit };
  }
  void json;
  return {
    workloads,
    segments,
    paths: plan.policy.paths.length,
    stages,
    targets: rows,
    ok: proof.ok && deployment.unexplained.length === 0,
    proofResults: proof.allowed.length + proof.forbidden.length,
  };
}

/**
 * What is registered: a target's placeholder program as the review runs it, or Azure's with its
 * rules inline in the NSG (`rules: "inline"`, the way out of the SDK's cost per resource).
 */
type Registrant = TargetName | "azure-inline";

interface Registration {
  target: Registrant;
  resources: number;
  ms: number;
  peakRss: number;
}

/** One target's placeholder program registered under the runner's mocks (in its own process). */
async function register(workloads: number, target: Registrant): Promise<Registration> {
  const { runProgram } = await import("../components/runner");
  const { azurePlaceholderProgram } = await import("../components/azure/module");
  const checked = checkPolicyText(
    JSON.stringify(generatePolicy({ workloads, segments: Math.round(workloads / 10) })),
  );
  const plan = checked.plan!;
  const m = TARGET_MODULES.find((x) => x.target === (target === "azure-inline" ? "azure" : target))!;
  const start = now();
  const { resources } = await runProgram(
    () => {
      if (!plan.targets.includes(m.target)) return;
      if (target === "azure-inline") azurePlaceholderProgram(plan, { rules: "inline" });
      else m.placeholderProgram(plan);
    },
    // The runner's default (120 s) is for programs; a registration may take the whole budget.
    { timeoutMs: 2 * REGISTER_BUDGET_MS },
  );
  return { target, resources: resources.length, ms: now() - start, peakRss: memory().peakRss };
}

/** A registration not run, with why. */
interface Skipped {
  target: Registrant;
  resources: number;
  reason: string;
}

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const REGISTER_BUDGET_MS = Number(process.env.BENCH_REGISTER_BUDGET_S ?? 180) * 1000;
const REGISTER_MAX_MIB = Number(process.env.BENCH_REGISTER_MAX_MIB ?? 12288);

/**
 * Registers each target's resources of one size in its own process, unless its rate at the
 * previous size projects past the time or memory budget.
 */
/** Each registrant with the number of resources the pipeline's records say it registers. */
function registrants(report: SizeReport): Array<{ target: Registrant; resources: number }> {
  const out: Array<{ target: Registrant; resources: number }> = [];
  for (const t of report.targets) {
    out.push({ target: t.target, resources: t.resources });
    // Inline, each standalone SecurityRule record is a rule of its NSG's record instead.
    if (t.target === "azure") out.push({ target: "azure-inline", resources: t.resources - t.rules });
  }
  return out;
}

function registerAll(
  report: SizeReport,
  previous: Map<Registrant, Registration>,
): Array<Registration | Skipped> {
  const out: Array<Registration | Skipped> = [];
  for (const t of registrants(report)) {
    const before = previous.get(t.target);
    if (before && before.resources > 0) {
      const scale = t.resources / before.resources;
      const ms = before.ms * scale;
      const mib = before.peakRss * scale;
      if (ms > REGISTER_BUDGET_MS || mib > REGISTER_MAX_MIB) {
        out.push({
          target: t.target,
          resources: t.resources,
          reason:
            `not run: at ${fmt(before.resources)} resources it took ${fmt(before.ms / 1000, 1)} s and ${fmt(before.peakRss)} MiB; ` +
            `${fmt(t.resources)} project to ~${fmt(ms / 1000)} s and ~${fmt(mib)} MiB, over BENCH_REGISTER_BUDGET_S=${REGISTER_BUDGET_MS / 1000} / BENCH_REGISTER_MAX_MIB=${REGISTER_MAX_MIB}`,
        });
        continue;
      }
    }
    const r = child(
      ["--register", String(report.workloads), t.target],
      ["--max-old-space-size=16384"],
    ) as Registration;
    previous.set(t.target, r);
    out.push(r);
  }
  return out;
}

// ---- the parent: one child per size and stage group, then the tables ----

function child(args: string[], nodeArgs: string[] = []): unknown {
  const out = execFileSync(process.execPath, [...process.execArgv, ...nodeArgs, __filename, ...args], {
    encoding: "utf8",
    maxBuffer: 64 * MiB,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").pop()!);
}

const CORE = [
  "compile",
  "render (5 targets)",
  "evaluators (5 targets)",
  "proof",
  "deployed stack (unmodelled endpoints)",
];
/** compile + render + evaluators + proof: the stages the 10k target (5 s) is about. */
const coreOf = (r: SizeReport) =>
  r.stages.filter((s) => CORE.includes(s.stage)).reduce((a, s) => a + s.ms, 0);

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

function printSize(r: SizeReport, registration: Array<Registration | Skipped>) {
  console.log(
    `\n### ${r.workloads} workloads, ${r.segments} segments, ${r.paths} paths (proof ${r.ok ? "ok" : "FAILED"}, ${r.proofResults} results)\n`,
  );
  console.log(
    "| stage | wall ms | of which GC pauses ms | CPU ms (all threads) | peak RSS MiB (so far) | heap MiB |",
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const s of r.stages)
    console.log(
      `| ${s.stage} | ${fmt(s.ms)} | ${fmt(s.gcMs)} | ${fmt(s.cpuMs)} | ${fmt(s.peakRss)} | ${fmt(s.heap)} |`,
    );
  for (const g of registration)
    console.log(
      "ms" in g
        ? `| register ${g.target}: ${fmt(g.resources)} resources (mocks, own process) | ${fmt(g.ms)} | | | ${fmt(g.peakRss)} | |`
        : `| register ${g.target}: ${fmt(g.resources)} resources | ${g.reason} | | | | |`,
    );
  const coreMs = coreOf(r);
  const coreGc = r.stages.filter((s) => CORE.includes(s.stage)).reduce((a, s) => a + s.gcMs, 0);
  const proofMs = r.stages
    .filter(
      (s) =>
        s.stage === "evaluators (5 targets)" ||
        s.stage === "proof" ||
        s.stage === "deployed stack (unmodelled endpoints)",
    )
    .reduce((a, s) => a + s.ms, 0);
  const floor = r.stages.find((s) => s.stage.startsWith("serialise"))!.ms;
  const peak = Math.max(...r.stages.map((s) => s.peakRss));
  console.log(
    `\ncompile + render + proof: **${fmt(coreMs)} ms**` +
      (r.coreRuns && r.coreRuns.length > 1
        ? ` (median of ${r.coreRuns.length} runs: ${r.coreRuns.map((x) => fmt(x)).join(", ")} ms)`
        : "") +
      ` (of the median run, GC pauses ${fmt(coreGc)} ms)` +
      `, peak RSS ${fmt(peak)} MiB; ` +
      `proof (evaluators + prove) / serialising the rendered resources: ${fmt(proofMs / floor, 1)}×\n`,
  );
  console.log(
    "| target | render ms | evaluator ms | rules | of which guardrails | resources | bound (allows + guardrails) | rules / bound | tightest quota (lists split at their limit excluded) |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const t of r.targets) {
    const bound = t.boundAllows + (t.guardrailRules > 0 ? t.boundGuardrails : 0);
    const q = t.tightest
      ? `${t.tightest.quota} ${t.tightest.used}/${t.tightest.limit} (${fmt((100 * t.tightest.used) / t.tightest.limit)}%) at ${t.tightest.scope}`
      : "none";
    console.log(
      `| ${t.target} | ${fmt(t.renderMs)} | ${fmt(t.evaluatorMs)} | ${t.rules} | ${t.guardrailRules} | ${t.resources} | ${t.boundAllows} + ${t.guardrailRules > 0 ? t.boundGuardrails : 0} | ${fmt(t.rules / bound, 2)} | ${q} |`,
    );
  }
}

function printScaling(reports: SizeReport[], registrations: Array<Array<Registration | Skipped>>) {
  if (reports.length < 2) return;
  console.log(
    "\n### Growth from one size to the next (time ratio against rules ratio; linear means equal)\n",
  );
  const rules = (r: SizeReport) => r.targets.reduce((a, t) => a + t.rules, 0);
  console.log(
    "| stage | " +
      reports
        .slice(1)
        .map((r, i) => `${reports[i]!.workloads} → ${r.workloads}`)
        .join(" | ") +
      " |",
  );
  console.log(
    "|---|" +
      reports
        .slice(1)
        .map(() => "---:")
        .join("|") +
      "|",
  );
  console.log(
    `| rules | ${reports
      .slice(1)
      .map((r, i) => `${fmt(rules(r) / rules(reports[i]!), 2)}×`)
      .join(" | ")} |`,
  );
  for (const name of reports[0]!.stages.map((s) => s.stage)) {
    const ms = (i: number) => reports[i]!.stages.find((s) => s.stage === name)?.ms;
    const cells = reports.slice(1).map((_, i) => {
      const a = ms(i);
      const b = ms(i + 1);
      return a && b ? `${fmt(b / a, 2)}×` : "n/a";
    });
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
  // Registration per target, against that target's resources (only where both sizes ran).
  for (const target of registrants(reports[0]!).map((t) => t.target)) {
    const reg = (i: number) => {
      const g = registrations[i]?.find((x) => x.target === target);
      return g && "ms" in g ? g : undefined;
    };
    const cells = reports.slice(1).map((_, i) => {
      const a = reg(i);
      const b = reg(i + 1);
      return a && b ? `${fmt(b.ms / a.ms, 2)}× (resources ${fmt(b.resources / a.resources, 2)}×)` : "n/a";
    });
    console.log(`| register ${target} | ${cells.join(" | ")} |`);
  }
}

async function main() {
  const [mode, size] = process.argv.slice(2);
  if (mode === "--pipeline") {
    const gc: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => gc.push(...list.getEntries()));
    observer.observe({ entryTypes: ["gc"] });
    const report = pipeline(Number(size));
    // GC entries reach the observer only after the synchronous pipeline, over a few turns of the
    // event loop: wait until no more arrive, then attribute each pause to the stage it started in.
    for (let seen = -1; gc.length !== seen; ) {
      seen = gc.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    observer.disconnect();
    for (const s of report.stages)
      s.gcMs = gc
        .filter((e) => e.startTime >= s.startAt && e.startTime < s.endAt)
        .reduce((a, e) => a + e.duration, 0);
    console.log(JSON.stringify(report));
    return;
  }
  if (mode === "--register") {
    console.log(JSON.stringify(await register(Number(size), process.argv[4] as Registrant)));
    return;
  }
  const sizes = (process.env.BENCH_SIZES ?? "1000,5000,10000").split(",").map(Number);
  const withRegistration = process.env.BENCH_REGISTER !== "0";
  console.log(
    `## Scale benchmark: node ${process.version}, ${(await import("node:os")).cpus().length} cores; each size in a fresh process`,
  );
  // Every size's pipeline first, registrations after: registering thousands of resources leaves
  // the machine with gigabytes to reclaim, which slowed pipelines measured right after it.
  const reports: SizeReport[] = [];
  for (const n of sizes) {
    // Several fresh runs per size (BENCH_RUNS, default 5): this machine's runs of one build differ by ±15%,
    // so the table shows the median run and lists every run's total.
    const runs = Array.from({ length: RUNS }, () => child(["--pipeline", String(n)]) as SizeReport);
    runs.sort((a, b) => coreOf(a) - coreOf(b));
    const report = runs[Math.floor((runs.length - 1) / 2)]!;
    report.coreRuns = runs.map(coreOf);
    reports.push(report);
  }
  const registrations: Array<Array<Registration | Skipped>> = [];
  const lastRegistration = new Map<Registrant, Registration>();
  for (const report of reports) {
    const registration = withRegistration ? registerAll(report, lastRegistration) : [];
    registrations.push(registration);
    printSize(report, registration);
  }
  printScaling(reports, registrations);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
