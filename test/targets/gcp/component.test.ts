import { describe, expect, it } from "vitest";
import { GcpSegmentation } from "../../../components/gcp";
import { runProgram } from "../../../components/runner";
import { FIREWALL_TYPE } from "../../../lib/targets/gcp";
import { planOf, recordGcp } from "./helpers";
import { largePolicy, mixedPolicy } from "./policies";

describe("GcpSegmentation under the runner", () => {
  it("registers one gcp.compute.Firewall per rule, parented, on the given network and project", async () => {
    const plan = planOf(mixedPolicy);
    const { resources, outputs } = await runProgram(() => {
      const seg = new GcpSegmentation("lake", {
        network: "data",
        networkId: "projects/corp-data/global/networks/data-vpc",
        project: "corp-data",
        plan,
      });
      return { ids: seg.firewallIdsBySegment, accounts: seg.serviceAccountsBySegment };
    });
    const component = resources.find((r) => r.type === "blastradius:gcp:GcpSegmentation")!;
    expect(component.inputs).toEqual({
      network: "data",
      networkId: "projects/corp-data/global/networks/data-vpc",
    });
    const rules = resources.filter((r) => r.type === FIREWALL_TYPE);
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) {
      expect(r.name.startsWith("lake-")).toBe(true);
      expect(r.parent).toBe(component.urn);
      expect(r.inputs.network).toBe("projects/corp-data/global/networks/data-vpc");
      expect(r.inputs.project).toBe("corp-data");
      expect(String(r.inputs.name)).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
      expect(r.inputs.description).toMatch(/^blastradius policy "mixed", network "data": /);
      // Identity is the service account, never a network tag.
      expect(r.inputs.targetTags).toBeUndefined();
      expect(r.inputs.sourceTags).toBeUndefined();
      // One family of ranges per rule.
      const ranges = [
        ...((r.inputs.sourceRanges as string[]) ?? []),
        ...((r.inputs.destinationRanges as string[]) ?? []),
      ];
      expect(new Set(ranges.map((c) => c.includes(":"))).size).toBeLessThanOrEqual(1);
    }
    const byName = new Map(rules.map((r) => [String(r.inputs.name), r.inputs]));
    // One guardrail per segment, direction and service set: every forbid into "datalake" over any.
    expect(byName.get("br-mixed-data-forbid-in-datalake-any-0")).toEqual({
      name: "br-mixed-data-forbid-in-datalake-any-0",
      network: "projects/corp-data/global/networks/data-vpc",
      project: "corp-data",
      description: expect.stringContaining(
        'deny guardrail (enforce forbid) ingress to "datalake" over any; path "no-corp-to-lake"',
      ),
      direction: "INGRESS",
      priority: 0,
      denies: [{ protocol: "all" }],
      sourceRanges: ["10.200.0.0/16"],
      targetServiceAccounts: ["lake@corp-data.iam.gserviceaccount.com"],
      logConfig: { metadata: "INCLUDE_ALL_METADATA" },
    });
    // Two paths from etl into datalake (tcp/8000-8100 + udp/53, and icmp) make one service set: one
    // rule per family, since ICMP between service accounts is written per family (ICMPv6 as 58).
    const etlIn = "br-mixed-data-allow-in-datalake-tcp-8000-8100-udp-53-icmp";
    expect(byName.get(`${etlIn}-0`)).toEqual(
      expect.objectContaining({
        direction: "INGRESS",
        priority: 1000,
        allows: [
          { protocol: "icmp" },
          { protocol: "tcp", ports: ["8000-8100"] },
          { protocol: "udp", ports: ["53"] },
        ],
        destinationRanges: ["0.0.0.0/0"],
        sourceServiceAccounts: ["etl@corp-data.iam.gserviceaccount.com"],
        targetServiceAccounts: ["lake@corp-data.iam.gserviceaccount.com"],
        description: expect.stringContaining('2 paths: "etl-writes-lake" (etl → datalake), "etl-pings-lake"'),
      }),
    );
    expect(byName.get(`${etlIn}-0`)!.logConfig).toBeUndefined();
    expect([byName.get(`${etlIn}-1`)!.allows, byName.get(`${etlIn}-1`)!.destinationRanges]).toEqual([
      [{ protocol: "58" }, { protocol: "tcp", ports: ["8000-8100"] }, { protocol: "udp", ports: ["53"] }],
      ["::/0"],
    ]);
    // Sources of one destination over the same services share a rule, whatever their paths.
    expect(byName.get("br-mixed-data-allow-in-datalake-tcp-443-0")).toEqual(
      expect.objectContaining({ sourceRanges: ["10.10.1.0/24", "10.21.0.0/24"] }),
    );
    // The baseline overrides the implied allow-egress for every service account of the network.
    expect(byName.get("br-mixed-data-deny-all-out-0")).toEqual(
      expect.objectContaining({
        direction: "EGRESS",
        priority: 65534,
        denies: [{ protocol: "all" }],
        destinationRanges: ["0.0.0.0/0"],
        // In policy order, so that accounts declared together share a chunk.
        targetServiceAccounts: [
          "lake@corp-data.iam.gserviceaccount.com",
          "etl@corp-data.iam.gserviceaccount.com",
        ],
      }),
    );
    // A workload without a service account: all instances, narrowed to its addresses.
    expect(byName.get("br-mixed-data-allow-in-legacy-tcp-7000-7010-0")).toEqual(
      expect.objectContaining({
        destinationRanges: ["10.20.32.0/24"],
        sourceServiceAccounts: ["etl@corp-data.iam.gserviceaccount.com"],
        allows: [{ protocol: "tcp", ports: ["7000-7010"] }],
      }),
    );
    expect(
      byName.get("br-mixed-data-allow-in-legacy-tcp-7000-7010-0")!.targetServiceAccounts,
    ).toBeUndefined();
    expect(outputs.accounts).toEqual({
      datalake: ["lake@corp-data.iam.gserviceaccount.com"],
      etl: ["etl@corp-data.iam.gserviceaccount.com"],
    });
    const ids = outputs.ids as Record<string, string[]>;
    expect(ids.datalake!.length).toBeGreaterThan(0);
    expect(ids.datalake!.every((id) => id.startsWith("projects/"))).toBe(true);
  });

  it("bad input names the argument and registers nothing", async () => {
    const plan = planOf(mixedPolicy);
    const attempt = (args: Record<string, unknown>) =>
      runProgram(() => {
        new GcpSegmentation("x", args as never);
      });
    await expect(attempt({ network: "nope", networkId: "n", plan })).rejects.toThrow(
      /args\.network is "nope".*known networks: data, edge/,
    );
    await expect(attempt({ network: "data", networkId: "", plan })).rejects.toThrow(
      /args\.networkId is required/,
    );
    await expect(attempt({ network: "data", networkId: "n" })).rejects.toThrow(/args\.plan is required/);
    await expect(attempt({ network: "data", networkId: "n", project: " ", plan })).rejects.toThrow(
      /args\.project is empty/,
    );
    await expect(
      attempt({ network: "data", networkId: "n", plan, options: { priorities: { allow: 0 } } }),
    ).rejects.toThrow(/guardrail < allow < baseline/);
    const { resources } = await runProgram(() => {
      try {
        new GcpSegmentation("x", { network: "nope", networkId: "n", plan });
      } catch {
        // expected
      }
    });
    expect(resources).toEqual([]);
  });

  it("adding one path to a 50-path policy adds only its own rules (stable names and priorities)", async () => {
    const before = await recordGcp(planOf(largePolicy(50)));
    const after = await recordGcp(planOf(largePolicy(50, true)));
    const index = (rs: typeof before) => new Map(rs.map((r) => [r.name, JSON.stringify(r.inputs)]));
    const [b, a] = [index(before), index(after)];
    const changed = [...a].filter(([n, i]) => b.get(n) !== i).map(([n]) => n);
    const removed = [...b.keys()].filter((n) => !a.has(n));
    expect(removed).toEqual([]);
    // s1 → s7 over tcp/9999 is a new service set at both ends: one new rule each, nothing else moves.
    expect(changed.sort()).toEqual(["gcp-big-allow-in-s7-tcp-9999-0", "gcp-big-allow-out-s1-tcp-9999-0"]);
    // 50 paths between 5 sources and 5 destinations: one rule per segment end and service set.
    expect(before.length).toBeLessThan(50);
  });
});
