import { describe, expect, it } from "vitest";
import { checkPolicyDocument, prove } from "../../../lib";
import {
  AZURE_LIMITS,
  azureEvaluator,
  BANDS,
  renderAzure,
  renderAzureVnet,
} from "../../../lib/targets/azure";
import { uncheckedPlanOf } from "../../support/unchecked-plan";
import { MIXED } from "./policies";
import { mirrorRecords, planOf } from "./support";

const path = (name: string, from: string, to: string, services: string[], extra: object = {}) => ({
  name,
  from,
  to,
  services,
  owner: "o@x",
  justification: "j",
  ...extra,
});

/** ~50 paths over 12 segments in two VNets, an AWS segment and a peer. */
function fiftyPaths() {
  const workloads = Array.from({ length: 24 }, (_, i) => ({
    name: `w${i}`,
    labels: { seg: `s${i % 12}` },
    placements: { azure: { vnet: i < 12 ? "east" : "west", cidrs: [`10.60.${i}.0/24`] } },
  }));
  workloads.push({
    name: "legacy",
    labels: { seg: "old" },
    placements: { aws: { vpc: "v", cidrs: ["10.70.0.0/24"] } },
  } as never);
  const segments: Record<string, object> = Object.fromEntries(
    [...Array.from({ length: 12 }, (_, s) => `s${s}`), "old"].map((s) => [s, { matchLabels: { seg: s } }]),
  );
  const paths = Array.from({ length: 46 }, (_, k) =>
    path(`p${k}`, `s${k % 12}`, `s${(k * 5 + 1) % 12}`, [
      `tcp/${8000 + k}`,
      ...(k % 4 === 0 ? ["udp/53"] : []),
    ]),
  );
  paths.push(path("old-to-s3", "old", "s3", ["tcp/443"]));
  paths.push(path("corp-to-s4", "corp", "s4", ["tcp/22"]));
  paths.push(path("s5-out", "s5", "internet", ["tcp/443"]));
  paths.push(path("no-corp-to-s6", "corp", "s6", [], { verdict: "forbid", services: undefined }));
  return { name: "fifty", workloads, segments, peers: { corp: { cidrs: ["10.200.0.0/16"] } }, paths };
}

describe("Azure rendering", () => {
  it("is deterministic", () => {
    expect(JSON.stringify(renderAzure(planOf(MIXED)))).toBe(JSON.stringify(renderAzure(planOf(MIXED))));
  });

  it("puts guardrails in the deny band, allows in the allow band, deny-all at 4096, unique per direction", () => {
    for (const r of renderAzure(planOf(fiftyPaths()))) {
      for (const direction of ["Inbound", "Outbound"] as const) {
        const rules = r.rules.filter((x) => x.direction === direction);
        expect(new Set(rules.map((x) => x.priority)).size).toBe(rules.length);
        expect(rules.at(-1)).toMatchObject({ name: `deny-all-${direction.toLowerCase()}`, priority: 4096 });
        for (const x of rules.slice(0, -1)) {
          const [lo, hi] = x.access === "Deny" ? BANDS.deny : BANDS.allow;
          expect(x.priority).toBeGreaterThanOrEqual(lo);
          expect(x.priority).toBeLessThanOrEqual(hi);
        }
      }
    }
  });

  it("adding one path to a ~50-path policy changes only that path's resources", () => {
    const before = fiftyPaths();
    const after = fiftyPaths();
    after.paths.splice(20, 0, path("late-addition", "s2", "s9", ["tcp/7000-7010"]));
    const key = (r: { type: string; name: string; inputs: unknown }) => `${r.type} ${r.name}`;
    const a = new Map(mirrorRecords(planOf(before)).map((r) => [key(r), JSON.stringify(r.inputs)]));
    const b = new Map(mirrorRecords(planOf(after)).map((r) => [key(r), JSON.stringify(r.inputs)]));
    expect(a.size).toBeGreaterThan(100);
    const removed = [...a.keys()].filter((k) => !b.has(k));
    const changed = [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k));
    const added = [...b.keys()].filter((k) => !a.has(k));
    expect(removed).toEqual([]);
    expect(changed).toEqual([]);
    // s2 and s9 have members in both VNets: ASG rules for the local members, prefixes for the remote ones.
    expect(added.sort()).toEqual(
      ["east", "west"].flatMap((v) =>
        ["in-asg", "in-v4", "out-asg", "out-v4"].map(
          (k) => `azure-native:network:SecurityRule azure-${v}-rule-late-addition-${k}-tcp`,
        ),
      ),
    );
  });

  it("merges ports and prefixes within a rule and splits address families", () => {
    const r = renderAzureVnet(planOf(MIXED), "hub");
    const egress = r.rules.filter((x) => x.path === "api-egress").map((x) => x.name);
    expect(egress).toEqual(expect.arrayContaining(["api-egress-out-v4-tcp", "api-egress-out-v6-tcp"]));
    const web = r.rules.find((x) => x.name === "internet-to-web-in-v4-tcp")!;
    expect(web.destinationPortRanges).toEqual(["80", "443"]);
    expect(web.sourceAddressPrefixes!.length).toBeLessThan(AZURE_LIMITS.prefixesPerNsgSide);
    expect(r.rules.find((x) => x.name === "web-to-api-in-asg-udp")).toMatchObject({
      sourceApplicationSecurityGroups: ["web"],
      destinationApplicationSecurityGroups: ["api"],
      destinationPortRanges: ["53"],
    });
  });

  it("over 1,000 rules, merges across paths without changing what the rules match", () => {
    const doc = {
      name: "crowded",
      workloads: [
        { name: "a", labels: { r: "a" }, placements: { azure: { vnet: "big", cidrs: ["10.1.0.0/24"] } } },
        { name: "b", labels: { r: "b" }, placements: { azure: { vnet: "big", cidrs: ["10.2.0.0/24"] } } },
        { name: "c", labels: { r: "c" }, placements: { aws: { vpc: "x", cidrs: ["10.3.0.0/24"] } } },
      ],
      segments: {
        front: { matchLabels: { r: "a" } },
        back: { matchLabels: { r: "b" } },
        ext: { matchLabels: { r: "c" } },
      },
      paths: [
        ...Array.from({ length: 450 }, (_, k) => path(`p${k}`, "front", "back", [`tcp/${1000 + 2 * k}`])),
        ...Array.from({ length: 150 }, (_, k) => path(`q${k}`, "ext", k % 2 ? "front" : "back", ["tcp/443"])),
      ],
    };
    const plan = planOf(doc);
    const r = renderAzure(plan)[0]!;
    expect(r.rules.length).toBeLessThan(10);
    const merged = r.rules.find((x) => x.direction === "Inbound" && x.sourceAddressPrefixes)!;
    expect(merged).toMatchObject({
      name: expect.stringMatching(/^merged-in-allow-[0-9a-f]{8}$/),
      destinationApplicationSecurityGroups: ["back", "front"],
      sourceAddressPrefixes: ["10.3.0.0/24"],
      destinationPortRanges: ["443"],
    });
    const ev = azureEvaluator(mirrorRecords(plan), plan);
    const proof = prove(plan, [ev]);
    expect(proof.ok).toBe(true);
    expect(proof.allowed).toHaveLength(600);
    // Exactly the intent: ports 1000, 1002, … open front → back, 1001 not.
    const fb = ev.allowed(plan.party("workload:a")!, plan.party("workload:b")!).services();
    expect(fb.has(6, 1000) && fb.has(6, 1898) && !fb.has(6, 1001) && !fb.has(6, 443)).toBe(true);
  });

  it("fails clearly, naming the VNet, the segments, the count and the limit, when even merged rules exceed 1,000", () => {
    const peers = Object.fromEntries(
      Array.from({ length: 500 }, (_, k) => [`site${k}`, { cidrs: [`10.9.${k >> 7}.${(k & 127) * 2}/32`] }]),
    );
    const doc = {
      name: "crowded",
      workloads: [
        { name: "a", labels: { r: "a" }, placements: { azure: { vnet: "big", cidrs: ["10.1.0.0/24"] } } },
      ],
      segments: { front: { matchLabels: { r: "a" } } },
      peers,
      paths: Object.keys(peers).flatMap((p, k) => [
        path(`${p}-in`, p, "front", [`tcp/${1000 + 2 * k}`]),
        path(`${p}-out`, "front", p, [`udp/${1000 + 2 * k}`]),
      ]),
    };
    expect(() => renderAzure(planOf(doc))).toThrow(
      /VNet "big": the network security group needs 1002 rules after merging \(1002 before\), more than Azure's 1000 per NSG; segments with the most rules: "front" \(1000\)/,
    );
  });

  it("fails naming the path when one side needs more than 4,000 prefixes", () => {
    const cidrs = Array.from({ length: 4001 }, (_, i) => `10.9.${i >> 7}.${(i & 127) * 2}/32`);
    const doc = {
      name: "sprawl",
      workloads: [
        { name: "a", labels: { r: "a" }, placements: { azure: { vnet: "v", cidrs: ["10.1.0.0/24"] } } },
      ],
      segments: { a: { matchLabels: { r: "a" } } },
      peers: { sprawl: { cidrs } },
      paths: [path("sprawl-in", "sprawl", "a", ["tcp/443"])],
    };
    expect(() => renderAzure(planOf(doc))).toThrow(
      /VNet "v", path "sprawl-in": 4001 address prefixes on one side of a rule, more than Azure's 4000/,
    );
  });

  it("refuses an allow over a protocol Azure cannot name, and leaves such a forbid to the deny-all", () => {
    const doc = (verdict: string) => ({
      name: "sctp",
      workloads: [
        { name: "a", labels: { r: "a" }, placements: { azure: { vnet: "v", cidrs: ["10.1.0.0/24"] } } },
        { name: "b", labels: { r: "b" }, placements: { azure: { vnet: "v", cidrs: ["10.2.0.0/24"] } } },
      ],
      segments: { a: { matchLabels: { r: "a" } }, b: { matchLabels: { r: "b" } } },
      paths: [path("signalling", "a", "b", ["sctp/3868", "tcp/3868"], { verdict })],
    });
    // check refuses it, naming the path's services; the renderer still refuses it on its own.
    expect(checkPolicyDocument(doc("allow")).diagnostics.map((d) => d.message)).toContainEqual(
      expect.stringContaining(
        "Azure NSG rules can only name tcp, udp, icmp, esp (50), ah (51) or any protocol, not sctp",
      ),
    );
    expect(() => renderAzure(uncheckedPlanOf(doc("allow")))).toThrow(
      /path "signalling": Azure NSG rules can only name Tcp, Udp, Icmp, Esp, Ah or any protocol, not sctp/,
    );
    const forbid = renderAzure(planOf(doc("forbid")))[0]!;
    expect(forbid.rules.filter((r) => r.path === "signalling").map((r) => r.name)).toEqual([
      "signalling-in-asg-tcp",
      "signalling-out-asg-tcp",
    ]);
  });

  it("fails naming the workload when its NIC would need more than 20 ASGs", () => {
    const segs = Array.from({ length: 21 }, (_, i) => `g${i}`);
    const doc = {
      name: "joiner",
      workloads: [
        { name: "hub", labels: { any: "x" }, placements: { azure: { vnet: "v", cidrs: ["10.1.0.0/24"] } } },
      ],
      segments: Object.fromEntries(segs.map((s) => [s, { matchLabels: { any: "x" } }])),
      paths: segs.map((s) => path(`${s}-self`, s, s, ["tcp/443"])),
    };
    expect(() => renderAzure(planOf(doc))).toThrow(
      /VNet "v": workload "hub" is in 21 segments that need an ASG .* at most 20/,
    );
  });
});
