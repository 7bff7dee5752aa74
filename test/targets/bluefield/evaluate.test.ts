import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddressSet, ConnectionSet, IntervalSet, type Packet, prove, ServiceSet } from "../../../lib";
import {
  applyFlowMods,
  evaluatorFromDumps,
  FlowSyntaxError,
  maskedPorts,
  type OvsFlow,
  Pipeline,
  parseDumpFlows,
  parseFlow,
  parseFlowFile,
  renderBlueField,
} from "../../../lib/targets/bluefield";
import { FLAGSHIP, planOf, planOfDocument } from "./helpers";

const tcp = (src: string, dst: string, port: number): Packet => ({ family: 4, src, dst, protocol: 6, port });
const flows = (lines: string[]): OvsFlow[] => lines.map((l, i) => parseFlow(l, i + 1));

describe("documented worked examples", () => {
  // OVS Conntrack Tutorial, flows #1-#5 and its summary table:
  // https://docs.openvswitch.org/en/latest/tutorials/ovs-conntrack/
  // (Documentation/tutorials/ovs-conntrack.rst in openvswitch/ovs)
  const tutorial = new Pipeline(
    flows([
      "table=0, priority=50, ct_state=-trk, tcp, in_port=veth_l0, actions=ct(table=0)",
      "table=0, priority=50, ct_state=+trk+new, tcp, in_port=veth_l0, actions=ct(commit),veth_r0",
      "table=0, priority=50, ct_state=-trk, tcp, in_port=veth_r0, actions=ct(table=0)",
      "table=0, priority=50, ct_state=+trk+est, tcp, in_port=veth_r0, actions=veth_l0",
      "table=0, priority=50, ct_state=+trk+est, tcp, in_port=veth_l0, actions=veth_r0",
    ]),
  );
  const lines = (t: ReturnType<Pipeline["trace"]>) => t.steps.map((s) => s.flow?.line ?? "miss");

  it("SYN 192.168.0.2 → 10.0.0.2 from the left: -trk (#1) then +trk+new (#2), forwarded", () => {
    const t = tutorial.trace("veth_l0", tcp("192.168.0.2", "10.0.0.2", 2048), "new");
    expect(t.verdict).toBe("allow");
    expect(lines(t)).toEqual([1, 2]);
  });

  it("SYN-ACK from the right: -trk (#3) then +trk+est (#4); the client's ACK and data: #1 then #5", () => {
    const synAck = tutorial.trace("veth_r0", tcp("10.0.0.2", "192.168.0.2", 1024), "est");
    expect([synAck.verdict, ...lines(synAck)]).toEqual(["allow", 3, 4]);
    const ack = tutorial.trace("veth_l0", tcp("192.168.0.2", "10.0.0.2", 2048), "est");
    expect([ack.verdict, ...lines(ack)]).toEqual(["allow", 1, 5]);
  });

  it("nothing lets a new connection start from the right, and non-TCP matches no flow", () => {
    const fromRight = tutorial.trace("veth_r0", tcp("10.0.0.2", "192.168.0.2", 1024), "new");
    expect([fromRight.verdict, ...lines(fromRight)]).toEqual(["deny", 3, "miss"]);
    expect(
      tutorial.trace(
        "veth_l0",
        { family: 4, src: "192.168.0.2", dst: "10.0.0.2", protocol: 17, port: 53 },
        "new",
      ).verdict,
    ).toBe("deny");
    // As a set: from the left, every new IPv4 TCP connection and nothing else.
    expect(
      tutorial
        .passSet("veth_l0", "new")
        .equals(ConnectionSet.of(AddressSet.ALL_V4, AddressSet.ALL_V4, ServiceSet.tcp(0, 65535))),
    ).toBe(true);
    expect(tutorial.passSet("veth_r0", "new").isEmpty()).toBe(true);
  });

  // ovs-fields(7), "Range matches": TCP ports 1000 to 1999 as seven bitwise matches
  // (http://www.openvswitch.org/support/dist-docs/ovs-fields.7.txt). The page writes them for tp_src;
  // the same value/mask pairs on tp_dst must cover exactly 1000-1999.
  const DOC_MASKS = [
    "0x03e8/0xfff8",
    "0x03f0/0xfff0",
    "0x0400/0xfe00",
    "0x0600/0xff00",
    "0x0700/0xff80",
    "0x0780/0xffc0",
    "0x07c0/0xfff0",
  ];

  it("the seven masked matches of ovs-fields(7) cover exactly ports 1000-1999", () => {
    const union = IntervalSet.unionAll(
      DOC_MASKS.map((m) => {
        const [v, k] = m.split("/");
        return maskedPorts(Number(v), Number(k));
      }),
    );
    expect(union.equals(IntervalSet.range(1000n, 1999n))).toBe(true);
  });

  it("the renderer writes tcp/1000-1999 as exactly those seven matches", () => {
    const plan = planOfDocument({
      name: "ranges",
      workloads: [
        {
          name: "a",
          labels: { r: "a" },
          placements: { bluefield: { hosts: ["h"], port: "pf0hpf", addresses: ["10.0.0.0/24"] } },
        },
        { name: "b", labels: { r: "b" }, placements: { aws: { vpc: "v", cidrs: ["10.1.0.0/24"] } } },
      ],
      segments: { a: { matchLabels: { r: "a" } }, b: { matchLabels: { r: "b" } } },
      paths: [
        {
          name: "a-b",
          from: "a",
          to: "b",
          services: ["tcp/1000-1999"],
          owner: "o@example.com",
          justification: "j",
        },
      ],
    });
    const masks = renderBlueField(plan)[0]!
      .flows.split("\n")
      .flatMap((l) => /tp_dst=([^,]+)/.exec(l)?.[1] ?? []);
    const norm = (m: string) => m.replace(/0x0*([0-9a-f])/g, "0x$1");
    expect(masks).toEqual(DOC_MASKS.map(norm));
  });
});

describe("flow syntax", () => {
  it("reads add-flows and dump-flows forms alike, with masks, IPv6 and the defaults OVS applies", () => {
    const a = parseFlow(
      "table=3,priority=7,cookie=0x1,tcp6,ipv6_src=fd00::/64,tp_dst=0x1f40/0xffc0,actions=drop",
    );
    const b = parseFlow(
      " cookie=0x1, duration=1.5s, table=3, n_packets=0, n_bytes=0, priority=7,tcp6,ipv6_src=fd00::/64,tp_dst=0x1f40/0xffc0 actions=drop",
    );
    expect([b.table, b.priority, b.cookie, b.match, b.actions]).toEqual([
      a.table,
      a.priority,
      a.cookie,
      a.match,
      a.actions,
    ]);
    expect(a.space.equals(b.space)).toBe(true);
    expect(
      a.space.equals(
        ConnectionSet.of(AddressSet.parse("fd00::/64"), AddressSet.ALL_V6, ServiceSet.tcp(8000, 8063)),
      ),
    ).toBe(true);
    const d = parseFlow("actions=NORMAL");
    expect([d.table, d.priority]).toEqual([0, 32768]);
    expect(
      parseFlow("ip,nw_src=10.0.0.0/255.255.0.0,actions=drop")
        .space.sources()
        .equals(AddressSet.parse("10.0.0.0/16")),
    ).toBe(true);
    // icmp6 is ServiceSet "icmp" on IPv6; neighbour discovery (type 135) is not a modelled connection.
    expect(
      parseFlow("icmp6,actions=drop").space.equals(
        ConnectionSet.of(AddressSet.ALL_V6, AddressSet.ALL_V6, ServiceSet.icmp()),
      ),
    ).toBe(true);
    expect(parseFlow("icmp6,icmp_type=135,nw_ttl=255,actions=NORMAL").space.isEmpty()).toBe(true);
    expect(parseFlow("arp,actions=NORMAL").space.isEmpty()).toBe(true);
  });

  it("flows with the same in_port, ct_zone and ct_state share one context; any difference keeps them apart", () => {
    const ctx = (m: string) => parseFlow(`table=1,${m},ip,actions=drop`).context;
    const a = ctx("in_port=p1,ct_state=+new+trk,ct_zone=7");
    expect(a).toEqual({
      inPort: "p1",
      ctZone: 7,
      ctState: [
        { flag: "new", set: true },
        { flag: "trk", set: true },
      ],
    });
    expect(ctx("ct_zone=7,ct_state=+new+trk,in_port=p1,nw_dst=10.0.0.0/8")).toBe(a);
    for (const other of [
      "in_port=p2,ct_state=+new+trk,ct_zone=7",
      "in_port=p1,ct_state=+new-trk,ct_zone=7",
      "in_port=p1,ct_state=+new+trk",
      "ct_state=+new+trk,ct_zone=7",
    ])
      expect(ctx(other), other).not.toEqual(a);
  });

  it("refuses what it cannot analyse, naming the line", () => {
    expect(() => parseFlowFile("# ok\nadd tcp,dl_src=00:00:00:00:00:01,actions=drop\n")).toThrow(
      new FlowSyntaxError(
        2,
        "tcp,dl_src=00:00:00:00:00:01,actions=drop",
        "match field dl_src is not supported",
      ),
    );
    expect(() => parseFlow("ip,actions=mod_nw_dst:10.0.0.1,NORMAL")).toThrow(
      /action mod_nw_dst:10.0.0.1 is not supported/,
    );
    expect(() => parseFlowFile("delete tcp\n")).toThrow(/only `delete cookie=<value>\/<mask>` is supported/);
    expect(() => parseFlow("ip,nw_src=10.0.0.0/255.0.255.0,actions=drop")).toThrow(/non-contiguous mask/);
  });

  it("a flow file's delete removes only its cookie prefix; a repeated match replaces the earlier flow", () => {
    const bridge = flows([
      "priority=0,actions=NORMAL",
      "cookie=0x42,priority=9,udp,actions=drop",
      "cookie=0xab00000001,priority=5,tcp,actions=drop",
    ]);
    const mods = parseFlowFile(
      "delete cookie=0xab00000000/0xff00000000\nadd cookie=0xab00000002,priority=5,tcp,actions=NORMAL\nadd cookie=0xab00000003,priority=5,tcp,actions=drop\n",
    );
    const table = applyFlowMods(bridge, mods);
    expect(table.map((f) => [f.cookie, f.actionsText])).toEqual([
      [0n, "NORMAL"],
      [0x42n, "drop"],
      [0xab00000003n, "drop"],
    ]);
  });

  it("masked ports: any value/mask is the set {p : p & mask = value & mask}", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        (v, m, p) => {
          const zeros = 16 - m.toString(2).replace(/0/g, "").length;
          fc.pre(zeros - Math.log2(m & -m || 65536) <= 12);
          expect(maskedPorts(v, m).has(BigInt(p))).toBe((p & m) === (v & m));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("auditing live DPUs from ovs-ofctl dump-flows", () => {
  const plan = planOf(FLAGSHIP);
  const dump = readFileSync(join(__dirname, "fixtures", "gpu-01.dump-flows.txt"), "utf8");
  const ports = { "1": "pf0hpf", "2": "p0" };

  it("reads every flow of the dump (header skipped, port numbers mapped)", () => {
    const parsed = parseDumpFlows(dump);
    expect(parsed).toHaveLength(16);
    expect(parsed.filter((f) => f.table === 71).map((f) => f.cookie)).toEqual([
      0xb1a5ce11d1f6a2c5n,
      0x7an,
      0xb1a5ce1100000000n,
    ]);
  });

  it("finds the foreign SSH flow that reopens exfiltration and the allow flow that went missing", () => {
    const ev = evaluatorFromDumps({ "gpu-01": dump, "gpu-02": dump }, plan, {
      ports: { "gpu-01": ports, "gpu-02": ports },
    });
    const proof = prove(plan, [ev]);
    expect(proof.ok).toBe(false);
    const exfil = proof.forbidden.find((f) => f.path === "no-training-exfiltration")!;
    expect(exfil).toMatchObject({
      status: "open",
      open: "tcp/22",
      witness: { src: "10.10.1.1", protocol: "tcp", port: 22 },
    });
    expect(exfil.by).toBe(
      "gpu-01: table=71 priority=25000 ct_state=+new+trk,tcp,nw_src=10.10.1.0/24,tp_dst=22 actions=ct(commit,zone=45477),NORMAL",
    );
    expect(proof.forbidden.find((f) => f.path === "no-workstation-to-training")?.status).toBe("blocked");
    expect(proof.allowed.find((a) => a.path === "training-reads-datalake")?.status).toBe("open");
    expect(proof.allowed.find((a) => a.path === "training-publishes-models")).toMatchObject({
      status: "broken",
      missing: "tcp/443",
      by: "gpu-01: table=71 priority=0 actions=drop",
    });
  });

  it("a DPU with no rule set is only the bridge's NORMAL flow: nothing is enforced there", () => {
    const ev = evaluatorFromDumps({}, plan);
    const proof = prove(plan, [ev]);
    expect(proof.forbidden.every((f) => f.status === "open")).toBe(true);
    expect(proof.forbidden[0]!.by).toBe("gpu-01: table=0 priority=0 actions=NORMAL");
  });
});
