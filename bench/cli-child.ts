/**
 * One CLI command, run in this process exactly as the `blastradius` bin runs it, for
 * `bench/cli.bench.ts`: prints `{"code", "ms", "maxRssMiB"}` as the last line of stdout (the
 * command's own output goes to /dev/null).
 */
import { run } from "../cli/program";

async function main() {
  const start = process.hrtime.bigint();
  const quiet = { out: () => {}, err: () => {} };
  const code = await run(process.argv.slice(2), quiet);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  // resourceUsage().maxRSS is in KiB: the peak resident set of this whole process.
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ code, ms, maxRssMiB })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(3);
});
