import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Packet } from "../../../lib";

/**
 * A throw-away Open vSwitch: ovsdb-server and ovs-vswitchd with the dummy datapath (no kernel
 * module), every socket, database, pid and log file in one temporary directory.
 */

const BINARIES = [
  "ovsdb-tool",
  "ovsdb-server",
  "ovs-vswitchd",
  "ovs-vsctl",
  "ovs-ofctl",
  "ovs-appctl",
  "openssl",
];
const SCHEMAS = [
  "/usr/share/openvswitch/vswitch.ovsschema",
  "/usr/local/share/openvswitch/vswitch.ovsschema",
];
const SBIN = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"];

function which(bin: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(":"), ...SBIN]) {
    const p = join(dir, bin);
    if (dir !== "" && existsSync(p)) return p;
  }
  return undefined;
}

/** Undefined when Open vSwitch can run here; else why not. */
export function ovsMissing(): string | undefined {
  const missing = BINARIES.filter((b) => which(b) === undefined);
  if (missing.length > 0)
    return `Open vSwitch is not installed (missing ${missing.join(", ")}; apt-get install openvswitch-switch)`;
  if (!SCHEMAS.some((s) => existsSync(s))) return "the Open vSwitch schema vswitch.ovsschema is missing";
  return undefined;
}

export interface OvsSandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  bridge: string;
  /** Runs an OVS tool in the sandbox; throws with its stderr on failure. */
  run(bin: string, args: string[]): string;
  /** The switch's verdict on one packet entering on `inPort` (ofproto/trace with --ct-next). */
  trace(inPort: string, packet: Packet, ct: "new" | "est"): { verdict: "allow" | "deny"; output: string };
  /** The same, without blocking: many traces can run side by side. */
  traceAsync(inPort: string, packet: Packet, ct: "new" | "est"): Promise<"allow" | "deny">;
  /** Our flows (or all) as `ovs-ofctl --no-stats dump-flows` prints them. */
  dump(filter?: string): string[];
  stop(): void;
}

/** Datapath actions with conntrack/recirculation removed: any port left means the packet is forwarded. */
export function forwards(datapathActions: string): boolean {
  const rest = datapathActions
    .replace(/ct\([^)]*\)/g, "")
    .replace(/recirc\([^)]*\)/g, "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s !== "drop");
  return rest.length > 0;
}

/** The switch's verdict: the last "Datapath actions:" line of a trace (after the conntrack recirculation). */
function verdictOf(out: string): "allow" | "deny" {
  const lines = out.split("\n").filter((l) => l.startsWith("Datapath actions:"));
  const last = lines[lines.length - 1];
  if (last === undefined) throw new Error(`ofproto/trace printed no datapath actions:\n${out}`);
  return forwards(last.slice("Datapath actions:".length)) ? "allow" : "deny";
}

export function ovsMatch(inPort: string, p: Packet): string {
  const v6 = p.family === 6;
  const src = v6 ? `ipv6_src=${p.src}` : `nw_src=${p.src}`;
  const dst = v6 ? `ipv6_dst=${p.dst}` : `nw_dst=${p.dst}`;
  const parts = [`in_port=${inPort}`];
  if (p.protocol === 6) parts.push(v6 ? "tcp6" : "tcp");
  else if (p.protocol === 17) parts.push(v6 ? "udp6" : "udp");
  else if (p.protocol === 132) parts.push(v6 ? "sctp6" : "sctp");
  else if (!v6 && p.protocol === 1) parts.push("icmp", "icmp_type=8", "icmp_code=0");
  else if (v6 && p.protocol === 58) parts.push("icmp6", "icmp_type=128", "icmp_code=0");
  else parts.push(v6 ? "ipv6" : "ip", `nw_proto=${p.protocol}`);
  parts.push(src, dst, "nw_ttl=64");
  // ofproto/trace wants the protocol's own port fields (tcp_dst, udp_dst, sctp_dst).
  const l4 = p.protocol === 6 ? "tcp" : p.protocol === 17 ? "udp" : "sctp";
  if (p.port !== undefined) parts.push(`${l4}_src=40000`, `${l4}_dst=${p.port}`);
  return parts.join(",");
}

export function startOvs(bridge: string, ports: string[]): OvsSandbox {
  const dir = mkdtempSync(join(tmpdir(), "br-ovs-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_LOGDIR: dir,
    OVS_DBDIR: dir,
    OVS_SYSCONFDIR: dir,
    PATH: `${process.env.PATH ?? ""}:${SBIN.join(":")}`,
  };
  const run = (bin: string, args: string[]): string => {
    const r = spawnSync(bin, args, { env, cwd: dir, encoding: "utf8" });
    if (r.status !== 0)
      throw new Error(`${bin} ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.error ?? ""}`);
    return r.stdout;
  };
  const db = join(dir, "conf.db");
  const sock = `unix:${join(dir, "db.sock")}`;
  const stop = () => {
    for (const name of ["ovs-vswitchd", "ovsdb-server"]) {
      const pidfile = join(dir, `${name}.pid`);
      if (!existsSync(pidfile)) continue;
      const pid = Number(readFileSync(pidfile, "utf8").trim());
      if (!Number.isInteger(pid) || pid <= 0) continue;
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        execFileSync("sleep", ["0.05"]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run("ovsdb-tool", ["create", db, SCHEMAS.find((s) => existsSync(s))!]);
    run("ovsdb-server", ["--detach", "--no-chdir", "--pidfile", "--log-file", `--remote=p${sock}`, db]);
    run("ovs-vsctl", [`--db=${sock}`, "--no-wait", "init"]);
    run("ovs-vswitchd", [
      "--enable-dummy",
      "--disable-system",
      "--detach",
      "--no-chdir",
      "--pidfile",
      "--log-file",
      sock,
    ]);
    const args = [`--db=${sock}`, "add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=dummy"];
    ports.forEach((p, i) => {
      args.push(
        "--",
        "add-port",
        bridge,
        p,
        "--",
        "set",
        "Interface",
        p,
        "type=dummy",
        `ofport_request=${i + 1}`,
      );
    });
    run("ovs-vsctl", args);
  } catch (e) {
    stop();
    throw e;
  }
  return {
    dir,
    env,
    bridge,
    run,
    stop,
    dump: (filter) =>
      run("ovs-ofctl", ["--no-stats", "--names", "dump-flows", bridge, ...(filter ? [filter] : [])])
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.startsWith("NXST_FLOW")),
    trace: (inPort, packet, ct) => {
      const out = run("ovs-appctl", [
        "ofproto/trace",
        bridge,
        ovsMatch(inPort, packet),
        "--ct-next",
        `trk,${ct}`,
      ]);
      return { verdict: verdictOf(out), output: out };
    },
    traceAsync: (inPort, packet, ct) =>
      new Promise((resolve, reject) => {
        const args = ["ofproto/trace", bridge, ovsMatch(inPort, packet), "--ct-next", `trk,${ct}`];
        execFile("ovs-appctl", args, { env, cwd: dir, encoding: "utf8" }, (err, stdout, stderr) => {
          if (err) reject(new Error(`ovs-appctl ${args.join(" ")} failed: ${stderr}`));
          else {
            try {
              resolve(verdictOf(stdout));
            } catch (e) {
              reject(e);
            }
          }
        });
      }),
  };
}
