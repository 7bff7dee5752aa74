/** Policies the Azure proof tests render: cross-target, cross-VNet, IPv6, port ranges, peers, monitor. */
export const MIXED = {
  name: "mixed",
  workloads: [
    {
      name: "web",
      labels: { role: "web" },
      placements: { azure: { vnet: "hub", cidrs: ["10.40.1.0/24", "fd00:40:1::/64"] } },
    },
    {
      name: "api",
      labels: { role: "api" },
      placements: { azure: { vnet: "hub", cidrs: ["10.40.2.0/24", "fd00:40:2::/64"] } },
    },
    { name: "db", labels: { role: "db" }, placements: { azure: { vnet: "spoke", cidrs: ["10.41.1.0/24"] } } },
    {
      name: "batch",
      labels: { role: "batch" },
      placements: { aws: { vpc: "jobs", cidrs: ["10.50.1.0/24"] } },
    },
  ],
  segments: {
    web: { matchLabels: { role: "web" } },
    api: { matchLabels: { role: "api" } },
    db: { matchLabels: { role: "db" } },
    batch: { matchLabels: { role: "batch" } },
  },
  peers: { corp: { cidrs: ["10.200.0.0/16"] }, partner: { cidrs: ["198.51.100.0/24", "2001:db8:77::/48"] } },
  paths: [
    {
      name: "internet-to-web",
      from: "internet",
      to: "web",
      services: ["tcp/80", "tcp/443"],
      owner: "o@x",
      justification: "j",
    },
    {
      name: "web-to-api",
      from: "web",
      to: "api",
      services: ["tcp/8000-8100", "udp/53"],
      owner: "o@x",
      justification: "j",
    },
    { name: "web-ping-web", from: "web", to: "web", services: ["icmp"], owner: "o@x", justification: "j" },
    { name: "api-to-db", from: "api", to: "db", services: ["tcp/5432"], owner: "o@x", justification: "j" },
    {
      name: "batch-to-db",
      from: "batch",
      to: "db",
      services: ["tcp/5432-5433"],
      owner: "o@x",
      justification: "j",
    },
    {
      name: "api-egress",
      from: "api",
      to: "internet",
      services: ["tcp/443"],
      owner: "o@x",
      justification: "j",
    },
    {
      name: "partner-to-api",
      from: "partner",
      to: "api",
      services: ["tcp/9443"],
      owner: "o@x",
      justification: "j",
    },
    { name: "no-corp-to-db", from: "corp", to: "db", verdict: "forbid", owner: "o@x", justification: "j" },
    { name: "no-db-exfil", from: "db", to: "internet", verdict: "forbid", owner: "o@x", justification: "j" },
    { name: "no-web-to-db", from: "web", to: "db", verdict: "forbid", owner: "o@x", justification: "j" },
    {
      name: "watch-api-to-db",
      from: "api",
      to: "db",
      verdict: "forbid",
      mode: "monitor",
      services: ["tcp/5432"],
      owner: "o@x",
      justification: "j",
    },
  ],
};

/** Two segments in one VNet, no path between them in one direction: only the explicit deny-all closes it. */
export const QUIET = {
  name: "quiet",
  workloads: [
    {
      name: "app",
      labels: { role: "app" },
      placements: { azure: { vnet: "core", cidrs: ["10.30.1.0/24"] } },
    },
    {
      name: "cache",
      labels: { role: "cache" },
      placements: { azure: { vnet: "core", cidrs: ["10.30.2.0/24"] } },
    },
  ],
  segments: { app: { matchLabels: { role: "app" } }, cache: { matchLabels: { role: "cache" } } },
  paths: [
    {
      name: "app-to-cache",
      from: "app",
      to: "cache",
      services: ["tcp/6379"],
      owner: "o@x",
      justification: "j",
    },
    {
      name: "watch-cache-to-app",
      from: "cache",
      to: "app",
      verdict: "forbid",
      mode: "monitor",
      owner: "o@x",
      justification: "j",
    },
  ],
};
