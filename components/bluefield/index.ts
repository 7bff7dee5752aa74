import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Plan, QuotaLimits } from "../../lib";
import {
  type BlueFieldOptions,
  type BlueFieldRuleSet,
  blueFieldHosts,
  bundleStream,
  COMPONENT_TYPE,
  CONFIGMAP_TYPE,
  checkSerial,
  ed25519PrivateKey,
  FLOWS_KEY,
  kubernetesObjects,
  publicKeyPem,
  renderBlueField,
  signRuleSet,
} from "../../lib/targets/bluefield";
import { childOptions, stackQuotas } from "../child-options";
import { bluefieldRenderOptions, targetQuotas } from "../quotas";
import { AGENT_PATH } from "./agent";

export const BLUEFIELD_SEGMENTATION_TYPE = COMPONENT_TYPE;

export { AGENT_PATH } from "./agent";

/**
 * Provision the agent as a Kubernetes DaemonSet on the DPU nodes (the pattern of NVIDIA's DOCA
 * Platform Framework services): one ConfigMap per DPU with its signed rule set, one with the agent
 * and the public key, and a DaemonSet whose pod-template annotation carries the rule-set digests, so
 * a changed rule set rolls the agents.
 */
export interface BlueFieldKubernetesAgent {
  mode: "kubernetes";
  /** Namespace (existing) for the ConfigMaps and the DaemonSet. */
  namespace: string;
  /** Agent image: needs /bin/sh, coreutils, OpenSSL 3 and ovs-ofctl (e.g. the DOCA OVS image). */
  image: string;
  /** Kubernetes node name per DPU host (default: the host name). The agent is pinned to these nodes. */
  nodeNames?: Record<string, string>;
  /** OVS run directory on the DPU, mounted for ovs-ofctl (default /var/run/openvswitch). */
  ovsRunDir?: string;
  /** Seconds between drift checks (default 30). */
  interval?: number;
  /** Kubernetes provider of the DPU cluster. */
  provider?: k8s.Provider;
}

/**
 * Provision the agent over SSH on each DPU's Arm OS: `command.remote.CopyFile` copies the agent,
 * `command.remote.Command` installs it with its public key and a systemd unit and pipes the signed
 * rule set into it; a new digest re-runs the install.
 */
export interface BlueFieldSshAgent {
  mode: "ssh";
  /** SSH connection to each DPU (its Arm OS, not the host), keyed by DPU host name. */
  connections: Record<string, command.types.input.remote.ConnectionArgs>;
  /** Seconds between drift checks (default 30). */
  interval?: number;
}

export interface BlueFieldSegmentationArgs {
  /** The compiled policy (`loadPolicy(file)` or `compilePolicy(…)`). */
  plan: Plan;
  /** Ed25519 private key (PKCS#8 PEM) that signs each rule set; pass a Pulumi secret. Never generated here. */
  signingKey: pulumi.Input<string>;
  /** DPU hosts to provision (default: every host the policy places workloads behind). */
  hosts?: string[];
  /** Bridge, tables, conntrack zone, cookie prefix and flow limit (see docs/targets/bluefield.md). */
  options?: BlueFieldOptions;
  /** How the agent reaches the DPUs: `kubernetes` (DaemonSet) or `ssh` (systemd unit). */
  agent: BlueFieldKubernetesAgent | BlueFieldSshAgent;
  /** Extra labels on the Kubernetes objects. */
  labels?: Record<string, string>;
  /**
   * The bundles' serial, signed into every manifest: a whole number that grows with each deployment
   * of changed rules (a CI build number, or a release's Unix time). Agents refuse a bundle whose
   * serial is below the one they applied, and a replayed bundle of the same serial, so an old signed
   * bundle cannot roll a DPU back. Default 0: replays of bundles an agent already replaced are still
   * refused, but a never-delivered old bundle is not; set it. Recovery to an older bundle is the
   * agent's explicit, logged override (BLASTRADIUS_ALLOW_DOWNGRADE=1).
   */
  serial?: number;
  /**
   * Raised provider limits by quota id (`bluefield.flowsPerDpu`), as `blastradius review --quota`
   * takes them; default: the stack config `blastradius:quotas`.
   */
  quotas?: QuotaLimits;
}

interface Prepared {
  ruleSets: BlueFieldRuleSet[];
  agentScript: string;
}

/** Validates the arguments and renders, before anything is registered. */
function prepare(name: string, args: BlueFieldSegmentationArgs): Prepared {
  const bad = (arg: string, why: string) => new Error(`BlueFieldSegmentation "${name}": args.${arg} ${why}`);
  if (!args || typeof args !== "object") throw bad("", "are required");
  if (!args.plan || !Array.isArray(args.plan.parties))
    throw bad("plan", "is required: pass loadPolicy(file) or compilePolicy(…)");
  if (args.signingKey === undefined || args.signingKey === null || args.signingKey === "")
    throw bad(
      "signingKey",
      "is required: an Ed25519 private key (PEM) as a Pulumi secret, e.g. config.requireSecret(…)",
    );
  if (typeof args.signingKey === "string") {
    try {
      ed25519PrivateKey(args.signingKey, "args.signingKey");
    } catch (e) {
      throw bad("signingKey", (e as Error).message.replace(/^args\.signingKey /, ""));
    }
  }
  const known = [...blueFieldHosts(args.plan).keys()];
  if (known.length === 0)
    throw bad("plan", "places no workload behind a BlueField DPU (no bluefield placements)");
  const hosts = args.hosts ?? known;
  if (!Array.isArray(hosts) || hosts.length === 0) throw bad("hosts", "must list at least one DPU host");
  for (const h of hosts)
    if (!known.includes(h))
      throw bad("hosts", `names "${h}", which no workload is placed on (known: ${known.join(", ")})`);
  const agent = args.agent;
  if (!agent || (agent.mode !== "kubernetes" && agent.mode !== "ssh"))
    throw bad("agent.mode", 'must be "kubernetes" or "ssh"');
  if (args.serial !== undefined) {
    try {
      checkSerial(args.serial, "args.serial");
    } catch (e) {
      throw bad("serial", (e as Error).message.replace(/^args\.serial /, ""));
    }
  }
  if (agent.interval !== undefined && (!Number.isInteger(agent.interval) || agent.interval < 1))
    throw bad("agent.interval", "must be a positive number of seconds");
  if (agent.mode === "kubernetes") {
    if (typeof agent.namespace !== "string" || agent.namespace === "")
      throw bad("agent.namespace", "is required");
    if (typeof agent.image !== "string" || agent.image === "")
      throw bad("agent.image", "is required: an image with sh, coreutils, OpenSSL 3 and ovs-ofctl");
    for (const h of Object.keys(agent.nodeNames ?? {}))
      if (!hosts.includes(h))
        throw bad(`agent.nodeNames["${h}"]`, "names a host this component does not provision");
  } else {
    for (const h of hosts)
      if (!agent.connections?.[h])
        throw bad(`agent.connections["${h}"]`, "is missing: the SSH connection to that DPU");
    for (const h of Object.keys(agent.connections ?? {}))
      if (!hosts.includes(h))
        throw bad(`agent.connections["${h}"]`, "names a host this component does not provision");
  }
  if (!AGENT_PATH)
    throw new Error(
      "BlueFieldSegmentation: the agent script agent/blastradius-agent is missing from the package",
    );
  const limits = bluefieldRenderOptions(
    targetQuotas("bluefield", { ...stackQuotas(), ...args.quotas }, `BlueFieldSegmentation "${name}"`),
  );
  if (limits.maxFlowsPerHost !== undefined && args.options?.maxFlowsPerHost !== undefined)
    throw bad(
      "options.maxFlowsPerHost",
      'and the quota "bluefield.flowsPerDpu" set the same limit; give it once, in args.quotas',
    );
  let ruleSets: BlueFieldRuleSet[];
  try {
    ruleSets = renderBlueField(args.plan, { ...args.options, ...limits }).filter((r) =>
      hosts.includes(r.host),
    );
  } catch (e) {
    throw bad("options", (e as Error).message);
  }
  return { ruleSets, agentScript: readFileSync(AGENT_PATH, "utf8") };
}

/** Where SSH mode stages the agent: relative, so in the SSH user's home directory (scp resolves it there). */
export function stagedAgentPath(agentDigest: string): string {
  return `.blastradius-agent-${agentDigest.slice(0, 12)}`;
}

/**
 * The SSH install command: copy the staged agent into a fresh private directory (mktemp -d, mode
 * 0700), check that copy's sha256 against the digest of the agent this package ships, install that
 * copy, then provision (which isolates the host ports before it reads the bundle). A staged file
 * that was swapped or altered is never installed.
 */
export function sshInstallScript(o: {
  staged: string;
  agentDigest: string;
  host: string;
  interval: number;
  ports: readonly string[];
  installPath?: string;
}): string {
  const target = o.installPath ?? "/usr/local/sbin/blastradius-agent";
  return [
    "set -eu",
    "umask 077",
    'SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, run remotely.
    'private=$(mktemp -d "${TMPDIR:-/tmp}/blastradius-install.XXXXXX")',
    "trap 'rm -rf \"$private\"' EXIT",
    `cp -- '${o.staged}' "$private/blastradius-agent"`,
    `have=$(sha256sum "$private/blastradius-agent" | cut -c1-64)`,
    `if [ "$have" != '${o.agentDigest}' ]; then echo "blastradius: the staged agent has sha256 $have, expected ${o.agentDigest}: not installed" >&2; exit 1; fi`,
    `$SUDO install -D -m 0755 "$private/blastradius-agent" '${target}'`,
    `$SUDO '${target}' provision --host '${o.host}' --interval ${o.interval} --ports '${o.ports.join(",")}'`,
  ].join("\n");
}

/**
 * Segments the hosts behind BlueField DPUs: renders one Open vSwitch rule set per DPU (conntrack,
 * anti-spoofing, enforce-forbid guardrails above the allows, default drop), signs it with the given
 * Ed25519 key, and provisions the blastradius agent that verifies and applies it atomically.
 */
export class BlueFieldSegmentation extends pulumi.ComponentResource {
  /** sha256 of each DPU's flow file, keyed by host: what the agent reports as applied. */
  readonly digests: Record<string, string>;
  /** Number of flows per DPU host. */
  readonly flowCounts: Record<string, number>;
  /** The public key the agents verify with (PEM). */
  readonly publicKey: pulumi.Output<string>;

  constructor(name: string, args: BlueFieldSegmentationArgs, opts?: pulumi.ComponentResourceOptions) {
    const prepared = prepare(name, args);
    super(BLUEFIELD_SEGMENTATION_TYPE, name, {}, opts);
    const { ruleSets, agentScript } = prepared;
    const policy = args.plan.policy.name;
    const key = pulumi.output(args.signingKey);
    this.publicKey = pulumi.unsecret(key.apply((k) => publicKeyPem(k)));
    this.digests = Object.fromEntries(ruleSets.map((r) => [r.host, r.digest]));
    this.flowCounts = Object.fromEntries(ruleSets.map((r) => [r.host, r.flowCount]));
    const agentDigest = createHash("sha256").update(agentScript).digest("hex");
    const serial = args.serial ?? 0;
    const signed = (r: BlueFieldRuleSet, agentHost: string) =>
      pulumi.unsecret(key.apply((k) => signRuleSet(r, k, policy, agentHost, serial)));

    if (args.agent.mode === "kubernetes") {
      const a = args.agent;
      // The objects' names are fixed (the component's name): a replacement deletes the old one first.
      const child = childOptions(this, opts, { provider: a.provider, deleteBeforeReplace: true });
      const objects = kubernetesObjects<pulumi.Output<string>>({
        name,
        policy,
        ruleSets,
        agent: a,
        agentScript,
        labels: args.labels,
        publicKey: this.publicKey,
        manifest: (r, agentHost) => signed(r, agentHost).apply((x) => x.manifest),
        signature: (r, agentHost) => signed(r, agentHost).apply((x) => x.signature),
      });
      const configMaps: pulumi.Resource[] = [];
      for (const o of objects) {
        if (o.type === CONFIGMAP_TYPE)
          configMaps.push(
            new k8s.core.v1.ConfigMap(o.name, o.inputs as unknown as k8s.core.v1.ConfigMapArgs, child),
          );
        // The DaemonSet names the ConfigMaps it mounts: it waits for them.
        else
          new k8s.apps.v1.DaemonSet(
            o.name,
            o.inputs as unknown as k8s.apps.v1.DaemonSetArgs,
            childOptions(this, opts, {
              provider: a.provider,
              deleteBeforeReplace: true,
              dependsOn: configMaps,
            }),
          );
      }
    } else {
      const a = args.agent;
      for (const r of ruleSets) {
        const connection = a.connections[r.host]!;
        // Staged in the SSH user's home (not a world-writable /tmp), then copied into a private
        // mktemp directory, its sha256 checked, and installed from that copy only.
        const staged = stagedAgentPath(agentDigest);
        const copy = new command.remote.CopyFile(
          `${name}-${r.host}-agent`,
          { connection, localPath: AGENT_PATH!, remotePath: staged, triggers: [agentDigest] },
          childOptions(this, opts),
        );
        const stdin = pulumi.all([this.publicKey, signed(r, r.host)]).apply(([pub, b]) =>
          bundleStream([
            ["signing-key.pub", pub],
            ["rules.manifest", b.manifest],
            ["rules.manifest.sig", b.signature],
            [FLOWS_KEY, b.flows],
          ]),
        );
        const sudo = 'SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"';
        new command.remote.Command(
          `${name}-${r.host}-install`,
          {
            connection,
            create: sshInstallScript({
              staged,
              agentDigest,
              host: r.host,
              interval: a.interval ?? 30,
              ports: Object.keys(r.ports).sort(),
            }),
            // Our flows stay on the bridge (fail closed); remove them with `ovs-ofctl del-flows <bridge> cookie=…`.
            delete: [sudo, "$SUDO systemctl disable --now blastradius-agent.service || true"].join("\n"),
            stdin,
            triggers: [r.digest, agentDigest],
          },
          childOptions(this, opts, { dependsOn: [copy], deleteBeforeReplace: true }),
        );
      }
    }
    this.registerOutputs({ digests: this.digests, flowCounts: this.flowCounts, publicKey: this.publicKey });
  }
}

// Reading the policy file, so that a program needs only this target's entry point.
export { checkPolicyFile, loadPolicy } from "../policy-file";
