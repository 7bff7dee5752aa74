import { NetParseError } from "./errors";

/** IP version: 4 or 6. The two address spaces are disjoint and never mixed in one range or pair. */
export type IpFamily = 4 | 6;

/** Number of bits of an address of the family (32 or 128). */
export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Largest address value of the family (2^32-1 or 2^128-1). */
export function familyMax(family: IpFamily): bigint {
  return family === 4 ? 0xffff_ffffn : (1n << 128n) - 1n;
}

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(text: string, original: string): bigint {
  const parts = text.split(".");
  if (parts.length !== 4) {
    throw new NetParseError(
      `"${original}" is not an IPv4 address: expected four dotted decimal numbers like 10.0.0.1`,
    );
  }
  let v = 0n;
  for (const p of parts) {
    if (!V4_PART.test(p)) {
      const hint = /^0[0-9]+$/.test(p)
        ? ` (leading zeros are ambiguous; write ${Number.parseInt(p, 10)})`
        : " (each part must be a decimal number 0-255)";
      throw new NetParseError(`"${original}" is not an IPv4 address: bad part "${p}"${hint}`);
    }
    const n = Number(p);
    if (n > 255)
      throw new NetParseError(`"${original}" is not an IPv4 address: part ${n} is greater than 255`);
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(text: string): bigint {
  const bad = (why: string) => new NetParseError(`"${text}" is not an IPv6 address: ${why}`);
  if (text.includes("%")) throw bad("zone ids (%…) are not supported; remove the zone");
  const halves = text.split("::");
  if (halves.length > 2) throw bad('"::" may appear only once');
  const groupsOf = (s: string, allowV4Tail: boolean): bigint[] => {
    if (s === "") return [];
    const parts = s.split(":");
    const out: bigint[] = [];
    parts.forEach((p, i) => {
      if (allowV4Tail && i === parts.length - 1 && p.includes(".")) {
        const v4 = parseV4(p, text);
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (HEX_GROUP.test(p)) {
        out.push(BigInt(`0x${p}`));
      } else {
        throw bad(
          p === "" ? "empty group (a single ':' where '::' or a group was expected)" : `bad group "${p}"`,
        );
      }
    });
    return out;
  };
  let groups: bigint[];
  if (halves.length === 2) {
    const head = groupsOf(halves[0]!, false);
    const tail = groupsOf(halves[1]!, true);
    const missing = 8 - head.length - tail.length;
    if (missing < 1) throw bad('"::" must stand for at least one zero group');
    groups = [...head, ...new Array<bigint>(missing).fill(0n), ...tail];
  } else {
    groups = groupsOf(text, true);
    if (groups.length !== 8) throw bad(`expected 8 groups, found ${groups.length}`);
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  return v;
}

/**
 * Parses one IPv4 (dotted decimal, no leading zeros) or IPv6 (RFC 4291 text, including `::` and an
 * embedded IPv4 tail) address into its family and numeric value. Surrounding whitespace is ignored.
 * Throws NetParseError quoting the text when it is not an address.
 */
export function parseAddress(text: string): { family: IpFamily; value: bigint } {
  const t = text.trim();
  if (t === "")
    throw new NetParseError("empty address: write an IPv4 address like 10.0.0.1 or IPv6 like 2001:db8::1");
  if (t.includes(":")) return { family: 6, value: parseV6(t) };
  if (/^[0-9.]+$/.test(t)) return { family: 4, value: parseV4(t, t) };
  throw new NetParseError(
    `"${t}" is not an IP address: write an IPv4 address like 10.0.0.1 or an IPv6 address like 2001:db8::1`,
  );
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join(".");
}

/**
 * Canonical text of an address: dotted decimal for IPv4; RFC 5952 for IPv6 (lowercase hex, no
 * leading zeros, the longest run of two or more zero groups — the first one on a tie — shortened to
 * `::`, and IPv4-mapped addresses `::ffff:0:0/96` written with a dotted IPv4 tail).
 * Throws RangeError when the value is outside the family's address space.
 */
export function formatAddress(family: IpFamily, value: bigint): string {
  if (value < 0n || value > familyMax(family)) {
    throw new RangeError(`formatAddress: ${value} is not an IPv${family} address value`);
  }
  if (family === 4) return formatV4(value);
  if (value >> 32n === 0xffffn) return `::ffff:${formatV4(value & 0xffff_ffffn)}`;
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((value >> s) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}
