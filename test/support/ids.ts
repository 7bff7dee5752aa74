/**
 * A deep copy of `v` with every string that is a key of `names` replaced by its value: the
 * runner's provider ids (`vpc-…-id`, …) turned into the `id:<name>` references offline records use.
 */
export function replaceIds(v: unknown, names: ReadonlyMap<unknown, string>): unknown {
  if (typeof v === "string") return names.get(v) ?? v;
  if (Array.isArray(v)) return v.map((x) => replaceIds(x, names));
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceIds(x, names)]));
  return v;
}
