import type { Workload } from "../model/types";
import { type IntervalSet, type IpFamily, parseAddress } from "../net";
import type { Party, Plan } from "../plan/types";
import type { EndpointHints } from "./types";

interface Candidate {
  party: Party;
  values: IntervalSet;
  size: bigint;
  order: number;
}

interface PodCandidate {
  party: Party & { kind: "workload" };
  namespace: string;
  podLabels: Array<[string, string]>;
  cluster: string;
}

/** The network a workload's placements name (GCP network, AWS VPC, Azure VNet), for hint tie-breaks. */
function networksOf(w: Workload): string[] {
  const p = w.placements;
  return [p.gcp?.network, p.aws?.vpc, p.azure?.vnet].filter((n): n is string => n !== undefined);
}

/**
 * Maps an observed endpoint to a party of the plan (docs/design.md vocabulary), by these rules, in order:
 *
 * 1. Kubernetes identity: when the log names the pod's namespace and labels (Hubble), the workload
 *    placed in that namespace whose `podLabels` are all among the pod's labels; the most labels
 *    wins, then a matching cluster name, then policy order.
 * 2. Address: the workload whose declared addresses contain the address, the smallest such set
 *    winning (most specific); among equally small sets, the one whose placement network (GCP
 *    network, AWS VPC, Azure VNet) is the log's VPC name, then policy order.
 * 3. Address: the declared peer containing it, smallest first.
 * 4. The built-in `internet` (public addresses no workload claims).
 *
 * Otherwise the endpoint is unmapped (a private address nothing in the policy claims).
 * Workloads known by identity only (GCP service account without cidrs) cannot be found by address.
 */
export class FlowMapper {
  private readonly byFamily: Record<IpFamily, { workloads: Candidate[]; peers: Candidate[] }>;
  private readonly pods: PodCandidate[];
  private readonly cache = new Map<string, Party[] | null>();
  private readonly networks = new Map<string, string[]>();

  constructor(readonly plan: Plan) {
    const make = (family: IpFamily) => {
      const workloads: Candidate[] = [];
      const peers: Candidate[] = [];
      plan.parties.forEach((party, order) => {
        const declared = party.kind === "workload" ? party.workload.addresses : party.addresses;
        const values = declared.family(family);
        if (values.isEmpty()) return;
        const c = { party, values, size: values.size(), order };
        // The built-in internet sorts last whatever its size.
        if (party.kind === "peer" && party.peer.builtin) c.size = 1n << 200n;
        (party.kind === "workload" ? workloads : peers).push(c);
      });
      const bySize = (a: Candidate, b: Candidate) =>
        a.size < b.size ? -1 : a.size > b.size ? 1 : a.order - b.order;
      return { workloads: workloads.sort(bySize), peers: peers.sort(bySize) };
    };
    this.byFamily = { 4: make(4), 6: make(6) };
    this.pods = [];
    for (const party of plan.parties) {
      if (party.kind !== "workload") continue;
      const k = party.workload.placements.kubernetes;
      if (k) {
        this.pods.push({
          party,
          namespace: k.namespace,
          podLabels: Object.entries(k.podLabels),
          cluster: k.cluster,
        });
      }
      this.networks.set(party.key, networksOf(party.workload));
    }
  }

  /** The party an endpoint stands for, or undefined when nothing in the policy claims it. */
  map(address: string, hints?: EndpointHints): Party | undefined {
    if (hints?.namespace !== undefined && hints.labels !== undefined && this.pods.length > 0) {
      const pod = this.byPod(hints.namespace, hints.labels, hints.cluster);
      if (pod) return pod;
    }
    let tied = this.cache.get(address);
    if (tied === undefined) {
      tied = this.byAddress(address);
      if (this.cache.size >= 200_000) this.cache.clear();
      this.cache.set(address, tied);
    }
    if (tied === null) return undefined;
    if (tied.length > 1 && hints?.network !== undefined) {
      const hit = tied.find((p) => this.networks.get(p.key)?.includes(hints.network!));
      if (hit) return hit;
    }
    return tied[0];
  }

  private byPod(namespace: string, labels: Record<string, string>, cluster?: string): Party | undefined {
    let best: PodCandidate | undefined;
    let bestScore = -1;
    for (const c of this.pods) {
      if (c.namespace !== namespace) continue;
      if (!c.podLabels.every(([k, v]) => labels[k] === v)) continue;
      const score = c.podLabels.length * 2 + (cluster !== undefined && c.cluster === cluster ? 1 : 0);
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best?.party;
  }

  /** Candidates of the most specific kind that contains the address: tied workloads, or one peer. */
  private byAddress(address: string): Party[] | null {
    let a: { family: IpFamily; value: bigint };
    try {
      a = parseAddress(address);
    } catch {
      return null;
    }
    const { workloads, peers } = this.byFamily[a.family];
    const hits = workloads.filter((c) => c.values.has(a.value));
    if (hits.length > 0) {
      const smallest = hits[0]!.size;
      return hits.filter((c) => c.size === smallest).map((c) => c.party);
    }
    const peer = peers.find((c) => c.values.has(a.value));
    return peer ? [peer.party] : null;
  }
}

/**
 * The end a path would name for a party: for a workload, the most specific segment holding it (the
 * fewest members, then policy order), or undefined when no segment holds it; for a peer, the peer.
 */
export function segmentIndex(plan: Plan): (party: Party) => string | undefined {
  const best = new Map<string, { segment: string; size: number }>();
  for (const [segment, names] of plan.members) {
    for (const name of names) {
      const cur = best.get(name);
      if (!cur || names.length < cur.size) best.set(name, { segment, size: names.length });
    }
  }
  return (party) => (party.kind === "workload" ? best.get(party.name)?.segment : party.name);
}
