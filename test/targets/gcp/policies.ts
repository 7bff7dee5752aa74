import { meta } from "./helpers";

const sa = (n: string) => `${n}@corp-data.iam.gserviceaccount.com`;

/**
 * A policy exercising the GCP target: a cross-target path (AWS → GCP by ranges, and back),
 * service-account paths inside a network, a workload without a service account, two networks,
 * IPv6, port ranges, ICMP, peers, a public partner inside `internet`, enforce and monitor forbids.
 */
export const mixedPolicy = {
  name: "mixed",
  workloads: [
    {
      name: "trainer",
      labels: { role: "training" },
      placements: { aws: { vpc: "ml", cidrs: ["10.10.1.0/24"] } },
    },
    {
      name: "lake",
      labels: { role: "datalake" },
      placements: {
        gcp: { network: "data", serviceAccount: sa("lake"), cidrs: ["10.20.0.0/20", "fd00:20::/64"] },
      },
    },
    {
      name: "etl",
      labels: { role: "etl" },
      placements: {
        gcp: { network: "data", serviceAccount: sa("etl"), cidrs: ["10.20.16.0/24", "fd00:21::/64"] },
      },
    },
    {
      name: "legacy",
      labels: { role: "legacy" },
      placements: { gcp: { network: "data", cidrs: ["10.20.32.0/24"] } },
    },
    {
      name: "api",
      labels: { role: "api" },
      placements: {
        gcp: { network: "edge", serviceAccount: sa("api"), cidrs: ["10.21.0.0/24", "fd00:22::/64"] },
      },
    },
  ],
  segments: {
    training: { matchLabels: { role: "training" } },
    datalake: { matchLabels: { role: "datalake" } },
    etl: { matchLabels: { role: "etl" } },
    legacy: { matchLabels: { role: "legacy" } },
    api: { matchLabels: { role: "api" } },
  },
  peers: {
    corp: { cidrs: ["10.200.0.0/16", "fd00:200::/48"] },
    partner: { cidrs: ["8.8.4.0/24"] },
  },
  paths: [
    { name: "training-reads-datalake", from: "training", to: "datalake", services: ["tcp/443"], ...meta },
    { name: "etl-writes-lake", from: "etl", to: "datalake", services: ["tcp/8000-8100", "udp/53"], ...meta },
    { name: "etl-pings-lake", from: "etl", to: "datalake", services: ["icmp"], ...meta },
    { name: "legacy-feeds-etl", from: "legacy", to: "etl", services: ["tcp/9000"], ...meta },
    { name: "etl-feeds-legacy", from: "etl", to: "legacy", services: ["tcp/7000-7010"], ...meta },
    { name: "api-reads-lake", from: "api", to: "datalake", services: ["tcp/443"], ...meta },
    { name: "corp-to-api", from: "corp", to: "api", services: ["tcp/22"], ...meta },
    { name: "api-to-partner", from: "api", to: "partner", services: ["tcp/443"], ...meta },
    { name: "etl-to-internet", from: "etl", to: "internet", services: ["tcp/443"], ...meta },
    { name: "lake-to-trainer", from: "datalake", to: "training", services: ["tcp/9443"], ...meta },
    { name: "no-corp-to-lake", from: "corp", to: "datalake", verdict: "forbid", ...meta },
    { name: "no-lake-to-internet", from: "datalake", to: "internet", verdict: "forbid", ...meta },
    {
      name: "watch-etl-egress",
      from: "etl",
      to: "internet",
      verdict: "forbid",
      mode: "monitor",
      services: ["tcp/443"],
      ...meta,
    },
  ],
};

/** `n` allow paths between generated segments of one GCP network, plus a forbid. */
export function largePolicy(n: number, extra = false) {
  const workloads = Array.from({ length: 20 }, (_, i) => ({
    name: `w${i}`,
    labels: { seg: `s${i % 10}` },
    placements: {
      gcp: { network: "big", serviceAccount: `w${i}@p.iam.gserviceaccount.com`, cidrs: [`10.50.${i}.0/24`] },
    },
  }));
  const segments = Object.fromEntries(
    Array.from({ length: 10 }, (_, s) => [`s${s}`, { matchLabels: { seg: `s${s}` } }]),
  );
  const paths: Array<Record<string, unknown>> = Array.from({ length: n }, (_, k) => ({
    name: `p${k}`,
    from: `s${k % 5}`,
    to: `s${5 + ((k * 3) % 5)}`,
    services: [`tcp/${8000 + k}`],
    ...meta,
  }));
  paths.push({ name: "no-s9-to-s0", from: "s9", to: "s0", verdict: "forbid", ...meta });
  if (extra) paths.push({ name: "added-path", from: "s1", to: "s7", services: ["tcp/9999"], ...meta });
  return { name: "large", workloads, segments, peers: {}, paths };
}
