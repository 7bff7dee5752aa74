/**
 * Conversions between Pulumi's wire form of property values (what the SDK serializes into a
 * RegisterResourceRequest) and plain values.
 */

/** Key marking a special value on the wire. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Wire value → plain value: secrets unwrapped, resource references downgraded to the id of a
 * custom resource or the URN of a component (what the engine does for providers that don't accept
 * references), output values replaced by their value. Assets/archives are kept as-is.
 */
export function toPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toPlain);
  if (!isObject(v)) return v;
  const sig = v[SIG_KEY];
  if (sig === SECRET_SIG) return toPlain(v.value);
  if (sig === RESOURCE_REF_SIG) {
    return typeof v.id === "string" && v.id !== "" ? v.id : v.urn;
  }
  if (sig === OUTPUT_VALUE_SIG) return toPlain(v.value);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
  return out;
}

export function toPlainObject(v: unknown): Record<string, unknown> {
  const p = toPlain(v);
  return isObject(p) ? p : {};
}

/**
 * Plain value → wire value. Only needed for values the mocks add to the state; plain JSON is
 * already valid wire form except for `undefined`, which is dropped.
 */
export function toWire(v: unknown): unknown {
  if (v === undefined) return undefined;
  return JSON.parse(JSON.stringify(v));
}
