import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { offlineTarget } from "../../components/offline";
import {
  AddressSet,
  checkPolicyDocument,
  everythingElse,
  type Packet,
  type Party,
  type ResourceRecord,
} from "../../lib";
import { gcpAdapter } from "../../lib/targets/gcp";
import { propertyRuns } from "../support/property-runs";

/*
 * Random programs against an independent, brute-force reading of GCP VPC firewall rules over
 * concrete packets: the rendered rules plus rules a user adds (targeting accounts, tags or every
 * instance; sources by range, account or tag; any priority; allow or deny), VMs running as the
 * workloads' accounts with random tags, VMs running as other accounts, and hosts elsewhere.
 */

const SA = (i: number) => `w${i}@p.iam.gserviceaccount.com`;
const PORTS = [22, 443];
const TAGS = ["web", "debug"];

const userRuleArb = fc.record({
  ingress: fc.boolean(),
  deny: fc.boolean(),
  priority: fc.constantFrom(0, 500, 1000, 65534),
  port: fc.constantFrom(...PORTS),
  target: fc.oneof(
    fc.constant({ kind: "all" as const }),
    fc.nat(2).map((i) => ({ kind: "sa" as const, sa: SA(i) })),
    fc.constantFrom(...TAGS).map((t) => ({ kind: "tag" as const, tag: t })),
  ),
  source: fc.oneof(
    fc
      .constantFrom("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/24", "172.16.0.0/12")
      .map((r) => ({ kind: "range" as const, range: r })),
    fc.nat(2).map((i) => ({ kind: "sa" as const, sa: SA(i) })),
    fc.constantFrom(...TAGS).map((t) => ({ kind: "tag" as const, tag: t })),
  ),
});

const programArb = fc.record({
  colors: fc.array(fc.constantFrom("red", "green"), { minLength: 3, maxLength: 3 }),
  paths: fc.array(
    fc.record({
      from: fc.constantFrom("red", "green", "ext"),
      to: fc.constantFrom("red", "green"),
      port: fc.constantFrom(...PORTS),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  rules: fc.array(userRuleArb, { maxLength: 3 }),
  vms: fc.array(
    fc.record({
      as: fc.oneof(fc.nat(2), fc.constant("stranger" as const)),
      tags: fc.subarray(TAGS),
      host: fc.nat(200),
    }),
    { maxLength: 3 },
  ),
});
type Program = typeof programArb extends fc.Arbitrary<infer T> ? T : never;

function documentOf(p: Program) {
  return {
    name: "gprop",
    workloads: p.colors.map((c, i) => ({
      name: `w${i}`,
      labels: { color: c },
      placements: { gcp: { network: "data", serviceAccount: SA(i), cidrs: [`10.${i}.0.0/24`] } },
    })),
    segments: { red: { matchLabels: { color: "red" } }, green: { matchLabels: { color: "green" } } },
    peers: { ext: { cidrs: ["198.51.100.0/24"] } },
    paths: p.paths
      .filter((x) => x.from !== x.to)
      .map((x, k) => ({
        name: `p${k}`,
        from: x.from,
        to: x.to,
        services: [`tcp/${x.port}`],
        owner: "o",
        justification: "j",
      })),
  };
}

interface Rule {
  name: string;
  ingress: boolean;
  deny: boolean;
  priority: number;
  /** null: every port of tcp; a list of [lo, hi]. */
  tcp: Array<[number, number]> | "all" | null;
  targetSa: string[];
  targetTags: string[];
  sourceRanges?: string[];
  destinationRanges?: string[];
  sourceSa: string[];
  sourceTags: string[];
}

/** The rules as GCP holds them, read back from the records' own inputs. */
function rulesOf(records: readonly ResourceRecord[]): Rule[] {
  return records
    .filter((r) => r.type === "gcp:compute/firewall:Firewall")
    .map((r) => {
      const i = r.inputs as Record<string, unknown>;
      const entries = ((i.allows ?? i.denies) as Array<{ protocol: string; ports?: string[] }>) ?? [];
      let tcp: Rule["tcp"] = null;
      for (const e of entries) {
        if (e.protocol === "all") tcp = "all";
        else if (e.protocol === "tcp" && tcp !== "all")
          tcp = [
            ...(tcp ?? []),
            ...(e.ports ?? ["0-65535"])
              .map((p) => p.split("-").map(Number) as [number, number])
              .map(([a, b]) => [a, b ?? a] as [number, number]),
          ];
      }
      return {
        name: String(i.name),
        ingress: i.direction === "INGRESS",
        deny: i.denies !== undefined,
        priority: Number(i.priority ?? 1000),
        tcp,
        targetSa: (i.targetServiceAccounts as string[]) ?? [],
        targetTags: (i.targetTags as string[]) ?? [],
        ...(i.sourceRanges ? { sourceRanges: i.sourceRanges as string[] } : {}),
        ...(i.destinationRanges ? { destinationRanges: i.destinationRanges as string[] } : {}),
        sourceSa: (i.sourceServiceAccounts as string[]) ?? [],
        sourceTags: (i.sourceTags as string[]) ?? [],
      };
    });
}

interface Host {
  ip: string;
  vm?: { sa: string; tags: string[] };
}

/** GCP, packet by packet: the source VM's egress, then the destination VM's ingress, by priority. */
function gcpAllows(rules: readonly Rule[], src: Host, dst: Host, port: number): boolean {
  const has = (ranges: string[] | undefined, ip: string) =>
    ranges === undefined || AddressSet.fromCidrs(ranges).has(ip);
  const tcpHas = (r: Rule) => r.tcp === "all" || (r.tcp ?? []).some(([a, b]) => port >= a && port <= b);
  const applies = (r: Rule, vm: { sa: string; tags: string[] }) =>
    r.targetSa.length > 0
      ? r.targetSa.includes(vm.sa)
      : r.targetTags.length > 0
        ? r.targetTags.some((t) => vm.tags.includes(t))
        : true;
  const decide = (ingress: boolean, own: { sa: string; tags: string[] }, match: (r: Rule) => boolean) => {
    const hit = rules
      .filter((r) => r.ingress === ingress && applies(r, own) && tcpHas(r) && match(r))
      .sort((a, b) => a.priority - b.priority || (a.deny === b.deny ? 0 : a.deny ? -1 : 1))[0];
    return hit ? !hit.deny : !ingress;
  };
  const out =
    !src.vm || decide(false, src.vm, (r) => has(r.destinationRanges, dst.ip) && has(r.sourceRanges, src.ip));
  const inn =
    !dst.vm ||
    decide(true, dst.vm, (r) => {
      if (!has(r.destinationRanges, dst.ip)) return false;
      const bySa = src.vm !== undefined && r.sourceSa.includes(src.vm.sa);
      const byTag = src.vm !== undefined && r.sourceTags.some((t) => src.vm!.tags.includes(t));
      const byRange = r.sourceRanges !== undefined && AddressSet.fromCidrs(r.sourceRanges).has(src.ip);
      const none = r.sourceRanges === undefined && r.sourceSa.length === 0 && r.sourceTags.length === 0;
      return bySa || byTag || byRange || none;
    });
  return out && inn;
}

describe("property: GCP over random programs equals a brute-force reading packet by packet", () => {
  it("VMs as the workloads' accounts (with tags) and as strangers, user rules of any priority and target", () => {
    let checked = 0;
    fc.assert(
      fc.property(programArb, (p) => {
        const r = checkPolicyDocument(documentOf(p));
        fc.pre(r.ok && r.plan !== undefined);
        const plan = r.plan!;
        const rendered = offlineTarget("gcp")!.records(plan);
        const network = String(
          rendered.find((x) => x.type === "gcp:compute/firewall:Firewall")!.inputs.network,
        );
        const user: ResourceRecord[] = p.rules.map((u, k) => ({
          type: "gcp:compute/firewall:Firewall",
          name: `user-${k}`,
          inputs: {
            name: `user-${k}`,
            network,
            direction: u.ingress ? "INGRESS" : "EGRESS",
            priority: u.priority,
            [u.deny ? "denies" : "allows"]: [{ protocol: "tcp", ports: [String(u.port)] }],
            ...(u.target.kind === "sa" ? { targetServiceAccounts: [u.target.sa] } : {}),
            ...(u.target.kind === "tag" ? { targetTags: [u.target.tag] } : {}),
            ...(u.ingress
              ? u.source.kind === "range"
                ? { sourceRanges: [u.source.range] }
                : u.source.kind === "sa"
                  ? u.target.kind === "tag"
                    ? { sourceTags: ["web"] }
                    : { sourceServiceAccounts: [u.source.sa] }
                  : u.target.kind === "sa"
                    ? { sourceServiceAccounts: [SA(0)] }
                    : { sourceTags: [u.source.tag] }
              : { destinationRanges: [u.source.kind === "range" ? u.source.range : "0.0.0.0/0"] }),
          },
        }));
        // Every workload runs one VM (a workload without one is a binding error, tested elsewhere).
        const vms = [
          ...p.colors.map((_, i) => ({ as: i as number | "stranger", tags: [] as string[], host: 9 + i })),
          ...p.vms,
        ];
        const hosts: Array<Host & { party: Party; workload?: number }> = [];
        vms.forEach((v, k) => {
          const sa = v.as === "stranger" ? "stranger@p.iam.gserviceaccount.com" : SA(v.as);
          const ip =
            v.as === "stranger" ? `172.21.0.${1 + (v.host % 250)}` : `10.${v.as}.0.${1 + (v.host % 250)}`;
          user.push({
            type: "gcp:compute/instance:Instance",
            name: `vm${k}`,
            inputs: {
              serviceAccount: { email: sa },
              tags: v.tags,
              networkInterfaces: [{ network, networkIp: ip }],
            },
          });
          hosts.push({
            ip,
            vm: { sa, tags: v.tags },
            party: undefined as unknown as Party,
            ...(v.as === "stranger" ? {} : { workload: v.as }),
          });
        });
        const records = [...rendered, ...user];
        const ev = gcpAdapter().evaluator(records, plan);
        const universe = ev.universe?.() ?? [];
        hosts.forEach((h, k) => {
          h.party =
            h.workload !== undefined
              ? plan.party(`workload:w${h.workload}`)!
              : universe.find((u) => u.name === `instance vm${k}`)!;
        });
        const all: Array<Host & { party: Party; workload?: number }> = [
          ...hosts,
          { ip: "198.51.100.7", party: plan.party("peer:ext")! },
          { ip: "172.31.7.7", party: everythingElse(plan) },
        ];
        const rules = rulesOf(records);
        for (const a of all)
          for (const b of all) {
            if (a === b || (!a.vm && !b.vm)) continue;
            for (const port of PORTS) {
              const packet: Packet = { src: a.ip, dst: b.ip, protocol: 6, port, family: 4 };
              const same = (h: (typeof all)[number]) =>
                h.workload === undefined ? [h] : hosts.filter((x) => x.workload === h.workload);
              const want = same(a).some((s) =>
                same(b).some((t) => gcpAllows(rules, { ...s, ip: a.ip }, { ...t, ip: b.ip }, port)),
              );
              const got = ev.allowed(a.party, b.party).has(packet);
              if (got !== want)
                expect.fail(
                  `${JSON.stringify(p)}\n${a.party.name} (${a.ip}) -> ${b.party.name} (${b.ip}) tcp/${port}: evaluator ${got}, GCP ${want}`,
                );
              checked++;
            }
          }
      }),
      { numRuns: propertyRuns(150), seed: 20261208 },
    );
    expect(checked).toBeGreaterThan(500);
  }, 120_000);
});
