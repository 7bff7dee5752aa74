import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPolicyDocument, type Party } from "../../lib";
import { propertyRuns } from "../support/property-runs";

/**
 * Random small policies against a brute-force reading of docs/design.md semantics 2-5, written
 * independently of lib/plan: label selectors evaluated by hand, services enumerated packet by packet.
 */

const ROLES = ["a", "b", "c"];
const ENVS = ["x", "y"];
const SERVICE_TEXTS = ["tcp/1", "tcp/2-4", "tcp/3-8", "udp/1", "udp/2-3", "icmp", "any", "tcp"];
// The universe the services above can tell apart: ports 0..9 of tcp/udp, icmp, and one other protocol.
const UNIVERSE: Array<[string, number]> = [];
for (const proto of ["tcp", "udp"]) for (let port = 0; port <= 9; port++) UNIVERSE.push([proto, port]);
UNIVERSE.push(["icmp", 0], ["gre", 0]);

function serviceHas(text: string, [proto, port]: [string, number]): boolean {
  if (text === "any") return true;
  if (text === "icmp") return proto === "icmp";
  if (text === "tcp") return proto === "tcp";
  const [p, range] = text.split("/");
  const [lo, hi] = range!.split("-").map(Number);
  return proto === p && port >= lo! && port <= (hi ?? lo)!;
}

interface Sel {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

function matches(sel: Sel, labels: Record<string, string>): boolean {
  const ok1 = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const ok2 = (sel.matchExpressions ?? []).every((e) => {
    const v = labels[e.key];
    if (e.operator === "In") return v !== undefined && e.values!.includes(v);
    if (e.operator === "NotIn") return v === undefined || !e.values!.includes(v);
    if (e.operator === "Exists") return v !== undefined;
    return v === undefined;
  });
  return ok1 && ok2;
}

const selectorArb: fc.Arbitrary<Sel> = fc.oneof(
  fc
    .record({ matchLabels: fc.record({ role: fc.constantFrom(...ROLES) }, { requiredKeys: [] }) })
    .filter((s) => Object.keys(s.matchLabels).length > 0),
  fc.record({
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom("role", "env"),
          operator: fc.constantFrom("In", "NotIn"),
          values: fc.subarray([...ROLES, ...ENVS], { minLength: 1 }),
        }),
        fc.record({
          key: fc.constantFrom("role", "env", "team"),
          operator: fc.constantFrom("Exists", "DoesNotExist"),
        }),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  }),
);

const policyArb = fc
  .record({
    workloads: fc.array(fc.record({ role: fc.constantFrom(...ROLES), env: fc.constantFrom(...ENVS) }), {
      minLength: 1,
      maxLength: 5,
    }),
    segments: fc.array(selectorArb, { minLength: 1, maxLength: 4 }),
    paths: fc.array(
      fc.record({
        from: fc.nat(),
        to: fc.nat(),
        verdict: fc.constantFrom("allow", "allow", "forbid"),
        mode: fc.constantFrom("enforce", "monitor"),
        services: fc.subarray(SERVICE_TEXTS, { minLength: 1, maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map(({ workloads, segments, paths }) => ({
    name: "random",
    workloads: workloads.map((l, i) => ({
      name: `w${i}`,
      labels: l,
      placements: { aws: { vpc: "v", cidrs: [`10.0.${i}.0/24`] } },
    })),
    segments: Object.fromEntries(segments.map((s, i) => [`s${i}`, s])),
    paths: paths.map((p, i) => ({
      name: `p${i}`,
      from: `s${p.from % segments.length}`,
      to: `s${p.to % segments.length}`,
      services: p.services,
      ...(p.verdict === "forbid" ? { verdict: "forbid", mode: p.mode } : {}),
      owner: "o@example.com",
      justification: "random",
    })),
  }));

type Doc = ReturnType<typeof policyArb.generate>["value"];

function members(doc: Doc, segment: string): string[] {
  return doc.workloads.filter((w) => matches(doc.segments[segment] as Sel, w.labels)).map((w) => w.name);
}

/** Semantics 3: the union of the services of allow paths whose from contains a and whose to contains b. */
function bruteIntended(doc: Doc, a: string, b: string): Set<string> {
  const out = new Set<string>();
  for (const p of doc.paths) {
    if ("verdict" in p) continue;
    if (!members(doc, p.from).includes(a) || !members(doc, p.to).includes(b)) continue;
    for (const pkt of UNIVERSE) if (p.services.some((s) => serviceHas(s, pkt))) out.add(pkt.join("/"));
  }
  return out;
}

/** Semantics 4: (allow, enforce forbid) pairs that overlap for some workload pair and packet. */
function bruteConflicts(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const a of doc.paths.filter((p) => !("verdict" in p))) {
    for (const f of doc.paths.filter((p) => "verdict" in p && p.mode === "enforce")) {
      const from = members(doc, a.from).filter((w) => members(doc, f.from).includes(w));
      const to = members(doc, a.to).filter((w) => members(doc, f.to).includes(w));
      const svc = UNIVERSE.some(
        (pkt) => a.services.some((s) => serviceHas(s, pkt)) && f.services.some((s) => serviceHas(s, pkt)),
      );
      if (from.length > 0 && to.length > 0 && svc) out.add(`${a.name}|${f.name}`);
    }
  }
  return out;
}

const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, gre: 47 };

describe("compile semantics against a brute-force reading of docs/design.md", () => {
  it("reports exactly the allow/enforce-forbid overlaps, and intended connectivity is the union of allows", () => {
    fc.assert(
      fc.property(policyArb, (doc) => {
        const r = checkPolicyDocument(doc);
        const reported = new Set(
          r.diagnostics
            .map((d) => /allow path "(p\d+)" overlaps enforce forbid "(p\d+)"/.exec(d.message))
            .filter((m) => m !== null)
            .map((m) => `${m[1]}|${m[2]}`),
        );
        expect([...reported].sort()).toEqual([...bruteConflicts(doc)].sort());
        expect(r.ok).toBe(reported.size === 0);
        if (!r.ok) return;
        const plan = r.plan!;
        const workloads = plan.parties.filter(
          (p): p is Extract<Party, { kind: "workload" }> => p.kind === "workload",
        );
        for (const a of workloads) {
          for (const b of workloads) {
            const expected = bruteIntended(doc, a.name, b.name);
            const intended = plan.intended(a, b);
            for (const [proto, port] of UNIVERSE) {
              const packet = {
                family: 4 as const,
                src: `10.0.${a.name.slice(1)}.7`,
                dst: `10.0.${b.name.slice(1)}.9`,
                protocol: PROTO[proto]!,
                ...(proto === "tcp" || proto === "udp" ? { port } : {}),
              };
              expect(intended.has(packet), `${a.name}->${b.name} ${proto}/${port}`).toBe(
                expected.has(`${proto}/${port}`),
              );
            }
          }
        }
      }),
      { numRuns: propertyRuns(300) },
    );
  });

  it("a monitored forbid never conflicts, and reports what enforcing it would close", () => {
    const doc = {
      name: "m",
      workloads: [
        { name: "w0", labels: { role: "a" }, placements: { aws: { vpc: "v", cidrs: ["10.0.0.0/24"] } } },
        { name: "w1", labels: { role: "b" }, placements: { aws: { vpc: "v", cidrs: ["10.0.1.0/24"] } } },
      ],
      segments: { a: { matchLabels: { role: "a" } }, b: { matchLabels: { role: "b" } } },
      paths: [
        {
          name: "a-to-b",
          from: "a",
          to: "b",
          services: ["tcp/22", "tcp/443"],
          owner: "o",
          justification: "j",
        },
        {
          name: "no-ssh",
          from: "a",
          to: "b",
          verdict: "forbid",
          mode: "monitor",
          services: ["tcp/22"],
          owner: "o",
          justification: "j",
        },
      ],
    };
    const r = checkPolicyDocument(doc);
    expect(r.ok).toBe(true);
    const closes = r.plan!.wouldClose.get("no-ssh")!;
    expect(
      closes.map((o) => [o.allow.name, o.from.name, o.to.name, o.connections.services().toString()]),
    ).toEqual([["a-to-b", "w0", "w1", "tcp/22"]]);
    // The same forbid in enforce mode is a conflict naming both paths, the pair and the service.
    (doc.paths[1] as { mode?: string }).mode = "enforce";
    const e = checkPolicyDocument(doc);
    expect(e.ok).toBe(false);
    expect(e.diagnostics.map((d) => d.message)).toContain(
      'allow path "a-to-b" overlaps enforce forbid "no-ssh": w0 → w1 (tcp/22)',
    );
  });
});
