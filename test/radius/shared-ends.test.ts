import { describe, expect, it } from "vitest";
import {
  AddressSet,
  ConnectionSet,
  HopGraph,
  type Party,
  type Plan,
  proveChains,
  radius,
  ServiceSet,
  type TargetEvaluator,
} from "../../lib";
import { cutPolicy, ORDERS, tenants } from "../support/chain-policies";
import { evaluatorsFor, planOf } from "../support/random-policy";

/*
 * `reach: any` forbids whose `from` and `to` share parties (tenants → tenants), proven over what is
 * rendered: a chain from one tenant to another counts, a chain back to its own start does not, and
 * neither the verdict, the chain nor the cut may depend on the order of the workloads. Each case
 * runs with the workloads in both orders (the search once kept one origin per party: whichever
 * start reached it first, in workload order).
 */

/** The plan of a policy document (chains of allow paths reaching an enforce forbid are left to the proof). */
function planFrom(doc: unknown): Plan {
  const plan = planOf(doc);
  if (!plan) throw new Error("invalid test policy");
  return plan;
}

/** The evaluators with the hops between the named pairs of parties closed (a cut applied). */
function closing(evaluators: readonly TargetEvaluator[], pairs: ReadonlyArray<readonly [string, string]>) {
  const closed = new Set(pairs.map(([x, y]) => `${x}\u0000${y}`));
  const isClosed = (f: Party, t: Party) => closed.has(`${f.name}\u0000${t.name}`);
  return evaluators.map(
    (ev): TargetEvaluator => ({
      target: ev.target,
      enforces: (p) => ev.enforces(p),
      allowed: (f, t) => (isClosed(f, t) ? ConnectionSet.EMPTY : ev.allowed(f, t)),
      decide: (f, t, packet) =>
        isClosed(f, t) ? { verdict: "deny", by: "closed-by-the-cut" } : ev.decide(f, t, packet),
    }),
  );
}

describe("reach: any forbids whose from and to share parties (over what is rendered)", () => {
  it.each(ORDERS)("tenants → tenants is open by tenant-b → shared → tenant-a (%s)", (order) => {
    const plan = planFrom(tenants(order));
    const [result] = proveChains(HopGraph.build(plan, evaluatorsFor(plan)));
    expect(result).toMatchObject({ path: "no-tenant-to-tenant", mode: "enforce", status: "open" });
    // The witness starts at a tenant other than the one it ends at.
    expect(result!.chain!.map((h) => [h.from, h.to, h.path])).toEqual([
      ["tenant-b", "shared", "tenants-use-shared"],
      ["shared", "tenant-a", "shared-calls-a"],
    ]);
    expect(result!.cut!.length).toBeGreaterThan(0);
  });

  it.each(ORDERS)("a chain only back to its own start does not count (%s)", (order) => {
    // Only tenant-a reaches shared: tenant-a → shared → tenant-a is no chain between tenants.
    const doc = tenants(order);
    doc.paths[0] = { ...doc.paths[0]!, from: "a" };
    const plan = planFrom(doc);
    expect(proveChains(HopGraph.build(plan, evaluatorsFor(plan)))).toEqual([
      { path: "no-tenant-to-tenant", mode: "enforce", status: "blocked" },
    ]);
  });

  it.each(ORDERS)("through an endpoint the policy does not name (%s)", (order) => {
    // No allow path: rules outside the library let both tenants reach other ENIs, which reach tenant-a.
    const doc = tenants(order);
    doc.paths = doc.paths.filter((p) => "verdict" in p);
    const plan = planFrom(doc);
    const other: Party = {
      kind: "other",
      name: "other ENIs of vpc main",
      key: "other:aws:main",
      addresses: AddressSet.parse("10.0.9.0/24"),
      scope: "vpc main",
    };
    const tenantsNet = AddressSet.parse("10.0.0.0/22");
    const rules = ConnectionSet.of(tenantsNet, other.addresses, ServiceSet.tcp(22)).union(
      ConnectionSet.of(other.addresses, AddressSet.parse("10.0.1.0/24"), ServiceSet.tcp(9000)),
    );
    const evaluator: TargetEvaluator = {
      target: "aws",
      enforces: (p) => p.kind !== "peer",
      allowed: (f, t) => rules.intersect(ConnectionSet.of(f.addresses, t.addresses, ServiceSet.ALL)),
      decide: (_f, _t, packet) =>
        rules.has(packet)
          ? { verdict: "allow", by: "rule-outside-the-library" }
          : { verdict: "deny", by: "default-deny" },
    };
    const graph = HopGraph.build(plan, [evaluator], { parties: [...plan.parties, other] });
    const [result] = proveChains(graph);
    expect(result!.status).toBe("open");
    expect(result!.chain!.map((h) => [h.from, h.to, h.path])).toEqual([
      ["tenant-b", "other ENIs of vpc main", null],
      ["other ENIs of vpc main", "tenant-a", null],
    ]);
  });
});

describe("the suggested cut of a forbid whose from and to share parties", () => {
  it.each(ORDERS)("after s → c is closed, b → s → a is still a chain: open (%s)", (order) => {
    const plan = planFrom(cutPolicy(order, false));
    const [result] = proveChains(HopGraph.build(plan, evaluatorsFor(plan)));
    expect(result!.status).toBe("open");
    expect(result!.chain!.map((h) => `${h.from}->${h.to}`)).toEqual(["b->s", "s->a"]);
  });

  it.each(ORDERS)("closing the cut disconnects every source from every other destination (%s)", (order) => {
    const plan = planFrom(cutPolicy(order));
    const evaluators = evaluatorsFor(plan);
    const [result] = proveChains(HopGraph.build(plan, evaluators));
    expect(result!.status).toBe("open");
    const cut = result!.cut!.map((h) => [h.from, h.to] as const);
    // Two hops at least: a → s → c and b → s → a share no hop but s's (a → s, b → s or s → a, s → c).
    expect(cut.length).toBe(2);
    const after = HopGraph.build(plan, closing(evaluators, cut));
    for (const from of ["a", "b"])
      for (const to of ["a", "c"]) {
        if (from === to) continue;
        expect(radius(after, { from, to }).reached, `${from} ⇝ ${to} after the cut`).toEqual([]);
      }
    expect(proveChains(after)).toEqual([{ path: "no-src-to-dst", mode: "monitor", status: "blocked" }]);
  });
});
