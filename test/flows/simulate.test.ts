import { describe, expect, it } from "vitest";
import { FlowMapper } from "../../lib/flows";
import { ALL_FIXTURES, fixturePlan, planOf, simulate } from "./support";

describe("mapping flows to workloads and peers", () => {
  const plan = fixturePlan();
  const m = new FlowMapper(plan);
  const name = (ip: string, hints?: Parameters<FlowMapper["map"]>[1]) => m.map(ip, hints)?.name;

  it("maps by address to workloads, then declared peers, then the internet; private unclaimed is unmapped", () => {
    expect(name("10.10.1.5")).toBe("llm-trainer");
    expect(name("10.200.3.4")).toBe("corp-workstations");
    expect(name("172.16.5.5")).toBe("legacy-dc");
    expect(name("93.184.216.34")).toBe("internet");
    expect(name("10.99.0.7")).toBeUndefined();
    // A documentation range is not the internet, and nothing claims it.
    expect(name("203.0.113.9")).toBeUndefined();
    expect(name("not-an-ip")).toBeUndefined();
  });

  it("prefers Kubernetes identity (namespace + pod labels) over the address", () => {
    expect(name("10.250.0.9", { namespace: "serving", labels: { app: "inference", x: "y" } })).toBe(
      "inference",
    );
    // Labels that do not select the placement: back to the address.
    expect(name("10.250.0.9", { namespace: "serving", labels: { app: "other" } })).toBeUndefined();
    expect(name("10.244.2.9", { namespace: "elsewhere", labels: { app: "inference" } })).toBe("ticket-agent");
  });

  it("picks the most specific workload, then the VPC name hint, on shared addresses", () => {
    const shared = planOf(`
name: shared
workloads:
  - { name: wide, labels: { r: a }, placements: { aws: { vpc: ml, cidrs: [10.0.0.0/16] } } }
  - { name: narrow, labels: { r: b }, placements: { aws: { vpc: ml, cidrs: [10.0.1.0/24] } } }
  - { name: twin-a, labels: { r: c }, placements: { gcp: { network: net-a, cidrs: [10.9.0.0/24] } } }
  - { name: twin-b, labels: { r: d }, placements: { gcp: { network: net-b, cidrs: [10.9.0.0/24] } } }
`);
    const sm = new FlowMapper(shared);
    expect(sm.map("10.0.1.7")?.name).toBe("narrow");
    expect(sm.map("10.0.2.7")?.name).toBe("wide");
    expect(sm.map("10.9.0.1")?.name).toBe("twin-a");
    expect(sm.map("10.9.0.1", { network: "net-b" })?.name).toBe("twin-b");
  });
});

describe("simulate: replaying observed flows against the plan", () => {
  it("lists what enforcing would break, grouped by candidate path with counts and first/last seen", async () => {
    const r = (await simulate(fixturePlan(), ALL_FIXTURES)).result();
    expect(r.flows).toBe(29);
    const group = (from: string, to: string, service: string) =>
      r.wouldBlock.find((g) => g.from.name === from && g.to.name === to && g.service === service);
    const pg = group("training", "datalake", "tcp/5432")!;
    expect(pg).toMatchObject({
      count: 3,
      first: 1718000100_000,
      last: 1718001160_000,
      blockedBy: ["default-deny"],
      observed: { ACCEPT: 3 },
      fromParties: ["llm-trainer"],
      toParties: ["feature-store"],
      fromAddresses: ["10.10.1.5", "10.10.1.6"],
    });
    expect(pg.samples.map((s) => s.line)).toEqual([3, 4, 14]);
    // Sorted by count, largest first.
    expect(r.wouldBlock[0]).toBe(pg);
    // An enforce forbid names it: blocked by that forbid, not only by default deny.
    expect(group("corp-workstations", "training", "tcp/22")!.blockedBy).toEqual([
      "no-workstation-to-training",
    ]);
    expect(group("training", "internet", "tcp/443")!.blockedBy).toEqual(["no-training-exfiltration"]);
    // A workload no segment holds is its own end.
    expect(r.wouldBlock.find((g) => g.from.kind === "workload")).toMatchObject({
      from: { kind: "workload", name: "batch-runner" },
      to: { kind: "segment", name: "registry" },
    });
    // Allowed flows are not in the list: training → datalake tcp/443 is allowed.
    expect(group("training", "datalake", "tcp/443")).toBeUndefined();
    // The canary pod outside the declared cidrs maps by identity and is allowed (inference → registry).
    const canary = r.allowedGroups.find((g) => g.from.name === "inference" && g.to.name === "registry")!;
    expect(canary.allowedBy).toEqual(["inference-pulls-models"]);
    expect(canary.samples.map((s) => s.src)).toEqual(["10.250.0.9"]);
    expect(r.allowed).toBe(8);
  });

  it("lists flows hitting a monitored forbid (what enforcing it would break)", async () => {
    const r = (await simulate(fixturePlan(), ALL_FIXTURES)).result();
    expect(r.monitored).toHaveLength(1);
    expect(r.monitored[0]).toMatchObject({
      from: { name: "agents" },
      to: { name: "billing" },
      service: "tcp/8443",
      count: 1,
      monitored: ["no-agent-to-billing"],
      allowedBy: ["agents-use-billing"],
    });
    // Blocked anyway (no allow): it is in wouldBlock, with the monitored forbid noted.
    const udp = r.wouldBlock.find((g) => g.service === "udp/9000")!;
    expect(udp.monitored).toEqual(["no-agent-to-billing"]);
  });

  it("lists flows allowed only by broad rules, with the reasons", async () => {
    const r = (await simulate(fixturePlan(), ALL_FIXTURES)).result();
    expect(r.broad.map((g) => [g.from.name, g.to.name, g.service, g.count, g.broad])).toEqual([
      ["legacy-dc", "registry", "tcp/443", 2, { "legacy-to-registry": ["wide-peer", "all-ports"] }],
      ["inference", "internet", "tcp/443", 1, { "inference-egress": ["internet"] }],
    ]);
  });

  it("counts unmapped endpoints instead of guessing", async () => {
    const r = (await simulate(fixturePlan(), ALL_FIXTURES)).result();
    expect(r.unmapped.map((g) => [g.from.name, g.to.kind, g.to.name, g.count])).toEqual([
      ["training", "unmapped", "10.99.0.7", 1],
    ]);
  });

  it("evaluates by the plan: a narrower peer end checks the addresses, not only the party", async () => {
    const plan = planOf(`
name: narrow-peer
workloads:
  - { name: app, labels: { r: app }, placements: { aws: { vpc: v, cidrs: [10.0.0.0/24] } } }
segments: { app: { matchLabels: { r: app } } }
peers:
  office: { cidrs: [10.50.0.0/16] }
  office-admins: { cidrs: [10.50.1.0/24] }
paths:
  - { name: admins-ssh, from: office-admins, to: app, services: [tcp/22], owner: o, justification: j }
`);
    const { Simulation } = await import("../../lib/flows");
    const sim = new Simulation(plan);
    const flow = (src: string) => ({
      file: "t",
      line: 1,
      format: "aws" as const,
      start: 0,
      end: 0,
      family: 4 as const,
      src,
      dst: "10.0.0.5",
      protocol: 6,
      srcPort: 40000,
      dstPort: 22,
      observed: "ACCEPT",
    });
    sim.add(flow("10.50.1.9"));
    sim.add(flow("10.50.2.9"));
    const r = sim.result();
    expect(r.allowed).toBe(1);
    expect(r.wouldBlock.map((g) => [g.from.name, g.fromAddresses])).toEqual([["office", ["10.50.2.9"]]]);
  });
});
