/**
 * Edit distance of `a` and `b` when it is at most `limit`, else `limit + 1`. Only the band of
 * width 2·limit+1 around the diagonal is computed, and the scan stops as soon as a whole row is
 * over the limit: a 100,000-character reference costs O(limit) per candidate, not O(length²).
 */
export function boundedDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  if (a.length > b.length) [a, b] = [b, a];
  const over = limit + 1;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j <= limit ? j : over;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - limit);
    const to = Math.min(b.length, i + limit);
    cur.fill(over);
    cur[0] = i <= limit ? i : over;
    let best = cur[0]!;
    for (let j = from; j <= to; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur[j] = v > over ? over : v;
      if (cur[j]! < best) best = cur[j]!;
    }
    if (best > limit) return over;
    [prev, cur] = [cur, prev];
  }
  return Math.min(prev[b.length]!, over);
}

/** How far a name may be from a candidate to count as a likely typo of it. */
function typoLimit(name: string): number {
  return Math.max(2, Math.floor(name.length / 3));
}

/** The closest candidate to `name`, if one is close enough to be a likely typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = typoLimit(name);
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    // Distances above the best so far (or the limit) are not computed.
    const d = boundedDistance(lower, c.toLowerCase(), Math.min(limit, bestDistance));
    if (d < bestDistance || (d === bestDistance && d <= limit && best !== undefined && c < best)) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** "did you mean x?" when a candidate is close, else the list of valid names (or a note that there are none). */
export function suggestion(name: string, candidates: readonly string[], what: string): string {
  return new Suggester(candidates, what).hint(name);
}

/**
 * "did you mean" hints against one list of candidates, for many names: the sorted listing is built
 * once, each distinct name is looked up once, and after `budget` distinct look-ups the hint is the
 * listing alone, so a policy with thousands of broken references stays linear.
 */
export class Suggester {
  private listing?: string;
  private readonly memo = new Map<string, string>();
  constructor(
    private readonly candidates: readonly string[],
    private readonly what: string,
    private budget = 100,
  ) {}

  hint(name: string): string {
    const known = this.memo.get(name);
    if (known !== undefined) return known;
    let near: string | undefined;
    if (this.budget > 0) {
      this.budget--;
      near = closest(name, this.candidates);
    }
    const hint = near !== undefined ? `did you mean ${JSON.stringify(near)}?` : this.list();
    if (this.memo.size < 10_000) this.memo.set(name, hint);
    return hint;
  }

  private list(): string {
    if (this.listing !== undefined) return this.listing;
    const c = this.candidates;
    if (c.length === 0) return (this.listing = `the policy defines no ${this.what}`);
    const shown = [...c].sort().slice(0, 12);
    this.listing = `valid ${this.what}: ${shown.join(", ")}${c.length > shown.length ? `, … (${c.length} in all)` : ""}`;
    return this.listing;
  }
}
