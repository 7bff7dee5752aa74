import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPolicyDocument, type ResourceRecord } from "../../../lib";
import { FIREWALL_TYPE, gcpAdapter, renderGcp } from "../../../lib/targets/gcp";
import { propertyRuns } from "../../support/property-runs";
import { meta } from "./helpers";

/** The rendered rules as the component registers them (the component test checks it passes exactly these). */
function records(plan: Parameters<typeof renderGcp>[0]): ResourceRecord[] {
  return renderGcp(plan).flatMap(({ network, rules }) =>
    rules.map(({ key, kind: _k, paths: _p, segment: _s, ...rule }) => ({
      type: FIREWALL_TYPE,
      name: `gcp-${network}-${key}`,
      inputs: { ...rule, network: `projects/p/global/networks/${network}` },
    })),
  );
}

const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22"];
const ENDS = ["s0", "s1", "s2", "corp", "partner", "internet"];

const workloadArb = fc.record({
  kind: fc.constantFrom("gcp", "gcp", "gcp", "aws"),
  network: fc.constantFrom("n1", "n2"),
  sa: fc.boolean(),
  v6: fc.boolean(),
  seg: fc.constantFrom("s0", "s1", "s2"),
});
const pathArb = fc.record({
  from: fc.constantFrom(...ENDS),
  to: fc.constantFrom(...ENDS),
  services: fc.subarray(SERVICES, { minLength: 1, maxLength: 2 }),
  verdict: fc.constantFrom("allow", "allow", "allow", "forbid"),
  mode: fc.constantFrom("enforce", "monitor"),
});

type Of<A> = A extends fc.Arbitrary<infer T> ? T : never;

function policyOf(ws: Of<typeof workloadArb>[], ps: Of<typeof pathArb>[]) {
  return {
    name: "prop",
    workloads: ws.map((w, i) => {
      const cidrs = [`10.${60 + i}.0.0/24`, ...(w.v6 ? [`fd00:${60 + i}::/64`] : [])];
      const placement =
        w.kind === "aws"
          ? { aws: { vpc: "v", cidrs } }
          : {
              gcp: {
                network: w.network,
                cidrs,
                ...(w.sa ? { serviceAccount: `w${i}@p.iam.gserviceaccount.com` } : {}),
              },
            };
      return { name: `w${i}`, labels: { seg: w.seg }, placements: placement };
    }),
    segments: {
      s0: { matchLabels: { seg: "s0" } },
      s1: { matchLabels: { seg: "s1" } },
      s2: { matchLabels: { seg: "s2" } },
    },
    peers: { corp: { cidrs: ["10.200.0.0/16", "fd00:200::/48"] }, partner: { cidrs: ["8.8.4.0/24"] } },
    paths: ps
      .filter((p) => !(ENDS.indexOf(p.from) >= 3 && ENDS.indexOf(p.to) >= 3))
      .map((p, k) => ({
        name: `p${k}`,
        from: p.from,
        to: p.to,
        services: p.services,
        ...(p.verdict === "forbid" ? { verdict: "forbid", mode: p.mode } : {}),
        ...meta,
      })),
  };
}

describe("property: the evaluator over the rendered rules allows exactly the intended connectivity", () => {
  it("for every ordered pair of parties GCP enforces (random small policies)", () => {
    let checked = 0;
    fc.assert(
      fc.property(
        fc.array(workloadArb, { minLength: 1, maxLength: 5 }),
        fc.array(pathArb, { minLength: 1, maxLength: 5 }),
        (ws, ps) => {
          const r = checkPolicyDocument(policyOf(ws, ps), "prop");
          fc.pre(r.ok && r.plan !== undefined);
          const plan = r.plan!;
          const ev = gcpAdapter().evaluator(records(plan), plan);
          for (const a of plan.parties)
            for (const b of plan.parties) {
              if (!ev.enforces(a) && !ev.enforces(b)) continue;
              const got = ev.allowed(a, b);
              const want = plan.intended(a, b);
              if (!got.equals(want))
                throw new Error(
                  `${a.name} → ${b.name}: extra ${got.subtract(want).toString()} missing ${want.subtract(got).toString()}`,
                );
              checked++;
            }
        },
      ),
      { numRuns: propertyRuns(300), seed: 20240611 },
    );
    expect(checked).toBeGreaterThan(1000);
  });
});
