import { createReadStream, existsSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { checkPolicyFile } from "../../components/policy-file";
import { formatDiagnostic, type Plan } from "../../lib";
import {
  FLOW_FORMATS,
  type Flow,
  type FlowFormat,
  FlowInputError,
  formatSimulation,
  type ImportSummary,
  ProblemLog,
  readFlows,
  Simulation,
  simulationJson,
} from "../../lib/flows";
import { EXIT, InvalidInput, type Io } from "../io";
import { writeFileAtomically } from "../write";

export interface FlowInputOptions {
  /** Flow log files (`.gz` is decompressed while streaming). */
  flows: string[];
  /** Force a format instead of detecting it: aws, gcp, azure, hubble. */
  format?: string;
  /** AWS custom format for files without a header line. */
  awsFormat?: string;
}

export interface SimulateOptions extends FlowInputOptions {
  /** Write the report as JSON. */
  json?: string;
  /** Groups listed per section in the terminal (default 20). */
  limit?: number;
}

/** Streams the lines of a file (gunzipped when it ends in .gz): never loads it whole. */
function fileLines(file: string): AsyncIterable<string> {
  const raw = createReadStream(file);
  const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  return createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
}

/** Reads every flow file in turn, passing each flow to `onFlow`; malformed lines are logged, never fatal. */
export async function importFlowFiles(
  opts: FlowInputOptions,
  onFlow: (f: Flow) => void,
): Promise<ImportSummary> {
  if (opts.flows.length === 0) throw new InvalidInput("no flow files: pass --flows FILE…");
  if (opts.format !== undefined && !(FLOW_FORMATS as readonly string[]).includes(opts.format))
    throw new InvalidInput(`--format "${opts.format}" is not one of ${FLOW_FORMATS.join(", ")}`);
  for (const f of opts.flows) {
    if (!existsSync(f)) throw new InvalidInput(`${f}: no such flow log file`);
    if (statSync(f).isDirectory())
      throw new InvalidInput(
        `${f} is a directory: pass the flow log files in it (e.g. --flows ${f.replace(/\/$/, "")}/*.log)`,
      );
    if (!statSync(f).isFile()) throw new InvalidInput(`${f}: not a regular file (a flow log file is needed)`);
  }
  const log = new ProblemLog();
  const files = [];
  for (const file of opts.flows) {
    try {
      files.push(
        await readFlows(
          file,
          fileLines(file),
          { flow: onFlow, problem: (p) => log.add(p), skip: () => {} },
          { format: opts.format as FlowFormat | undefined, awsFormat: opts.awsFormat },
        ),
      );
    } catch (e) {
      if (e instanceof FlowInputError) throw new InvalidInput(e.message);
      if ((e as NodeJS.ErrnoException).code !== undefined)
        throw new InvalidInput(`${file}: cannot read: ${(e as Error).message}`);
      throw e;
    }
  }
  return { files, problems: log.problems, malformed: log.total };
}

/** Loads and compiles the policy, printing its diagnostics; undefined when it has errors. */
export function loadPlan(file: string, io: Io): Plan | undefined {
  const r = checkPolicyFile(file);
  for (const d of r.diagnostics) if (d.severity === "error") io.err(formatDiagnostic(d));
  if (!r.ok || !r.plan) {
    io.err(`${file}: invalid policy; fix it first (blastradius check ${file})`);
    return undefined;
  }
  return r.plan;
}

/**
 * Streams the flow files through a simulation of `plan`; undefined (the reason printed) when a file
 * cannot be read. Shared by simulate and recommend.
 */
export async function replayFlows(
  plan: Plan,
  opts: Parameters<typeof importFlowFiles>[0],
  io: Io,
): Promise<{ result: ReturnType<Simulation["result"]>; imp: ImportSummary } | undefined> {
  const sim = new Simulation(plan);
  try {
    const imp = await importFlowFiles(opts, (f) => sim.add(f));
    return { result: sim.result(), imp };
  } catch (e) {
    if (e instanceof InvalidInput) {
      io.err(e.message);
      return undefined;
    }
    throw e;
  }
}

/**
 * `blastradius simulate <policy> --flows FILE… [--json FILE]`: replays observed flows against the
 * compiled plan and lists what enforcing would break, what enforcing a monitored forbid would
 * break, and what only broad rules allow. Exit 0 (a report, not a proof); 2 on invalid input.
 */
export async function simulateCommand(policyFile: string, opts: SimulateOptions, io: Io): Promise<number> {
  const plan = loadPlan(policyFile, io);
  if (!plan) return EXIT.INVALID;
  const replayed = await replayFlows(plan, opts, io);
  if (!replayed) return EXIT.INVALID;
  const { result, imp } = replayed;
  for (const line of formatSimulation(result, imp, opts.limit)) io.out(line);
  if (opts.json) {
    try {
      writeFileAtomically(opts.json, `${JSON.stringify(simulationJson(result, imp), null, 2)}\n`);
    } catch (e) {
      if (e instanceof InvalidInput) {
        io.err(e.message);
        return EXIT.INVALID;
      }
      throw e;
    }
    io.out(`wrote ${opts.json}`);
  }
  return EXIT.OK;
}
