import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { CiliumSegmentation } from "../../components/cilium";
import { fails, planOf, reviewProgram, verdict } from "./support";

/*
 * Kubernetes: pods are bound to workloads by namespace and podLabels; every policy in the stack
 * is read; the pods the model does not name are parties, class by class of the labels the policies'
 * selectors can tell apart.
 */

/** The example: two workloads share `app: shared`, the db admits what they have in common. */
const shared = planOf({
  name: "shared",
  workloads: [
    {
      name: "a",
      labels: { role: "client" },
      placements: {
        kubernetes: { cluster: "c1", namespace: "apps", podLabels: { app: "shared", component: "a" } },
      },
    },
    {
      name: "b",
      labels: { role: "client" },
      placements: {
        kubernetes: { cluster: "c1", namespace: "apps", podLabels: { app: "shared", component: "b" } },
      },
    },
    {
      name: "db",
      labels: { role: "db" },
      placements: { kubernetes: { cluster: "c1", namespace: "data", podLabels: { app: "db" } } },
    },
  ],
  segments: { clients: { matchLabels: { role: "client" } }, db: { matchLabels: { role: "db" } } },
  paths: [
    {
      name: "clients-to-db",
      from: "clients",
      to: "db",
      services: ["tcp/5432"],
      owner: "o@x",
      justification: "j",
    },
  ],
});

function deployment(name: string, namespace: string, labels: Record<string, string>) {
  return new k8s.apps.v1.Deployment(name, {
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    },
  });
}

describe("Cilium: unmodelled pods are parties; pods are bound by their labels", () => {
  it("the rendered selectors pick exactly the modelled pods: no pod carrying only what a and b share gets in", async () => {
    const { review, resources } = await reviewProgram(shared, () => {
      new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
    });
    expect(review.unexplained).toEqual([]);
    expect(review.errors).toEqual([]);
    // The db's ingress names a and b, not their common labels alone.
    const db = resources.find((r) => r.name.endsWith("shared.db"))!;
    expect(JSON.stringify(db.inputs)).toContain('"operator":"In","values":["a","b"]');
  });

  it("a policy admitting what the workloads have in common lets unmodelled pods in, and the review says which", async () => {
    const { review } = await reviewProgram(shared, () => {
      new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
      new k8s.apiextensions.CustomResource("db-from-shared", {
        apiVersion: "cilium.io/v2",
        kind: "CiliumNetworkPolicy",
        metadata: { name: "db-from-shared", namespace: "data" },
        spec: {
          endpointSelector: { matchLabels: { app: "db" } },
          ingress: [
            {
              fromEndpoints: [{ matchLabels: { app: "shared", "k8s:io.kubernetes.pod.namespace": "apps" } }],
              toPorts: [{ ports: [{ port: "5432", protocol: "TCP" }] }],
            },
          ],
        },
      });
    });
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({
        from: "other pods of c1/apps labelled app=shared, component=<other>",
        to: "db",
        services: "tcp/5432",
        reason: "unmodelled",
        by: expect.stringContaining("CiliumNetworkPolicy data/db-from-shared"),
      }),
    );
    expect(fails(review)).toBe(true);
  });

  it("pods of Deployments carrying the podLabels are bound; one more Deployment with app=shared is an unmodelled endpoint the rendered rules keep out", async () => {
    const { review } = await reviewProgram(shared, () => {
      const seg = new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
      for (const w of ["a", "b", "db"]) {
        const { namespace, labels } = seg.podBindingFor(w);
        deployment(w, namespace, { ...labels, version: "v1" });
      }
      deployment("x", "apps", { app: "shared", component: "x" });
    });
    expect(review.binding.cilium).toBe("bound");
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "unbound-compute",
        resource: "Deployment apps/x",
        severity: "warning",
      }),
    );
    expect(review.unexplained).toEqual([]);
    expect(review.errors).toEqual([]);
  });

  it("a CiliumNetworkPolicy added outside the library that opens the db to the whole cluster fails the review, naming it", async () => {
    const { review } = await reviewProgram(shared, () => {
      new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
      new k8s.apiextensions.CustomResource("open-db", {
        apiVersion: "cilium.io/v2",
        kind: "CiliumNetworkPolicy",
        metadata: { name: "open-db", namespace: "data" },
        spec: {
          endpointSelector: { matchLabels: { app: "db" } },
          ingress: [{ fromEntities: ["cluster"], toPorts: [{ ports: [{ port: "5432", protocol: "TCP" }] }] }],
        },
      });
    });
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({ to: "db", services: "tcp/5432", by: expect.stringContaining("open-db") }),
    );
    expect(fails(review)).toBe(true);
  });

  it("a workload with no pod carrying its podLabels, in a stack that runs pods, is an error", async () => {
    const { review } = await reviewProgram(shared, () => {
      const seg = new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
      for (const w of ["a", "db"]) {
        const { namespace, labels } = seg.podBindingFor(w);
        deployment(w, namespace, labels);
      }
    });
    expect(review.errors).toContainEqual(
      expect.stringContaining(
        'workload "b" is placed in namespace c1/apps but no pod of this stack carries its podLabels',
      ),
    );
    expect(() => new CiliumSegmentation("c2", { cluster: "c1", plan: shared }).podBindingFor("dbb")).toThrow(
      '"dbb" is not a workload placed in cluster "c1" (placed there: a, b, db)',
    );
  });

  it("pods of one workload with different labels are variants: a policy selecting one of them is seen", async () => {
    const { review } = await reviewProgram(shared, () => {
      const seg = new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
      for (const w of ["a", "b", "db"]) {
        const { namespace, labels } = seg.podBindingFor(w);
        deployment(w, namespace, labels);
      }
      const { labels } = seg.podBindingFor("db");
      deployment("db-debug", "data", { ...labels, debug: "true" });
      new k8s.apiextensions.CustomResource("debug-open", {
        apiVersion: "cilium.io/v2",
        kind: "CiliumNetworkPolicy",
        metadata: { name: "debug-open", namespace: "data" },
        spec: {
          endpointSelector: { matchLabels: { debug: "true" } },
          ingress: [{ fromEntities: ["world"], toPorts: [{ ports: [{ port: "22", protocol: "TCP" }] }] }],
        },
      });
    });
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({ to: "db", services: "tcp/22", by: expect.stringContaining("debug-open") }),
    );
    expect(verdict(review, "clients-to-db", "cilium")?.status).toBe("open");
  });
});

describe("Cilium enforces Kubernetes NetworkPolicies too: the proof reads them", () => {
  it("a NetworkPolicy in the stack opening the db to every pod of the cluster fails the review, naming it", async () => {
    const { review } = await reviewProgram(shared, () => {
      new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
      new k8s.networking.v1.NetworkPolicy("db-from-all-namespaces", {
        metadata: { name: "db-from-all-namespaces", namespace: "data" },
        spec: {
          podSelector: { matchLabels: { app: "db" } },
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: 5432 }] }],
        },
      });
    });
    expect(review.unexplained).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          to: "db",
          services: "tcp/5432",
          by: expect.stringContaining("db-from-all-namespaces (NetworkPolicy)"),
        }),
      ]),
    );
    expect(fails(review)).toBe(true);
  });

  it("a NetworkPolicy that only narrows (default deny for its pods, nothing allowed) opens nothing", async () => {
    const { review } = await reviewProgram(shared, () => {
      new CiliumSegmentation("c1", { cluster: "c1", plan: shared });
      new k8s.networking.v1.NetworkPolicy("deny-all", {
        metadata: { name: "deny-all", namespace: "data" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      });
    });
    expect(review.unexplained).toEqual([]);
    expect(verdict(review, "clients-to-db", "cilium")?.status).toBe("open");
  });
});
