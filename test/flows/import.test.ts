import { describe, expect, it } from "vitest";
import { AWS_DEFAULT_FIELDS } from "../../lib/flows";
import { read } from "./support";

describe("AWS VPC flow logs", () => {
  it("reads the default version 2 format: flows, replies, NODATA and malformed lines with line numbers", async () => {
    const { flows, problems, report } = await read("aws-default.log");
    expect(report.formats).toEqual(["aws"]);
    expect(report.lines).toBe(15);
    expect(report.flows).toBe(11);
    expect(report.skipped).toEqual({ reply: 1, "no-data": 1, header: 0 });
    expect(report.malformed).toBe(2);
    // Every non-empty line is accounted for exactly once.
    expect(report.flows + report.skipped.reply + report.skipped["no-data"] + report.malformed).toBe(
      report.lines,
    );
    expect(problems).toEqual([
      {
        file: "aws-default.log",
        line: 12,
        message: expect.stringContaining("expected 14 space-separated fields"),
      },
      { file: "aws-default.log", line: 13, message: 'srcaddr "10.10.1.999" is not an IP address' },
    ]);
    expect(flows[0]).toEqual({
      file: "aws-default.log",
      line: 1,
      format: "aws",
      start: 1718000000_000,
      end: 1718000060_000,
      family: 4,
      src: "10.10.1.5",
      dst: "10.20.0.7",
      protocol: 6,
      srcPort: 51234,
      dstPort: 443,
      bytes: 4249,
      packets: 20,
      observed: "ACCEPT",
    });
    const icmp = flows.find((f) => f.protocol === 1)!;
    expect(icmp.dstPort).toBeUndefined();
    expect(icmp.line).toBe(15);
  });

  it("reads a custom format from the S3 header line, uses pkt-srcaddr and tcp-flags for direction", async () => {
    const { flows, problems, report } = await read("aws-custom.log");
    expect(report.skipped).toEqual({ reply: 1, "no-data": 0, header: 1 });
    expect(flows.map((f) => [f.line, f.src, f.dst, f.dstPort])).toEqual([
      [2, "172.16.5.5", "10.30.4.10", 443],
      // Through a NAT: the packet's source, not the interface's.
      [4, "172.16.5.6", "10.30.4.10", 443],
    ]);
    expect(problems).toEqual([
      { file: "aws-custom.log", line: 5, message: 'action "DROP" is not ACCEPT or REJECT' },
    ]);
  });

  it("takes a custom format from --aws-format when the file has no header (CloudWatch exports)", async () => {
    const text = "10.10.1.5 10.20.0.7 443 6 ACCEPT\n10.10.1.5 10.20.0.7 tcp 6 ACCEPT\n";
    const { flows, problems } = await read("cw.log", text, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own format syntax
      awsFormat: "${srcaddr} ${dstaddr} ${dstport} ${protocol} ${action}",
    });
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ src: "10.10.1.5", dstPort: 443, start: 0 });
    expect(problems).toEqual([{ file: "cw.log", line: 2, message: 'dstport "tcp" is not a port 0-65535' }]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own format syntax
    await expect(read("cw.log", text, { awsFormat: "${bogus}" })).rejects.toThrow(
      /not an AWS flow log format/,
    );
  });

  it("without tcp flags, a record from the lower port to the higher is the reply half", async () => {
    const line = (s: number, d: number) => `2 1 eni-1 10.0.0.1 10.0.0.2 ${s} ${d} 6 1 1 1 2 ACCEPT OK`;
    const { report } = await read("x.log", [line(443, 50000), line(50000, 443), line(53, 53)].join("\n"));
    expect(report.flows).toBe(2);
    expect(report.skipped.reply).toBe(1);
    expect(AWS_DEFAULT_FIELDS).toHaveLength(14);
  });
});

describe("GCP VPC flow logs (Cloud Logging JSON lines)", () => {
  it("reads jsonPayload.connection with VM and VPC hints; skips replies; reports bad lines", async () => {
    const { flows, problems, report } = await read("gcp.jsonl");
    expect(report.formats).toEqual(["gcp"]);
    expect(report.skipped.reply).toBe(1);
    expect(flows).toHaveLength(3);
    expect(flows[0]).toMatchObject({
      line: 1,
      src: "10.20.0.9",
      dst: "10.10.1.5",
      protocol: 6,
      dstPort: 8080,
      bytes: 5120,
      packets: 12,
      start: Date.parse("2024-06-10T08:00:00Z"),
      end: Date.parse("2024-06-10T08:00:05Z"),
      observed: "reported-by-SRC",
      srcHints: { vm: "feature-store-1", project: "corp-data", network: "data" },
      dstHints: { network: "ml" },
    });
    expect(problems.map((p) => p.line)).toEqual([4, 5]);
    expect(problems[0]!.message).toBe("jsonPayload.connection needs src_ip and dest_ip");
    expect(problems[1]!.message).toMatch(/^not JSON/);
  });

  it("reads the JSON array of `gcloud logging read --format=json`, pretty printed", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { FIXTURES } = await import("./support");
    const first = JSON.parse(readFileSync(join(FIXTURES, "gcp.jsonl"), "utf8").split("\n")[0]!);
    const text = JSON.stringify([first, first], null, 2);
    const { flows, problems } = await read("gcloud.json", text);
    expect(problems).toEqual([]);
    expect(flows).toHaveLength(2);
    expect(flows[1]!.line).toBeGreaterThan(flows[0]!.line);
  });
});

describe("Azure flow logs", () => {
  it("reads NSG flow logs v2 and v1 from a pretty-printed blob, with each tuple's own line", async () => {
    const { flows, problems, report } = await read("azure-nsg.json");
    expect(report.formats).toEqual(["azure"]);
    expect(flows.map((f) => [f.line, f.src, f.dst, f.dstPort, f.observed])).toEqual([
      [19, "10.30.4.10", "10.20.0.7", 443, "A (DefaultRule_AllowVnetOutBound)"],
      [20, "10.30.4.10", "10.20.0.7", 443, "A (DefaultRule_AllowVnetOutBound)"],
      [31, "198.51.100.7", "10.30.4.10", 443, "A (UserRule_partner-in)"],
      [33, "198.51.100.8", "10.30.4.10", 443, "A (UserRule_partner-in)"],
      [54, "10.200.9.9", "10.30.4.10", 3389, "D (DefaultRule_DenyAllInBound)"],
    ]);
    // Version 2 counters: both directions summed; B (begin) tuples carry none.
    expect(flows[0]!.bytes).toBeUndefined();
    expect(flows[1]).toMatchObject({ packets: 54, bytes: 30986, start: 1718028300_000 });
    expect(problems).toEqual([
      { file: "azure-nsg.json", line: 32, message: expect.stringContaining("has 4 fields") },
    ]);
  });

  it("reads VNet flow logs (numeric protocol, millisecond timestamps, D = denied)", async () => {
    const { flows, problems } = await read("azure-vnet.json");
    expect(flows.map((f) => [f.src, f.dst, f.protocol, f.dstPort, f.start, f.observed])).toEqual([
      ["10.30.4.11", "10.244.1.10", 6, 8000, 1718031600000, "A (DefaultRule_AllowVnetOutBound)"],
      ["10.30.4.11", "10.244.1.10", 6, 8000, 1718031660000, "A (DefaultRule_AllowVnetOutBound)"],
      ["10.200.1.1", "10.30.4.11", 6, 22, 1718031720000, "D (DefaultRule_DenyAllInBound)"],
    ]);
    expect(problems).toEqual([
      { file: "azure-vnet.json", line: 1, message: expect.stringContaining('flow state "X"') },
    ]);
  });

  it("reports a blob that ends before it is complete, never crashing", async () => {
    const { flows, problems } = await read("cut.json", '{\n  "records": [\n    { "properties": {\n');
    expect(flows).toEqual([]);
    expect(problems).toEqual([
      { file: "cut.json", line: 3, message: expect.stringContaining("ends before it is complete") },
    ]);
  });
});

describe("Hubble (hubble observe -o jsonpb)", () => {
  it("reads flows with Kubernetes hints; skips replies and non-IP events; reports flows without l4", async () => {
    const { flows, problems, report } = await read("hubble.jsonl");
    expect(report.formats).toEqual(["hubble"]);
    expect(report.skipped).toEqual({ reply: 1, "no-data": 1, header: 0 });
    expect(flows).toHaveLength(5);
    expect(flows[0]).toMatchObject({
      line: 1,
      src: "10.244.2.5",
      dst: "10.244.1.7",
      protocol: 6,
      srcPort: 40100,
      dstPort: 8080,
      observed: "FORWARDED",
      start: Date.parse("2024-06-10T12:00:00.100Z"),
      srcHints: {
        namespace: "agents",
        cluster: "ai",
        pod: "ticket-summarizer-5d9c7",
        labels: { app: "ticket-summarizer", "io.kubernetes.pod.namespace": "agents" },
      },
    });
    // reserved:world is not a pod label.
    expect(flows[2]!.dstHints).toBeUndefined();
    expect(flows[4]).toMatchObject({ protocol: 17, dstPort: 9000, observed: "DROPPED" });
    expect(problems).toEqual([
      { file: "hubble.jsonl", line: 8, message: "flow.l4 is missing (no protocol)" },
    ]);
  });

  it("never crashes on garbage, whatever the format: every line is counted", async () => {
    const text = ["{", "not json", "[1,2", '{"flow": 3}', "}"].join("\n");
    const r = await read("junk.jsonl", text);
    expect(r.flows).toEqual([]);
    expect(r.problems.length).toBeGreaterThan(0);
    const j = await read("junk2.jsonl", ['{"a":1}', "{", '{"flow":{"IP":{}}}'].join("\n"));
    expect(j.problems.map((p) => p.line)).toEqual([1, 2, 3]);
  });
});
