/**
 * How many random cases a property test runs: its default locally, BLASTRADIUS_PROPERTY_RUNS when
 * set (.ci/run sets it so that CI checks thousands of random policies across the targets).
 */
export function propertyRuns(defaultRuns: number): number {
  const n = Number(process.env.BLASTRADIUS_PROPERTY_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}
