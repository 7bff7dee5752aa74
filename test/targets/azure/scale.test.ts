import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { azureModule } from "../../../components/azure/module";
import {
  AddressSet,
  ConnectionSet,
  checkPolicyDocument,
  facetParties,
  governs,
  type Party,
  type Proof,
  prove,
  ServiceSet,
} from "../../../lib";
import { AZURE_TYPES, azureEvaluator, azureUsage, BANDS, renderAzureVnet } from "../../../lib/targets/azure";
import { restrict } from "../../../lib/targets/azure/restrict";
import { propertyRuns } from "../../support/property-runs";
import { MIXED } from "./policies";
import { mirrorRecords, planOf } from "./support";

const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22"];
const ROLES = ["a", "b", "c"];

/** Several workloads per segment, two VNets, Azure+AWS workloads with their own AWS addresses, peers. */
const workloadArb = fc.record({
  where: fc.constantFrom("v1", "v1", "v2", "aws", "both"),
  role: fc.constantFrom(...ROLES),
  v6: fc.boolean(),
});
const pathArb = fc.record({
  from: fc.constantFrom(...ROLES, "partner", "internet"),
  to: fc.constantFrom(...ROLES, "partner"),
  services: fc.uniqueArray(fc.constantFrom(...SERVICES), { minLength: 1, maxLength: 2 }),
  verdict: fc.constantFrom("allow", "allow", "forbid"),
  monitor: fc.boolean(),
});
type W = { where: string; role: string; v6: boolean };
type P = { from: string; to: string; services: string[]; verdict: string; monitor: boolean };

function documentOf(ws: W[], ps: P[]) {
  return {
    name: "keys",
    workloads: ws.map((w, i) => {
      const cidrs = [`10.${i + 1}.0.0/24`, ...(w.v6 ? [`fd00:${i + 1}::/64`] : [])];
      const azure = { azure: { vnet: w.where === "v2" ? "v2" : "v1", cidrs } };
      const aws = { aws: { vpc: "x", cidrs: [`10.${i + 101}.0.0/24`] } };
      const placements = w.where === "aws" ? aws : w.where === "both" ? { ...azure, ...aws } : azure;
      return { name: `w${i}`, labels: { role: w.role }, placements };
    }),
    segments: Object.fromEntries(ROLES.map((r) => [r, { matchLabels: { role: r } }])),
    peers: { partner: { cidrs: ["192.168.7.0/24", "2001:db8:7::/48"] } },
    paths: ps.map((p, k) => ({
      name: `p${k}`,
      from: p.from,
      to: p.to,
      services: p.services,
      verdict: p.verdict,
      ...(p.verdict === "forbid" && p.monitor ? { mode: "monitor" } : {}),
      owner: "o@x",
      justification: "j",
    })),
  };
}

const verdicts = (proof: Proof) => [
  ...proof.forbidden.map((r) => `${r.path} ${r.status} ${r.open ?? ""}`),
  ...proof.allowed.map((r) => `${r.path} ${r.status} ${r.missing ?? ""}`),
];

describe("Azure at scale: party keys", () => {
  it("workloads of one VNet and segment share a key; a workload with other addresses elsewhere shares it with its Azure facet only; the rest are 'address'", () => {
    const plan = planOf(
      documentOf(
        [
          { where: "v1", role: "a", v6: false },
          { where: "v1", role: "a", v6: true },
          { where: "v2", role: "a", v6: false },
          { where: "both", role: "a", v6: false },
          { where: "aws", role: "a", v6: false },
        ],
        [],
      ),
    );
    const ev = azureEvaluator(mirrorRecords(plan), plan);
    const key = (n: string) => ev.partyKey(plan.party(`workload:${n}`) ?? plan.party(`peer:${n}`)!);
    expect(key("w0")).toBe(key("w1"));
    expect(key("w0")).not.toBe(key("w2"));
    // w3 is on Azure and AWS at different addresses: two facets. Azure decides only the Azure one,
    // which holds Azure addresses only (like w0's); the AWS one it sees by address.
    const [f1, f2] = facetParties(plan.party("workload:w3")!);
    const azureFacet = f1!.targets!.includes("azure") ? f1! : f2!;
    const awsFacet = azureFacet === f1 ? f2! : f1!;
    expect(azureFacet.addresses.toString()).toBe("10.4.0.0/24");
    expect(ev.partyKey(azureFacet)).toBe(key("w0"));
    expect(ev.partyKey(awsFacet)).toBe("address");
    expect(key("w4")).toBe("address");
    expect(key("partner")).toBe("address");
  });

  it("a representative carrying its class's addresses gets exactly the union of its members' answers", () => {
    const plan = planOf(
      documentOf(
        [
          { where: "v1", role: "a", v6: false },
          { where: "v1", role: "a", v6: true },
          { where: "v1", role: "b", v6: false },
          { where: "v2", role: "b", v6: true },
        ],
        [
          { from: "a", to: "b", services: ["tcp/443"], verdict: "allow", monitor: false },
          { from: "partner", to: "a", services: ["udp/53"], verdict: "allow", monitor: false },
        ],
      ),
    );
    const ev = azureEvaluator(mirrorRecords(plan), plan);
    const w = (n: string) => plan.party(`workload:${n}`)!;
    const partner = plan.party("peer:partner")!;
    const rep = { ...w("w0"), addresses: w("w0").addresses.union(w("w1").addresses) };
    for (const other of [w("w2"), w("w3"), partner]) {
      expect(
        ev.allowed(rep, other).equals(ev.allowed(w("w0"), other).union(ev.allowed(w("w1"), other))),
      ).toBe(true);
      expect(
        ev.allowed(other, rep).equals(ev.allowed(other, w("w0")).union(ev.allowed(other, w("w1")))),
      ).toBe(true);
    }
    expect(ev.allowed(rep, w("w2")).services().toString()).toBe("tcp/443");
  });

  it("property: proofs with keys equal proofs pair by pair", () => {
    let compared = 0;
    fc.assert(
      fc.property(
        fc.array(workloadArb, { minLength: 2, maxLength: 8 }),
        fc.array(pathArb, { minLength: 1, maxLength: 6 }),
        (ws, ps) => {
          const r = checkPolicyDocument(documentOf(ws, ps));
          fc.pre(r.ok && r.plan !== undefined);
          const plan = r.plan!;
          const keyed = azureEvaluator(mirrorRecords(plan), plan);
          const plain = azureEvaluator(mirrorRecords(plan), plan);
          const unkeyed = {
            target: plain.target,
            enforces: plain.enforces,
            allowed: plain.allowed,
            decide: plain.decide,
          };
          expect(verdicts(prove(plan, [keyed]))).toEqual(verdicts(prove(plan, [unkeyed])));
          compared++;
        },
      ),
      { numRuns: propertyRuns(150), seed: 20261122 },
    );
    expect(compared).toBeGreaterThan(50);
  });

  it("property: per-pair verdicts equal the VNet-wide NSG evaluation", () => {
    fc.assert(
      fc.property(
        fc.array(workloadArb, { minLength: 1, maxLength: 6 }),
        fc.array(pathArb, { maxLength: 6 }),
        (ws, ps) => {
          const r = checkPolicyDocument(documentOf(ws, ps));
          fc.pre(r.ok && r.plan !== undefined);
          const plan = r.plan!;
          const ev = azureEvaluator(mirrorRecords(plan), plan);
          // The proof sees a workload on Azure and AWS (other addresses) as two facets.
          const parties = plan.parties.flatMap((p) => facetParties(p));
          const vnetOf = (p: Party) =>
            p.kind === "workload" && governs(p, "azure") ? p.workload.placements.azure?.vnet : undefined;
          for (const from of parties)
            for (const to of parties) {
              const fromVnet = vnetOf(from);
              const toVnet = vnetOf(to);
              if (!fromVnet && !toVnet) continue;
              // A facet Azure governs holds its Azure addresses only.
              if (fromVnet)
                expect(
                  from.addresses.isSubsetOf(
                    AddressSet.fromCidrs(
                      (from as { workload: { placements: { azure: { cidrs: string[] } } } }).workload
                        .placements.azure.cidrs,
                    ),
                  ),
                ).toBe(true);
              let want = ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL);
              if (fromVnet) want = want.intersect(ev.passOut(fromVnet));
              if (toVnet) want = want.intersect(ev.passIn(toVnet));
              expect(ev.allowed(from, to).equals(want), `${from.name} -> ${to.name}`).toBe(true);
            }
        },
      ),
      { numRuns: propertyRuns(100), seed: 7 },
    );
  });
});

describe("Azure at scale: usage", () => {
  it("counts rules, guardrails, resources and every quota of a small rendering exactly", () => {
    const plan = planOf(MIXED);
    const records = azureModule.records(plan);
    const u = azureUsage(records, plan);
    const rules = records.filter((r) => r.type === AZURE_TYPES.rule);
    // By hand: hub holds web and api (internet-to-web, web-to-api, web-ping-web, api-egress, partner-to-api
    // ...), spoke holds db; each NSG has its two deny-alls.
    expect(u.rules).toBe(rules.length);
    expect(u.resources).toBe(records.length);
    expect(u.guardrailRules).toBe(
      rules.filter(
        (r) => r.inputs.access === "Deny" && !String(r.inputs.securityRuleName).startsWith("deny-all-"),
      ).length,
    );
    const q = (quota: string, scope: string) =>
      u.quotas.find((x) => x.quota === quota && x.scope.startsWith(scope));
    const spoke = renderAzureVnet(plan, "spoke");
    expect(q("azure.rulesPerNsg", "NSG azure-spoke-nsg")).toMatchObject({
      used: spoke.rules.length,
      limit: 1000,
    });
    expect(q("azure.prioritiesPerDirection", "NSG azure-spoke-nsg inbound")).toMatchObject({
      used: spoke.rules.filter((r) => r.direction === "Inbound").length,
      limit: 3997,
    });
    expect(q("azure.sourcePrefixesPerNsg", "NSG azure-spoke-nsg")!.used).toBe(
      spoke.rules.reduce(
        (n, r) => n + (r.sourceAddressPrefixes?.length ?? (r.sourceAddressPrefix ? 1 : 0)),
        0,
      ),
    );
    expect(q("azure.asgsPerNsg", "NSG azure-spoke-nsg")).toMatchObject({ used: 1, limit: 100 });
    expect(q("azure.asgsPerRuleSide", "NSG azure-spoke-nsg")).toMatchObject({ used: 1, limit: 10 });
    expect(q("azure.asgsPerNic", "VNet hub")).toMatchObject({ used: 1, limit: 20 });
    expect(q("azure.ipConfigurationsPerAsg", "VNet spoke")).toMatchObject({ used: 1, limit: 4000 });
    expect(q("azure.nsgsPerSubscription", "subscription")).toMatchObject({ used: 2, limit: 5000 });
    expect(q("azure.asgsPerSubscription", "subscription")).toMatchObject({
      used: records.filter((r) => r.type === AZURE_TYPES.asg).length,
      limit: 3000,
    });
  });

  it("exact figures on a hand-sized policy", () => {
    const plan = planOf({
      name: "tiny",
      workloads: [
        { name: "a1", labels: { r: "a" }, placements: { azure: { vnet: "v", cidrs: ["10.1.0.0/24"] } } },
        { name: "a2", labels: { r: "a" }, placements: { azure: { vnet: "v", cidrs: ["10.1.1.0/24"] } } },
        { name: "b", labels: { r: "b" }, placements: { azure: { vnet: "v", cidrs: ["10.2.0.0/24"] } } },
      ],
      segments: { a: { matchLabels: { r: "a" } }, b: { matchLabels: { r: "b" } } },
      peers: { corp: { cidrs: ["10.200.0.0/16", "10.201.0.0/16"] } },
      paths: [
        {
          name: "a-to-b",
          from: "a",
          to: "b",
          services: ["tcp/443", "udp/53"],
          owner: "o@x",
          justification: "j",
        },
        { name: "corp-to-b", from: "corp", to: "b", services: ["tcp/22"], owner: "o@x", justification: "j" },
        { name: "no-b-to-corp", from: "b", to: "corp", verdict: "forbid", owner: "o@x", justification: "j" },
      ],
    });
    const records = azureModule.records(plan);
    const u = azureUsage(records, plan);
    // a-to-b: in+out × tcp+udp = 4; corp-to-b: 1 inbound (corp is not in Azure); no-b-to-corp: 1
    // outbound deny; deny-all in and out: 2. ASGs a and b; subnets a1, a2, b; one NSG.
    expect(u).toMatchObject({ rules: 8, guardrailRules: 1, resources: 1 + 2 + 8 + 3 });
    const used = Object.fromEntries(u.quotas.map((x) => [x.quota, x.used]));
    expect(used).toEqual({
      "azure.rulesPerNsg": 8,
      "azure.prioritiesPerDirection": 4, // the last of the two directions: outbound
      // corp's two /16s merge into 10.200.0.0/15 (one prefix), plus the deny-alls' "*" on each side.
      "azure.sourcePrefixesPerNsg": 3,
      "azure.destinationPrefixesPerNsg": 3,
      "azure.asgsPerNsg": 2,
      "azure.asgsPerRuleSide": 1,
      "azure.asgsPerNic": 1,
      "azure.ipConfigurationsPerAsg": 2,
      "azure.nsgsPerSubscription": 1,
      "azure.asgsPerSubscription": 2,
    });
    expect(u.quotas.filter((x) => x.quota === "azure.prioritiesPerDirection").map((x) => x.used)).toEqual([
      4, 4,
    ]);
  });

  it("reports a quota over its limit (a lowered limit stands for an over-full NSG)", () => {
    const plan = planOf(MIXED);
    const u = azureUsage(azureModule.records(plan), plan, { "azure.rulesPerNsg": 3 });
    const over = u.quotas.filter((x) => x.used > x.limit);
    expect(over.map((x) => `${x.quota} ${x.scope}`).sort()).toEqual([
      "azure.rulesPerNsg NSG azure-hub-nsg",
      "azure.rulesPerNsg NSG azure-spoke-nsg",
    ]);
    expect(over.every((x) => x.limit === 3)).toBe(true);
  });

  it("the renderer refuses an NSG over Azure's 4,000 source prefixes (summed over its rules), naming the VNet", () => {
    // 90 peers of 50 scattered /32s each, every one allowed to the same segment on its own port:
    // 4,500 prefixes that no merge can join, plus the deny-alls' "*".
    const peers = Object.fromEntries(
      Array.from({ length: 90 }, (_, p) => [
        `p${p}`,
        {
          cidrs: Array.from(
            { length: 50 },
            (_, k) => `172.${16 + (p % 16)}.${Math.floor(p / 16)}.${k * 4 + 1}/32`,
          ),
        },
      ]),
    );
    const plan = planOf({
      name: "wide",
      workloads: [
        { name: "w", labels: { r: "w" }, placements: { azure: { vnet: "v", cidrs: ["10.1.0.0/24"] } } },
      ],
      segments: { w: { matchLabels: { r: "w" } } },
      peers,
      paths: Object.keys(peers).map((p) => ({
        name: `${p}-to-w`,
        from: p,
        to: "w",
        services: [`tcp/${1000 + Number(p.slice(1))}`],
        owner: "o@x",
        justification: "j",
      })),
    });
    expect(() => renderAzureVnet(plan, "v")).toThrow(
      /VNet "v": the network security group.s rules name 4502 source address prefixes after merging, more than Azure's 4000 per NSG/,
    );
  });
});

describe("Azure at scale: priorities", () => {
  /** 60 paths among 8 segments of one VNet (about 240 rules), and 20 more to append. */
  const policy = (paths: number) => ({
    name: "prio",
    workloads: Array.from({ length: 8 }, (_, i) => ({
      name: `w${i}`,
      labels: { s: `s${i}` },
      placements: { azure: { vnet: "v", cidrs: [`10.9.${i}.0/24`] } },
    })),
    segments: Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`s${i}`, { matchLabels: { s: `s${i}` } }]),
    ),
    paths: Array.from({ length: paths }, (_, k) => ({
      name: `path-${k}`,
      from: `s${k % 8}`,
      to: `s${(k * 3 + 1) % 8}`,
      services: [`tcp/${2000 + k}`, ...(k % 3 === 0 ? ["udp/53"] : [])],
      owner: "o@x",
      justification: "j",
    })),
  });

  it("appending paths to the policy never moves an existing rule's priority", () => {
    const priorities = (n: number) =>
      new Map(
        renderAzureVnet(planOf(policy(n)), "v").rules.map((r) => [`${r.direction} ${r.name}`, r.priority]),
      );
    let before = priorities(60);
    for (let n = 61; n <= 80; n++) {
      const after = priorities(n);
      for (const [name, p] of before)
        expect(after.get(name), `${name} after appending path-${n - 1}`).toBe(p);
      before = after;
    }
  });

  it("keeps each band and unique priorities per direction", () => {
    const r = renderAzureVnet(planOf(policy(80)), "v");
    for (const d of ["Inbound", "Outbound"]) {
      const mine = r.rules.filter((x) => x.direction === d);
      expect(new Set(mine.map((x) => x.priority)).size).toBe(mine.length);
      for (const x of mine)
        if (x.path)
          expect(x.priority).toBeGreaterThanOrEqual(x.access === "Deny" ? BANDS.deny[0] : BANDS.allow[0]);
    }
  });
});

describe("restrict", () => {
  it("equals intersection, and returns the set itself when it lies within the side", () => {
    const big = AddressSet.fromCidrs(Array.from({ length: 200 }, (_, i) => `10.${i}.0.0/24`));
    const small = AddressSet.fromCidrs(["10.5.0.0/25", "10.7.0.0/16", "fd00::/64"]);
    expect(restrict(big, small).equals(big.intersect(small))).toBe(true);
    expect(restrict(small, big).equals(big.intersect(small))).toBe(true);
    const inside = AddressSet.fromCidrs(["10.5.0.16/28"]);
    expect(restrict(big, inside)).toBe(inside);
    expect(restrict(AddressSet.ALL, big)).toBe(big);
    expect(restrict(small, AddressSet.fromCidrs(["192.168.0.0/16"])).isEmpty()).toBe(true);
  });
});
