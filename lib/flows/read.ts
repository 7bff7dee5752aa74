import { AwsFlowParser, parseAwsFormat } from "./aws";
import { azureFlow, azureTuples, isAzureRecord } from "./azure";
import { obj } from "./fields";
import { gcpFlow, isGcpEntry } from "./gcp";
import { hubbleFlow, isHubbleResponse } from "./hubble";
import { JsonRecordSplitter } from "./json-records";
import type { Flow, FlowFormat, FlowProblem, FlowSink, Lines, SkipKind } from "./types";

export interface ReadOptions {
  /** Force a format instead of detecting it from the first line. */
  format?: FlowFormat;
  /** AWS custom format (`${version} ${srcaddr} …` or plain names) for files without a header line. */
  awsFormat?: string;
}

/** What was read from one file. Every non-empty line ends up in exactly one of the counts. */
export interface FileReport {
  file: string;
  /** Formats seen (a JSON file may mix GCP and Hubble records, though it rarely does). */
  formats: FlowFormat[];
  lines: number;
  flows: number;
  skipped: Record<SkipKind, number>;
  malformed: number;
}

/** Thrown for input that cannot be read at all (an unknown AWS format); malformed lines are not errors. */
export class FlowInputError extends Error {}

/**
 * Reads one file's lines as flows, streaming: each flow, problem and skipped record goes to `sink` as
 * it is read. Resolves to the file's report. The format is detected from the first non-empty line:
 * JSON (`{` or `[`) is GCP, Azure or Hubble, told apart record by record; anything else is AWS text.
 */
export async function readFlows(
  file: string,
  lines: Lines,
  sink: FlowSink,
  options: ReadOptions = {},
): Promise<FileReport> {
  const report: FileReport = {
    file,
    formats: [],
    lines: 0,
    flows: 0,
    skipped: { reply: 0, "no-data": 0, header: 0 },
    malformed: 0,
  };
  const seen = (f: FlowFormat) => {
    if (!report.formats.includes(f)) report.formats.push(f);
  };
  const counting: FlowSink = {
    flow: (f: Flow) => {
      report.flows++;
      seen(f.format);
      sink.flow(f);
    },
    problem: (p: FlowProblem) => {
      report.malformed++;
      sink.problem(p);
    },
    skip: (kind, f, line) => {
      report.skipped[kind]++;
      sink.skip(kind, f, line);
    },
  };
  let awsFields: string[] | undefined;
  if (options.awsFormat !== undefined) {
    awsFields = parseAwsFormat(options.awsFormat);
    if (!awsFields)
      throw new FlowInputError(
        `--aws-format "${options.awsFormat}" is not an AWS flow log format: list field names such as "\${version} \${srcaddr} \${dstaddr} …", including srcaddr and dstaddr`,
      );
  }
  let handle: ((text: string, line: number) => void) | undefined;
  let finish: (last: number) => void = () => {};
  let n = 0;
  for await (const raw of lines) {
    n++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() !== "") report.lines++;
    if (!handle) {
      const t = text.trim();
      if (t === "") continue;
      const json = options.format ? options.format !== "aws" : t.startsWith("{") || t.startsWith("[");
      if (json) {
        const splitter = new JsonRecordSplitter(jsonHandler(file, counting, options.format, seen));
        handle = (x, l) => splitter.line(x, l);
        finish = (l) => splitter.end(l);
      } else {
        seen("aws");
        const parser = new AwsFlowParser(file, counting, awsFields);
        handle = (x, l) => parser.line(x, l);
      }
    }
    handle(text, n);
  }
  finish(n);
  return report;
}

function jsonHandler(
  file: string,
  sink: FlowSink,
  forced: FlowFormat | undefined,
  seen: (f: FlowFormat) => void,
) {
  return {
    malformed: (line: number, message: string) => sink.problem({ file, line, message }),
    record: ({ value, line, text }: { value: unknown; line: number; text?: string }) => {
      const o = obj(value);
      const bad = (message: string, at = line) => sink.problem({ file, line: at, message });
      if (!o) return bad("not a JSON object");
      if ((forced === undefined || forced === "hubble") && isHubbleResponse(o)) {
        seen("hubble");
        const r = hubbleFlow(o, file, line);
        if (r === "reply" || r === "no-data") return sink.skip(r, file, line);
        return "problem" in r ? bad(r.problem) : sink.flow(r);
      }
      if ((forced === undefined || forced === "gcp") && isGcpEntry(o)) {
        seen("gcp");
        const r = gcpFlow(o, file, line);
        if (r === "reply") return sink.skip(r, file, line);
        return "problem" in r ? bad(r.problem) : sink.flow(r);
      }
      if ((forced === undefined || forced === "azure") && isAzureRecord(o)) {
        seen("azure");
        let from = 0;
        let newlines = 0;
        for (const t of azureTuples(o)) {
          // The tuple's own line within a multi-line record.
          let at = line;
          if (text && typeof t.tuple === "string") {
            const i = text.indexOf(t.tuple, from);
            if (i >= 0) {
              newlines += countNewlines(text, from, i);
              at = line + newlines;
              from = i;
            }
          }
          const r = azureFlow(t, file, at);
          if ("problem" in r) bad(r.problem, at);
          else sink.flow(r);
        }
        return;
      }
      bad(
        forced
          ? `not a ${forced} flow record`
          : "not a flow record of a known format (GCP jsonPayload.connection, Hubble flow, Azure flowTuples)",
      );
    },
  };
}

function countNewlines(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = text.indexOf("\n", start); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
