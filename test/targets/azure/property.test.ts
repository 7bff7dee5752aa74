import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConnectionSet, checkPolicyDocument, ServiceSet } from "../../../lib";
import { azureAddresses, azureEvaluator } from "../../../lib/targets/azure";
import { propertyRuns } from "../../support/property-runs";
import { mirrorRecords } from "./support";

const SERVICES = ["tcp/443", "tcp/8000-8100", "udp/53", "icmp", "any", "tcp/22", "udp/1000-2000"];
const ENDS = ["a", "b", "c", "partner", "internet"];

const workloadArb = fc.record({
  where: fc.constantFrom("v1", "v2", "aws"),
  role: fc.constantFrom("a", "b", "c"),
  v6: fc.boolean(),
});
const pathArb = fc.record({
  from: fc.constantFrom(...ENDS),
  to: fc.constantFrom(...ENDS),
  services: fc.subarray(SERVICES, { minLength: 1, maxLength: 3 }),
  verdict: fc.constantFrom("allow", "allow", "allow", "forbid"),
  monitor: fc.boolean(),
});

type Workload = { where: string; role: string; v6: boolean };
type PathSpec = { from: string; to: string; services: string[]; verdict: string; monitor: boolean };

function documentOf(ws: Workload[], ps: PathSpec[]) {
  return {
    name: "random",
    workloads: ws.map((w, i) => {
      const cidrs = [`10.${i + 1}.0.0/24`, ...(w.v6 ? [`fd00:${i + 1}::/64`] : [])];
      return {
        name: `w${i}`,
        labels: { role: w.role },
        placements: w.where === "aws" ? { aws: { vpc: "x", cidrs } } : { azure: { vnet: w.where, cidrs } },
      };
    }),
    segments: {
      a: { matchLabels: { role: "a" } },
      b: { matchLabels: { role: "b" } },
      c: { matchLabels: { role: "c" } },
    },
    peers: { partner: { cidrs: ["192.168.7.0/24", "2001:db8:7::/48", "100.64.0.0/24"] } },
    paths: ps
      .filter((p) => ["a", "b", "c"].includes(p.from) || ["a", "b", "c"].includes(p.to))
      .map((p, k) => ({
        name: `p${k}`,
        from: p.from,
        to: p.to,
        services: p.services,
        verdict: p.verdict,
        ...(p.verdict === "forbid" && p.monitor ? { mode: "monitor" } : {}),
        owner: "o@x",
        justification: "j",
      })),
  };
}

describe("property: the evaluator over the rendered resources allows exactly the intent", () => {
  it("for every ordered pair with an Azure end, allowed = intended (over the Azure addresses)", () => {
    let checked = 0;
    fc.assert(
      fc.property(
        fc.array(workloadArb, { minLength: 1, maxLength: 6 }),
        fc.array(pathArb, { maxLength: 6 }),
        (ws, ps) => {
          const r = checkPolicyDocument(documentOf(ws, ps));
          fc.pre(r.ok && r.plan !== undefined);
          const plan = r.plan!;
          const ev = azureEvaluator(mirrorRecords(plan), plan);
          for (const from of plan.parties)
            for (const to of plan.parties) {
              if (!ev.enforces(from) && !ev.enforces(to)) continue;
              const scope = ConnectionSet.of(
                azureAddresses(from) ?? from.addresses,
                azureAddresses(to) ?? to.addresses,
                ServiceSet.ALL,
              );
              const want = plan.intended(from, to).intersect(scope);
              const got = ev.allowed(from, to);
              if (!got.equals(want))
                throw new Error(
                  `${from.name} -> ${to.name}: allowed ${got.subtract(want)} too much, ${want.subtract(got)} missing`,
                );
            }
          checked++;
        },
      ),
      { numRuns: propertyRuns(300), seed: 20240611 },
    );
    expect(checked).toBeGreaterThan(150);
  });
});
