/**
 * What Envoy's RE2 (which enforces Cilium's HTTP `path` rules) refuses although JavaScript accepts
 * it. The policy is checked with JavaScript's engine for syntax; these are the differences that
 * would make Envoy reject the rule, so the path would be rendered but never enforced as written:
 *
 * - lookahead/lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`) and backreferences (`\1`, `\k<name>`): RE2
 *   has no backtracking;
 * - counted repetition above 1000 (`a{1001}`): RE2's kMaxRepeat;
 * - `\Z`, `\z` are RE2 only; `\G`, `\R`, `\X`, possessive `*+`/`++`/`?+` are neither.
 *
 * And an estimate of the compiled program size: Envoy refuses programs larger than
 * `re2.max_program_size.error_level` (default 100); counted repetitions expand to that many copies,
 * so a regex whose repetitions alone exceed 100 is reported as a warning (the runtime key may have
 * been raised).
 */
export const RE2_MAX_REPEAT = 1000;
export const ENVOY_MAX_PROGRAM_SIZE = 100;

export interface Re2Finding {
  severity: "error" | "warning";
  message: string;
}

export function re2Findings(regex: string): Re2Finding[] {
  const out: Re2Finding[] = [];
  let inClass = false;
  let expanded = 0;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i]!;
    if (c === "\\") {
      const n = regex[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(n))
        out.push({ severity: "error", message: `the backreference \\${n} is not supported by RE2 (Envoy)` });
      else if (!inClass && n === "k" && regex[i + 2] === "<")
        out.push({
          severity: "error",
          message: "named backreferences (\\k<name>) are not supported by RE2 (Envoy)",
        });
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      if (regex[i + 1] === "]") i++;
      continue;
    }
    if (c === "(" && regex[i + 1] === "?") {
      const look = regex.slice(i + 2, i + 4);
      if (look[0] === "=" || look[0] === "!" || look === "<=" || look === "<!")
        out.push({
          severity: "error",
          message: "lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported by RE2 (Envoy)",
        });
      continue;
    }
    if ((c === "*" || c === "+" || c === "?" || c === "}") && regex[i + 1] === "+")
      out.push({
        severity: "error",
        message: "possessive quantifiers (*+, ++, ?+) are not supported by RE2 (Envoy)",
      });
    if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(regex.slice(i));
      if (m) {
        const lo = Number(m[1]);
        const hi = m[3] ? Number(m[3]) : lo;
        if (lo > RE2_MAX_REPEAT || hi > RE2_MAX_REPEAT)
          out.push({
            severity: "error",
            message: `the repetition ${m[0]} exceeds RE2's limit of ${RE2_MAX_REPEAT} (Envoy rejects it)`,
          });
        else expanded += Math.max(lo, hi);
        i += m[0].length - 1;
      }
    }
  }
  if (out.length === 0 && expanded > ENVOY_MAX_PROGRAM_SIZE)
    out.push({
      severity: "warning",
      message: `its counted repetitions expand to ${expanded} copies: Envoy refuses RE2 programs larger than ${ENVOY_MAX_PROGRAM_SIZE} unless re2.max_program_size.error_level was raised`,
    });
  return [...new Map(out.map((f) => [f.message, f])).values()];
}
