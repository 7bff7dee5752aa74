import type { IpFamily } from "../net";
import { hasPorts, parseAddress } from "../net";

const familyCache = new Map<string, IpFamily>();

/**
 * The family of an address written as text, or undefined when it is not an address. Valid
 * addresses are remembered (flow logs repeat the same few addresses millions of times).
 */
export function addressFamily(text: string): IpFamily | undefined {
  const known = familyCache.get(text);
  if (known !== undefined) return known;
  try {
    const { family } = parseAddress(text);
    if (familyCache.size >= 100_000) familyCache.clear();
    familyCache.set(text, family);
    return family;
  } catch {
    return undefined;
  }
}

/** A decimal integer within [min, max], or undefined. */
export function intIn(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || text.length === 0 || text.length > 16) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n >= min && n <= max ? n : undefined;
}

/** A non-negative counter (bytes, packets), accepting JSON numbers and int64-as-string; undefined otherwise. */
export function counter(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v === "string" && /^[0-9]+$/.test(v)) return Number(v);
  return undefined;
}

/** Epoch milliseconds of an RFC 3339 timestamp, or undefined. */
export function rfc3339(v: unknown): number | undefined {
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}T/.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The port heuristic for logs that do not say which side opened the connection (AWS default format,
 * GCP): a record whose source port is lower than its destination port is the return half of a
 * connection (server → client), since clients use high ephemeral ports. Equal ports, and protocols
 * without ports, count as requests. Used only when the log has no better evidence (TCP flags,
 * Hubble's `is_reply`).
 */
export function replyByPorts(protocol: number, srcPort?: number, dstPort?: number): boolean {
  return hasPorts(protocol) && srcPort !== undefined && dstPort !== undefined && srcPort < dstPort;
}

/** A plain object, or undefined. */
export function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
