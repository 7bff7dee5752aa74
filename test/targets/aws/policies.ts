import { doc } from "./support";

/** Cross-target, two VPCs, IPv6, port ranges, icmp, peers, internet, a monitor forbid. */
export const MIXED = doc({
  workloads: [
    {
      name: "api",
      labels: { role: "api" },
      placements: { aws: { vpc: "app", cidrs: ["10.1.1.0/24", "fd00:1:1::/64"] } },
    },
    {
      name: "worker",
      labels: { role: "worker" },
      placements: { aws: { vpc: "app", cidrs: ["10.1.2.0/24", "fd00:1:2::/64"] } },
    },
    {
      name: "batch",
      labels: { role: "batch" },
      placements: { aws: { vpc: "data", cidrs: ["10.2.1.0/24"] } },
    },
    {
      name: "lake",
      labels: { role: "lake" },
      placements: {
        gcp: { network: "d", serviceAccount: "lake@p.iam.gserviceaccount.com", cidrs: ["10.20.0.0/20"] },
      },
    },
  ],
  segments: {
    api: { matchLabels: { role: "api" } },
    worker: { matchLabels: { role: "worker" } },
    batch: { matchLabels: { role: "batch" } },
    lake: { matchLabels: { role: "lake" } },
  },
  peers: {
    partner: { cidrs: ["198.51.100.0/24", "2001:db8:77::/48"] },
    office: { cidrs: ["10.200.0.0/16"] },
  },
  paths: [
    { name: "partner-calls-api", from: "partner", to: "api", services: ["tcp/443", "tcp/8443"] },
    { name: "api-calls-worker", from: "api", to: "worker", services: ["tcp/8000-8100", "icmp"] },
    { name: "worker-reads-lake", from: "worker", to: "lake", services: ["tcp/443"] },
    { name: "batch-feeds-worker", from: "batch", to: "worker", services: ["tcp/9000-9009", "udp/9000-9009"] },
    { name: "worker-updates", from: "worker", to: "internet", services: ["tcp/443"] },
    { name: "no-office-to-worker", from: "office", to: "worker", verdict: "forbid" },
    { name: "no-api-exfiltration", from: "api", to: "internet", verdict: "forbid" },
    { name: "no-batch-to-api", from: "batch", to: "api", verdict: "forbid" },
    {
      name: "watch-worker-lake",
      from: "worker",
      to: "lake",
      verdict: "forbid",
      mode: "monitor",
      services: ["tcp/443"],
    },
  ],
});

/** `n` segments of one workload each in VPC "big", `paths` allow paths between them (names from segment names). */
export function manyPaths(n: number, extra: Array<Record<string, unknown>> = []) {
  const workloads = Array.from({ length: n }, (_, i) => ({
    name: `w${i}`,
    labels: { seg: `s${i}` },
    placements: { aws: { vpc: "big", cidrs: [`10.9.${i}.0/24`] } },
  }));
  const segments = Object.fromEntries(workloads.map((_, i) => [`s${i}`, { matchLabels: { seg: `s${i}` } }]));
  const paths = Array.from({ length: n }, (_, i) => ({
    name: `s${i}-to-s${(i + 1) % n}`,
    from: `s${i}`,
    to: `s${(i + 1) % n}`,
    services: [`tcp/${8000 + i}`],
  }));
  return doc({ workloads, segments, paths: [...paths, ...extra] });
}
