import { describe, expect, it } from "vitest";
import { AddressSet, INTERNET, PolicyBuilder, prove, ServiceSet } from "../../../lib";
import {
  allowKubeDns,
  CiliumRenderError,
  cidrRules,
  MAX_OBJECT_BYTES,
  renderCilium,
} from "../../../lib/targets/cilium";
import { uncheckedPlanOf } from "../../support/unchecked-plan";
import { evaluatorOf, party, planOf, renderRecords } from "./support";

const meta = { owner: "o@example.com", justification: "test" };
const pod = (name: string, namespace: string, podLabels: Record<string, string>, cidrs: string[] = []) => ({
  name,
  labels: { role: name },
  placements: { kubernetes: { cluster: "k", namespace, podLabels, cidrs } },
});
const seg = (...names: string[]) => Object.fromEntries(names.map((n) => [n, { matchLabels: { role: n } }]));

describe("rendering decisions", () => {
  it("internet is the exact public space: 0.0.0.0/0 and ::/0 minus the special ranges and workloads, never `world`", async () => {
    const plan = planOf({
      name: "net",
      workloads: [pod("app", "web", { app: "app" }, ["10.9.0.0/24"])],
      segments: seg("app"),
      peers: { corp: { cidrs: ["10.200.0.0/16"] } },
      paths: [
        { name: "app-to-corp", from: "app", to: "corp", services: ["tcp/22"], ...meta },
        { name: "app-no-internet", from: "app", to: "internet", verdict: "forbid", ...meta },
      ],
    });
    const [segment] = renderCilium(plan, { cluster: "k" }).filter((r) => r.role === "segment");
    const text = JSON.stringify(segment!.object);
    expect(text).not.toContain("world");
    const deny = segment!.object.specs![1]!.egressDeny![0]!;
    const rules = deny.toCIDRSet!;
    expect(rules.map((r) => r.cidr)).toEqual(["0.0.0.0/0", "::/0"]);
    const covered = AddressSet.unionAll(
      rules.map((r) => AddressSet.parse(r.cidr).subtract(AddressSet.fromCidrs(r.except ?? []))),
    );
    expect(covered.equals(INTERNET)).toBe(true);
    expect(cidrRules(AddressSet.parse("10.200.0.0/16"))).toEqual([{ cidr: "10.200.0.0/16" }]);
    // The private peer stays reachable while the internet is denied.
    const ev = evaluatorOf(await renderRecords(plan), plan);
    expect(ev.allowed(party(plan, "app"), party(plan, "corp")).services().toString()).toBe("tcp/22");
    expect(ev.allowed(party(plan, "app"), party(plan, "internet")).isEmpty()).toBe(true);
  });

  it("pods whose labels are a superset of another workload's are excluded from its selector", () => {
    const plan = planOf({
      name: "sup",
      workloads: [pod("api", "ns", { app: "api" }), pod("canary", "ns", { app: "api", track: "canary" })],
      segments: seg("api", "canary"),
      paths: [{ name: "canary-to-api", from: "canary", to: "api", services: ["tcp/80"], ...meta }],
    });
    const [baseline, ...segments] = renderCilium(plan, { cluster: "k" });
    // The baseline selects both with their common label (exact among the namespace's modelled pods).
    expect(baseline!.object.spec!.endpointSelector).toEqual({ matchLabels: { app: "api" } });
    const api = segments.find((r) => r.subject === "api")!;
    expect(api.object.spec!.endpointSelector).toEqual({
      matchLabels: { app: "api" },
      matchExpressions: [{ key: "track", operator: "NotIn", values: ["canary"] }],
    });
    const canary = segments.find((r) => r.subject === "canary")!;
    expect(canary.object.spec!.endpointSelector).toEqual({ matchLabels: { app: "api", track: "canary" } });
  });

  it("errors: identical pod labels, protocols Cilium cannot match, port 0 ranges", () => {
    // Identical pod labels are refused by `check` already (DESIGN.md rule 9), before any render...
    expect(() =>
      planOf({
        name: "same",
        workloads: [pod("a", "ns", { app: "x" }), pod("b", "ns", { app: "x" })],
        segments: seg("a"),
        paths: [{ name: "a-self", from: "a", to: "a", services: ["tcp/1"], ...meta }],
      }),
    ).toThrow(/workload "b" has the same podLabels \(app=x\) as workload "a" in cluster k, namespace ns/);
    // ...and the renderer still refuses them on its own.
    const same = uncheckedPlanOf({
      name: "same",
      workloads: [pod("a", "ns", { app: "x" }), pod("b", "ns", { app: "x" })],
      segments: seg("a"),
      paths: [{ name: "a-self", from: "a", to: "a", services: ["tcp/1"], ...meta }],
    });
    expect(() => renderCilium(same, { cluster: "k" })).toThrow(
      /workloads "a" and "b" have the same podLabels in cluster "k", namespace "ns"/,
    );
    // check refuses these two (lib/plan/expressible.ts); the renderer still refuses them on its own.
    const gre = uncheckedPlanOf({
      name: "gre",
      workloads: [pod("a", "ns", { app: "a" })],
      segments: seg("a"),
      paths: [{ name: "a-gre", from: "a", to: "a", services: ["proto/47"], ...meta }],
    });
    expect(() => renderCilium(gre, { cluster: "k" })).toThrow(
      /path "a-gre": Cilium policies cannot match IP protocol 47/,
    );
    const zero = uncheckedPlanOf({
      name: "zero",
      workloads: [pod("a", "ns", { app: "a" })],
      segments: seg("a"),
      paths: [{ name: "a-zero", from: "a", to: "a", services: ["tcp/0-80"], ...meta }],
    });
    expect(() => renderCilium(zero, { cluster: "k" })).toThrow(CiliumRenderError);
  });

  it("ports merge, then split into PortRules of 40; objects over the API server's limit are an error naming the segment", () => {
    const ports = Array.from({ length: 45 }, (_, i) => `tcp/${1000 + 2 * i}`);
    const plan = planOf({
      name: "many",
      workloads: [pod("a", "ns", { app: "a" }), pod("b", "ns", { app: "b" })],
      segments: seg("a", "b"),
      paths: [{ name: "a-to-b", from: "a", to: "b", services: [...ports, "tcp/1001", "tcp/1003"], ...meta }],
    });
    const a = renderCilium(plan, { cluster: "k" }).find((r) => r.subject === "a")!;
    const toPorts = a.object.spec!.egress![0]!.toPorts!;
    expect(toPorts.map((p) => p.ports.length)).toEqual([40, 3]);
    expect(toPorts[0]!.ports[0]).toEqual({ port: "1000", endPort: 1004, protocol: "TCP" });

    // 40 pods no single selector can group (no shared key), each with the same 1,600-prefix peer.
    const scattered = Array.from({ length: 1600 }, (_, i) => `100.${64 + (i >> 8)}.${i & 255}.0/31`);
    const big = planOf({
      name: "big",
      workloads: Array.from({ length: 40 }, (_, i) => ({
        name: `a${i}`,
        labels: { role: "a" },
        placements: {
          kubernetes: { cluster: "k", namespace: "ns", podLabels: { [`app${i}`]: "a" }, cidrs: [] },
        },
      })),
      segments: seg("a"),
      peers: { scattered: { cidrs: scattered } },
      paths: [{ name: "a-to-scattered", from: "a", to: "scattered", services: ["tcp/443"], ...meta }],
    });
    expect(() => renderCilium(big, { cluster: "k" })).toThrow(
      new RegExp(
        `segment "a" in namespace "ns" \\(big.a\\) is \\d+ bytes, over the Kubernetes object limit of ${MAX_OBJECT_BYTES} bytes`,
      ),
    );
  });

  it("pods of a segment in one namespace share one rule when one selector picks exactly them", () => {
    const plan = planOf({
      name: "grp",
      workloads: [
        pod("w1", "ns", { app: "web", tier: "a" }),
        pod("w2", "ns", { app: "web", tier: "b" }),
        pod("w3", "ns", { app: "web", tier: "c" }),
      ],
      segments: {
        web: { matchExpressions: [{ key: "role", operator: "In", values: ["w1", "w2"] }] },
        ...seg("w3"),
      },
      paths: [{ name: "web-to-w3", from: "web", to: "w3", services: ["tcp/80"], ...meta }],
    });
    const web = renderCilium(plan, { cluster: "k" }).find((r) => r.subject === "web")!;
    expect(web.object.spec!.endpointSelector).toEqual({
      matchLabels: { app: "web" },
      matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }],
    });
  });

  it("allowKubeDns: one line opens udp/53 and tcp/53 to kube-dns, which is never put in default deny", async () => {
    const p = new PolicyBuilder("dns");
    p.workload("app", {
      labels: { role: "app" },
      placements: { kubernetes: { cluster: "k", namespace: "web", podLabels: { app: "app" }, cidrs: [] } },
    });
    const app = p.segment("app", { matchLabels: { role: "app" } });
    const dns = allowKubeDns(p, app, { cluster: "k", ...meta });
    allowKubeDns(p, app, { cluster: "k", name: "app-dns-again", ...meta });
    expect(dns).toEqual({ kind: "segment", name: "kube-dns-k" });
    const plan = planOf(p.toDocument());
    const rendered = renderCilium(plan, { cluster: "k" });
    expect(rendered.map((r) => r.key)).toEqual(["web.dns-default-deny", "web.dns.app"]);
    const egress = rendered[1]!.object.specs![0]!.egress![0]!;
    expect(egress).toEqual({
      toEndpoints: [
        { matchLabels: { "k8s-app": "kube-dns", "k8s:io.kubernetes.pod.namespace": "kube-system" } },
      ],
      toPorts: [
        {
          ports: [
            { port: "53", protocol: "TCP" },
            { port: "53", protocol: "UDP" },
          ],
        },
      ],
    });
    const ev = evaluatorOf(await renderRecords(plan), plan);
    expect(prove(plan, [ev]).ok).toBe(true);
    expect(ev.allowed(party(plan, "app"), party(plan, "kube-dns-k")).services().toString()).toBe(
      "tcp/53, udp/53",
    );
    // kube-dns itself stays unselected: every other pod of the cluster still resolves names.
    expect(ev.allowed(party(plan, "kube-dns-k"), party(plan, "app")).isEmpty()).toBe(true);
    expect(
      ev.decide(party(plan, "internet"), party(plan, "kube-dns-k"), {
        family: 4,
        src: "8.8.8.8",
        dst: "10.0.0.1",
        protocol: 17,
        port: 53,
      }).verdict,
    ).toBe("allow");
    expect(
      ServiceSet.parse("udp/53").isSubsetOf(
        ev.allowed(party(plan, "app"), party(plan, "kube-dns-k")).services(),
      ),
    ).toBe(true);
  });
});

describe("deterministic, and names derive from the model", () => {
  /** ~50 paths over 12 segments of Kubernetes workloads in 3 namespaces. */
  function bigPolicy(extra: boolean) {
    const workloads = Array.from({ length: 24 }, (_, i) => ({
      name: `w${i}`,
      labels: { seg: `s${i % 12}` },
      placements: {
        kubernetes: {
          cluster: "k",
          namespace: `ns${i % 3}`,
          podLabels: { app: `w${i}` },
          cidrs: [`10.50.${i}.0/24`],
        },
      },
    }));
    const segments = Object.fromEntries(
      Array.from({ length: 12 }, (_, s) => [`s${s}`, { matchLabels: { seg: `s${s}` } }]),
    );
    const paths = Array.from({ length: 50 }, (_, i) => ({
      name: `p${i}`,
      from: `s${i % 12}`,
      to: `s${(i * 5 + 1) % 12}`,
      services: [`tcp/${8000 + i}`],
      ...meta,
    }));
    if (extra) paths.push({ name: "p-new", from: "s3", to: "s7", services: ["tcp/9999"], ...meta });
    return { name: "big", workloads, segments, peers: { corp: { cidrs: ["10.200.0.0/16"] } }, paths };
  }

  it("the same plan renders byte-identical resources", async () => {
    const a = await renderRecords(planOf(bigPolicy(false)));
    const b = await renderRecords(planOf(bigPolicy(false)));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it("adding one path changes only the policies that carry that path's rules", async () => {
    const before = new Map(
      (await renderRecords(planOf(bigPolicy(false)))).map((r) => [r.name, JSON.stringify(r.inputs)]),
    );
    const after = new Map(
      (await renderRecords(planOf(bigPolicy(true)))).map((r) => [r.name, JSON.stringify(r.inputs)]),
    );
    const changed = [...after].filter(([name, inputs]) => before.get(name) !== inputs).map(([n]) => n);
    expect([...before.keys()].every((n) => after.has(n))).toBe(true);
    // s3 lives in ns0 (w3) and ns0 (w15); s7 in ns1 (w7) and ns1 (w19).
    expect(changed.sort()).toEqual(["cilium-k-ns0.big.s3", "cilium-k-ns1.big.s7"]);
    for (const name of changed) expect(after.get(name)).toContain("path p-new");
  });
});
