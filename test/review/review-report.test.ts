import { describe, expect, it } from "vitest";
import { checkPolicyDocument, formatMarkdown, mermaidDiagram, prove, reviewJson } from "../../lib";
import { faithfulToyRules, toyAdapter } from "../support/toy-target";

const DOC = {
  name: "report",
  workloads: [
    {
      name: "agent",
      labels: { role: "agent" },
      placements: {
        kubernetes: {
          cluster: "ai",
          namespace: "agents",
          podLabels: { app: "agent" },
          cidrs: ["10.244.2.0/24"],
        },
      },
    },
    {
      name: "tickets",
      labels: { role: "tickets" },
      placements: { aws: { vpc: "core", cidrs: ["10.10.2.0/24"] } },
    },
  ],
  segments: { agents: { matchLabels: { role: "agent" } }, tickets: { matchLabels: { role: "tickets" } } },
  paths: [
    {
      name: "agent-reads-tickets",
      from: "agents",
      to: "tickets",
      services: ["tcp/443"],
      http: [{ method: "GET", path: "/tickets/.*" }],
      owner: "agents@example.com",
      justification: "The agent summarises tickets.",
      expires: "2026-12-01",
    },
    {
      name: "no-tickets-to-agent",
      from: "tickets",
      to: "agents",
      verdict: "forbid",
      owner: "secops@example.com",
      justification: "j",
    },
    {
      name: "agent-ssh-soon-forbidden",
      from: "agents",
      to: "tickets",
      verdict: "forbid",
      mode: "monitor",
      services: ["tcp/22"],
      owner: "secops@example.com",
      justification: "j",
    },
  ],
};

function review(targets: Array<"aws" | "cilium">, now: Date) {
  const r = checkPolicyDocument(DOC, "report.yaml", { now });
  expect(r.ok).toBe(true);
  const plan = r.plan!;
  const proof = prove(
    plan,
    targets.map((t) => toyAdapter(t).evaluator(faithfulToyRules(t, plan), plan)),
  );
  return reviewJson(plan, proof, {}, { now });
}

describe("review report", () => {
  it("warns about paths expiring within 30 days, and not before", () => {
    const soon = review(["aws"], new Date("2026-11-22T12:00:00Z"));
    expect(soon.warnings).toContain(
      'path "agent-reads-tickets" expires on 2026-12-01 (in 9 days); owner agents@example.com should renew or remove it',
    );
    const early = review(["aws"], new Date("2026-10-01T00:00:00Z"));
    expect(early.warnings.filter((w) => w.includes("expires"))).toEqual([]);
  });

  it("says where L7 rules are enforced and where only L4", () => {
    const both = review(["aws", "cilium"], new Date("2026-10-01T00:00:00Z"));
    expect(both.l7).toEqual([{ path: "agent-reads-tickets", l7Targets: ["cilium"], l4Targets: ["aws"] }]);
    expect(both.warnings).toContain(
      'path "agent-reads-tickets": L7 enforced on cilium only; aws enforce it at L4 (every request on its ports passes)',
    );
    const l4only = review(["aws"], new Date("2026-10-01T00:00:00Z"));
    expect(l4only.warnings).toContain(
      'path "agent-reads-tickets": L7 rules are not enforced on any proven target; enforced at L4 only (aws)',
    );
  });

  it("draws segments, peers and paths in Mermaid, forbids distinct from allows", () => {
    const r = review(["aws"], new Date("2026-10-01T00:00:00Z"));
    const m = mermaidDiagram(r);
    expect(m.split("\n")).toEqual([
      "flowchart LR",
      '  seg_agents["agents<br/>1 workload"]',
      '  seg_tickets["tickets<br/>1 workload"]',
      '  seg_agents -->|"tcp/443"| seg_tickets',
      '  seg_tickets --x|"forbid: any"| seg_agents',
      '  seg_agents -.->|"monitor: tcp/22"| seg_tickets',
      "  linkStyle 1 stroke:#d00000,stroke-width:3px",
      "  linkStyle 2 stroke:#e69500,stroke-dasharray:4",
    ]);
    const md = formatMarkdown(r);
    expect(md).toContain("```mermaid\nflowchart LR");
    expect(md).toContain(
      "| agent-reads-tickets | allow | agents → tickets | tcp/443 | agents@example.com | The agent summarises tickets. | 2026-12-01 |",
    );
    expect(md).toContain("- `agent-ssh-soon-forbidden`: enforcing it would close nothing that is allowed.");
  });
});
