/**
 * AWS VPC Flow Logs, text records: fields separated by single spaces, `-` for a field with no value.
 *
 * Source: "Flow log records", https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
 * (default format = the version 2 fields in order: version account-id interface-id srcaddr dstaddr
 * srcport dstport protocol packets bytes start end action log-status; custom formats choose any of
 * the available fields, in any order) and "Flow log record examples",
 * https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html. Log files
 * delivered to Amazon S3 begin with a header line naming the fields (which is how a custom format is
 * recognised); CloudWatch Logs exports have no header, so a custom format must then be given.
 */
import { hasPorts } from "../net";
import { addressFamily, intIn, replyByPorts } from "./fields";
import type { FlowSink } from "./types";

/** The default (version 2) format. */
export const AWS_DEFAULT_FIELDS = [
  "version",
  "account-id",
  "interface-id",
  "srcaddr",
  "dstaddr",
  "srcport",
  "dstport",
  "protocol",
  "packets",
  "bytes",
  "start",
  "end",
  "action",
  "log-status",
] as const;

/** Every field name AWS documents for VPC flow logs (versions 2-8), for recognising a header line. */
const KNOWN_FIELDS = new Set<string>([
  ...AWS_DEFAULT_FIELDS,
  "vpc-id",
  "subnet-id",
  "instance-id",
  "tcp-flags",
  "type",
  "pkt-srcaddr",
  "pkt-dstaddr",
  "region",
  "az-id",
  "sublocation-type",
  "sublocation-id",
  "pkt-src-aws-service",
  "pkt-dst-aws-service",
  "flow-direction",
  "traffic-path",
  "ecs-cluster-arn",
  "ecs-cluster-name",
  "ecs-container-instance-arn",
  "ecs-container-instance-id",
  "ecs-container-id",
  "ecs-second-container-id",
  "ecs-service-name",
  "ecs-task-definition-arn",
  "ecs-task-arn",
  "ecs-task-id",
  "reject-reason",
  "resource-id",
  "encryption-status",
]);

/** Parses `${version} ${srcaddr} …` or `version srcaddr …` into field names; undefined when it is not a format. */
export function parseAwsFormat(text: string): string[] | undefined {
  const names = text
    .trim()
    .split(/\s+/)
    .map((t) => t.replace(/^\$\{(.*)\}$/, "$1"));
  if (names.length === 0 || !names.every((n) => KNOWN_FIELDS.has(n))) return undefined;
  if (!names.includes("srcaddr") || !names.includes("dstaddr")) return undefined;
  return names;
}

/** TCP flag bits as AWS logs them (the OR of the flags seen in the aggregation interval). */
const SYN = 2;
const SYN_ACK = 18;

/**
 * A streaming parser for one AWS flow log file. The first non-empty line may be a header naming the
 * fields; otherwise `fields` (default: the version 2 default format) applies.
 */
export class AwsFlowParser {
  private fields: readonly string[];
  private index: Record<string, number> = {};
  private seenFirst = false;

  constructor(
    private readonly file: string,
    private readonly sink: FlowSink,
    fields: readonly string[] = AWS_DEFAULT_FIELDS,
  ) {
    this.fields = fields;
    this.reindex();
  }

  private reindex(): void {
    this.index = {};
    this.fields.forEach((f, i) => {
      this.index[f] = i;
    });
  }

  line(text: string, line: number): void {
    const t = text.trim();
    if (t === "") return;
    if (!this.seenFirst) {
      this.seenFirst = true;
      const header = parseAwsFormat(t);
      if (header) {
        this.fields = header;
        this.reindex();
        this.sink.skip("header", this.file, line);
        return;
      }
    }
    const parts = t.split(" ");
    const problem = this.check(parts, line);
    if (problem !== undefined) this.sink.problem({ file: this.file, line, message: problem });
  }

  private get(parts: string[], name: string): string | undefined {
    const i = this.index[name];
    const v = i === undefined ? undefined : parts[i];
    return v === "-" ? undefined : v;
  }

  /** Emits the record's flow (or skip); returns a problem message for a malformed record. */
  private check(parts: string[], line: number): string | undefined {
    if (parts.length !== this.fields.length) {
      return `expected ${this.fields.length} space-separated fields (${this.fields.length === 14 ? "the default version 2 format" : "the header's format"}), found ${parts.length}`;
    }
    const status = this.get(parts, "log-status");
    if (status === "NODATA" || status === "SKIPDATA") {
      this.sink.skip("no-data", this.file, line);
      return undefined;
    }
    if (status !== undefined && status !== "OK")
      return `log-status "${status}" is not OK, NODATA or SKIPDATA`;
    // Through a NAT gateway or a middlebox, pkt-srcaddr/pkt-dstaddr are the packet's real ends.
    const src = this.get(parts, "pkt-srcaddr") ?? this.get(parts, "srcaddr");
    const dst = this.get(parts, "pkt-dstaddr") ?? this.get(parts, "dstaddr");
    if (src === undefined || dst === undefined) return "srcaddr or dstaddr is missing ('-')";
    const family = addressFamily(src);
    if (family === undefined) return `srcaddr "${src}" is not an IP address`;
    const dstFamily = addressFamily(dst);
    if (dstFamily === undefined) return `dstaddr "${dst}" is not an IP address`;
    if (dstFamily !== family) return `srcaddr "${src}" and dstaddr "${dst}" are of different IP versions`;
    const protocol = intIn(this.get(parts, "protocol"), 0, 255);
    if (protocol === undefined)
      return `protocol "${this.get(parts, "protocol") ?? "-"}" is not an IANA protocol number 0-255`;
    let srcPort: number | undefined;
    let dstPort: number | undefined;
    if (hasPorts(protocol)) {
      srcPort = intIn(this.get(parts, "srcport"), 0, 65535);
      dstPort = intIn(this.get(parts, "dstport"), 0, 65535);
      if (dstPort === undefined && this.index.dstport !== undefined)
        return `dstport "${this.get(parts, "dstport") ?? "-"}" is not a port 0-65535`;
    }
    const startText = this.get(parts, "start");
    const endText = this.get(parts, "end");
    const start = intIn(startText, 0, Number.MAX_SAFE_INTEGER);
    const end = intIn(endText, 0, Number.MAX_SAFE_INTEGER);
    if (startText !== undefined && start === undefined) return `start "${startText}" is not Unix seconds`;
    if (endText !== undefined && end === undefined) return `end "${endText}" is not Unix seconds`;
    const action = this.get(parts, "action");
    if (action !== undefined && action !== "ACCEPT" && action !== "REJECT")
      return `action "${action}" is not ACCEPT or REJECT`;
    const flagsText = this.get(parts, "tcp-flags");
    const flags = intIn(flagsText, 0, 255);
    let reply: boolean;
    if (protocol === 6 && flags !== undefined && (flags & SYN) !== 0) reply = (flags & SYN_ACK) === SYN_ACK;
    else reply = replyByPorts(protocol, srcPort, dstPort);
    if (reply) {
      this.sink.skip("reply", this.file, line);
      return undefined;
    }
    const packets = intIn(this.get(parts, "packets"), 0, Number.MAX_SAFE_INTEGER);
    const bytes = intIn(this.get(parts, "bytes"), 0, Number.MAX_SAFE_INTEGER);
    const s = (start ?? end ?? 0) * 1000;
    this.sink.flow({
      file: this.file,
      line,
      format: "aws",
      start: s,
      end: end === undefined ? s : end * 1000,
      family,
      src,
      dst,
      protocol,
      srcPort,
      dstPort,
      bytes,
      packets,
      observed: action ?? "-",
    });
    return undefined;
  }
}
