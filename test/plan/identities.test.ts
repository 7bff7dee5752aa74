import { describe, expect, it } from "vitest";
import { checkPolicyText, formatDiagnostic } from "../../lib";

/*
 * DESIGN.md rule 9: identities a target enforces by must tell workloads apart. Each case is a
 * policy `check` accepted before (the GCP one silently gave web the db's access).
 */

const check = (yaml: string) => {
  const r = checkPolicyText(yaml, "policy.yaml");
  return { ok: r.ok, errors: r.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic) };
};

const base = (workloads: string) => `name: ids
workloads:
${workloads}
segments:
  web: { matchLabels: { role: web } }
  db: { matchLabels: { role: db } }
paths:
  - { name: web-to-db, from: web, to: db, services: [tcp/5432], owner: o@x, justification: j }
`;

describe("check refuses identities shared by workloads of different segments", () => {
  it("two workloads in different segments running as one GCP service account: an error at the second's serviceAccount, naming both", () => {
    const r = check(
      base(`  - name: web
    labels: { role: web }
    placements: { gcp: { network: data, serviceAccount: app@p.iam.gserviceaccount.com, cidrs: [10.1.0.0/24] } }
  - name: db
    labels: { role: db }
    placements: { gcp: { network: data, serviceAccount: app@p.iam.gserviceaccount.com, cidrs: [10.2.0.0/24] } }`),
    );
    expect(r.ok).toBe(false);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^policy\.yaml:8:\d+/);
    expect(r.errors[0]).toContain(
      'workload "db" shares service account app@p.iam.gserviceaccount.com in GCP network data with workload "web", but their segments differ (db: db; web: web)',
    );
  });

  it("one account for workloads of the same segments, or in different networks, is fine", () => {
    expect(
      check(
        base(`  - name: web
    labels: { role: web }
    placements: { gcp: { network: data, serviceAccount: app@p.iam.gserviceaccount.com, cidrs: [10.1.0.0/24] } }
  - name: web2
    labels: { role: web }
    placements: { gcp: { network: data, serviceAccount: app@p.iam.gserviceaccount.com, cidrs: [10.3.0.0/24] } }
  - name: db
    labels: { role: db }
    placements: { gcp: { network: other, serviceAccount: app@p.iam.gserviceaccount.com, cidrs: [10.2.0.0/24] } }`),
      ).errors,
    ).toEqual([]);
  });

  it("identical pod labels in one namespace are an error; a strict superset is fine (the pod is the more specific workload)", () => {
    const same = check(
      base(`  - name: web
    labels: { role: web }
    placements: { kubernetes: { cluster: k, namespace: ns, podLabels: { app: x } } }
  - name: db
    labels: { role: db }
    placements: { kubernetes: { cluster: k, namespace: ns, podLabels: { app: x } } }`),
    );
    expect(same.errors.join("\n")).toContain(
      'workload "db" has the same podLabels (app=x) as workload "web"',
    );
    const superset = check(
      base(`  - name: web
    labels: { role: web }
    placements: { kubernetes: { cluster: k, namespace: ns, podLabels: { app: x } } }
  - name: db
    labels: { role: db }
    placements: { kubernetes: { cluster: k, namespace: ns, podLabels: { app: x, tier: db } } }`),
    );
    expect(superset.errors).toEqual([]);
  });

  it("one DPU port at overlapping addresses for workloads of different segments is an error; disjoint addresses are told apart", () => {
    const overlap = check(
      base(`  - name: web
    labels: { role: web }
    placements: { bluefield: { hosts: [dpu-1], port: pf0hpf, addresses: [10.1.0.0/24] } }
  - name: db
    labels: { role: db }
    placements: { bluefield: { hosts: [dpu-1], port: pf0hpf, addresses: [10.1.0.128/25] } }`),
    );
    expect(overlap.errors.join("\n")).toContain(
      'workload "db" shares DPU port pf0hpf on dpu-1 at overlapping addresses (10.1.0.128/25) with workload "web"',
    );
    const disjoint = check(
      base(`  - name: web
    labels: { role: web }
    placements: { bluefield: { hosts: [dpu-1], port: pf0hpf, addresses: [10.1.0.0/25] } }
  - name: db
    labels: { role: db }
    placements: { bluefield: { hosts: [dpu-1], port: pf0hpf, addresses: [10.1.0.128/25] } }`),
    );
    expect(disjoint.errors).toEqual([]);
  });
});
