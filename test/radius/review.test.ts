import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/program";
import { loadPolicy } from "../../components/policy-file";
import { noForbiddenPathPolicy } from "../../components/policypack";
import { runStackDir } from "../../components/runner";
import type { RadiusJson, ReviewDiff, ReviewJson } from "../../lib";
import { captureIo } from "../cli/capture";
import { gate, ROOT } from "../support/gate";

/**
 * A valid policy whose jump host is the accepted chokepoint of a reach: any forbid; in stack
 * "leaky" the program adds an ssh rule outside the library that opens workstation → reporting →
 * console, around the jump host. Stack "clean" is the same program without it.
 */
const STACK = join(ROOT, "test", "fixtures", "stacks", "two-hop-aws");
const tmp = () => mkdtempSync(join(tmpdir(), "blastradius-radius-"));
const readJson = <T>(file: string) => JSON.parse(readFileSync(file, "utf8")) as T;

async function review(stack: "leaky" | "clean", dir: string) {
  const io = captureIo();
  const json = join(dir, `${stack}.json`);
  const markdown = join(dir, `${stack}.md`);
  const code = await run(["review", STACK, "--stack", stack, "--json", json, "--markdown", markdown], io);
  return { code, io, json, review: readJson<ReviewJson>(json), markdown: readFileSync(markdown, "utf8") };
}

describe("a rule outside the library that opens a two-hop chain", () => {
  it("fails the review (exit 1) with the chain as the witness and the hand-added rule as the cut", async () => {
    const { code, io, review: r, markdown } = await review("leaky", tmp());
    expect(code).toBe(1);
    expect(r.ok).toBe(false);
    // The direct forbid holds on AWS: only the chain is open.
    expect(r.forbidden.map((f) => f.status)).toEqual(["blocked"]);
    expect(r.chains).toHaveLength(1);
    const [c] = r.chains!;
    expect(c).toMatchObject({ path: "no-workstation-to-console", mode: "enforce", status: "open" });
    expect(c!.chain).toEqual([
      {
        from: "corp-workstations",
        to: "reporting",
        path: null,
        packet: { src: "10.200.0.1", dst: "10.50.3.1", protocol: "tcp", port: 22 },
        decidedBy: { aws: "hand-added-ssh-to-reporting" },
      },
      {
        from: "reporting",
        to: "backup-console",
        path: "reporting-reads-console",
        packet: { src: "10.50.3.1", dst: "10.50.1.1", protocol: "tcp", port: 443 },
        decidedBy: { aws: expect.stringMatching(/reporting-reads-console/) },
      },
    ]);
    expect(c!.cut!.map((h) => [h.from, h.to, h.path, h.decidedBy.aws])).toEqual([
      ["corp-workstations", "reporting", null, "hand-added-ssh-to-reporting"],
    ]);
    expect(io.stdout.join("\n")).toMatch(
      /no-workstation-to-console\s+enforce\s+OPEN\s+corp-workstations ⇢ reporting → backup-console/,
    );
    expect(io.stdout.join("\n")).toContain("0 chain checks blocked, 1 open");
    expect(markdown).toContain(
      "| no-workstation-to-console | enforce | **OPEN** | corp-workstations ⇢ reporting → backup-console |",
    );
    expect(markdown).toContain(
      "- corp-workstations → reporting: change the live rule hand-added-ssh-to-reporting",
    );
    // The crown jewel's blast radius, drawn.
    expect(markdown).toContain("#### Critical segment `console`");
    expect(markdown).toMatch(/```mermaid\nflowchart LR\n {2}n0\[\["backup-console"\]\]/);
  });

  it("the same program without the rule passes", async () => {
    const { code, review: r } = await review("clean", tmp());
    expect(code).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.chains).toEqual([{ path: "no-workstation-to-console", mode: "enforce", status: "blocked" }]);
  });

  it("fails the gate and the policy pack the same way", async () => {
    const { failures } = await gateOn("leaky");
    expect(failures).toEqual([
      expect.stringMatching(
        /^forbid "no-workstation-to-console" \(reach: any\) is open through corp-workstations → reporting \(hand-added-ssh-to-reporting\), reporting → backup-console \(reporting-reads-console\)$/,
      ),
    ]);
    expect((await gateOn("clean")).failures).toEqual([]);
    expect(await packViolations("leaky")).toEqual([
      expect.stringMatching(
        /^forbidden path "no-workstation-to-console" \(reach: any\) is open through a chain of 2 hops: corp-workstations → reporting .* \(no allow path: hand-added-ssh-to-reporting\); reporting → backup-console .*; closing corp-workstations → reporting disconnects it$/,
      ),
    ]);
    expect(await packViolations("clean")).toEqual([]);
  });

  it("shows in the diff as an opened chain (failing, like an opened path) and a grown blast radius (failing with --fail-on grown)", async () => {
    const dir = tmp();
    const before = (await review("clean", dir)).json;
    const after = (await review("leaky", dir)).json;
    const io = captureIo();
    const out = join(dir, "diff.json");
    // The default, --fail-on opened: an enforce forbid's chain opened fails like an opened path.
    expect(await run(["diff", before, after, "--json", out], io)).toBe(1);
    expect(io.stderr.join("\n")).toContain(
      'forbidden path "no-workstation-to-console" (reach: any) opened: corp-workstations ⇢ reporting → backup-console',
    );
    expect(io.stderr.join("\n")).not.toContain("blast radius");
    const d = readJson<ReviewDiff>(out);
    expect(d.chainsOpened).toEqual([
      {
        path: "no-workstation-to-console",
        mode: "enforce",
        chain: "corp-workstations ⇢ reporting → backup-console",
      },
    ]);
    expect(d.radiusGrown).toEqual([
      { name: "corp-workstations", kind: "peer", old: 2, new: 3, critical: [], peers: [] },
    ]);
    expect(io.stdout.join("\n")).toContain('GREW blast radius of peer "corp-workstations": 2 → 3 workloads');
    const grown = captureIo();
    expect(await run(["diff", before, after, "--fail-on", "grown"], grown)).toBe(1);
    expect(grown.stderr.join("\n")).toContain(
      'blast radius of peer "corp-workstations" grew: 2 → 3 workloads',
    );
    expect(grown.stderr.join("\n")).not.toContain("(reach: any) opened");
    expect(await run(["diff", before, after, "--fail-on", "never"], captureIo())).toBe(0);
    // Back again: closed and shrunk, which fails nothing.
    const back = captureIo();
    expect(await run(["diff", after, before, "--fail-on", "opened,grown", "--json", out], back)).toBe(0);
    expect(readJson<ReviewDiff>(out)).toMatchObject({
      chainsClosed: [{ path: "no-workstation-to-console", mode: "enforce" }],
      radiusShrunk: [{ name: "corp-workstations", kind: "peer", old: 3, new: 2 }],
    });
  });
});

describe("blastradius radius", () => {
  it("writes exactly the JSON contract, sorted by hops then name", async () => {
    const dir = tmp();
    const json = join(dir, "r.json");
    const markdown = join(dir, "r.md");
    const io = captureIo();
    expect(
      await run(
        [
          "radius",
          STACK,
          "--stack",
          "leaky",
          "--from",
          "corp-workstations",
          "--json",
          json,
          "--markdown",
          markdown,
        ],
        io,
      ),
    ).toBe(0);
    const r = readJson<RadiusJson>(json);
    expect(Object.keys(r)).toEqual(["from", "reached"]);
    expect(r.from).toBe("corp-workstations");
    expect(r.reached.map((x) => [x.name, x.kind, x.hops])).toEqual([
      ["jump-host", "workload", 1],
      ["reporting", "workload", 1],
      ["backup-console", "workload", 2],
    ]);
    for (const x of r.reached) {
      expect(Object.keys(x)).toEqual(["name", "kind", "hops", "chain"]);
      expect(x.chain).toHaveLength(x.hops);
      for (const h of x.chain) expect(Object.keys(h)).toEqual(["from", "to", "path", "packet", "decidedBy"]);
    }
    expect(r.reached[1]!.chain[0]).toMatchObject({ to: "reporting", path: null });
    expect(io.stdout.join("\n")).toContain("reaches 3 workloads and 0 peers");
    expect(io.stdout.join("\n")).toContain("corp-workstations ⇢ reporting");
    expect(readFileSync(markdown, "utf8")).toContain("```mermaid");
  });

  it("exits 1 when --to is reached, 0 when it is not, 2 on a bad name or --hops", async () => {
    expect(
      await run(
        ["radius", STACK, "--stack", "leaky", "--from", "corp-workstations", "--to", "console"],
        captureIo(),
      ),
    ).toBe(1);
    expect(
      await run(
        ["radius", STACK, "--stack", "leaky", "--from", "backup-console", "--to", "console"],
        captureIo(),
      ),
    ).toBe(0);
    const bad = captureIo();
    expect(await run(["radius", STACK, "--stack", "leaky", "--from", "reportin"], bad)).toBe(2);
    expect(bad.stderr.join("\n")).toContain('did you mean "reporting"?');
    const hops = captureIo();
    expect(
      await run(["radius", STACK, "--stack", "leaky", "--from", "reporting", "--hops", "two"], hops),
    ).toBe(2);
    expect(hops.stderr.join("\n")).toContain("--hops two: give a whole number of hops");
    const missing = captureIo();
    expect(await run(["radius", join(STACK, "nope.yaml"), "--from", "reporting"], missing)).toBe(2);
    expect(await run(["radius", STACK, "--stack", "leaky"], captureIo())).toBe(2);
  });
});

const gateOn = (stack: string) => gate("test/fixtures/stacks/two-hop-aws", { stack });

async function packViolations(stack: string): Promise<string[]> {
  const { resources } = await runStackDir(STACK, { stack });
  const violations: string[] = [];
  noForbiddenPathPolicy({ plan: loadPolicy(join(STACK, "policy.yaml")) }).validateStack(
    {
      resources: resources.map(
        (r) =>
          ({
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: { ...r.inputs, ...(r.id ? { id: r.id } : {}) },
          }) as unknown as PolicyResource,
      ),
      getConfig: <T extends object>() => ({}) as T,
      stackTags: new Map(),
      notApplicable: () => {
        throw new Error("n/a");
      },
    } as StackValidationArgs,
    (message) => violations.push(message),
  );
  return violations;
}
