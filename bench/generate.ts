/**
 * Deterministic enterprise-sized policies for benchmarks, laid out the way an enterprise lays out its
 * estate, so that every target renders within its default limits:
 *
 * - segments of `workloads / segments` workloads (about 10); a segment lives on one target (segment
 *   `s` on the `s mod 5`-th of aws, gcp, azure, kubernetes, bluefield) and owns the /24
 *   `10.<s / 256>.<s mod 256>.0/24`, each member a /28 of it;
 * - networks (VPC, GCP network, VNet, cluster) hold 50 consecutive segments, 10 of each target;
 *   a Kubernetes segment is a namespace; a BlueField DPU hosts 5 workloads;
 * - allow paths run from each segment to the next few segments (so most cross targets, some
 *   cross networks), with one of 50 TCP ports, and UDP 53 on every seventh; forbid paths run to the
 *   far half of the segments (never a pair an allow opens), one in ten in monitor mode. Needs at
 *   least 4 segments.
 */
export interface GeneratedSize {
  workloads: number;
  segments: number;
  /** All paths, allows and forbids (default: 2 allow paths per workload, forbids on top). */
  paths?: number;
  /** Share of paths that are forbids (default 0.1). */
  forbidShare?: number;
}

const PLACEMENTS = ["aws", "gcp", "azure", "kubernetes", "bluefield"] as const;
/** Segments per network (VPC, GCP network, VNet, cluster): 10 of each target. */
const SEGMENTS_PER_NETWORK = 50;
/** Workloads per BlueField DPU. */
const WORKLOADS_PER_DPU = 5;

function placement(segment: number, member: number, i: number, cidr: string) {
  const net = Math.floor(segment / SEGMENTS_PER_NETWORK);
  switch (PLACEMENTS[segment % PLACEMENTS.length]!) {
    case "aws":
      return { aws: { vpc: `vpc-${net}`, cidrs: [cidr] } };
    case "gcp":
      return {
        gcp: { network: `net-${net}`, serviceAccount: `w${i}@proj.iam.gserviceaccount.com`, cidrs: [cidr] },
      };
    case "azure":
      return { azure: { vnet: `vnet-${net}`, cidrs: [cidr] } };
    case "kubernetes":
      return {
        kubernetes: {
          cluster: `c${net}`,
          namespace: `ns-s${segment}`,
          podLabels: { app: `w${i}` },
          cidrs: [cidr],
        },
      };
    case "bluefield":
      return {
        bluefield: {
          hosts: [`dpu-s${segment}-${Math.floor(member / WORKLOADS_PER_DPU)}`],
          port: "pf0hpf",
          addresses: [cidr],
        },
      };
  }
}

export interface GeneratedCounts {
  allows: number;
  forbids: number;
}

/** How many allow and forbid paths a size asks for. */
export function pathCounts(size: GeneratedSize): GeneratedCounts {
  const share = size.forbidShare ?? 0.1;
  const total = size.paths ?? Math.round((2 * size.workloads) / (1 - share));
  const forbids = Math.round(total * share);
  return { allows: total - forbids, forbids };
}

export function generatePolicy(size: GeneratedSize): Record<string, unknown> {
  const perSegment = Math.max(1, Math.ceil(size.workloads / size.segments));
  if (perSegment > 16)
    throw new Error(`at most 16 workloads per segment (a /28 each in a /24), got ${perSegment}`);
  const workloads = Array.from({ length: size.workloads }, (_, i) => {
    const s = Math.floor(i / perSegment);
    const member = i % perSegment;
    const cidr = `10.${(s >> 8) & 255}.${s & 255}.${member * 16}/28`;
    return {
      name: `w${i}`,
      labels: { seg: `s${s}`, tier: i % 3 === 0 ? "front" : "back" },
      placements: placement(s, member, i, cidr),
    };
  });
  const segmentCount = Math.ceil(size.workloads / perSegment);
  const segments = Object.fromEntries(
    Array.from({ length: segmentCount }, (_, s) => [`s${s}`, { matchLabels: { seg: `s${s}` } }]),
  );
  const { allows, forbids } = pathCounts(size);
  const paths: Array<Record<string, unknown>> = [];
  const half = Math.floor(segmentCount / 2);
  for (let k = 0; k < allows; k++) {
    const from = k % segmentCount;
    // Allows go to the next few segments (fewer than half of them); forbids (below) to the far
    // half: never the same pair, whatever the size.
    const to = (from + 1 + (Math.floor(k / segmentCount) % Math.max(1, half - 1))) % segmentCount;
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
    const from = k % segmentCount;
    const to =
      (from + half + (Math.floor(k / segmentCount) % Math.max(1, segmentCount - half))) % segmentCount;
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
    paths,
  };
}
