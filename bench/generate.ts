/**
 * Deterministic enterprise-sized policies for benchmarks: `segments` segments of equal size,
 * workloads spread across all five targets, allow paths between nearby segments and forbid paths
 * between distant ones (so the policy is valid: no allow overlaps an enforce forbid).
 */
export interface GeneratedSize {
  workloads: number;
  segments: number;
  paths: number;
  /** Share of paths that are forbids (default 0.1). */
  forbidShare?: number;
}

const PLACEMENTS = ["aws", "gcp", "azure", "kubernetes", "bluefield"] as const;

function placement(kind: (typeof PLACEMENTS)[number], i: number, cidr: string) {
  switch (kind) {
    case "aws":
      return { aws: { vpc: `vpc-${i % 4}`, cidrs: [cidr] } };
    case "gcp":
      return {
        gcp: { network: `net-${i % 4}`, serviceAccount: `w${i}@proj.iam.gserviceaccount.com`, cidrs: [cidr] },
      };
    case "azure":
      return { azure: { vnet: `vnet-${i % 4}`, cidrs: [cidr] } };
    case "kubernetes":
      return {
        kubernetes: {
          cluster: `c${i % 4}`,
          namespace: `ns-${i % 20}`,
          podLabels: { app: `w${i}` },
          cidrs: [cidr],
        },
      };
    case "bluefield":
      return { bluefield: { hosts: [`dpu-${i % 50}`], port: "pf0hpf", addresses: [cidr] } };
  }
}

export function generatePolicy(size: GeneratedSize): Record<string, unknown> {
  const perSegment = Math.max(1, Math.floor(size.workloads / size.segments));
  const workloads = Array.from({ length: size.workloads }, (_, i) => {
    // Each workload owns a distinct /28 in 10.0.0.0/8.
    const n = i * 16;
    const cidr = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/28`;
    return {
      name: `w${i}`,
      labels: {
        seg: `s${Math.min(size.segments - 1, Math.floor(i / perSegment))}`,
        tier: i % 3 === 0 ? "front" : "back",
      },
      placements: placement(PLACEMENTS[i % PLACEMENTS.length]!, i, cidr),
    };
  });
  const segments = Object.fromEntries(
    Array.from({ length: size.segments }, (_, s) => [`s${s}`, { matchLabels: { seg: `s${s}` } }]),
  );
  const forbids = Math.round(size.paths * (size.forbidShare ?? 0.1));
  const allows = size.paths - forbids;
  const paths: Array<Record<string, unknown>> = [];
  const half = Math.floor(size.segments / 2);
  for (let k = 0; k < allows; k++) {
    const from = k % size.segments;
    // Allows go to the next few segments; forbids (below) to the far half: never the same pair.
    const to = (from + 1 + Math.floor(k / size.segments)) % size.segments;
    paths.push({
      name: `allow-${k}`,
      from: `s${from}`,
      to: `s${to}`,
      services: [`tcp/${8000 + (k % 50)}`, ...(k % 7 === 0 ? ["udp/53"] : [])],
      owner: "platform@example.com",
      justification: "generated",
    });
  }
  for (let k = 0; k < forbids; k++) {
    const from = k % size.segments;
    const to = (from + half + Math.floor(k / size.segments)) % size.segments;
    paths.push({
      name: `forbid-${k}`,
      from: `s${from}`,
      to: `s${to}`,
      verdict: "forbid",
      ...(k % 10 === 0 ? { mode: "monitor" } : {}),
      owner: "secops@example.com",
      justification: "generated",
    });
  }
  return {
    name: `generated-${size.workloads}`,
    workloads,
    segments,
    peers: { "corp-workstations": { cidrs: ["192.168.0.0/16"] } },
    paths,
  };
}
