import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddressSet, ConnectionSet, checkPolicyDocument, IntervalSet, ServiceSet } from "../../../lib";
import { evaluatorFromRuleSets, maskedPorts, renderBlueField } from "../../../lib/targets/bluefield";
import { propertyRuns } from "../../support/property-runs";

const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "tcp/1000-1099", "udp/5000-5001", "any"];
const HOSTS = ["h1", "h2"];
const PORTS = ["pf0hpf", "pf0vf0"];

interface W {
  bf: boolean;
  hosts: string[];
  port: string;
  v6: boolean;
  seg: number;
}

const workload = fc.record({
  bf: fc.boolean(),
  hosts: fc.subarray(HOSTS, { minLength: 1 }),
  port: fc.constantFrom(...PORTS),
  v6: fc.boolean(),
  seg: fc.integer({ min: 0, max: 2 }),
});

const path = fc.record({
  from: fc.integer({ min: 0, max: 4 }),
  to: fc.integer({ min: 0, max: 4 }),
  services: fc.subarray(SERVICES, { minLength: 1, maxLength: 2 }),
  verdict: fc.constantFrom("allow", "allow", "forbid"),
  mode: fc.constantFrom("enforce", "monitor"),
});

/** Ends 0-2 are segments, 3 the peer "office", 4 the internet. */
function endName(i: number): string {
  return i <= 2 ? `s${i}` : i === 3 ? "office" : "internet";
}

function policy(ws: W[], ps: Array<fc.Arbitrary<unknown> extends never ? never : Record<string, unknown>>) {
  return {
    name: "prop",
    workloads: ws.map((w, i) => {
      const addrs = [`10.${i + 1}.0.0/24`, ...(w.v6 ? [`fd00:${i + 1}::/64`] : [])];
      return {
        name: `w${i}`,
        labels: { seg: `s${w.seg}` },
        placements: w.bf
          ? { bluefield: { hosts: w.hosts, port: w.port, addresses: addrs } }
          : { aws: { vpc: "v", cidrs: addrs } },
      };
    }),
    segments: Object.fromEntries([0, 1, 2].map((s) => [`s${s}`, { matchLabels: { seg: `s${s}` } }])),
    peers: { office: { cidrs: ["192.168.10.0/24", "fd99::/48"] } },
    paths: ps,
  };
}

describe("property: the evaluator over the rendered flows allows exactly the intended connectivity", () => {
  it("for every ordered pair a DPU enforces, on random small policies", () => {
    let checked = 0;
    fc.assert(
      fc.property(
        fc.array(workload, { minLength: 2, maxLength: 5 }),
        fc.array(path, { minLength: 1, maxLength: 6 }),
        (ws, raw) => {
          const ps = raw
            .filter((p) => p.from <= 2 || p.to <= 2)
            .map((p, i) => ({
              name: `p${i}`,
              from: endName(p.from),
              to: endName(p.to),
              services: p.services,
              verdict: p.verdict,
              ...(p.verdict === "forbid" ? { mode: p.mode } : {}),
              owner: "o@example.com",
              justification: "generated",
            }));
          const r = checkPolicyDocument(policy(ws, ps));
          fc.pre(r.ok && r.plan !== undefined);
          const plan = r.plan!;
          const rendered = renderBlueField(plan);
          const ev = evaluatorFromRuleSets(
            rendered.map((x) => ({ host: x.host, source: x.host, flows: x.flows })),
            plan,
          );
          for (const a of plan.parties)
            for (const b of plan.parties) {
              if (!ev.enforces(a) && !ev.enforces(b)) continue;
              const region = ConnectionSet.of(a.addresses, b.addresses, ServiceSet.ALL);
              const got = ev.allowed(a, b).intersect(region);
              const want = plan.intended(a, b).intersect(region);
              if (!got.equals(want))
                throw new Error(
                  `${a.name} -> ${b.name}: allowed ${got.subtract(want)} too much, ${want.subtract(got)} missing`,
                );
              checked++;
            }
          // Every enforce forbid is blocked on the DPUs.
          for (const g of plan.guardrails)
            for (const f of g.from)
              for (const t of g.to)
                if (ev.enforces(f.party) || ev.enforces(t.party))
                  expect(
                    ev
                      .allowed(f.party, t.party)
                      .overlaps(ConnectionSet.of(f.addresses, t.addresses, g.path.services)),
                  ).toBe(false);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
    expect(checked).toBeGreaterThan(200);
  });

  it("port ranges render as exact masked matches (any range)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const r = checkPolicyDocument({
          name: "r",
          workloads: [
            {
              name: "a",
              labels: { r: "a" },
              placements: { bluefield: { hosts: ["h"], port: "pf0hpf", addresses: ["10.0.0.0/24"] } },
            },
          ],
          segments: { a: { matchLabels: { r: "a" } } },
          peers: { o: { cidrs: ["10.9.0.0/24"] } },
          paths: [
            {
              name: "p",
              from: "a",
              to: "o",
              services: [`udp/${lo}-${hi}`],
              owner: "o@example.com",
              justification: "j",
            },
          ],
        });
        const lines = renderBlueField(r.plan!)[0]!
          .flows.split("\n")
          .filter((l) => l.startsWith("add table=71") && l.includes("udp"));
        const ports = IntervalSet.unionAll(
          lines.map((l) => {
            const m = /tp_dst=([^,]+)/.exec(l);
            if (!m) return IntervalSet.range(0n, 65535n);
            const [v, k] = m[1]!.split("/");
            return maskedPorts(Number(v), k === undefined ? 0xffff : Number(k));
          }),
        );
        expect(ports.equals(IntervalSet.range(BigInt(lo), BigInt(hi)))).toBe(true);
        expect(AddressSet.EMPTY.isEmpty()).toBe(true);
      }),
      { numRuns: propertyRuns(200) },
    );
  });
});
