/**
 * `Buffer.byteLength(JSON.stringify(value))` without building the text: rendered policies share
 * their selectors, peer lists and port lists among many rules, and `memo` (one per batch of
 * objects that are no longer mutated) measures each shared object once. Exact for JSON data
 * (plain objects and arrays, strings, numbers, booleans, null); anything else (a `toJSON`, a class
 * instance, a bigint) is measured by stringifying it.
 */
export function jsonBytes(value: unknown, memo: WeakMap<object, number> = new WeakMap()): number {
  switch (typeof value) {
    case "string":
      return stringBytes(value);
    case "number":
      return Number.isFinite(value) ? String(value).length : 4;
    case "boolean":
      return value ? 4 : 5;
    case "object": {
      if (value === null) return 4;
      const hit = memo.get(value);
      if (hit !== undefined) return hit;
      const n = Array.isArray(value) ? arrayBytes(value, memo) : objectBytes(value, memo);
      memo.set(value, n);
      return n;
    }
    default:
      return Buffer.byteLength(JSON.stringify(value) ?? "");
  }
}

/** Characters JSON writes as themselves, one byte each in UTF-8. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Sizes of property names (objects repeat the same few keys). */
const KEY_BYTES = new Map<string, number>();

function stringBytes(s: string): number {
  return PLAIN.test(s) ? s.length + 2 : Buffer.byteLength(JSON.stringify(s));
}

function arrayBytes(a: unknown[], memo: WeakMap<object, number>): number {
  if (Object.getPrototypeOf(a) !== Array.prototype) return Buffer.byteLength(JSON.stringify(a));
  let n = a.length > 1 ? a.length + 1 : 2;
  for (const x of a)
    n += x === undefined || typeof x === "function" || typeof x === "symbol" ? 4 : jsonBytes(x, memo);
  return n;
}

function objectBytes(o: object, memo: WeakMap<object, number>): number {
  const proto = Object.getPrototypeOf(o);
  if (
    (proto !== Object.prototype && proto !== null) ||
    typeof (o as { toJSON?: unknown }).toJSON === "function"
  )
    return Buffer.byteLength(JSON.stringify(o));
  let n = 2;
  let first = true;
  for (const k of Object.keys(o)) {
    const x = (o as Record<string, unknown>)[k];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    let kb = KEY_BYTES.get(k);
    if (kb === undefined) {
      kb = stringBytes(k);
      if (KEY_BYTES.size < 10_000) KEY_BYTES.set(k, kb);
    }
    n += (first ? 0 : 1) + kb + 1 + jsonBytes(x, memo);
    first = false;
  }
  return n;
}
