import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { run } from "../../cli/program";
import { captureIo } from "./capture";

const ROOT = join(__dirname, "..", "..");
const FLAGSHIP = join(ROOT, "stacks", "ai-platform", "policy.yaml");
const AWS_LIVE = join(ROOT, "test", "targets", "aws", "fixtures", "sg-ai-platform-live.json");
const tmp = () => mkdtempSync(join(tmpdir(), "blastradius-audit-"));

describe("blastradius audit", () => {
  it("proves against a live export, names the drifted rules and lists what the policy does not explain (exit 1)", async () => {
    const dir = tmp();
    const io = captureIo();
    expect(await run(["audit", FLAGSHIP, "--aws", AWS_LIVE, "--json", join(dir, "a.json")], io)).toBe(1);
    const out = io.stdout.join("\n");
    expect(out).toMatch(
      /no-workstation-to-training\s+enforce\s+aws\s+OPEN\s+sg-0aa11bb22cc33dd44 IpPermissions\[0\] 10\.200\.7\.0\/24/,
    );
    expect(out).toContain("NOT audited (no export given): gcp, azure, cilium, bluefield");
    // Nothing is said of the Cilium rules' DNS: they were not audited.
    expect(out).not.toContain("kube-dns");
    const audit = JSON.parse(readFileSync(join(dir, "a.json"), "utf8"));
    expect(audit.unexplained).toContainEqual({
      target: "aws",
      from: "corp-workstations",
      to: "llm-trainer",
      services: "tcp/22",
      by: "sg-0aa11bb22cc33dd44 IpPermissions[0] 10.200.7.0/24",
      witness: { src: "10.200.7.1", dst: "10.10.1.1", protocol: "tcp", port: 22 },
    });
    expect(audit.unexplained.some((u: { to: string }) => u.to === "internet")).toBe(true);
    // Multi-hop over the live rules: the workstations reach the data lake (critical) through the
    // trainer, the first hop opened by the drifted rule (no allow path).
    expect(audit.radius.critical[0]).toMatchObject({ segment: "datalake", members: ["feature-store"] });
    expect(audit.radius.critical[0].reachedBy).toContainEqual({
      name: "corp-workstations",
      kind: "peer",
      hops: 2,
      next: "llm-trainer",
      path: null,
    });
  });

  it("exits 0 on a live export that is exactly what blastradius rendered", async () => {
    const dir = tmp();
    const policy = join(ROOT, "stacks", "agent-containment", "policy.yaml");
    expect(await run(["render", policy, "--out", join(dir, "out")], captureIo())).toBe(0);
    // kubectl get cnp -A -o json, made from the rendered CiliumNetworkPolicies.
    const items = readdirSync(join(dir, "out", "cilium"))
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) =>
        parseAllDocuments(readFileSync(join(dir, "out", "cilium", f), "utf8")).map((d) => d.toJS()),
      )
      .filter((o) => o?.kind === "CiliumNetworkPolicy");
    expect(items.length).toBeGreaterThan(0);
    writeFileSync(join(dir, "cnp.json"), JSON.stringify({ apiVersion: "v1", kind: "List", items }));
    const io = captureIo();
    const code = await run(["audit", policy, "--cilium", join(dir, "cnp.json")], io);
    expect(io.stdout.join("\n")).toContain("Live rules the policy does not explain: none");
    expect(code).toBe(0);
  });

  it("exits 2 without exports, or on an unreadable one, naming it", async () => {
    const io = captureIo();
    expect(await run(["audit", FLAGSHIP], io)).toBe(2);
    expect(io.stderr.join("\n")).toContain("give at least one export");
    const io2 = captureIo();
    expect(await run(["audit", FLAGSHIP, "--gcp", join(ROOT, "nope.json")], io2)).toBe(2);
    expect(io2.stderr.join("\n")).toMatch(/nope\.json: cannot read the gcp export/);
  });

  it("refuses a file of another shape (it read as an export with no rules and proved every forbid blocked)", async () => {
    const dir = tmp();
    const cases: Array<[string, unknown, RegExp]> = [
      ["--aws", {}, /not a usable aws export: expected the output of `aws ec2 describe-security-groups`/],
      ["--aws", { Reservations: [] }, /not a usable aws export/],
      ["--aws", { SecurityGroups: "x" }, /not a usable aws export/],
      ["--aws", { SecurityGroups: [] }, /holds no security group: nothing to audit/],
      ["--azure", { value: [] }, /not a usable azure export/],
      ["--azure", [], /holds no network security group/],
      ["--cilium", {}, /not a usable cilium export/],
      ["--cilium", { items: [{ kind: "Pod" }] }, /not a usable cilium export/],
    ];
    for (const [flag, json, message] of cases) {
      const f = join(dir, `${flag.slice(2)}-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(f, JSON.stringify(json));
      const io = captureIo();
      const code = await run(
        ["audit", FLAGSHIP, flag, f, ...(flag === "--cilium" ? ["--cilium-cluster", "ai"] : [])],
        io,
      );
      expect(code, `${flag} ${JSON.stringify(json)}: ${io.text()}`).toBe(2);
      expect(io.stderr.join("\n")).toMatch(message);
      expect(io.text()).not.toContain("internal error");
    }
  });

  it("refuses a companion export without its target's rules, and a DPU dump for a host the policy does not have", async () => {
    const dir = tmp();
    const f = join(dir, "x.json");
    writeFileSync(f, "[]");
    for (const [args, message] of [
      [["--aws-instances", f, "--gcp", f], /--aws-instances is read with --aws/],
      [["--kubernetes-pods", f, "--gcp", f], /--kubernetes-pods is read with --cilium/],
      [["--bluefield", `__proto__=${f}`], /places no workload on DPU host "__proto__"/],
    ] as const) {
      const io = captureIo();
      expect(await run(["audit", FLAGSHIP, ...args], io), io.text()).toBe(2);
      expect(io.stderr.join("\n")).toMatch(message);
    }
  });
});

describe("blastradius audit with attachment exports (what the live interfaces carry)", () => {
  const tag = (k: string, v: string) => ({ Key: k, Value: v });
  const groups = {
    SecurityGroups: [
      {
        GroupId: "sg-0training",
        GroupName: "ml-training",
        VpcId: "vpc-0ml",
        Tags: [
          tag("blastradius:policy", "ai-platform"),
          tag("blastradius:vpc", "ml"),
          tag("blastradius:segment", "training"),
        ],
        IpPermissions: [],
        IpPermissionsEgress: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: "10.20.0.0/20" }, { CidrIp: "10.30.4.0/24" }],
          },
        ],
      },
      {
        GroupId: "sg-0debug",
        GroupName: "debug-ssh",
        VpcId: "vpc-0ml",
        Tags: [],
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        IpPermissionsEgress: [],
      },
    ],
  };
  const instances = (groupIds: string[]) => ({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: "i-0trainer",
            VpcId: "vpc-0ml",
            Tags: [tag("blastradius:workload", "llm-trainer")],
            NetworkInterfaces: [
              {
                NetworkInterfaceId: "eni-0trainer",
                Groups: groupIds.map((GroupId) => ({ GroupId })),
                PrivateIpAddress: "10.10.1.17",
              },
            ],
          },
        ],
      },
    ],
  });

  it("a debug group attached to the trainer's interface opens the forbid; without the instances export the contract is assumed", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "sg.json"), JSON.stringify(groups));
    writeFileSync(join(dir, "i.json"), JSON.stringify(instances(["sg-0training", "sg-0debug"])));
    const io = captureIo();
    const code = await run(
      [
        "audit",
        FLAGSHIP,
        "--aws",
        join(dir, "sg.json"),
        "--aws-instances",
        join(dir, "i.json"),
        "--json",
        join(dir, "a.json"),
      ],
      io,
    );
    expect(code).toBe(1);
    const audit = JSON.parse(readFileSync(join(dir, "a.json"), "utf8"));
    expect(audit.binding.aws).toBe("bound");
    expect(audit.forbidden).toContainEqual(
      expect.objectContaining({
        path: "no-workstation-to-training",
        target: "aws",
        status: "open",
        by: "sg-0debug IpPermissions[0] 0.0.0.0/0",
      }),
    );
    expect(audit.unexplained).toContainEqual(
      expect.objectContaining({ from: "unmodelled addresses", to: "llm-trainer", services: "tcp/22" }),
    );
    // The same groups, but the interface carries only the training group: nothing opens.
    writeFileSync(join(dir, "i2.json"), JSON.stringify(instances(["sg-0training"])));
    const io2 = captureIo();
    await run(
      [
        "audit",
        FLAGSHIP,
        "--aws",
        join(dir, "sg.json"),
        "--aws-instances",
        join(dir, "i2.json"),
        "--json",
        join(dir, "b.json"),
      ],
      io2,
    );
    const clean = JSON.parse(readFileSync(join(dir, "b.json"), "utf8"));
    expect(
      clean.forbidden.find(
        (f: { path: string; target: string }) =>
          f.path === "no-workstation-to-training" && f.target === "aws",
      ).status,
    ).toBe("blocked");
    expect(clean.unexplained.filter((u: { to: string }) => u.to === "llm-trainer")).toEqual([]);
  });
});
