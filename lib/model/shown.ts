/** At most this many characters of a user's value are quoted in a message. */
const SHOWN = 80;

/**
 * A user's value as a message quotes it: JSON-quoted (control characters and line breaks escaped, so
 * a hostile value cannot forge lines of output), and when long, cut with the cut said out loud.
 */
export function shown(value: string): string {
  if (value.length <= SHOWN) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, SHOWN))}… (${value.length} characters)`;
}

/** What a value of any type is, for "X is not allowed" messages: never `undefined` or `[object Object]`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "a missing value";
  if (value === null) return "an empty value (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return shown(value);
  return String(value);
}
