import { describe, expect, it } from "vitest";
import {
  formatMarkdown,
  formatRadius,
  formatRadiusMarkdown,
  formatReview,
  type HopJson,
  type RadiusJson,
  type ReviewJson,
} from "../../lib";

/** Rule names come from whoever wrote the rules: a pipe, a backtick, a newline, a terminal escape. */
const HOSTILE = "evil|rule`\n\u001b[31mred";
const hop = (from: string, to: string, path: string | null): HopJson => ({
  from,
  to,
  path,
  packet: { src: "10.0.0.1", dst: "10.0.1.1", protocol: "tcp", port: 22 },
  decidedBy: { aws: HOSTILE },
});

const review: ReviewJson = {
  policy: "p",
  ok: false,
  targets: ["aws"],
  unproven: [],
  forbidden: [],
  allowed: [],
  resources: { aws: 1 },
  paths: [],
  monitored: [],
  endpoints: { segments: {}, peers: [] },
  l7: [],
  warnings: [],
  rules: {},
  quotas: [],
  errors: [],
  unexplained: [],
  findings: [],
  binding: {},
  chains: [
    {
      path: "no-x",
      mode: "enforce",
      status: "open",
      chain: [hop("ws", 'other [pods] of "ns"', null), hop('other [pods] of "ns"', "db", "allow-db")],
      cut: [hop("ws", 'other [pods] of "ns"', null)],
    },
  ],
  radius: {
    parties: [{ name: "ws", kind: "peer", reaches: 1, critical: ["db"], peers: [] }],
    critical: [
      {
        segment: "db",
        members: ["db"],
        reachedBy: [{ name: "ws", kind: "peer", hops: 2, next: 'other [pods] of "ns"', path: null }],
      },
    ],
  },
};

describe("multi-hop output with hostile names and rules", () => {
  it("Markdown keeps every table row on one line, escapes pipes, drops backticks and control characters", () => {
    const md = formatMarkdown(review);
    expect(md).not.toContain("\u001b");
    for (const line of md.split("\n").filter((l) => l.startsWith("|")))
      expect(line).not.toMatch(/evil\|rule/);
    expect(md).toContain("evil\\|rule'??[31mred");
    // Mermaid labels: no quote or bracket can end a node.
    expect(md).toContain('["other  pods  of #quot;ns#quot;"]');
  });

  it("the terminal review and radius output show control characters as ?", () => {
    const text = formatReview(review);
    expect(text).not.toContain("\u001b");
    expect(text).toContain("evil|rule`??[31mred");
    const r: RadiusJson = {
      from: "ws",
      reached: [
        {
          name: "db",
          kind: "workload",
          hops: 2,
          chain: [hop("ws", "x\u001b", null), hop("x\u001b", "db", null)],
        },
      ],
    };
    expect(formatRadius(r)).not.toContain("\u001b");
    const md = formatRadiusMarkdown(r);
    expect(md).not.toContain("\u001b");
    expect(md.split("\n").filter((l) => l.startsWith("| 2 |"))).toHaveLength(1);
  });
});
