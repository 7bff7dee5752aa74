import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/program";
import { checkPolicyText } from "../../lib";
import { captureIo } from "../cli/capture";

const dir = mkdtempSync(join(tmpdir(), "blastradius-hostile-"));
let n = 0;
function file(text: string, ext = "yaml"): string {
  const f = join(dir, `p${n++}.${ext}`);
  writeFileSync(f, text);
  return f;
}

/** A valid two-workload policy; `w` replaces the first workload's placements. */
function policy(opts: { placements?: string; segments?: string; paths?: string; extra?: string } = {}) {
  return `name: hostile
workloads:
  - name: a
    labels: { role: a }
    placements:
${opts.placements ?? "      aws: { vpc: ml, cidrs: [10.0.0.0/24] }"}
  - name: b
    labels: { role: b }
    placements:
      aws: { vpc: ml, cidrs: [10.0.1.0/24] }
segments:
${opts.segments ?? "  sa: { matchLabels: { role: a } }\n  sb: { matchLabels: { role: b } }"}
${opts.extra ?? ""}
paths:
${
  opts.paths ??
  `  - name: a-to-b
    from: sa
    to: sb
    services: [tcp/443]
    owner: o@example.com
    justification: j`
}
`;
}

async function check(text: string, ext = "yaml") {
  const f = file(text, ext);
  const io = captureIo();
  const code = await run(["check", f], io);
  return { code, f, err: io.stderr.join("\n"), out: io.text() };
}

/** Exit 2, the file:line:col of the error and every given fragment. */
async function refused(text: string, ...fragments: string[]) {
  const r = await check(text);
  expect(r.code, r.out).toBe(2);
  expect(r.err).toMatch(new RegExp(`${r.f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: error`));
  for (const f of fragments) expect(r.err).toContain(f);
  expect(r.out).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  return r;
}

describe("hostile names reach no file, resource, flow file, shell command or YAML", () => {
  it("control: the base policy is valid", async () => {
    expect((await check(policy())).code).toBe(0);
  });

  it("a VPC name that walks out of the output directory", async () => {
    await refused(
      policy({ placements: '      aws: { vpc: "../../../../tmp/elsewhere/package", cidrs: [10.0.0.0/24] }' }),
      "workloads[0].placements.aws.vpc",
      "aws.vpc",
      "is not a valid name",
    );
  });

  it("a 300-character VPC name", async () => {
    await refused(
      policy({ placements: `      aws: { vpc: ${"v".repeat(300)}, cidrs: [10.0.0.0/24] }` }),
      "aws.vpc",
      "(300 characters)",
    );
  });

  it("a NUL byte in a GCP network name", async () => {
    await refused(
      policy({
        placements:
          '      gcp: { network: "data\\0x", serviceAccount: a@p.iam.gserviceaccount.com, cidrs: [10.0.0.0/24] }',
      }),
      "workloads[0].placements.gcp.network",
      "control character",
    );
  });

  it("GCP networks are RFC 1035 names, Azure VNets Azure names, clusters and namespaces DNS labels", async () => {
    await refused(
      policy({
        placements: '      gcp: { network: "Data_Net", serviceAccount: a@p.iam.gserviceaccount.com }',
      }),
      "gcp.network",
      "RFC 1035",
    );
    await refused(
      policy({ placements: '      azure: { vnet: "core-", cidrs: [10.0.0.0/24] }' }),
      "azure.vnet",
    );
    await refused(
      policy({
        placements:
          '      kubernetes: { cluster: "a/../b", namespace: agents, podLabels: { app: x }, cidrs: [10.0.0.0/24] }',
      }),
      "kubernetes.cluster",
    );
  });

  it("a BlueField port with a newline and a host with a slash (check passed them, render crashed)", async () => {
    await refused(
      policy({
        placements:
          '      bluefield: { hosts: [gpu-01], port: "pf0hpf\\nadd drop", addresses: [10.0.0.0/24] }',
      }),
      "workloads[0].placements.bluefield.port",
      "line break",
    );
    await refused(
      policy({
        placements: '      bluefield: { hosts: ["../etc/x"], port: pf0hpf, addresses: [10.0.0.0/24] }',
      }),
      "workloads[0].placements.bluefield.hosts[0]",
      "bluefield host",
    );
    await refused(
      policy({
        placements:
          '      bluefield: { hosts: [gpu-01], port: "pf0hpf-too-long-1", addresses: [10.0.0.0/24] }',
      }),
      "bluefield.port",
      "1-15",
    );
  });
});

describe("__proto__ and friends as keys", () => {
  it("matchLabels {__proto__: x} is an error, never an empty selector that selects everything", async () => {
    await refused(
      policy({ segments: "  sa: { matchLabels: { __proto__: x } }\n  sb: { matchLabels: { role: b } }" }),
      "segments.sa.matchLabels.__proto__",
      '"__proto__" is not allowed',
    );
  });

  it("in podLabels, workload labels, placements and JSON too", async () => {
    await refused(
      policy({
        placements:
          "      kubernetes: { cluster: ai, namespace: agents, podLabels: { __proto__: x, app: y }, cidrs: [10.0.0.0/24] }",
      }),
      "podLabels.__proto__",
    );
    const json = JSON.stringify({
      name: "j",
      workloads: [
        { name: "a", labels: { role: "a" }, placements: { aws: { vpc: "v", cidrs: ["10.0.0.0/24"] } } },
      ],
      segments: { sa: { matchLabels: { role: "a" } } },
    }).replace('"labels":{', '"labels":{"__proto__":"x",');
    const r = await check(json, "json");
    expect(r.code).toBe(2);
    expect(r.err).toContain("workloads[0].labels.__proto__");
  });

  it("constructor and toString are label keys like any other: a selector on them selects nobody without them", () => {
    const r = checkPolicyText(
      policy({ segments: "  sa: { matchLabels: { constructor: x } }\n  sb: { matchLabels: { role: b } }" }),
    );
    expect(r.ok).toBe(true);
    expect(r.plan!.members.get("sa")).toEqual([]);
  });

  it("no message names [object Object], a function body or undefined", () => {
    const r = checkPolicyText(
      policy({
        placements:
          "      __proto__: {}\n      constructor: {}\n      aws: { vpc: ml, cidrs: [10.0.0.0/24] }",
      }).replace("services: [tcp/443]", "services: [tcp/443]\n    verdict: {a: 1}"),
    );
    const text = r.diagnostics.map((d) => `${d.message} ${d.hint ?? ""}`).join("\n");
    expect(r.ok).toBe(false);
    expect(text).not.toContain("[object Object]");
    expect(text).not.toContain("native code");
    expect(text).not.toMatch(/undefined|\{"a":1\}/);
    expect(text).toContain("a mapping is not allowed here");
  });
});

describe("what render used to crash on is reported by check", () => {
  it("sctp/1-65535 on AWS (AWS ignores ports of protocols other than tcp/udp)", async () => {
    await refused(
      policy().replace("services: [tcp/443]", "services: [sctp/1-65535]"),
      "paths[0].services",
      "AWS security groups cannot restrict the ports of sctp",
    );
    // Every port of sctp is what AWS can say.
    expect((await check(policy().replace("services: [tcp/443]", "services: [sctp]"))).code).toBe(0);
  });
});

describe("IPv4-mapped IPv6 addresses", () => {
  it("are refused with the IPv4 entry to write, so an allow cannot hide beside an enforced forbid", async () => {
    const r = await refused(
      policy({
        extra: 'peers:\n  legacy: { cidrs: ["::ffff:10.9.0.0/112"] }',
        paths: `  - name: legacy-to-a
    from: legacy
    to: sa
    services: [tcp/443]
    owner: o@example.com
    justification: j`,
      }),
      "peers.legacy.cidrs[0]",
      "IPv4-mapped",
      '"10.9.0.0/16"',
    );
    expect(r.err).not.toContain("valid");
  });

  it("a workload address written that way too; ::/0 (which merely contains the block) stays valid", async () => {
    await refused(
      policy({ placements: '      aws: { vpc: ml, cidrs: ["::ffff:10.0.0.1"] }' }),
      "workloads[0].placements.aws.cidrs[0]",
      '"10.0.0.1/32"',
    );
    const r = checkPolicyText(
      policy({
        extra: 'peers:\n  v6: { cidrs: ["2001:db8::/32"] }',
      }),
    );
    expect(r.ok).toBe(true);
  });
});

describe("documents built to hurt", () => {
  it("a YAML alias bomb is refused at its first alias, not expanded", async () => {
    let y = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
    const L = "abcdefghijklm";
    for (let i = 1; i < 12; i++)
      y += `${L[i]}: &${L[i]} [${Array(10)
        .fill(`*${L[i - 1]}`)
        .join(",")}]\n`;
    await refused(`name: bomb\n${y}`, "alias", ":3:");
  });

  it("100k-deep JSON (valid or not) and 100k-deep YAML are refused with exit 2", async () => {
    for (const text of [
      `{"name":"x","workloads":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
      `{"name":"x","workloads":${"[".repeat(100_000)}${"]".repeat(99_999)}}`,
      `name: x\nworkloads: ${"[".repeat(100_000)}${"]".repeat(100_000)} # c\n`,
    ]) {
      const r = await check(text);
      expect(r.code, r.out.slice(0, 300)).toBe(2);
      expect(r.out).not.toMatch(/\n\s+at /);
    }
  });

  it("YAML merge keys get a message that says so", async () => {
    await refused(
      policy({ placements: "      aws:\n        <<: { vpc: ml }\n        cidrs: [10.0.0.0/24]" }),
      'YAML merge keys ("<<") are not supported',
    );
  });

  it("http.path regexes must be RE2 (what Envoy enforces them with)", async () => {
    const http = (path: string) =>
      policy().replace(
        "services: [tcp/443]",
        `services: [tcp/443]\n    http: [{ method: GET, path: ${JSON.stringify(path)} }]`,
      );
    await refused(http("/a(?=b)"), "paths[0].http[0].path", "lookahead");
    await refused(http("/(a)\\1"), "backreference");
    await refused(http("/a{1001}"), "exceeds RE2's limit of 1000");
    expect((await check(http("/tickets/[0-9]{1,10}"))).code).toBe(0);
    const big = checkPolicyText(http("/x{200}"));
    expect(
      big.diagnostics.some((d) => d.severity === "warning" && d.message.includes("max_program_size")),
    ).toBe(true);
  });

  it("matchExpressions values follow label-value syntax", async () => {
    await refused(
      policy({
        segments:
          '  sa: { matchExpressions: [{ key: role, operator: In, values: ["a b"] }] }\n  sb: { matchLabels: { role: b } }',
      }),
      "segments.sa.matchExpressions[0].values[0]",
    );
  });
});

describe("policy names that are Object.prototype members (constructor is a valid name)", () => {
  it("a workload and segments named constructor review on every target (the GCP component read bySegment['constructor'] through the prototype and crashed)", async () => {
    const text = `name: proto
workloads:
  - name: constructor
    labels: { role: app }
    placements:
      gcp: { network: prod, serviceAccount: app@p.iam.gserviceaccount.com, cidrs: [10.20.1.0/24] }
      aws: { vpc: ml, cidrs: [10.20.1.0/24] }
  - name: web
    labels: { role: web }
    placements:
      azure: { vnet: hub, cidrs: [10.30.1.0/24] }
      kubernetes: { cluster: c, namespace: web, podLabels: { app: web }, cidrs: [10.244.1.0/24] }
  - name: gpu
    labels: { role: gpu }
    placements:
      bluefield: { hosts: [h1], port: pf0hpf, addresses: [10.40.1.0/24] }
segments:
  constructor: { matchLabels: { role: app } }
  web: { matchLabels: { role: web } }
  gpu: { matchLabels: { role: gpu } }
paths:
  - { name: self, from: constructor, to: constructor, services: [tcp/443], owner: a@b.c, justification: j }
  - { name: web-app, from: web, to: constructor, services: [tcp/8443], owner: a@b.c, justification: j }
  - { name: gpu-web, from: gpu, to: web, services: [tcp/80], owner: a@b.c, justification: j }
`;
    const f = file(text);
    const io = captureIo();
    const code = await run(["review", f], io);
    expect(io.text()).not.toContain("is not a function");
    expect(code, io.text()).toBe(0);
    expect(io.text()).toContain("OK:");
  });
});

describe("a BlueField workload on an uplink port", () => {
  it("p0 and p1 are refused by check (review used to report the workload's allows broken by the anti-spoof drop)", async () => {
    for (const port of ["p0", "p1"])
      await refused(
        policy({ placements: `      bluefield: { hosts: [h1], port: ${port}, addresses: [10.0.0.0/24] }` }),
        `bluefield.port "${port}" is an uplink of the DPU`,
      );
    expect(
      (
        await check(
          policy({ placements: "      bluefield: { hosts: [h1], port: pf0hpf, addresses: [10.0.0.0/24] }" }),
        )
      ).code,
    ).toBe(0);
  });
});
