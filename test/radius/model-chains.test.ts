import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/program";
import { checkPolicyText, formatDiagnostic, PolicyBuilder, Service } from "../../lib";
import { captureIo } from "../cli/capture";

const JUMP_CHAIN = join(__dirname, "..", "fixtures", "radius", "jump-chain.yaml");
const BASE = readFileSync(JUMP_CHAIN, "utf8");

/** The fixture with lines added to the forbid (the last path) and other edits. */
function variant(forbidLines: string[], edit: (text: string) => string = (t) => t): string {
  return edit(`${BASE}${forbidLines.map((l) => `    ${l}\n`).join("")}`);
}

function check(text: string) {
  const r = checkPolicyText(text, "jump-chain.yaml");
  return {
    ok: r.ok,
    errors: r.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic),
    warnings: r.diagnostics.filter((d) => d.severity === "warning").map(formatDiagnostic),
  };
}

describe("check: chains of allow paths against reach: any forbids (DESIGN.md rule 10)", () => {
  it("reach: direct (the default) passes: no allow path opens workstation → console itself", () => {
    expect(check(variant([])).errors).toEqual([]);
    expect(check(variant(["reach: direct"])).errors).toEqual([]);
  });

  it("reach: any fails, naming the chain and both allow paths, at the forbid's reach field", () => {
    const r = check(variant(["reach: any"]));
    expect(r.ok).toBe(false);
    expect(r.errors).toHaveLength(1);
    const line = BASE.split("\n").length; // the appended `reach: any` line; the column is its value
    expect(r.errors[0]).toContain(`jump-chain.yaml:${line}:12: error: paths[2].reach`);
    expect(r.errors[0]).toContain(
      'enforce forbid "no-workstation-to-console" (reach: any) is reached by a chain of allow paths: ' +
        'corp-workstations → jump-host by "workstations-reach-jump" (tcp/22), ' +
        'jump-host → backup-console by "admins-manage-console" (tcp/443)',
    );
    expect(r.errors[0]).toContain('narrow "workstations-reach-jump" or "admins-manage-console"');
    expect(r.errors[0]).toContain("through: [admins]");
  });

  it("through: [admins] accepts the jump host as the chokepoint: check passes", () => {
    expect(check(variant(["reach: any", "through: [admins]"])).errors).toEqual([]);
  });

  it("a jump host marked pivot: false (here by its segment) breaks the chain", () => {
    const text = variant(["reach: any"], (t) =>
      t.replace(
        "admins: { matchLabels: { role: admin-jump } }",
        "admins: { matchLabels: { role: admin-jump }, pivot: false }",
      ),
    );
    expect(check(text).errors).toEqual([]);
    // The workload's own word wins over its segment's.
    const back = text.replace(
      "labels: { role: admin-jump }",
      "labels: { role: admin-jump }\n    pivot: true",
    );
    expect(check(back).errors).toHaveLength(1);
  });

  it("the last hop must carry a forbidden service: a forbid of tcp/22 only is not reached over tcp/443", () => {
    expect(check(variant(["reach: any", "services: [tcp/22]"])).errors).toEqual([]);
    expect(check(variant(["reach: any", "services: [tcp/443]"])).errors).toHaveLength(1);
  });

  it("a monitored reach: any forbid is a warning, not an error", () => {
    const r = check(variant(["reach: any", "mode: monitor"]));
    expect(r.ok).toBe(true);
    expect(r.warnings.join("\n")).toContain(
      'monitored forbid "no-workstation-to-console" (reach: any) is reached by a chain of allow paths',
    );
  });

  it("a chain of three allow paths is found and named hop by hop", () => {
    // The jump host no longer reaches the console itself, only a bastion that does.
    const text = variant(["reach: any"], (t) =>
      t
        .replace(
          "segments:",
          "  - name: bastion\n    labels: { role: bastion }\n    placements:\n      aws: { vpc: backup, cidrs: [10.50.0.20/32] }\nsegments:\n  bastions: { matchLabels: { role: bastion } }",
        )
        .replace(
          "  - name: no-workstation-to-console",
          "  - name: jump-to-bastion\n    from: admins\n    to: bastions\n    services: [tcp/22]\n    owner: it@example.com\n    justification: test\n" +
            "  - name: bastion-to-console\n    from: bastions\n    to: console\n    services: [tcp/8443]\n    owner: it@example.com\n    justification: test\n" +
            "  - name: no-workstation-to-console",
        )
        .replace("    to: console\n    services: [tcp/443]", "    to: bastions\n    services: [tcp/443]"),
    );
    const r = check(text);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(
      'corp-workstations → jump-host by "workstations-reach-jump" (tcp/22), ' +
        'jump-host → bastion by "admins-manage-console" (tcp/443), ' +
        'bastion → backup-console by "bastion-to-console" (tcp/8443)',
    );
    expect(r.errors[0]).toContain("through: [admins, bastions]");
  });

  it("rejects reach and through where they mean nothing, naming the field", () => {
    const onAllow = check(
      BASE.replace(
        "    services: [tcp/22]\n",
        "    services: [tcp/22]\n    reach: any\n    through: [admins]\n",
      ),
    );
    expect(onAllow.errors.join("\n")).toContain(
      'paths[0].reach (path "workstations-reach-jump"): reach applies to forbid paths only',
    );
    expect(onAllow.errors.join("\n")).toContain("paths[0].through");
    const direct = check(variant(["through: [admins]"]));
    expect(direct.errors.join("\n")).toContain("through applies to forbid paths with reach: any only");
    const peer = check(variant(["reach: any", "through: [corp-workstations]"]));
    expect(peer.errors.join("\n")).toContain("paths[2].through[0]");
    expect(peer.errors.join("\n")).toContain('"corp-workstations" is a peer: peers never pivot');
    const typo = check(variant(["reach: any", "through: [admin]"]));
    expect(typo.errors.join("\n")).toContain('"admin" is not a segment');
    expect(typo.errors.join("\n")).toContain('did you mean "admins"?');
    const empty = check(variant(["reach: any", "through: []"]));
    expect(empty.errors.join("\n")).toContain("through is empty");
    const bad = check(variant(["reach: everywhere"]));
    expect(bad.errors.join("\n")).toContain("paths[2].reach");
    expect(bad.errors.join("\n")).toContain('use one of "direct", "any"');
  });

  it("blastradius check exits 2 on the chain and 0 with the chokepoint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blastradius-chain-"));
    const bad = join(dir, "bad.yaml");
    const good = join(dir, "good.yaml");
    writeFileSync(bad, variant(["reach: any"]));
    writeFileSync(good, variant(["reach: any", "through: [admins]"]));
    const io = captureIo();
    expect(await run(["check", bad], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain("workstations-reach-jump");
    expect(await run(["check", good], captureIo())).toBe(0);
  });

  it("the backup-blast-radius template: its jump-host chain passes only through the accepted chokepoint", () => {
    const file = join(__dirname, "..", "..", "stacks", "backup-blast-radius", "policy.yaml");
    const text = readFileSync(file, "utf8");
    expect(check(text).errors).toEqual([]);
    expect(text).toContain("through: [admins]");
    const r = check(text.replace(/\n {4}through: \[admins\][^\n]*/, ""));
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(
      'corp-workstations → jump-host by "workstations-reach-jump-host" (tcp/22), jump-host → backup-console by "admins-manage-backups"',
    );
  });

  it("the builder writes the same fields as the file", () => {
    const p = new PolicyBuilder("jump-chain");
    p.workload("jump-host", {
      labels: { role: "admin-jump" },
      placements: { aws: { vpc: "backup", cidrs: ["10.50.0.10/32"] } },
      pivot: true,
    });
    p.workload("backup-console", {
      labels: { role: "backup-console" },
      placements: { aws: { vpc: "backup", cidrs: ["10.50.1.0/28"] } },
    });
    const admins = p.segment("admins", { matchLabels: { role: "admin-jump" } });
    const console = p.segment(
      "console",
      { matchLabels: { role: "backup-console" } },
      { critical: true, pivot: false },
    );
    const ws = p.peer("corp-workstations", ["10.200.0.0/16"]);
    const meta = { owner: "o@example.com", justification: "test" };
    p.allow("workstations-reach-jump", ws, admins, [Service.tcp(22)], meta);
    p.allow("admins-manage-console", admins, console, [Service.tcp(443)], meta);
    p.forbid("no-workstation-to-console", ws, console, { ...meta, reach: "any", through: [admins] });
    const doc = p.toDocument();
    expect(doc.segments?.console).toEqual({
      matchLabels: { role: "backup-console" },
      critical: true,
      pivot: false,
    });
    expect(doc.workloads?.[0]?.pivot).toBe(true);
    expect(doc.paths?.[2]).toMatchObject({ reach: "any", through: ["admins"] });
    const r = checkPolicyText(JSON.stringify(doc));
    expect(r.ok).toBe(true);
    const policy = r.plan!.policy;
    expect(policy.segments.find((s) => s.name === "console")).toMatchObject({ critical: true, pivot: false });
    expect(policy.paths[2]).toMatchObject({ reach: "any", through: ["admins"] });
    expect(policy.paths[0]!.reach).toBe("direct");
    // Without the chokepoint, the builder's document fails like the file.
    const again = p.toDocument();
    delete (again.paths![2] as { through?: string[] }).through;
    expect(checkPolicyText(JSON.stringify(again)).ok).toBe(false);
  });
});
