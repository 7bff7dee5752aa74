import type { DiagnosticSink, DocPath } from "./diagnostics";
import { shown } from "./shown";

/** Deeper than any policy needs (the deepest field is 6 levels down); deeper documents are refused. */
export const MAX_DEPTH = 32;

/** Control characters: C0 (NUL included) except tab, line feed and carriage return; DEL; C1. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const LINE_BREAK = /[\r\n\u2028\u2029]/;

/** Fields where a line break is ordinary prose. */
const MULTILINE_FIELDS = new Set(["justification"]);

/**
 * Screens the parsed document before the schema sees it, for what the schema would silently lose or
 * let through:
 *
 * - an own key `__proto__` (JSON.parse and the YAML parser keep it; building an object from it drops
 *   it, so a `matchLabels: {__proto__: x}` selector would become empty and select everything);
 * - YAML merge keys `<<` (not part of YAML 1.2; a policy is read as written);
 * - control characters (NUL, escape…) anywhere, and line breaks outside `justification`: names end up
 *   in file names, flow files, shell commands and YAML;
 * - nesting deeper than MAX_DEPTH.
 *
 * Walks iteratively (a 100k-deep document must not exhaust the stack). Returns false when the
 * document is too deep to be used at all.
 */
export function screenRawDocument(data: unknown, sink: DiagnosticSink): boolean {
  const stack: Array<{ value: unknown; path: DocPath }> = [{ value: data, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (path.length > MAX_DEPTH) {
      sink.error(path.slice(0, MAX_DEPTH), `the document nests deeper than ${MAX_DEPTH} levels`, {
        hint: "a policy is at most a few levels deep; see schema/policy.schema.json",
      });
      return false;
    }
    if (typeof value === "string") {
      screenString(value, path, sink);
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    for (const key of Object.keys(value)) {
      const at = [...path, key];
      if (key === "__proto__") {
        sink.error(at, 'the key "__proto__" is not allowed', {
          hint: "remove it (it is not a valid field, label key or name anywhere in a policy)",
        });
        continue;
      }
      if (key === "<<") {
        sink.error(at, 'YAML merge keys ("<<") are not supported', {
          hint: "write the fields out in full (anchors and aliases of whole values are fine)",
        });
        continue;
      }
      if (CONTROL.test(key) || LINE_BREAK.test(key))
        sink.error(at, `the key ${shown(key)} holds a control character or line break`, {
          hint: "remove it",
        });
      stack.push({ value: (value as Record<string, unknown>)[key], path: at });
    }
  }
  return true;
}

function screenString(value: string, path: DocPath, sink: DiagnosticSink): void {
  const field = path[path.length - 1];
  if (CONTROL.test(value))
    sink.error(path, `${shown(value)} holds a control character (e.g. NUL)`, {
      hint: "remove it; no field of a policy may hold control characters",
    });
  else if (LINE_BREAK.test(value) && !(typeof field === "string" && MULTILINE_FIELDS.has(field)))
    sink.error(path, `${shown(value)} holds a line break`, {
      hint: "write it on one line (only justification may span lines)",
    });
}
