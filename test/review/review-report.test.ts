import { describe, expect, it } from "vitest";
import { checkPolicyDocument, formatMarkdown, mermaidDiagram, prove, reviewJson } from "../../lib";
import { faithfulToyRules, toyAdapter, toyRule } from "../support/toy-target";

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

function review(targets: Array<"aws" | "cilium">, now: Date, leak = false) {
  const r = checkPolicyDocument(DOC, "report.yaml", { now });
  expect(r.ok).toBe(true);
  const plan = r.plan!;
  // A rule added by hand on aws: the tickets tier reaches the agent on tcp/8080 (an enforce forbid).
  const leaks = leak
    ? [
        toyRule("aws", "hand-added", {
          action: "allow",
          from: ["10.10.2.0/24"],
          to: ["10.244.2.0/24"],
          services: ["tcp/8080"],
        }),
      ]
    : [];
  const proof = prove(
    plan,
    targets.map((t) =>
      toyAdapter(t).evaluator([...faithfulToyRules(t, plan), ...(t === "aws" ? leaks : [])], plan),
    ),
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

  it("draws segments, peers and paths in Mermaid: allows, blocked and monitored forbids each distinct", () => {
    const r = review(["aws"], new Date("2026-10-01T00:00:00Z"));
    const m = mermaidDiagram(r);
    expect(m.split("\n")).toEqual([
      "flowchart LR",
      '  seg_agents["agents<br/>1 workload"]',
      '  seg_tickets["tickets<br/>1 workload"]',
      '  seg_agents -->|"tcp/443"| seg_tickets',
      '  seg_tickets --x|"forbid, blocked: any"| seg_agents',
      '  seg_agents --x|"monitor: blocked: tcp/22"| seg_tickets',
      "  linkStyle 1 stroke:#2b8a3e,stroke-width:2px",
      "  linkStyle 2 stroke:#e69500,stroke-dasharray:4",
    ]);
    const md = formatMarkdown(r);
    expect(md).toContain("```mermaid\nflowchart LR");
    expect(md).toContain(
      "| agent-reads-tickets | allow | agents → tickets | tcp/443 | agents@example.com | The agent summarises tickets. | 2026-12-01 |",
    );
    expect(md).toContain("- `agent-ssh-soon-forbidden`: enforcing it would close nothing that is allowed.");
  });

  it("draws an open forbid unmistakably (thick red OPEN arrow naming the target), never as blocked", () => {
    const r = review(["aws"], new Date("2026-10-01T00:00:00Z"), true);
    expect(r.ok).toBe(false);
    const m = mermaidDiagram(r).split("\n");
    expect(m).toContain('  seg_tickets ==>|"OPEN on aws: tcp/8080 gets through (forbid: any)"| seg_agents');
    expect(m).toContain("  linkStyle 1 stroke:#d00000,stroke-width:4px");
    expect(m.join("\n")).not.toContain("forbid, blocked");
  });

  it("draws a forbid no target checked as such, not as blocked", () => {
    const r = review([], new Date("2026-10-01T00:00:00Z"));
    expect(mermaidDiagram(r).split("\n")).toContain(
      '  seg_tickets --x|"forbid, not checked: any"| seg_agents',
    );
  });
});
