/**
 * Streaming JSON records. Flow logs come as JSON lines (one record per line: GCP exports from Cloud
 * Logging, `hubble observe -o jsonpb`) or as documents (Azure flow log blobs: `{"records": [...]}`,
 * often pretty-printed; `gcloud logging read --format=json`: an array). Both are read line by line;
 * a document is cut into its records with a small scanner, so that only one record is held in
 * memory at a time, never the whole file.
 */

export interface JsonRecord {
  value: unknown;
  /** 1-based line where the record starts. */
  line: number;
  /** The record's text, for locating a part of it (Azure tuples) by line. */
  text?: string;
}

export interface JsonRecordHandler {
  record(r: JsonRecord): void;
  /** Text that is not JSON (a bad line, or a document that ends badly), with its first line. */
  malformed(line: number, message: string): void;
}

/**
 * Splits lines into JSON records. Mode is decided on the first non-empty line: if it parses on its
 * own it is JSON lines (each line one value; a line that does not parse is malformed and the next
 * line starts afresh); otherwise a document, scanned for the elements of a top-level array or of a
 * `records` array (or taken whole, when it is a single object without `records`).
 */
export class JsonRecordSplitter {
  private mode: "undecided" | "lines" | "document" = "undecided";
  // Document scanner state.
  private depth = 0;
  private inString = false;
  private escape = false;
  private stringStart = -1;
  private lastString = "";
  private lastStringDepth = -1;
  private awaitingValueFor: string | undefined;
  /** Depth at which records start (a `{` entering depth recordDepth+1). */
  private recordDepth = -1;
  private captureDepth = -1;
  private capture: string[] = [];
  private captureLine = 0;
  private topCapture: string[] | undefined;
  private topLine = 0;

  constructor(private readonly handler: JsonRecordHandler) {}

  line(text: string, line: number): void {
    if (this.mode === "undecided") {
      if (text.trim() === "") return;
      this.mode = parses(text) ? "lines" : "document";
    }
    if (this.mode === "lines") {
      const t = text.trim();
      if (t === "") return;
      let value: unknown;
      try {
        value = JSON.parse(t);
      } catch (e) {
        this.handler.malformed(line, `not JSON: ${(e as Error).message}`);
        return;
      }
      const records = recordsOf(value);
      if (records) for (const r of records) this.handler.record({ value: r, line, text: t });
      else this.handler.record({ value, line, text: t });
      return;
    }
    this.scan(text, line);
  }

  end(lastLine: number): void {
    if (this.mode !== "document") return;
    if (this.captureDepth >= 0 || this.depth !== 0 || this.inString) {
      this.handler.malformed(
        this.captureDepth >= 0 ? this.captureLine : this.topLine,
        `the JSON document ends before it is complete (at line ${lastLine})`,
      );
    }
  }

  private scan(text: string, line: number): void {
    let segStart = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 92 /* \ */) this.escape = true;
        else if (c === 34 /* " */) {
          this.inString = false;
          if (this.stringStart >= 0 && this.depth === 1) {
            this.lastString = text.slice(this.stringStart, i);
            this.lastStringDepth = this.depth;
          }
          this.stringStart = -1;
        }
        continue;
      }
      if (c === 34) {
        this.inString = true;
        this.stringStart = i + 1;
        continue;
      }
      if (c === 58 /* : */) {
        if (this.lastStringDepth === 1 && this.depth === 1) this.awaitingValueFor = this.lastString;
        continue;
      }
      if (c === 123 /* { */ || c === 91 /* [ */) {
        if (this.depth === 0) {
          this.topLine = line;
          if (c === 91) this.recordDepth = 1;
          else {
            this.topCapture = [];
            segStart = i;
          }
        } else if (this.depth === 1 && c === 91 && this.awaitingValueFor === "records" && this.topCapture) {
          // {"records": [ … ]}: the records are the array's elements; drop the whole-object capture.
          this.topCapture = undefined;
          this.recordDepth = 2;
        }
        if (this.depth === 1) this.awaitingValueFor = undefined;
        if (this.captureDepth < 0 && c === 123 && this.depth === this.recordDepth) {
          this.captureDepth = this.depth;
          this.capture = [];
          this.captureLine = line;
          segStart = i;
        }
        this.depth++;
        continue;
      }
      if (c === 125 /* } */ || c === 93 /* ] */) {
        this.depth--;
        if (this.depth < 0) {
          this.handler.malformed(line, `unbalanced "${String.fromCharCode(c)}"`);
          this.depth = 0;
          continue;
        }
        if (this.captureDepth >= 0 && this.depth === this.captureDepth) {
          this.capture.push(text.slice(segStart, i + 1));
          this.emit(this.capture.join("\n"), this.captureLine);
          this.captureDepth = -1;
          this.capture = [];
        }
        if (this.depth === 0) {
          if (this.topCapture) {
            this.topCapture.push(text.slice(segStart, i + 1));
            this.emit(this.topCapture.join("\n"), this.topLine);
            this.topCapture = undefined;
          }
          this.recordDepth = -1;
        }
        continue;
      }
      if (this.depth === 0 && c > 32) {
        this.handler.malformed(line, `unexpected "${text[i]}" outside a JSON value`);
        return;
      }
    }
    if (this.captureDepth >= 0) this.capture.push(text.slice(segStart));
    else if (this.topCapture) this.topCapture.push(text.slice(segStart));
  }

  private emit(text: string, line: number): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.handler.malformed(line, `not JSON: ${(e as Error).message}`);
      return;
    }
    const records = recordsOf(value);
    if (records) for (const r of records) this.handler.record({ value: r, line, text });
    else this.handler.record({ value, line, text });
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The records of a container value: an array, or `{records: [...]}`. */
function recordsOf(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === "object" && value !== null && Array.isArray((value as { records?: unknown }).records))
    return (value as { records: unknown[] }).records;
  return undefined;
}
