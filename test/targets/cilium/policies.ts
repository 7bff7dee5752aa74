import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { REPO } from "./support";

const meta = { owner: "secops@example.com", justification: "test" };

/** The flagship policy file. */
export function flagship(): Record<string, unknown> {
  return parse(readFileSync(join(REPO, "stacks", "ai-platform", "policy.yaml"), "utf8"));
}

/**
 * The flagship plus an L7 ticket API: the agent may GET /tickets/<id> on the ticket API (and
 * nothing else on it), the ticket API calls a partner over IPv6, a monitor forbid, port ranges.
 */
export function l7Policy(): Record<string, unknown> {
  const doc = flagship() as {
    workloads: unknown[];
    segments: Record<string, unknown>;
    peers: Record<string, unknown>;
    paths: unknown[];
  };
  doc.workloads.push(
    {
      name: "ticket-api",
      labels: { role: "tickets", env: "prod" },
      placements: {
        kubernetes: {
          cluster: "ai",
          namespace: "agents",
          podLabels: { app: "ticket-api" },
          cidrs: ["10.244.4.0/24", "fd00:244:4::/64"],
        },
      },
    },
    {
      name: "batch",
      labels: { role: "batch", env: "prod" },
      placements: {
        kubernetes: {
          cluster: "ml",
          namespace: "jobs",
          podLabels: { app: "batch" },
          cidrs: ["10.245.0.0/24"],
        },
      },
    },
  );
  doc.segments.tickets = { matchLabels: { role: "tickets" } };
  doc.segments.batch = { matchLabels: { role: "batch" } };
  doc.peers.partner = { cidrs: ["2a00:1450:4000::/40", "8.8.4.0/24"] };
  doc.paths.push(
    {
      name: "agents-read-tickets",
      from: "agents",
      to: "tickets",
      services: ["tcp/8443"],
      http: [{ method: "GET", path: "/tickets/[0-9]+" }],
      ...meta,
    },
    {
      name: "tickets-sync-partner",
      from: "tickets",
      to: "partner",
      services: ["tcp/9000-9100", "udp/4500"],
      ...meta,
    },
    { name: "batch-pulls-tickets", from: "batch", to: "tickets", services: ["tcp/8443"], ...meta },
    { name: "partner-pings-tickets", from: "partner", to: "tickets", services: ["icmp"], ...meta },
    { name: "tickets-any-to-inference", from: "tickets", to: "inference", services: ["any"], ...meta },
    {
      name: "watch-tickets-internet",
      from: "tickets",
      to: "internet",
      verdict: "forbid",
      mode: "monitor",
      ...meta,
    },
    { name: "no-batch-to-billing", from: "batch", to: "billing", verdict: "forbid", ...meta },
    { name: "no-internet-to-agents", from: "internet", to: "agents", verdict: "forbid", ...meta },
  );
  return doc;
}
