import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConnectionSet, checkPolicyDocument, type Party, type ResourceRecord } from "../../lib";
import { CNP_TYPE, ciliumAdapter, ciliumRecords } from "../../lib/targets/cilium";
import { propertyRuns } from "../support/property-runs";

/*
 * The pods the model does not name are enumerated as label classes (label-classes.ts). Random
 * programs (rendered policies plus policies a user adds with random selectors) against concrete
 * random pods: whatever a concrete unmodelled pod can reach or be reached by, some class reaches
 * (nothing is missed), and each class's witness pod, run as a concrete pod, reaches exactly what
 * its class does (nothing is invented).
 */

const KEYS = { app: ["a", "b", "c"], tier: ["x", "y"], env: ["prod"] } as const;
type Labels = Record<string, string>;

const labelsArb: fc.Arbitrary<Labels> = fc
  .record({
    app: fc.option(fc.constantFrom(...KEYS.app, "z"), { nil: undefined }),
    tier: fc.option(fc.constantFrom(...KEYS.tier), { nil: undefined }),
    env: fc.option(fc.constantFrom(...KEYS.env), { nil: undefined }),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Labels);

const selectorArb = fc.oneof(
  labelsArb.filter((l) => Object.keys(l).length > 0).map((l) => ({ matchLabels: l })),
  fc
    .record({
      key: fc.constantFrom("app", "tier", "env"),
      op: fc.constantFrom("In", "NotIn", "Exists", "DoesNotExist"),
      v: fc.constantFrom("a", "b", "x", "prod"),
    })
    .map((e) => ({
      matchExpressions: [
        { key: e.key, operator: e.op, ...(e.op === "In" || e.op === "NotIn" ? { values: [e.v] } : {}) },
      ],
    })),
);

const programArb = fc.record({
  workloads: fc.uniqueArray(
    fc.record({
      ns: fc.constantFrom("n1", "n2"),
      app: fc.constantFrom(...KEYS.app),
      tier: fc.option(fc.constantFrom(...KEYS.tier), { nil: undefined }),
      color: fc.constantFrom("red", "green"),
    }),
    { minLength: 2, maxLength: 4, selector: (w) => `${w.ns}/${w.app}/${w.tier}` },
  ),
  paths: fc.array(
    fc.record({
      from: fc.constantFrom("red", "green"),
      to: fc.constantFrom("red", "green"),
      port: fc.constantFrom(80, 443),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  foreign: fc.array(
    fc.record({
      ns: fc.constantFrom("n1", "n2"),
      subject: selectorArb,
      peer: selectorArb,
      peerNs: fc.constantFrom("n1", "n2", undefined),
      port: fc.constantFrom(80, 443, 22),
      ingress: fc.boolean(),
    }),
    { maxLength: 2 },
  ),
  pods: fc.array(fc.record({ ns: fc.constantFrom("n1", "n2", "other"), labels: labelsArb }), {
    minLength: 1,
    maxLength: 4,
  }),
});

type Program = typeof programArb extends fc.Arbitrary<infer T> ? T : never;

function documentOf(p: Program) {
  return {
    name: "pods",
    workloads: p.workloads.map((w, i) => ({
      name: `w${i}`,
      labels: { color: w.color },
      placements: {
        kubernetes: {
          cluster: "k",
          namespace: w.ns,
          podLabels: { app: w.app, ...(w.tier ? { tier: w.tier } : {}) },
          cidrs: [`10.${i}.0.0/24`],
        },
      },
    })),
    segments: { red: { matchLabels: { color: "red" } }, green: { matchLabels: { color: "green" } } },
    paths: p.paths.map((x, k) => ({
      name: `p${k}`,
      from: x.from,
      to: x.to,
      services: [`tcp/${x.port}`],
      owner: "o",
      justification: "j",
    })),
  };
}

function foreignPolicies(p: Program): ResourceRecord[] {
  return p.foreign.map((f, k) => {
    const peer = f.peerNs
      ? {
          ...f.peer,
          matchLabels: {
            ...(f.peer as { matchLabels?: Labels }).matchLabels,
            "k8s:io.kubernetes.pod.namespace": f.peerNs,
          },
        }
      : f.peer;
    const rule = {
      [f.ingress ? "fromEndpoints" : "toEndpoints"]: [peer],
      toPorts: [{ ports: [{ port: String(f.port), protocol: "TCP" }] }],
    };
    return {
      type: CNP_TYPE,
      name: `user-${k}`,
      inputs: {
        apiVersion: "cilium.io/v2",
        kind: "CiliumNetworkPolicy",
        metadata: { name: `user-${k}`, namespace: f.ns, labels: { "blastradius.io/cluster": "k" } },
        spec: { endpointSelector: f.subject, [f.ingress ? "ingress" : "egress"]: [rule] },
      },
    };
  });
}

const podRecord = (ns: string, labels: Labels, k: number): ResourceRecord => ({
  type: "kubernetes:core/v1:Pod",
  name: `pod${k}`,
  inputs: { metadata: { name: `pod${k}`, namespace: ns, labels }, spec: {} },
});

describe("property: unmodelled pods, class by class", () => {
  it("no concrete pod reaches (or is reached by) more than its classes say, and every class's witness reaches exactly its class's", () => {
    let compared = 0;
    fc.assert(
      fc.property(programArb, (p) => {
        const r = checkPolicyDocument(documentOf(p));
        fc.pre(r.ok && r.plan !== undefined);
        const plan = r.plan!;
        const base = [...ciliumRecords(plan), ...foreignPolicies(p)];
        const classes = ciliumAdapter.evaluator(base, plan);
        const others = (classes.universe?.() ?? []).filter(
          (u) => u.name.startsWith("other pods") || u.name.startsWith("pods of other"),
        );
        const workloads = plan.parties.filter((x) => x.kind === "workload");
        const union = (dir: "from" | "to", w: Party) =>
          ConnectionSet.unionAll(
            others.map((u) => (dir === "from" ? classes.allowed(u, w) : classes.allowed(w, u))),
          );
        const isWorkloadPod = (ns: string, labels: Labels) =>
          plan.policy.workloads.some((w) => {
            const k = w.placements.kubernetes!;
            return k.namespace === ns && Object.entries(k.podLabels).every(([a, b]) => labels[a] === b);
          });
        p.pods.forEach((pod, k) => {
          if (isWorkloadPod(pod.ns, pod.labels)) return;
          const one = ciliumAdapter.evaluator([...base, podRecord(pod.ns, pod.labels, k)], plan);
          const concrete = (one.universe?.() ?? []).find((u) => u.name === `Pod ${pod.ns}/pod${k}`)!;
          expect(concrete, "the concrete pod is a party").toBeDefined();
          for (const w of workloads) {
            for (const dir of ["from", "to"] as const) {
              const got = dir === "from" ? one.allowed(concrete, w) : one.allowed(w, concrete);
              if (!got.isSubsetOf(union(dir, w)))
                expect.fail(
                  `${JSON.stringify(p)}\npod ${pod.ns} ${JSON.stringify(pod.labels)} ${dir} ${w.name}: ${got.subtract(union(dir, w))} is missed by every class`,
                );
              compared++;
            }
          }
        });
        // Each class's witness labels, as a concrete pod, behave exactly like the class.
        for (const [k, u] of others.entries()) {
          const m =
            /^(?:other pods of k\/(\S+)|pods of other namespaces of cluster k)(?: labelled (.*))?$/.exec(
              u.name,
            );
          expect(m, u.name).not.toBeNull();
          const ns = m![1] ?? "elsewhere";
          const labels = Object.fromEntries(
            (m![2] ?? "")
              .split(", ")
              .filter((x) => x)
              .map((x) => x.split("=") as [string, string])
              .map(([a, b]) => [a, b === "<other>" ? "zz" : b]),
          );
          const one = ciliumAdapter.evaluator([...base, podRecord(ns, labels, 100 + k)], plan);
          const concrete = (one.universe?.() ?? []).find((x) => x.name === `Pod ${ns}/pod${100 + k}`)!;
          for (const w of workloads) {
            expect(one.allowed(concrete, w).equals(classes.allowed(u, w)), `${u.name} -> ${w.name}`).toBe(
              true,
            );
            expect(one.allowed(w, concrete).equals(classes.allowed(w, u)), `${w.name} -> ${u.name}`).toBe(
              true,
            );
          }
        }
      }),
      { numRuns: propertyRuns(100), seed: 20261207 },
    );
    expect(compared).toBeGreaterThan(200);
  }, 120_000);
});
