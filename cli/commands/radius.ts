import { TARGET_ADAPTERS } from "../../components/offline";
import type { RecordedResource } from "../../components/runner";
import type { TargetModule } from "../../components/targets";
import {
  evaluatorsOf,
  formatRadius,
  formatRadiusMarkdown,
  HopGraph,
  RadiusNameError,
  radius,
  radiusParties,
} from "../../lib";
import { EXIT, InvalidInput, type Io } from "../io";
import { type OutputFile, writeFilesAtomically } from "../write";
import { loadReviewInput } from "./review";

export interface RadiusOptions {
  /** What is compromised: a workload, peer or segment (`workload:`, `peer:`, `segment:` say which). */
  from: string;
  /** Only what this workload, peer or segment holds; the exit code says whether it is reached. */
  to?: string;
  /** Only chains of at most this many hops (a positive integer, as typed). */
  hops?: string;
  json?: string;
  markdown?: string;
  stack?: string;
  policy?: string;
  /** The targets to render and prove (default: every target that has landed). */
  modules?: readonly TargetModule[];
}

function parseHops(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(text.trim()))
    throw new InvalidInput(`--hops ${text}: give a whole number of hops, 1 or more (e.g. --hops 2)`);
  return Number(text.trim());
}

/**
 * `blastradius radius <stack dir | policy file> --from X [--to Y] [--hops N]`: what a compromise of
 * X reaches in any number of hops (docs/design.md, rule 10), from the rendered rules as `review` reads
 * them. Exit 0; with --to, exit 1 when Y is reached; 2 on invalid input.
 */
export async function radiusCommand(input: string, options: RadiusOptions, io: Io): Promise<number> {
  try {
    const hops = parseHops(options.hops);
    // The targets' offline parts (evaluators): no provider package is loaded to read the records.
    const adapters = options.modules?.map((m) => m.adapter) ?? TARGET_ADAPTERS;
    const { plan, resources } = await loadReviewInput(input, options, io);
    const { evaluators } = evaluatorsOf(plan, resources, adapters, {
      isCustom: (r) => (r as RecordedResource).custom,
    });
    const graph = HopGraph.build(plan, evaluators, { parties: radiusParties(plan, evaluators) });
    let result: ReturnType<typeof radius>;
    try {
      result = radius(graph, {
        from: options.from,
        ...(options.to !== undefined ? { to: options.to } : {}),
        ...(hops !== undefined ? { hops } : {}),
      });
    } catch (e) {
      if (e instanceof RadiusNameError) throw new InvalidInput(e.message);
      throw e;
    }
    io.out(
      formatRadius(result, {
        ...(hops !== undefined ? { hops } : {}),
        ...(options.to !== undefined ? { to: options.to } : {}),
      }),
    );
    // Written whole or not at all (a temporary file renamed into place).
    const files: OutputFile[] = [];
    if (options.json) files.push({ path: options.json, content: `${JSON.stringify(result, null, 2)}\n` });
    if (options.markdown) files.push({ path: options.markdown, content: formatRadiusMarkdown(result) });
    writeFilesAtomically(files);
    return options.to !== undefined && result.reached.length > 0 ? EXIT.PROOF_FAILED : EXIT.OK;
  } catch (e) {
    if (e instanceof InvalidInput) {
      io.err(e.message);
      return EXIT.INVALID;
    }
    throw e;
  }
}
