import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../../bench/generate";
import { AGENT_PATH, BlueFieldSegmentation } from "../../../components/bluefield";
import { bluefieldModule } from "../../../components/bluefield/module";
import { type RecordedResource, runProgram } from "../../../components/runner";
import { prove } from "../../../lib";
import { readBundleSections, renderBlueField } from "../../../lib/targets/bluefield";
import {
  AGENT,
  DUAL_STACK,
  evaluatorOf,
  FLAGSHIP,
  flowsOf,
  K8S_AGENT,
  KEY,
  newSigningKey,
  planOf,
  planOfDocument,
  runBlueField,
} from "./helpers";

const CM = "kubernetes:core/v1:ConfigMap";
const DS = "kubernetes:apps/v1:DaemonSet";
const TYPE = "blastradius:bluefield:BlueFieldSegmentation";

type Rec = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Rec | undefined)?.[k], o);

function verifies(manifest: string, signature: string, publicPem: string): boolean {
  return verify(
    null,
    Buffer.from(manifest),
    createPublicKey(publicPem),
    Buffer.from(signature.trim(), "base64"),
  );
}

describe("BlueFieldSegmentation in kubernetes mode (flagship)", () => {
  const plan = planOf(FLAGSHIP);

  it("records one signed rule-set ConfigMap per DPU, the agent ConfigMap and a DaemonSet pinned to the DPUs", async () => {
    const { resources, outputs } = await runBlueField(plan);
    const component = resources.find((r) => r.type === TYPE)!;
    expect(component.name).toBe("seg");
    const children = resources.filter((r) => r.custom);
    expect(children.map((r) => `${r.type} ${r.name}`)).toEqual([
      `${CM} seg-agent`,
      `${CM} seg-rules-gpu-01`,
      `${CM} seg-rules-gpu-02`,
      `${DS} seg-agent`,
    ]);
    for (const c of children) expect(c.parent).toBe(component.urn);

    const agentCm = children[0]!;
    expect(get(agentCm.inputs, "data", "blastradius-agent")).toBe(readFileSync(AGENT, "utf8"));
    expect(get(agentCm.inputs, "data", "signing-key.pub")).toBe(KEY.publicPem);

    const rendered = renderBlueField(plan);
    for (const [i, host] of ["gpu-01", "gpu-02"].entries()) {
      const cm = children[i + 1]!;
      const data = cm.inputs.data as Record<string, string>;
      expect(data["rules.flows"]).toBe(rendered[i]!.flows);
      expect(get(cm.inputs, "metadata", "annotations", "blastradius.io/dpu-host")).toBe(host);
      expect(get(cm.inputs, "metadata", "labels", "blastradius.io/policy")).toBe("ai-platform");
      expect(get(cm.inputs, "metadata", "namespace")).toBe("dpu-system");
      expect(data["rules.manifest"]).toContain(`host=${host}\n`);
      expect(data["rules.manifest"]).toContain(`sha256=${rendered[i]!.digest}\n`);
      expect(data["rules.manifest"]).toContain(`flows=${rendered[i]!.flowCount}\n`);
      expect(verifies(data["rules.manifest"]!, data["rules.manifest.sig"]!, KEY.publicPem)).toBe(true);
      expect(verifies(data["rules.manifest"]!, data["rules.manifest.sig"]!, newSigningKey().publicPem)).toBe(
        false,
      );
    }
    expect(outputs.digests).toEqual({ "gpu-01": rendered[0]!.digest, "gpu-02": rendered[1]!.digest });

    const ds = children[3]!.inputs;
    expect(
      get(
        ds,
        "spec",
        "template",
        "spec",
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
      ),
    ).toEqual({
      nodeSelectorTerms: [
        {
          matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["gpu-01", "gpu-02"] }],
        },
      ],
    });
    expect(get(ds, "spec", "template", "metadata", "annotations", "blastradius.io/rules-digest")).toMatch(
      /^[0-9a-f]{64}$/,
    );
    const pod = get(ds, "spec", "template", "spec") as Rec;
    expect(pod.hostNetwork).toBe(true);
    const container = (pod.containers as Rec[])[0]!;
    expect(container.image).toBe(K8S_AGENT.image);
    expect(container.command).toEqual(["/bin/sh", "/opt/blastradius/agent/blastradius-agent", "run"]);
    expect(container.env).toContainEqual({
      name: "BLASTRADIUS_BUNDLE_DIR",
      value: "/etc/blastradius/rules/$(NODE_NAME)",
    });
    const volumes = pod.volumes as Rec[];
    expect(volumes).toContainEqual({
      name: "ovs-run",
      hostPath: { path: "/var/run/openvswitch", type: "Directory" },
    });
    const projected = volumes.find((v) => v.name === "rules")!;
    expect(get(projected, "projected", "sources")).toEqual(
      ["gpu-01", "gpu-02"].map((h) => ({
        configMap: {
          name: `seg-rules-${h}`,
          items: ["rules.flows", "rules.manifest", "rules.manifest.sig"].map((k) => ({
            key: k,
            path: `${h}/${k}`,
          })),
        },
      })),
    );
  });

  it("proves the flagship from the recorded resources: every enforce forbid blocked, every allow open", async () => {
    const { resources } = await runBlueField(plan);
    const proof = prove(plan, [evaluatorOf(resources, plan)]);
    expect(proof.ok).toBe(true);
    expect(proof.forbidden.map((f) => [f.path, f.status])).toEqual([
      ["no-workstation-to-training", "blocked"],
      ["no-training-exfiltration", "blocked"],
    ]);
    expect(proof.forbidden[0]!.by).toMatch(
      /^gpu-01: table=72 priority=31000 .*\[path no-workstation-to-training\]$/,
    );
    expect(proof.allowed.map((a) => [a.path, a.status])).toEqual([
      ["training-reads-datalake", "open"],
      ["training-publishes-models", "open"],
    ]);
  });

  it("a change to one rule set rolls the DaemonSet (pod-template digest), the same input does not", async () => {
    const a = await runBlueField(plan);
    const b = await runBlueField(plan);
    const digest = (rs: RecordedResource[]) =>
      get(
        rs.find((r) => r.type === DS)!.inputs,
        "spec",
        "template",
        "metadata",
        "annotations",
        "blastradius.io/rules-digest",
      );
    expect(digest(b.resources)).toBe(digest(a.resources));
    const c = await runBlueField(plan, { options: { zone: 7 } });
    expect(digest(c.resources)).not.toBe(digest(a.resources));
  });
});

describe("BlueFieldSegmentation proofs over more policies", () => {
  it("dual-stack: IPv6, port ranges, two representors, peers, internet, monitor and cross-target paths", async () => {
    const plan = planOf(DUAL_STACK);
    const { resources } = await runBlueField(plan);
    const ev = evaluatorOf(resources, plan);
    const proof = prove(plan, [ev]);
    expect(proof.ok).toBe(true);
    const status = Object.fromEntries(proof.forbidden.map((f) => [f.path, f.status]));
    expect(status).toEqual({
      "no-partner-to-gpus": "blocked",
      "no-storage-to-internet": "blocked",
      "no-admin-to-gpus": "blocked",
      "gpus-to-internet-monitored": "blocked",
    });
    expect(proof.allowed.every((a) => a.status === "open")).toBe(true);
    expect(proof.allowed.map((a) => a.path)).toContain("scheduler-controls-gpus");
    const flows = flowsOf(resources, "dpu-a");
    expect(flows).toContain("ipv6,in_port=pf0vf0,ipv6_src=fd00:50:2::/64,actions=ct(table=70,zone=45477)");
    // tcp/10250-10259 as exact masked blocks: 10250-10251, 10252-10255, 10256-10259. In the ingress
    // policy table, where the destination (every IPv6 address of dpu-a) goes without saying.
    const blocks = flows
      .split("\n")
      .filter((l) => l.startsWith("add table=73,") && l.includes("tcp6,ipv6_src=fd00:70::/64,tp_dst="))
      .map((l) => /tp_dst=([^,]+)/.exec(l)![1]);
    expect(blocks).toEqual(["22", "0x280a/0xfffe", "0x280c/0xfffc", "0x2810/0xfffc"]);
    // The scheduler (AWS) reaches the GPUs over IPv6 and IPv4, 10250-10259 exactly.
    const sched = { family: 6 as const, src: "fd00:70::5", dst: "fd00:50:1::9", protocol: 6 };
    const party = (n: string) => plan.parties.find((p) => p.name === n)!;
    for (const [port, verdict] of [
      [10249, "deny"],
      [10250, "allow"],
      [10259, "allow"],
      [10260, "deny"],
    ] as const)
      expect(ev.decide(party("scheduler"), party("gpu-a"), { ...sched, port }).verdict).toBe(verdict);
  });

  it("ssh mode: CopyFile of the agent and an install Command piping key and bundle; proven from those records", async () => {
    const plan = planOf(DUAL_STACK);
    const connections = {
      "dpu-a": { host: "192.0.2.10", user: "ubuntu", privateKey: pulumi.secret("k") },
      "dpu-b": { host: "192.0.2.11", user: "ubuntu", privateKey: pulumi.secret("k") },
    };
    const { resources } = await runBlueField(plan, { agent: { mode: "ssh", connections } });
    const custom = resources.filter((r) => r.custom).sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(custom.map((r) => `${r.type} ${r.name}`)).toEqual([
      "command:remote:CopyFile seg-dpu-a-agent",
      "command:remote:Command seg-dpu-a-install",
      "command:remote:CopyFile seg-dpu-b-agent",
      "command:remote:Command seg-dpu-b-install",
    ]);
    const copy = custom[0]!.inputs;
    expect(copy.localPath).toBe(AGENT_PATH);
    // Staged in the SSH user's home, never at a predictable path in world-writable /tmp.
    expect(copy.remotePath).toMatch(/^\.blastradius-agent-[0-9a-f]{12}$/);
    expect(get(copy, "connection", "host")).toBe("192.0.2.10");
    const install = custom[1]!.inputs;
    expect(install.create).toContain(
      "/usr/local/sbin/blastradius-agent' provision --host 'dpu-a' --interval 30",
    );
    // The hash is checked on a private copy before install, and install reads only that copy.
    const lines = String(install.create).split("\n");
    const check = lines.findIndex((l) => l.includes('sha256sum "$private/blastradius-agent"'));
    const inst = lines.findIndex((l) => l.includes("install -D -m 0755"));
    expect(check).toBeGreaterThan(0);
    expect(inst).toBeGreaterThan(check);
    expect(lines[inst]).toContain('"$private/blastradius-agent"');
    expect(install.delete).toContain("systemctl disable --now blastradius-agent.service");
    const sections = readBundleSections(install.stdin as string);
    expect([...sections.keys()]).toEqual([
      "signing-key.pub",
      "rules.manifest",
      "rules.manifest.sig",
      "rules.flows",
    ]);
    expect(sections.get("signing-key.pub")).toBe(KEY.publicPem);
    expect(sections.get("rules.flows")).toBe(renderBlueField(plan)[0]!.flows);
    expect(
      verifies(sections.get("rules.manifest")!, sections.get("rules.manifest.sig")!, KEY.publicPem),
    ).toBe(true);
    expect(install.triggers).toEqual([
      renderBlueField(plan)[0]!.digest,
      expect.stringMatching(/^[0-9a-f]{64}$/),
    ]);
    expect(prove(plan, [evaluatorOf(resources, plan)]).ok).toBe(true);
  });
});

describe("a broken rendering fails the proof with a witness naming the rule", () => {
  const plan = planOf(FLAGSHIP);

  it("an extra permissive flow (foreign cookie, so our rule set does not delete it) opens the forbid it overrides", async () => {
    const extra = [
      "add table=72,priority=32000,cookie=0x99,ct_state=-rpl+trk,tcp,nw_src=10.200.0.0/16,nw_dst=10.10.1.0/24,tp_dst=22,actions=NORMAL",
      "",
    ].join("\n");
    const { resources } = await runBlueField(plan, {}, () => {
      new (require("@pulumi/kubernetes").core.v1.ConfigMap)("hotfix-gpu-01", {
        metadata: {
          name: "hotfix",
          labels: { "blastradius.io/target": "bluefield" },
          annotations: { "blastradius.io/dpu-host": "gpu-01" },
        },
        data: { "rules.flows": extra },
      });
    });
    const proof = prove(plan, [evaluatorOf(resources, plan)]);
    expect(proof.ok).toBe(false);
    const open = proof.forbidden.find((f) => f.path === "no-workstation-to-training")!;
    expect(open.status).toBe("open");
    expect(open.open).toBe("tcp/22");
    expect(open.witness).toMatchObject({ src: "10.200.0.1", dst: "10.10.1.1", protocol: "tcp", port: 22 });
    expect(open.by).toBe(
      "gpu-01: table=72 priority=32000 ct_state=-rpl+trk,tcp,nw_src=10.200.0.0/16,nw_dst=10.10.1.0/24,tp_dst=22 actions=NORMAL",
    );
  });

  it("a dropped allow flow breaks the path, naming the default drop that now decides", async () => {
    const { resources } = await runBlueField(plan);
    const dropped = resources.map((r) => {
      if (r.type !== CM || !get(r.inputs, "data", "rules.flows")) return r;
      const data = { ...(r.inputs.data as Record<string, string>) };
      data["rules.flows"] = data["rules.flows"]!.split("\n")
        .filter((l) => !(l.startsWith("add table=71") && l.includes("nw_dst=10.20.0.0/20")))
        .join("\n");
      delete data["rules.manifest"];
      return { ...r, inputs: { ...r.inputs, data } };
    });
    const proof = prove(plan, [evaluatorOf(dropped, plan)]);
    expect(proof.ok).toBe(false);
    expect(proof.allowed.find((a) => a.path === "training-reads-datalake")).toMatchObject({
      status: "broken",
      missing: "tcp/443",
      by: "gpu-01: table=71 priority=0 actions=drop",
    });
  });

  it("a tampered rule set (flows no longer match the signed manifest) is refused like the agent refuses it", async () => {
    const { resources } = await runBlueField(plan);
    const tampered = resources.map((r) => {
      if (r.type !== CM || get(r.inputs, "metadata", "annotations", "blastradius.io/dpu-host") !== "gpu-01")
        return r;
      const data = { ...(r.inputs.data as Record<string, string>) };
      data["rules.flows"] = data["rules.flows"]!.replace(
        /\nadd table=72,priority=31000,[^\n]*nw_src=10\.200[^\n]*/,
        "",
      );
      return { ...r, inputs: { ...r.inputs, data } };
    });
    const ev = evaluatorOf(tampered, plan);
    expect(ev.refused).toEqual([
      { host: "gpu-01", source: "seg-rules-gpu-01", reason: expect.stringContaining("manifest sha256") },
    ]);
    // gpu-01 keeps only the bridge's NORMAL flow in this model: the forbid is open there.
    const proof = prove(plan, [ev]);
    expect(proof.forbidden.find((f) => f.path === "no-workstation-to-training")?.status).toBe("open");
  });
});

describe("bad input registers nothing", () => {
  const plan = planOf(FLAGSHIP);
  async function attempt(
    args: Record<string, unknown>,
  ): Promise<{ error: string; resources: RecordedResource[] }> {
    let error = "";
    const { resources } = await runProgram(() => {
      try {
        new BlueFieldSegmentation("seg", {
          plan,
          signingKey: KEY.privatePem,
          agent: K8S_AGENT,
          ...args,
        } as never);
      } catch (e) {
        error = (e as Error).message;
      }
    });
    return { error, resources };
  }

  it.each([
    [
      { hosts: ["gpu-09"] },
      'args.hosts names "gpu-09", which no workload is placed on (known: gpu-01, gpu-02)',
    ],
    [{ agent: { ...K8S_AGENT, image: "" } }, "args.agent.image is required"],
    [{ agent: { ...K8S_AGENT, namespace: undefined } }, "args.agent.namespace is required"],
    [
      { agent: { mode: "ssh", connections: { "gpu-01": { host: "a" } } } },
      'args.agent.connections["gpu-02"] is missing',
    ],
    [{ agent: { mode: "telnet" } }, 'args.agent.mode must be "kubernetes" or "ssh"'],
    [{ signingKey: "" }, "args.signingKey is required"],
    [{ signingKey: "not a key" }, "args.signingKey is not a PEM private key"],
    [{ options: { bridge: "br int" } }, 'options.bridge "br int" is not a valid OVS bridge name'],
    [{ options: { tables: { conntrack: 9, policy: 3 } } }, "options.tables.policy (3) must be greater"],
    [{ plan: undefined }, "args.plan is required"],
  ])("%j → %s", async (args, message) => {
    const { error, resources } = await attempt(args);
    expect(error).toContain(message);
    expect(error).toContain('BlueFieldSegmentation "seg"');
    expect(resources).toEqual([]);
  });

  it("an RSA signing key is refused, naming the argument and how to make an Ed25519 key", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    const { error, resources } = await attempt({ signingKey: rsa.toString() });
    expect(error).toContain("args.signingKey is a rsa key");
    expect(error).toContain("openssl genpkey -algorithm ed25519");
    expect(resources).toEqual([]);
  });

  it("a rule set over the flow limit is an error naming the host, the count, the limit and the largest paths", async () => {
    const { error, resources } = await attempt({ options: { maxFlowsPerHost: 50 } });
    expect(error).toMatch(
      /BlueField host "gpu-01" needs 142 flows, more than the limit of 50 \(options.maxFlowsPerHost\); the largest paths are no-training-exfiltration \(\d+\)/,
    );
    expect(resources).toEqual([]);
  });
});

describe("determinism and locality", () => {
  it("the same plan records byte-identical resources", async () => {
    const plan = planOf(DUAL_STACK);
    const a = await runBlueField(plan);
    const b = await runBlueField(plan);
    expect(JSON.stringify(b.resources)).toBe(JSON.stringify(a.resources));
  });

  it("adding one path to a 50-path policy changes only that path's flows, on the DPUs it touches", async () => {
    const doc = generatePolicy({ workloads: 100, segments: 20, paths: 50 }) as { paths: Rec[] };
    const before = planOfDocument(doc);
    const added = {
      name: "added-path",
      from: "s3",
      to: "s4",
      services: ["tcp/9443"],
      owner: "platform@example.com",
      justification: "one more",
    };
    const after = planOfDocument({ ...doc, paths: [...doc.paths, added] });
    const run = async (plan: typeof before) =>
      new Map(
        (await runBlueField(plan)).resources
          .filter((r) => r.type === CM && get(r.inputs, "data", "rules.flows"))
          .map((r) => [r.name, get(r.inputs, "data", "rules.flows") as string]),
      );
    const [a, b] = [await run(before), await run(after)];
    expect([...b.keys()]).toEqual([...a.keys()]);
    const member = new Set([...(after.members.get("s3") ?? []), ...(after.members.get("s4") ?? [])]);
    const touched = new Set(
      after.policy.workloads
        .filter((w) => member.has(w.name))
        .flatMap((w) => w.placements.bluefield?.hosts ?? []),
    );
    expect(touched.size).toBeGreaterThan(0);
    let changed = 0;
    for (const [name, flows] of a) {
      const host = name.replace(/^seg-rules-/, "");
      const next = b.get(name)!;
      if (!touched.has(host)) {
        expect(next).toBe(flows);
        continue;
      }
      changed++;
      const old = new Set(flows.split("\n"));
      const diff = next.split("\n").filter((l) => !old.has(l));
      const removed = flows.split("\n").filter((l) => !new Set(next.split("\n")).has(l));
      expect(removed.every((l) => l.startsWith("# flows "))).toBe(true);
      expect(diff.length).toBeGreaterThan(2);
      for (const l of diff)
        expect(l.startsWith("# flows ") || l.includes("added-path") || l.includes("tp_dst=9443")).toBe(true);
    }
    expect(changed).toBe(touched.size);
  });
});

describe("bluefieldModule", () => {
  it("artefacts are the exact flow files, at bluefield/<host>.flows", () => {
    const plan = planOf(FLAGSHIP);
    const files = bluefieldModule!.artefacts(plan);
    expect(files.map((f) => f.path)).toEqual(["bluefield/gpu-01.flows", "bluefield/gpu-02.flows"]);
    expect(files[0]!.content).toBe(renderBlueField(plan)[0]!.flows);
  });
});
