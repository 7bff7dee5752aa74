import { isAlias, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { type Diagnostic, DiagnosticSink, type DocPath } from "./diagnostics";
import { firstDuplicateJsonKey } from "./json-keys";
import { suggestion } from "./names";
import { screenRawDocument } from "./raw-screen";
import { policySchema, type RawPolicy } from "./schema";
import { describeValue, shown } from "./shown";
import type { Policy } from "./types";
import { type ValidateOptions, validatePolicy } from "./validate";

export interface ParseResult {
  /** The validated policy; absent when there are errors (then nothing may be rendered). */
  policy?: Policy;
  /** The policy with invalid parts left out, for further checks; absent when the document itself is unusable. */
  partial?: Policy;
  /** Every error and warning, in document order. */
  diagnostics: Diagnostic[];
  /** Finds the line and column of a document path (for diagnostics found later, e.g. by the compiler). */
  locate: Locator;
  /** Document path of each path by name, for diagnostics found later. */
  pathLocation: (pathName: string) => DocPath;
}

/** Where each path of the document sits in the text (1-based), when it came from YAML/JSON. */
export type Locator = (path: DocPath) => { line: number; column: number } | undefined;

function locatorFor(doc: ReturnType<typeof parseDocument>, lines: LineCounter): Locator {
  return (path) => {
    // The deepest node that exists along the path: a missing field points at its parent.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as Node | undefined;
      const offset = node && typeof node === "object" && "range" in node ? node.range?.[0] : undefined;
      if (offset !== undefined) {
        const pos = lines.linePos(offset);
        return { line: pos.line, column: pos.col };
      }
    }
    return undefined;
  };
}

/** Common names for placement keys, so a typo gets the right suggestion. */
const PLACEMENT_ALIASES: ReadonlyMap<string, string> = new Map([
  ["k8s", "kubernetes"],
  ["kube", "kubernetes"],
  ["cilium", "kubernetes"],
  ["gke", "gcp"],
  ["google", "gcp"],
  ["ec2", "aws"],
  ["amazon", "aws"],
  ["azurerm", "azure"],
  ["dpu", "bluefield"],
  ["ovs", "bluefield"],
]);

const KNOWN_KEYS: Record<string, readonly string[]> = {
  policy: ["name", "workloads", "segments", "peers", "paths", "$schema"],
  placements: ["aws", "gcp", "azure", "kubernetes", "bluefield"],
  path: [
    "name",
    "from",
    "to",
    "services",
    "verdict",
    "mode",
    "owner",
    "justification",
    "expires",
    "ticket",
    "http",
    "reach",
    "through",
  ],
};

function keysFor(path: DocPath): readonly string[] | undefined {
  if (path.length === 0) return KNOWN_KEYS.policy;
  if (path[path.length - 1] === "placements") return KNOWN_KEYS.placements;
  if (path.length === 2 && path[0] === "paths") return KNOWN_KEYS.path;
  return undefined;
}

function schemaDiagnostics(sink: DiagnosticSink, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    const path = issue.path as (string | number)[];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        // Already reported by the screen of the raw document (raw-screen.ts).
        if (key === "__proto__" || key === "<<") continue;
        const known = keysFor(path);
        const alias =
          path[path.length - 1] === "placements" ? PLACEMENT_ALIASES.get(key.toLowerCase()) : undefined;
        sink.error([...path, key], `unknown field ${shown(key)}`, {
          hint: alias
            ? `did you mean "${alias}"?`
            : known
              ? suggestion(key, known, "fields")
              : "remove it (see schema/policy.schema.json)",
        });
      }
    } else if (
      issue.code === "invalid_type" &&
      issue.input === undefined &&
      !("input" in issue && issue.input === null)
    ) {
      sink.error(path, `missing required field "${String(path[path.length - 1])}"`, {
        hint: "see schema/policy.schema.json for the policy format",
      });
    } else if (issue.code === "invalid_value" && "values" in issue) {
      sink.error(path, `${describeValue(issue.input)} is not allowed here`, {
        hint: `use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
      });
    } else {
      sink.error(path, issue.message);
    }
  }
}

/**
 * Parses and validates a policy (YAML or JSON text). Never throws on bad input: every problem is a
 * diagnostic with file, line, field and a fix. `file` is used in messages only.
 */
export function parsePolicyText(text: string, file?: string, options: ValidateOptions = {}): ParseResult {
  const sink = new DiagnosticSink(file);
  // JSON is parsed natively (a hundred times faster than a YAML parser on large generated
  // policies); the YAML parser then only runs if a diagnostic needs a line number.
  const json = parseJson(text);
  let yamlDoc: { doc: ReturnType<typeof parseDocument>; lines: LineCounter } | undefined;
  const yaml = () => {
    if (!yamlDoc) {
      const lines = new LineCounter();
      yamlDoc = {
        doc: parseDocument(text, {
          lineCounter: lines,
          uniqueKeys: true,
          prettyErrors: false,
          logLevel: "error",
        }),
        lines,
      };
    }
    return yamlDoc;
  };
  if (json.duplicate) {
    const pos = yaml().lines.linePos(json.duplicate.offset);
    sink.items.push({
      severity: "error",
      file,
      line: pos.line,
      column: pos.col,
      path: [],
      message: `not valid YAML/JSON: Map keys must be unique ("${json.duplicate.key}" appears twice)`,
    });
    return { diagnostics: sink.items, locate: noLocation, pathLocation: byName };
  }
  let data: unknown = json.value;
  if (!json.ok) {
    let parsed: ReturnType<typeof yaml>;
    try {
      parsed = yaml();
    } catch (e) {
      // The YAML parser recurses: a document nested thousands deep exhausts the stack.
      sink.items.push({
        severity: "error",
        file,
        path: [],
        message: `not valid YAML/JSON: ${(e as Error).message}`,
        hint: "a policy is at most a few levels deep",
      });
      return { diagnostics: sink.items, locate: noLocation, pathLocation: byName };
    }
    const { doc, lines } = parsed;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = lines.linePos(e.pos[0]);
        sink.items.push({
          severity: "error",
          file,
          line: pos.line,
          column: pos.col,
          path: [],
          message: `not valid YAML/JSON: ${e.message.split("\n")[0]}`,
        });
      }
      return { diagnostics: sink.items, locate: noLocation, pathLocation: byName };
    }
    try {
      // Aliases are expanded into the data: a few "billion laughs" lines would expand to gigabytes.
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      let offset: number | undefined;
      visit(doc, {
        Alias(_, node) {
          if (isAlias(node) && node.range) offset = node.range[0];
          return visit.BREAK;
        },
      });
      const pos = offset !== undefined ? lines.linePos(offset) : { line: 1, col: 1 };
      sink.items.push({
        severity: "error",
        file,
        line: pos.line,
        column: pos.col,
        path: [],
        message: `not usable YAML: ${(e as Error).message.split("\n")[0]}`,
        hint: `aliases (*name) may expand to at most ${MAX_ALIAS_COUNT} nodes each; write the values out`,
      });
      return { diagnostics: sink.items, locate: noLocation, pathLocation: byName };
    }
  }
  const locate: Locator = (path) => locatorFor(yaml().doc, yaml().lines)(path);
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    sink.error([], "a policy must be a mapping with name, workloads, segments, peers and paths", {
      hint: "see the example in README.md",
    });
    return { diagnostics: withPositions(sink.items, locate), locate, pathLocation: byName };
  }
  return structural(data, sink, options, locate);
}

/** Nodes an alias may expand to (the yaml package's resource-exhaustion guard). */
const MAX_ALIAS_COUNT = 1000;

function parseJson(text: string): {
  ok: boolean;
  value?: unknown;
  duplicate?: { offset: number; key: string };
} {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return { ok: false };
  try {
    const value: unknown = JSON.parse(text);
    const duplicate = firstDuplicateJsonKey(text);
    return duplicate ? { ok: true, value, duplicate } : { ok: true, value };
  } catch {
    return { ok: false };
  }
}

const ELEMENT_COLLECTIONS = new Set(["workloads", "paths", "segments", "peers"]);

/**
 * Structural check, then semantic validation. Malformed fields of a workload, segment, peer or path
 * are reported and left out, and the rest is still validated (an element that cannot stand without
 * the field is left out whole), so one run reports every problem. References to a left-out segment
 * or peer, and semantic findings at a place already reported, are not reported again.
 */
function structural(
  data: unknown,
  sink: DiagnosticSink,
  options: ValidateOptions,
  locate: Locator,
): ParseResult {
  if (!screenRawDocument(data, sink))
    return { diagnostics: withPositions(sink.items, locate), locate, pathLocation: byName };
  const parsed = policySchema.safeParse(data, { reportInput: true });
  if (parsed.success) return finish(parsed.data, sink, options, locate);
  schemaDiagnostics(sink, parsed.error.issues);
  const fail = (): ParseResult => ({
    diagnostics: withPositions(sink.items, locate),
    locate,
    pathLocation: byName,
  });
  if (!parsed.error.issues.every((i) => isElementPath(i.path))) return fail();
  const reported = sink.items.map((d) => d.path);

  // First try without the offending fields only.
  const doc = structuredClone(data) as Record<string, unknown>;
  for (const issue of parsed.error.issues) {
    const [collection, element, field] = issue.path as [string, string | number, string | number | undefined];
    const item = elementOf(doc, collection, element);
    if (!item) continue;
    if (field !== undefined) delete item[field as string];
    else if (issue.code === "unrecognized_keys") for (const key of issue.keys) delete item[key];
  }
  const fieldLevel = (i: z.core.$ZodIssue) =>
    i.path.length > 2 || (i.path.length === 2 && i.code === "unrecognized_keys");
  let again = policySchema.safeParse(doc, { reportInput: true });
  // Then without the elements that cannot stand without those fields.
  const leftOut = new Set<string>();
  const dropped = new Map<string, Set<string | number>>();
  if (!again.success) {
    if (!again.error.issues.every((i) => isElementPath(i.path))) return fail();
    for (const issue of [...parsed.error.issues, ...again.error.issues]) {
      const [collection, element] = issue.path as [string, string | number];
      if (
        !fieldLevel(issue) ||
        again.error.issues.some((i) => i.path[0] === collection && i.path[1] === element)
      ) {
        let set = dropped.get(collection);
        if (!set) dropped.set(collection, (set = new Set()));
        set.add(element);
      }
    }
  } else {
    for (const issue of parsed.error.issues) {
      if (!fieldLevel(issue)) {
        const [collection, element] = issue.path as [string, string | number];
        let set = dropped.get(collection);
        if (!set) dropped.set(collection, (set = new Set()));
        set.add(element);
      }
    }
  }
  const indices: Record<"workloads" | "paths", number[] | undefined> = {
    workloads: undefined,
    paths: undefined,
  };
  for (const [collection, elements] of dropped) {
    const value = doc[collection];
    if (Array.isArray(value)) {
      // Keep the document index of every element that stays, so diagnostics point at the right line.
      const kept = value.map((_, i) => i).filter((i) => !elements.has(i));
      indices[collection as "workloads" | "paths"] = kept;
      doc[collection] = kept.map((i) => value[i]);
    } else if (value && typeof value === "object") {
      for (const k of elements) {
        delete (value as Record<string, unknown>)[k as string];
        leftOut.add(String(k));
      }
    }
  }
  again = policySchema.safeParse(doc, { reportInput: true });
  if (!again.success) return fail();
  const before = sink.items.length;
  const result = finish(again.data, sink, { ...options, leftOut, documentIndex: indices }, locate);
  // A semantic finding at (or inside) a place already reported structurally says nothing new.
  const fresh = sink.items
    .slice(before)
    .filter((d) => !reported.some((r) => r.length > 0 && r.every((part, i) => d.path[i] === part)));
  sink.items.splice(before, sink.items.length - before, ...fresh);
  result.diagnostics = withPositions(sink.items, locate);
  delete result.policy;
  return result;
}

function isElementPath(path: readonly PropertyKey[]): boolean {
  return typeof path[0] === "string" && ELEMENT_COLLECTIONS.has(path[0]) && path[1] !== undefined;
}

function elementOf(doc: Record<string, unknown>, collection: string, element: string | number) {
  const value = doc[collection] as Record<string | number, unknown> | undefined;
  const item = value?.[element];
  return item && typeof item === "object" ? (item as Record<string, unknown>) : undefined;
}

/** Validates an in-memory document (the TypeScript builder's output) exactly as a file would be. */
export function parsePolicyObject(
  data: unknown,
  source?: string,
  options: ValidateOptions = {},
): ParseResult {
  const sink = new DiagnosticSink(source);
  return structural(data, sink, options, noLocation);
}

function finish(
  raw: RawPolicy,
  sink: DiagnosticSink,
  options: ValidateOptions,
  locate: Locator,
): ParseResult {
  const policy = validatePolicy(raw, sink, options);
  const diagnostics = withPositions(sink.items, locate);
  const index = new Map<string, number>();
  (raw.paths ?? []).forEach((p, i) => {
    if (!index.has(p.name)) index.set(p.name, options.documentIndex?.paths?.[i] ?? i);
  });
  const pathLocation = (name: string): DocPath => {
    const i = index.get(name);
    return i === undefined ? ["paths", name] : ["paths", i];
  };
  const result: ParseResult = { partial: policy, diagnostics, locate, pathLocation };
  if (!sink.hasErrors) result.policy = policy;
  return result;
}

const noLocation: Locator = () => undefined;
const byName = (name: string): DocPath => ["paths", name];

export function withPositions(items: Diagnostic[], locate: Locator): Diagnostic[] {
  return items.map((d) => (d.line !== undefined ? d : { ...d, ...locate(d.path) }));
}
