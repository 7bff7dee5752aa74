import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../../bench/generate";
import { ciliumModule } from "../../../components/cilium/module";
import { AddressSet, ConnectionSet, type Party, prove, ruleBound } from "../../../lib";
import {
  CILIUM_DEFAULT_LIMITS,
  ciliumAdapter,
  ciliumRecords,
  ciliumUsage,
  renderCilium,
} from "../../../lib/targets/cilium";
import { flagship, l7Policy } from "./policies";
import { evaluatorOf, party, planOf, renderRecords } from "./support";

const meta = { owner: "o@example.com", justification: "test" };

/** What the tests compare of a record (the runner adds `custom` and `provider`). */
const shape = (r: {
  type: string;
  name: string;
  inputs: unknown;
  id?: string;
  parent?: string;
  urn?: string;
}) => ({
  type: r.type,
  name: r.name,
  inputs: r.inputs,
  id: r.id,
  parent: r.parent,
  urn: r.urn,
});

/** Records in name order (the runner records in the order the engine completes registrations). */
const sorted = (rs: ReadonlyArray<Parameters<typeof shape>[0]>) =>
  rs.map(shape).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

describe("records(plan): the resources the placeholder program registers, without the engine", () => {
  for (const [name, doc] of [
    ["flagship", flagship],
    ["L7 policy, two clusters", l7Policy],
  ] as const) {
    it(`${name}: same types, names, inputs, ids and parents as the runner records`, async () => {
      const plan = planOf(doc());
      const recorded = (await renderRecords(plan)).filter((r) => ciliumAdapter.owns(r));
      expect(sorted(ciliumModule!.records(plan))).toEqual(sorted(recorded));
    });
  }

  it("a generated policy (500 workloads): records prove like the runner's", async () => {
    const plan = planOf(generatePolicy({ workloads: 500, segments: 50 }));
    const offline = ciliumRecords(plan);
    const recorded = (await renderRecords(plan)).filter((r) => ciliumAdapter.owns(r));
    expect(sorted(offline)).toEqual(sorted(recorded));
    expect(prove(plan, [ciliumAdapter.evaluator(offline, plan)]).ok).toBe(true);
  });
});

/** Parties grouped by key, each class with one member standing for all, with the class's addresses. */
function classes(plan: ReturnType<typeof planOf>, key: (p: Party) => string) {
  const byKey = new Map<string, Party[]>();
  for (const p of plan.parties) {
    const k = key(p);
    byKey.set(k, [...(byKey.get(k) ?? []), p]);
  }
  const rep = new Map<string, Party>();
  for (const [k, members] of byKey)
    rep.set(k, { ...members[0]!, addresses: AddressSet.unionAll(members.map((m) => m.addresses)) } as Party);
  return { byKey, rep };
}

describe("partyKey: parties with one key are alike to every rule", () => {
  it("pods of one segment share a key; other segments, clusters and parties seen by address differ", () => {
    const plan = planOf(generatePolicy({ workloads: 500, segments: 50 }));
    const ev = ciliumAdapter.evaluator(ciliumRecords(plan), plan);
    const key = (n: string) => ev.partyKey!(party(plan, n));
    // Segment s3 (w30..w39) is on Kubernetes, s0 on AWS.
    expect(key("w30")).toBe(key("w39"));
    expect(key("w30")).not.toBe(key("w80"));
    expect(key("w0")).toBe("address");
    expect(key("w0")).toBe(key("w19"));
    const { byKey } = classes(plan, (p) => ev.partyKey!(p));
    expect(byKey.size).toBe(11); // the 10 Kubernetes segments, and everything seen by address
  });

  it("asking one member with the union of its class's addresses gives each member's answer", () => {
    for (const doc of [
      () => generatePolicy({ workloads: 500, segments: 50 }),
      l7Policy,
      () => ({
        name: "mixed",
        workloads: [
          ...["a1", "a2", "a3"].map((n, i) => ({
            name: n,
            labels: { seg: "a", tier: i === 2 ? "x" : "y" },
            placements: {
              kubernetes: { cluster: "k", namespace: "ns", podLabels: { app: n }, cidrs: [`10.1.${i}.0/24`] },
            },
          })),
          { name: "b", labels: { seg: "b" }, placements: { aws: { vpc: "v", cidrs: ["10.2.0.0/24"] } } },
        ],
        segments: {
          a: { matchLabels: { seg: "a" } },
          b: { matchLabels: { seg: "b" } },
          x: { matchLabels: { tier: "x" } },
        },
        peers: { corp: { cidrs: ["172.16.0.0/16", "fd10::/48"] } },
        paths: [
          { name: "a-b", from: "a", to: "b", services: ["tcp/443"], ...meta },
          { name: "x-corp", from: "x", to: "corp", services: ["udp/53", "icmp"], ...meta },
          { name: "corp-a", from: "corp", to: "a", services: ["tcp/22"], ...meta },
          { name: "no-x-internet", from: "x", to: "internet", verdict: "forbid", ...meta },
        ],
      }),
    ]) {
      const plan = planOf(doc());
      const ev = ciliumAdapter.evaluator(ciliumRecords(plan), plan);
      const { rep } = classes(plan, (p) => ev.partyKey!(p));
      let checked = 0;
      // Every pair a path names (what the proof asks), and every pair of the small policies.
      const pairs = new Map<string, [Party, Party]>();
      // (every 7th path of the generated policy: the pairs of all of them take long)
      const paths = [...plan.allows, ...plan.guardrails, ...plan.monitored];
      for (const c of paths.filter((_, i) => paths.length < 100 || i % 7 === 0))
        for (const f of c.from)
          for (const t of c.to) pairs.set(`${f.party.key} ${t.party.key}`, [f.party, t.party]);
      if (plan.parties.length < 50)
        for (const a of plan.parties) for (const b of plan.parties) pairs.set(`${a.key} ${b.key}`, [a, b]);
      for (const [a, b] of pairs.values()) {
        if (!ev.enforces(a) && !ev.enforces(b)) continue;
        const own = ev.allowed(a, b);
        const viaClass = ev
          .allowed(rep.get(ev.partyKey!(a))!, rep.get(ev.partyKey!(b))!)
          .intersect(ConnectionSet.of(a.addresses, b.addresses, ConnectionSet.ALL.services()));
        if (!own.equals(viaClass)) throw new Error(`${a.name} -> ${b.name}: ${own} vs ${viaClass}`);
        expect(own.equals(plan.intended(a, b))).toBe(true);
        checked++;
      }
      expect(checked).toBeGreaterThan(10);
    }
  });
});

describe("usage: rules in Cilium's unit, resources and limits", () => {
  const doc = () => ({
    name: "u",
    workloads: [
      {
        name: "a1",
        labels: { seg: "a" },
        placements: {
          kubernetes: { cluster: "k", namespace: "ns", podLabels: { app: "a1" }, cidrs: ["10.1.0.0/24"] },
        },
      },
      {
        name: "a2",
        labels: { seg: "a" },
        placements: {
          kubernetes: { cluster: "k", namespace: "ns", podLabels: { app: "a2" }, cidrs: ["10.1.1.0/24"] },
        },
      },
      {
        name: "c",
        labels: { seg: "c" },
        placements: {
          kubernetes: { cluster: "k", namespace: "other", podLabels: { app: "c" }, cidrs: ["10.3.0.0/24"] },
        },
      },
    ],
    segments: { a: { matchLabels: { seg: "a" } }, c: { matchLabels: { seg: "c" } } },
    peers: { corp: { cidrs: ["172.16.0.0/16"] } },
    paths: [
      { name: "a-c", from: "a", to: "c", services: ["tcp/443", "udp/53"], ...meta },
      { name: "a-corp", from: "a", to: "corp", services: ["icmp", "tcp/22"], ...meta },
      { name: "no-c-a", from: "c", to: "a", verdict: "forbid", ...meta },
    ],
  });

  it("counts by hand: baselines, allows per peer field × port/icmp entry, deny guardrails", () => {
    const plan = planOf(doc());
    const records = ciliumRecords(plan);
    const u = ciliumUsage(records, plan);
    // Baselines: ns (a1, a2 grouped) and other (c): 2 × (ingress {} + egress {}) = 4.
    // a-c: egress of a (toEndpoints, one toPorts entry) 1 + ingress of c (fromEndpoints) 1 = 2.
    // a-corp: egress of a: toCIDRSet × one toPorts entry, and toCIDRSet × 13 icmps entries (every
    // ICMP type of both families, 40 fields each) = 14.
    // no-c-a: egressDeny of c 1 + ingressDeny of a 1 = 2 guardrails.
    expect(u).toMatchObject({ rules: 22, guardrailRules: 2, resources: 4 });
    expect(ruleBound(plan, "cilium")).toEqual({ allows: 6, guardrails: 2 });
    const ids = new Set(u.quotas.map((q) => q.quota));
    expect([...ids].sort()).toEqual(Object.keys(CILIUM_DEFAULT_LIMITS).sort());
    const ports = u.quotas.find((q) => q.quota === "cilium.portsPerPortRule" && q.scope.includes("ns/u.a"))!;
    expect(ports).toMatchObject({ used: 2, limit: 40, scope: "CiliumNetworkPolicy ns/u.a (cluster k)" });
    const icmp = u.quotas.find((q) => q.quota === "cilium.icmpFieldsPerRule" && q.scope.includes("ns/u.a"))!;
    expect(icmp.used).toBe(40);
    const bytes = u.quotas.find((q) => q.quota === "cilium.objectBytes" && q.scope.includes("ns/u.a"))!;
    expect(bytes.used).toBe(
      Buffer.byteLength(JSON.stringify(records.find((r) => r.name === "cilium-k-ns.u.a")!.inputs)),
    );
    // a1: egress to c (1 identity × 2 ports) + to corp (1 prefix × (1 port + ICMPv4)) + ingress deny from c (1 × 1 wildcard).
    const map = u.quotas.find(
      (q) => q.quota === "cilium.policyMapEntriesPerEndpoint" && q.scope.includes("ns/a1"),
    )!;
    expect(map).toMatchObject({ used: 6, limit: 16_384, scope: "pod ns/a1 (cluster k)" });
  });

  it("over a limit: the usage says so (a raised or lowered limit overrides the default)", () => {
    const plan = planOf(doc());
    const u = ciliumUsage(ciliumRecords(plan), plan, {
      "cilium.objectBytes": 500,
      "cilium.policyMapEntriesPerEndpoint": 4,
    });
    const over = u.quotas.filter((q) => q.used > q.limit).map((q) => `${q.quota} ${q.scope}`);
    expect(over).toContain("cilium.objectBytes CiliumNetworkPolicy ns/u.a (cluster k)");
    expect(over).toContain("cilium.policyMapEntriesPerEndpoint pod ns/a1 (cluster k)");
    expect(ciliumUsage(ciliumRecords(plan), plan).quotas.every((q) => q.used <= q.limit)).toBe(true);
  });

  it("the generated 1k policy: within every default limit, rules at most the bound", () => {
    const plan = planOf(generatePolicy({ workloads: 1000, segments: 100 }));
    const u = ciliumUsage(ciliumRecords(plan), plan);
    const bound = ruleBound(plan, "cilium");
    expect(u.quotas.every((q) => q.used <= q.limit)).toBe(true);
    expect(u.rules).toBeLessThanOrEqual(bound.allows + bound.guardrails);
  });
});

describe("rendering shape for scale: one selector per namespace for a segment's pods, as subject and peer", () => {
  it("peers and baselines use `In` selectors; the evaluator proves them (namespaced and clusterwide)", async () => {
    const plan = planOf(generatePolicy({ workloads: 40, segments: 4 }));
    const rendered = renderCilium(plan, { cluster: "c0" });
    const baseline = rendered.find((r) => r.key === "ns-s3.generated-40-default-deny")!;
    expect(baseline.object.spec!.endpointSelector).toEqual({
      matchExpressions: [
        {
          key: "app",
          operator: "In",
          values: ["w30", "w31", "w32", "w33", "w34", "w35", "w36", "w37", "w38", "w39"],
        },
      ],
    });
    const s3 = rendered.find((r) => r.subject === "s3")!;
    const rule = (s3.object.spec ?? s3.object.specs![0]!) as { ingress?: Array<{ fromCIDRSet?: unknown }> };
    expect(rule.ingress?.[0]?.fromCIDRSet).toEqual([{ cidr: "10.0.2.0/25" }, { cidr: "10.0.2.128/27" }]);
    for (const guardrails of ["namespaced", "clusterwide"] as const) {
      const records = await renderRecords(plan, { guardrails });
      expect(prove(plan, [evaluatorOf(records, plan)]).ok).toBe(true);
    }
  });

  it("a peer segment of several pods in another namespace is one selector with the namespace label", async () => {
    const pod = (name: string, ns: string, seg: string) => ({
      name,
      labels: { seg },
      placements: { kubernetes: { cluster: "k", namespace: ns, podLabels: { app: name }, cidrs: [] } },
    });
    const plan = planOf({
      name: "grp",
      workloads: [
        pod("a1", "x", "a"),
        pod("a2", "x", "a"),
        pod("b1", "y", "b"),
        pod("b2", "y", "b"),
        pod("b3", "z", "b"),
      ],
      segments: { a: { matchLabels: { seg: "a" } }, b: { matchLabels: { seg: "b" } } },
      paths: [{ name: "a-b", from: "a", to: "b", services: ["tcp/80"], ...meta }],
    });
    const a = renderCilium(plan, { cluster: "k" }).find((r) => r.subject === "a")!;
    expect(a.object.spec!.egress![0]!.toEndpoints).toEqual([
      {
        matchExpressions: [{ key: "app", operator: "In", values: ["b1", "b2"] }],
        matchLabels: { "k8s:io.kubernetes.pod.namespace": "y" },
      },
      { matchLabels: { app: "b3", "k8s:io.kubernetes.pod.namespace": "z" } },
    ]);
    const ev = evaluatorOf(await renderRecords(plan), plan);
    expect(prove(plan, [ev]).ok).toBe(true);
    expect(ev.allowed(party(plan, "a1"), party(plan, "b3")).services().toString()).toBe("tcp/80");
    expect(ev.allowed(party(plan, "b1"), party(plan, "a1")).isEmpty()).toBe(true);
  });
});
