/** Where in a policy document something is: a path of keys and indices, e.g. ["paths", 3, "services", 0]. */
export type DocPath = ReadonlyArray<string | number>;

export interface Diagnostic {
  severity: "error" | "warning";
  /** The policy file, when the policy came from one. */
  file?: string;
  /** 1-based line and column in the file, when known. */
  line?: number;
  column?: number;
  /** Path of the offending field in the document. */
  path: DocPath;
  /** A human label for the object at fault, e.g. `path "training-reads-datalake"`. */
  subject?: string;
  /** What is wrong. */
  message: string;
  /** How to fix it. */
  hint?: string;
}

/** Formats a document path the way a reader finds it in YAML: `paths[3].services[0]`. */
export function formatDocPath(path: DocPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out === "" ? "(document)" : out;
}

/** One line per diagnostic: `file:line:col: error: paths[3].services[0] (path "x"): message. hint` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file ?? "<policy>", d.line, d.column].filter((x) => x !== undefined).join(":");
  const subject = d.subject ? ` (${d.subject})` : "";
  const hint = d.hint ? ` Fix: ${d.hint}` : "";
  return `${where}: ${d.severity}: ${formatDocPath(d.path)}${subject}: ${d.message}${hint}`;
}

/** Thrown when a policy has errors. Carries every diagnostic (errors and warnings), never just the first. */
export class PolicyError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    super(
      `policy has ${errors.length} error${errors.length === 1 ? "" : "s"}:\n` +
        errors.map((d) => `  ${formatDiagnostic(d)}`).join("\n"),
    );
    this.name = "PolicyError";
    this.diagnostics = diagnostics;
  }
  get errors(): Diagnostic[] {
    return this.diagnostics.filter((d) => d.severity === "error");
  }
}

/** Collects diagnostics while validating, so that all errors are reported at once. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  constructor(private readonly file?: string) {}

  error(path: DocPath, message: string, extra: { subject?: string; hint?: string } = {}): void {
    this.items.push({ severity: "error", file: this.file, path, message, ...extra });
  }

  warn(path: DocPath, message: string, extra: { subject?: string; hint?: string } = {}): void {
    this.items.push({ severity: "warning", file: this.file, path, message, ...extra });
  }

  get hasErrors(): boolean {
    return this.errorCount > 0;
  }

  /**
   * Errors so far, counted incrementally: validation asks after every element, so a recount over
   * all items would make a policy with thousands of errors quadratic. `items` may also be pushed to
   * or cut at the end directly; a cut makes the next call count afresh.
   */
  get errorCount(): number {
    if (this.items.length < this.counted) {
      this.counted = 0;
      this.errors = 0;
    }
    for (; this.counted < this.items.length; this.counted++)
      if (this.items[this.counted]!.severity === "error") this.errors++;
    return this.errors;
  }

  private counted = 0;
  private errors = 0;
}
