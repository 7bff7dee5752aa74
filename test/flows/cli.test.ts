import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { recommendCommand } from "../../cli/commands/recommend";
import { simulateCommand } from "../../cli/commands/simulate";
import { run } from "../../cli/program";
import { checkPolicyText } from "../../lib";
import { captureIo } from "../cli/capture";
import { ALL_FIXTURES, FIXTURES, POLICY } from "./support";

const tmp = () => mkdtempSync(join(tmpdir(), "blastradius-flows-"));

describe("blastradius simulate", () => {
  it("prints the three lists and the malformed lines, writes JSON, exits 0", async () => {
    const dir = tmp();
    const io = captureIo();
    const code = await run(
      ["simulate", POLICY, "--flows", ...ALL_FIXTURES, "--json", join(dir, "s.json")],
      io,
    );
    expect(code).toBe(0);
    const text = io.stdout.join("\n");
    expect(text).toContain('simulate: policy "flows-demo" against 6 file(s): 29 flow(s)');
    expect(text).toContain(
      "WOULD BE BLOCKED when enforced (what enforcing would break): 20 flow(s) in 15 group(s)",
    );
    expect(text).toMatch(
      /training -> datalake {2}tcp\/5432 {2}3 flow\(s\) {2}first 2024-06-10T06:15:00Z {2}last 2024-06-10T06:32:40Z {2}blocked by default-deny/,
    );
    expect(text).toContain("HIT A MONITORED FORBID");
    expect(text).toContain("forbid no-agent-to-billing; now open by agents-use-billing");
    expect(text).toContain(
      "legacy-to-registry (an end is a peer wider than /16 (IPv4) or /64 (IPv6); every port of the protocol)",
    );
    expect(text).toContain(`${join(FIXTURES, "azure-nsg.json")}:32: flow tuple`);
    const json = JSON.parse(readFileSync(join(dir, "s.json"), "utf8"));
    expect(json.malformed.total).toBe(8);
    expect(json.malformed.lines.map((l: { line: number }) => l.line)).toEqual([12, 13, 5, 4, 5, 8, 32, 1]);
    expect(json.wouldBlock[0]).toMatchObject({
      from: "training",
      to: "datalake",
      service: "tcp/5432",
      count: 3,
      first: "2024-06-10T06:15:00Z",
    });
    expect(json.broad).toHaveLength(2);
    expect(json.monitored).toHaveLength(1);
  });

  it("streams gzipped logs; exit 2 on a missing file, an invalid policy or an unknown format", async () => {
    const dir = tmp();
    const gz = join(dir, "flows.log.gz");
    writeFileSync(gz, gzipSync(readFileSync(join(FIXTURES, "aws-default.log"))));
    const io = captureIo();
    expect(await simulateCommand(POLICY, { flows: [gz] }, io)).toBe(0);
    expect(io.stdout[0]).toContain("11 flow(s)");
    const bad = captureIo();
    expect(await simulateCommand(POLICY, { flows: [join(dir, "nope.log")] }, bad)).toBe(2);
    expect(bad.stderr.join("\n")).toContain("no such flow log file");
    const invalid = join(dir, "bad.yaml");
    writeFileSync(invalid, "name: Bad\n");
    expect(await simulateCommand(invalid, { flows: [gz] }, captureIo())).toBe(2);
    expect(await simulateCommand(POLICY, { flows: [gz], format: "netflow" }, captureIo())).toBe(2);
  });
});

describe("blastradius recommend", () => {
  it("prints the policy plus drafts as YAML on stdout, the summary on stderr", async () => {
    const io = captureIo();
    const code = await run(["recommend", "--flows", ...ALL_FIXTURES, "--policy", POLICY], io);
    expect(code).toBe(0);
    const yaml = io.stdout.join("\n");
    expect(yaml).toContain("name: flows-demo");
    expect(yaml).toContain("- name: allow-training-to-datalake");
    expect(io.stderr[0]).toContain("10 draft path(s)");
    expect(io.stderr.join("\n")).toContain(
      "NOT RECOMMENDED (forbidden): corp-workstations -> training tcp/22",
    );
    const r = checkPolicyText(yaml);
    expect(r.ok).toBe(false);
    expect(r.diagnostics.some((d) => d.message.includes("owner"))).toBe(true);
  });

  it("writes --out (never the policy itself) and --fragment holds only the additions", async () => {
    const dir = tmp();
    const out = join(dir, "drafts.yaml");
    const io = captureIo();
    expect(await recommendCommand({ flows: ALL_FIXTURES, policy: POLICY, out, fragment: true }, io)).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).not.toContain("workloads:");
    expect(text).toMatch(/^peers:/);
    const before = readFileSync(POLICY, "utf8");
    const refused = captureIo();
    expect(await recommendCommand({ flows: ALL_FIXTURES, policy: POLICY, out: POLICY }, refused)).toBe(2);
    expect(refused.stderr.join("\n")).toContain("never writes into the policy");
    expect(readFileSync(POLICY, "utf8")).toBe(before);
    const none = captureIo();
    expect(await recommendCommand({ flows: ALL_FIXTURES }, none)).toBe(2);
    expect(none.stderr.join("\n")).toContain("needs --policy");
  });
});
