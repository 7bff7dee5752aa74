import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { CiliumSegmentation } from "../../components/cilium";
import { opaqueObjects, readKubernetes } from "../../lib/targets/cilium/bind";
import { fails, planOf, reviewProgram, verdict } from "./support";

/*
 * Kubernetes binding as the cluster really labels pods: the labels controllers add, server-side
 * apply patches, namespace labels, and what runs pods the proof cannot read.
 */

/** An agent and a db in two namespaces; corp (10.200.0.0/16) must not reach the db. */
const forbids = planOf({
  name: "k",
  workloads: [
    {
      name: "agent",
      labels: { role: "agent" },
      placements: { kubernetes: { cluster: "c1", namespace: "agents", podLabels: { app: "ticket" } } },
    },
    {
      name: "db",
      labels: { role: "db" },
      placements: { kubernetes: { cluster: "c1", namespace: "data", podLabels: { app: "db" } } },
    },
  ],
  segments: { agents: { matchLabels: { role: "agent" } }, db: { matchLabels: { role: "db" } } },
  peers: { corp: { cidrs: ["10.200.0.0/16"] } },
  paths: [
    {
      name: "no-agent-to-db",
      from: "agents",
      to: "db",
      verdict: "forbid",
      mode: "monitor",
      owner: "o@x",
      justification: "j",
    },
    {
      name: "no-corp-to-db",
      from: "corp",
      to: "db",
      verdict: "forbid",
      mode: "monitor",
      owner: "o@x",
      justification: "j",
    },
  ],
});

const template = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: "c", image: "nginx" }] },
});

function deployment(name: string, namespace: string, labels: Record<string, string>) {
  return new k8s.apps.v1.Deployment(name, {
    metadata: { name, namespace },
    spec: { selector: { matchLabels: labels }, template: template(labels) },
  });
}

/** The stack every case starts from: the rendered policies and the agent's pods. */
function base() {
  new CiliumSegmentation("c1", { cluster: "c1", plan: forbids });
  deployment("agent", "agents", { app: "ticket" });
}

/** A NetworkPolicy in `data` admitting corp on tcp/22 to the pods `podSelector` picks. */
function sshFromCorp(name: string, podSelector: Record<string, unknown>) {
  new k8s.networking.v1.NetworkPolicy(name, {
    metadata: { name, namespace: "data" },
    spec: {
      podSelector,
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ ipBlock: { cidr: "10.200.0.0/16" } }], ports: [{ protocol: "TCP", port: 22 }] }],
    },
  });
}

async function corpToDb(extra: () => void) {
  const { review } = await reviewProgram(forbids, () => {
    base();
    extra();
  });
  return { review, v: verdict(review, "no-corp-to-db", "cilium") };
}

describe("Kubernetes binding: the labels controllers add to pods", () => {
  it("a Job's pods carry job-name: a NetworkPolicy selecting job-name=db-backup opens the db's pods", async () => {
    const { review, v } = await corpToDb(() => {
      new k8s.batch.v1.Job("db-backup", {
        metadata: { name: "db-backup", namespace: "data" },
        spec: {
          template: {
            metadata: { labels: { app: "db" } },
            spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] },
          },
        },
      });
      sshFromCorp("backup-ssh", { matchLabels: { "job-name": "db-backup" } });
    });
    expect(v?.status).toBe("open");
    expect(v?.by).toContain("backup-ssh");
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({ from: "corp", to: "db", services: "tcp/22" }),
    );
    expect(fails(review)).toBe(true);
  });

  it("a StatefulSet's pods carry statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index", async () => {
    for (const selector of [
      { "statefulset.kubernetes.io/pod-name": "db-0" },
      { "apps.kubernetes.io/pod-index": "3" },
    ]) {
      const { v } = await corpToDb(() => {
        new k8s.apps.v1.StatefulSet("db", {
          metadata: { name: "db", namespace: "data" },
          spec: {
            serviceName: "db",
            selector: { matchLabels: { app: "db" } },
            template: template({ app: "db" }),
          },
        });
        sshFromCorp("db0-ssh", { matchLabels: selector });
      });
      expect(v?.status, JSON.stringify(selector)).toBe("open");
    }
  });

  it("a StatefulSet's pod-name is <name>-<ordinal>: another StatefulSet's pod name opens nothing", async () => {
    const { v } = await corpToDb(() => {
      new k8s.apps.v1.StatefulSet("db", {
        metadata: { name: "db", namespace: "data" },
        spec: {
          serviceName: "db",
          ordinals: { start: 1 },
          selector: { matchLabels: { app: "db" } },
          template: template({ app: "db" }),
        },
      });
      // db-0 does not exist (ordinals start at 1); dbx-1 is another StatefulSet's pod.
      sshFromCorp("not-db", {
        matchExpressions: [
          { key: "statefulset.kubernetes.io/pod-name", operator: "In", values: ["db-0", "dbx-1"] },
        ],
      });
    });
    expect(v?.status).toBe("blocked");
  });

  it("a label whose value is unknown before apply (pod-template-hash, controller-uid) may hold any value: a selector on one value opens the forbid", async () => {
    for (const [key, make] of [
      ["pod-template-hash", () => deployment("db", "data", { app: "db" })],
      [
        "controller-uid",
        () =>
          new k8s.batch.v1.CronJob("db-dump", {
            metadata: { name: "db-dump", namespace: "data" },
            spec: {
              schedule: "0 * * * *",
              jobTemplate: {
                spec: {
                  template: {
                    metadata: { labels: { app: "db" } },
                    spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] },
                  },
                },
              },
            },
          }),
      ],
      [
        "controller-revision-hash",
        () =>
          new k8s.apps.v1.DaemonSet("db", {
            metadata: { name: "db", namespace: "data" },
            spec: { selector: { matchLabels: { app: "db" } }, template: template({ app: "db" }) },
          }),
      ],
    ] as const) {
      const { v } = await corpToDb(() => {
        make();
        sshFromCorp("by-hash", { matchLabels: { [key]: "5d8f7c9b4" } });
      });
      expect(v?.status, key).toBe("open");
    }
  });

  it("a CronJob's Jobs are named <cronjob>-<minutes>: job-name=db-dump-29000000 selects its pods, job-name=db-dump does not", async () => {
    const cron = () =>
      new k8s.batch.v1.CronJob("db-dump", {
        metadata: { name: "db-dump", namespace: "data" },
        spec: {
          schedule: "0 * * * *",
          jobTemplate: {
            spec: {
              template: {
                metadata: { labels: { app: "db" } },
                spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] },
              },
            },
          },
        },
      });
    const open = await corpToDb(() => {
      cron();
      sshFromCorp("dump", { matchLabels: { "batch.kubernetes.io/job-name": "db-dump-29000000" } });
    });
    expect(open.v?.status).toBe("open");
    const closed = await corpToDb(() => {
      cron();
      sshFromCorp("dump", { matchLabels: { "job-name": "db-dump" } });
    });
    expect(closed.v?.status).toBe("blocked");
  });

  it("an unknown value never proves an allow: a rule admitting only pods of one pod-template-hash leaves the allow unproven", async () => {
    const allow = planOf({
      name: "k",
      workloads: [
        {
          name: "db",
          labels: { role: "db" },
          placements: { kubernetes: { cluster: "c1", namespace: "data", podLabels: { app: "db" } } },
        },
      ],
      segments: { db: { matchLabels: { role: "db" } } },
      peers: { corp: { cidrs: ["10.200.0.0/16"] } },
      paths: [
        {
          name: "corp-to-db",
          from: "corp",
          to: "db",
          services: ["tcp/22"],
          owner: "o@x",
          justification: "j",
        },
      ],
    });
    const { review } = await reviewProgram(allow, () => {
      deployment("db", "data", { app: "db" });
      new k8s.networking.v1.NetworkPolicy("deny-all", {
        metadata: { name: "deny-all", namespace: "data" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      });
      sshFromCorp("one-hash", { matchLabels: { app: "db", "pod-template-hash": "5d8f7c9b4" } });
    });
    expect(verdict(review, "corp-to-db", "cilium")?.status).not.toBe("open");
    expect(fails(review)).toBe(true);
  });

  it("labels nobody selects change nothing: a Deployment, StatefulSet, DaemonSet and Job of the workloads keep the review clean", async () => {
    const { review } = await reviewProgram(forbids, () => {
      base();
      deployment("db", "data", { app: "db" });
      new k8s.apps.v1.StatefulSet("db-ss", {
        metadata: { name: "db-ss", namespace: "data" },
        spec: {
          serviceName: "db",
          selector: { matchLabels: { app: "db" } },
          template: template({ app: "db" }),
        },
      });
      new k8s.apps.v1.DaemonSet("db-ds", {
        metadata: { name: "db-ds", namespace: "data" },
        spec: { selector: { matchLabels: { app: "db" } }, template: template({ app: "db" }) },
      });
      new k8s.batch.v1.Job("db-job", {
        metadata: { namespace: "data" },
        spec: {
          template: {
            metadata: { labels: { app: "db" } },
            spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] },
          },
        },
      });
    });
    expect(review.errors).toEqual([]);
    expect(verdict(review, "no-corp-to-db", "cilium")?.status).toBe("blocked");
  });
});

describe("Kubernetes binding: server-side apply patches", () => {
  it("a DeploymentPatch adding a pod template label is applied before binding: a policy selecting that label opens the db", async () => {
    const { review, v } = await corpToDb(() => {
      deployment("db", "data", { app: "db" });
      new k8s.apps.v1.DeploymentPatch("db-patch", {
        metadata: { name: "db", namespace: "data" },
        spec: { template: { metadata: { labels: { exposed: "yes" } } } },
      });
      sshFromCorp("exposed", { matchLabels: { exposed: "yes" } });
    });
    expect(v?.status).toBe("open");
    expect(v?.by).toContain("exposed");
    expect(review.errors).toEqual([expect.stringContaining("corp -> db is open for tcp/22")]);
  });

  it("a CronJobPatch relabels the pods of its Jobs (spec.jobTemplate.spec.template)", async () => {
    const { v } = await corpToDb(() => {
      new k8s.batch.v1.CronJob("db-dump", {
        metadata: { name: "db-dump", namespace: "data" },
        spec: {
          schedule: "0 * * * *",
          jobTemplate: {
            spec: {
              template: {
                metadata: { labels: { app: "db" } },
                spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] },
              },
            },
          },
        },
      });
      new k8s.batch.v1.CronJobPatch("db-dump-patch", {
        metadata: { name: "db-dump", namespace: "data" },
        spec: { jobTemplate: { spec: { template: { metadata: { labels: { exposed: "yes" } } } } } },
      });
      sshFromCorp("exposed", { matchLabels: { exposed: "yes" } });
    });
    expect(v?.status).toBe("open");
  });

  it("a patch the proof cannot apply exactly is an unknown error naming it: an object outside the stack, a label set two ways", async () => {
    const { review } = await reviewProgram(forbids, () => {
      base();
      deployment("db", "data", { app: "db" });
      new k8s.apps.v1.StatefulSetPatch("elsewhere", {
        metadata: { name: "cache", namespace: "data" },
        spec: { template: { metadata: { labels: { exposed: "yes" } } } },
      });
      new k8s.apps.v1.DeploymentPatch("relabel", {
        metadata: { name: "db", namespace: "data" },
        spec: { template: { metadata: { labels: { app: "other" } } } },
      });
    });
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "unknown",
        severity: "error",
        resource: 'StatefulSetPatch "elsewhere"',
        message: expect.stringContaining("patches StatefulSet data/cache, which this stack does not create"),
      }),
    );
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "unknown",
        severity: "error",
        resource: 'DeploymentPatch "relabel"',
        message: expect.stringContaining(
          'sets spec.template.metadata.labels.app to "other" where another source sets "db"',
        ),
      }),
    );
    expect(fails(review)).toBe(true);
  });
});

describe("Kubernetes binding: the labels of the namespaces the stack creates", () => {
  /** The db admits namespaces labelled tier=frontend on tcp/5432; no rendered policy holds the agent in. */
  async function agentToDb(extra: () => void) {
    const { review } = await reviewProgram(forbids, () => {
      deployment("agent", "agents", { app: "ticket" });
      deployment("db", "data", { app: "db" });
      new k8s.networking.v1.NetworkPolicy("db-from-frontend", {
        metadata: { name: "db-from-frontend", namespace: "data" },
        spec: {
          podSelector: { matchLabels: { app: "db" } },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { tier: "frontend" } } }],
              ports: [{ protocol: "TCP", port: 5432 }],
            },
          ],
        },
      });
      extra();
    });
    return { review, v: verdict(review, "no-agent-to-db", "cilium") };
  }

  it("a Namespace labelled tier=frontend puts its pods under namespaceSelector tier=frontend", async () => {
    const { review, v } = await agentToDb(() => {
      new k8s.core.v1.Namespace("agents", { metadata: { name: "agents", labels: { tier: "frontend" } } });
    });
    expect(v?.status).toBe("open");
    expect(v?.by).toContain("db-from-frontend");
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({ from: expect.stringContaining("other pods of c1/agents"), to: "db" }),
    );
  });

  it("a NamespacePatch adding the label is applied; a Namespace without it keeps the agent out", async () => {
    const patched = await agentToDb(() => {
      new k8s.core.v1.Namespace("agents", { metadata: { name: "agents", labels: { tier: "backend" } } });
      new k8s.core.v1.NamespacePatch("agents-tier", { metadata: { name: "agents", labels: { zone: "a" } } });
      new k8s.core.v1.NamespacePatch("agents-frontend", {
        metadata: { name: "agents", labels: { tier: "frontend" } },
      });
    });
    // The second patch sets tier two ways: that is unknown, not applied.
    expect(patched.review.findings).toContainEqual(
      expect.objectContaining({ kind: "unknown", resource: 'NamespacePatch "agents-frontend"' }),
    );
    expect(patched.v?.status).toBe("blocked");
    const added = await agentToDb(() => {
      new k8s.core.v1.Namespace("agents", { metadata: { name: "agents" } });
      new k8s.core.v1.NamespacePatch("agents-frontend", {
        metadata: { name: "agents", labels: { tier: "frontend" } },
      });
    });
    expect(added.review.findings.filter((f) => f.kind === "unknown")).toEqual([]);
    expect(added.v?.status).toBe("open");
    const without = await agentToDb(() => {
      new k8s.core.v1.Namespace("agents", { metadata: { name: "agents", labels: { tier: "backend" } } });
    });
    expect(without.v?.status).toBe("blocked");
    // Other namespaces may still carry tier=frontend: the db's opening to them is reported.
    expect(without.review.unexplained).toContainEqual(
      expect.objectContaining({
        from: expect.stringContaining("pods of other namespaces of cluster c1"),
        to: "db",
      }),
    );
  });
});

describe("Kubernetes binding: ReplicationControllers, standalone ReplicaSets, Helm", () => {
  it("the pods of a ReplicationController and of a standalone ReplicaSet are read like a Deployment's", async () => {
    for (const make of [
      () =>
        new k8s.core.v1.ReplicationController("db", {
          metadata: { name: "db", namespace: "data" },
          spec: { selector: { app: "db" }, template: template({ app: "db", debug: "true" }) },
        }),
      () =>
        new k8s.apps.v1.ReplicaSet("db", {
          metadata: { name: "db", namespace: "data" },
          spec: {
            selector: { matchLabels: { app: "db" } },
            template: template({ app: "db", debug: "true" }),
          },
        }),
    ]) {
      const { review, v } = await corpToDb(() => {
        make();
        sshFromCorp("debug-ssh", { matchLabels: { debug: "true" } });
      });
      expect(review.binding.cilium).toBe("bound");
      expect(review.findings.filter((f) => f.kind === "unbound-workload")).toEqual([]);
      expect(v?.status).toBe("open");
    }
  });

  it("a Helm Release, and a chart none of whose objects is recorded, are unknown errors naming them", async () => {
    const { review } = await reviewProgram(forbids, () => {
      base();
      deployment("db", "data", { app: "db" });
      new k8s.helm.v3.Release("ingress", {
        chart: "ingress-nginx",
        namespace: "data",
        repositoryOpts: { repo: "https://kubernetes.github.io/ingress-nginx" },
      });
      new k8s.helm.v3.Chart("redis", {
        chart: "redis",
        namespace: "data",
        fetchOpts: { repo: "https://charts.bitnami.com/bitnami" },
      });
    });
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        target: "cilium",
        kind: "unknown",
        severity: "error",
        resource: 'Helm Release "ingress"',
        message: expect.stringContaining("(chart ingress-nginx, namespace data): Helm creates its objects"),
      }),
    );
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "unknown",
        severity: "error",
        resource: 'Helm Chart (v3) "redis"',
        message: expect.stringContaining("none of its objects is recorded"),
      }),
    );
    expect(fails(review)).toBe(true);
  });
});

describe("opaqueObjects", () => {
  it("a NetworkPolicyPatch or CiliumNetworkPolicy patch (rules the proof does not apply) is an unknown error", async () => {
    const { review } = await corpToDb(() => {
      deployment("db", "data", { app: "db" });
      new k8s.networking.v1.NetworkPolicyPatch("np-patch", {
        metadata: { name: "k.db", namespace: "data" },
        spec: { ingress: [{ from: [{ ipBlock: { cidr: "10.200.0.0/16" } }] }] },
      });
      new k8s.apiextensions.CustomResourcePatch("cnp-patch", {
        apiVersion: "cilium.io/v2",
        kind: "CiliumNetworkPolicy",
        metadata: { name: "k.db", namespace: "data" },
        spec: { ingress: [{ fromCIDR: ["10.200.0.0/16"] }] },
      });
    });
    for (const resource of ['NetworkPolicyPatch "np-patch"', 'CiliumNetworkPolicyPatch "cnp-patch"'])
      expect(review.findings).toContainEqual(
        expect.objectContaining({ kind: "unknown", severity: "error", resource }),
      );
  });

  it("a chart whose objects are recorded (the engine rendered it) is read through them, not reported", () => {
    const chart = {
      type: "kubernetes:helm.sh/v3:Chart",
      name: "redis",
      urn: "urn:pulumi:s::p::kubernetes:helm.sh/v3:Chart::redis",
      inputs: { chart: "redis" },
    };
    const child = {
      type: "kubernetes:apps/v1:StatefulSet",
      name: "data/redis-master",
      parent: chart.urn,
      inputs: {},
    };
    expect(opaqueObjects([chart, child])).toEqual([]);
    expect(opaqueObjects([chart]).map((p) => p.resource)).toEqual(['Helm Chart (v3) "redis"']);
    // Type tokens are looked up as own keys only.
    const hostile = ["constructor", "__proto__", "toString"].map((type) => ({
      type,
      name: type,
      inputs: {},
    }));
    expect(opaqueObjects(hostile)).toEqual([]);
    expect(readKubernetes(hostile)).toEqual({ pods: [], namespaces: [], problems: [] });
  });
});

describe("Kubernetes binding: limits and hostile keys", () => {
  it("more label sets than the proof enumerates for one compute is an unknown error naming it", async () => {
    const hashes = Array.from({ length: 70 }, (_, i) => `h${i}`);
    const { review } = await corpToDb(() => {
      deployment("db", "data", { app: "db" });
      sshFromCorp("many", {
        matchExpressions: [{ key: "pod-template-hash", operator: "In", values: hashes }],
      });
    });
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "unknown",
        severity: "error",
        resource: "Deployment data/db",
        message: expect.stringContaining("cannot enumerate its pods' label sets"),
      }),
    );
  });

  it("a patch adding a label named __proto__ is merged as a label, not into the object's prototype", () => {
    const deploymentType = "kubernetes:apps/v1:Deployment";
    const object = (labels: string) => ({
      metadata: { name: "db", namespace: "data" },
      spec: { template: { metadata: { labels: JSON.parse(labels) } } },
    });
    // Hand-made records: no Pulumi serialization in between.
    const { pods, problems } = readKubernetes([
      { type: deploymentType, name: "db", inputs: object('{"app": "db"}') },
      { type: `${deploymentType}Patch`, name: "db-patch", inputs: object('{"__proto__": "x"}') },
    ]);
    expect(problems).toEqual([]);
    expect([...pods[0]!.labels]).toEqual([
      ["app", "db"],
      ["__proto__", "x"],
    ]);
  });
});
