import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { recommend, recommendationYaml } from "../../lib/flows";
import { EXIT, type Io } from "../io";
import { writeOutputs } from "../write";
import { type FlowInputOptions, loadPlan, replayFlows } from "./simulate";

export interface RecommendOptions extends FlowInputOptions {
  /** The policy whose placements map flows to workloads; the output is this policy plus the drafts. */
  policy?: string;
  /** Write the YAML here instead of stdout (never the policy file itself). */
  out?: string;
  /** Print only the additions (peers, segments, paths), not the whole policy. */
  fragment?: boolean;
}

/**
 * `blastradius recommend --flows FILE… --policy P [--out FILE] [--fragment]`: drafts the narrowest
 * allow paths covering the observed flows the policy would block, with evidence, and `owner` /
 * `justification` left empty so that the output does not pass `check` until a human fills them.
 */
export async function recommendCommand(opts: RecommendOptions, io: Io): Promise<number> {
  if (!opts.policy) {
    io.err(
      "recommend needs --policy: flows are mapped to workloads and segments through the policy's placements, " +
        "so without one no draft can name its ends",
    );
    return EXIT.INVALID;
  }
  if (opts.out && resolve(opts.out) === resolve(opts.policy)) {
    io.err(
      `--out ${opts.out} is the policy file: recommend never writes into the policy; choose another file`,
    );
    return EXIT.INVALID;
  }
  const plan = loadPlan(opts.policy, io);
  if (!plan) return EXIT.INVALID;
  const replayed = await replayFlows(plan, opts, io);
  if (!replayed) return EXIT.INVALID;
  const { result: simulation, imp } = replayed;
  const result = recommend(plan, simulation);
  const yaml = recommendationYaml(result, {
    policyText: readFileSync(opts.policy, "utf8"),
    fragment: opts.fragment,
  });
  // The summary goes to stderr so that stdout is exactly the YAML.
  const say = opts.out ? io.out : io.err;
  say(
    `recommend: ${simulation.flows} flow(s) read, ${imp.malformed} malformed line(s); ` +
      `${result.recommendations.length} draft path(s), ${Object.keys(result.peers).length} draft peer(s), ` +
      `${Object.keys(result.segments).length} draft segment(s); ${result.conflicts.length} conflict(s)`,
  );
  for (const c of result.conflicts)
    say(
      `  NOT RECOMMENDED (${c.kind}): ${c.from} -> ${c.to} ${c.services.join(", ")} (${c.flows} flow(s)): ${c.message}`,
    );
  const unmapped = simulation.unmapped.reduce((s, g) => s + g.count, 0);
  if (unmapped > 0)
    say(`  ${unmapped} flow(s) with an unmapped end were not considered (see blastradius simulate)`);
  for (const d of result.diagnostics) say(`  check would still report: ${d.message}`);
  for (const p of imp.problems) say(`  ${p.file}:${p.line}: ${p.message}`);
  if (imp.problems.length < imp.malformed)
    say(`  … and ${imp.malformed - imp.problems.length} more malformed line(s)`);
  say(
    "  the drafts have empty owner and justification: `blastradius check` fails until a human fills them in",
  );
  if (opts.out) {
    if (!writeOutputs([{ path: opts.out, content: yaml }], io)) return EXIT.INVALID;
    io.out(`wrote ${opts.out}`);
  } else {
    for (const line of yaml.replace(/\n$/, "").split("\n")) io.out(line);
  }
  return EXIT.OK;
}
