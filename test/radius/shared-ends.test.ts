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
import { evaluatorsFor, planOf } from "../support/random-policy";

/*
 * `reach: any` forbids whose `from` and `to` share parties (tenants → tenants), proven over what is
 * rendered: a chain from one tenant to another counts, a chain back to its own start does not, and
 * neither the verdict, the chain nor the cut may depend on the order of the workloads. Each case
 * runs with the workloads in both orders (the search once kept one origin per party: whichever
 * start reached it first, in workload order).
 */

const OWNER = { owner: "x@example.com", justification: "test" };

type Workload = { name: string; labels: Record<string, string>; placements: unknown };
const aws = (name: string, labels: Record<string, string>, cidr: string): Workload => ({
  name,
  labels,
  placements: { aws: { vpc: "main", cidrs: [cidr] } },
});

/** The plan of a policy document (chains of allow paths reaching an enforce forbid are left to the proof). */
function planFrom(doc: unknown): Plan {
  const plan = planOf(doc);
  if (!plan) throw new Error("invalid test policy");
  return plan;
}

/** tenant-a and tenant-b both use `shared`, which calls tenant-a: tenant-b → shared → tenant-a. */
function tenants(order: "a-first" | "b-first", mode: "enforce" | "monitor" = "enforce") {
  const a = aws("tenant-a", { tenant: "yes", name: "a" }, "10.0.1.0/24");
  const b = aws("tenant-b", { tenant: "yes", name: "b" }, "10.0.2.0/24");
  const shared = aws("shared", { role: "shared" }, "10.0.3.0/24");
  return {
    name: "tenants",
    workloads: order === "a-first" ? [a, b, shared] : [b, a, shared],
    segments: {
      tenants: { matchLabels: { tenant: "yes" } },
      a: { matchLabels: { name: "a" } },
      shared: { matchLabels: { role: "shared" } },
    },
    paths: [
      { name: "tenants-use-shared", from: "tenants", to: "shared", services: ["tcp/443"], ...OWNER },
      { name: "shared-calls-a", from: "shared", to: "a", services: ["tcp/8080"], ...OWNER },
      {
        name: "no-tenant-to-tenant",
        from: "tenants",
        to: "tenants",
        verdict: "forbid",
        mode,
        reach: "any",
        ...OWNER,
      },
    ],
  };
}

/**
 * a and b reach s; s reaches a and c. Sources {a, b}, destinations {a, c}: the chains are
 * a → s → c, b → s → a and b → s → c (a → s → a goes back to its start).
 */
function cutPolicy(order: "a-first" | "b-first", withSToC = true) {
  const a = aws("a", { src: "y", dst: "y", name: "a" }, "10.0.1.0/24");
  const b = aws("b", { src: "y" }, "10.0.2.0/24");
  const c = aws("c", { dst: "y", name: "c" }, "10.0.4.0/24");
  const s = aws("s", { role: "s" }, "10.0.3.0/24");
  return {
    name: "cut",
    workloads: order === "a-first" ? [a, b, c, s] : [b, a, c, s],
    segments: {
      srcs: { matchLabels: { src: "y" } },
      dsts: { matchLabels: { dst: "y" } },
      sa: { matchLabels: { name: "a" } },
      sc: { matchLabels: { name: "c" } },
      s: { matchLabels: { role: "s" } },
    },
    paths: [
      { name: "srcs-to-s", from: "srcs", to: "s", services: ["tcp/443"], ...OWNER },
      { name: "s-to-a", from: "s", to: "sa", services: ["tcp/8080"], ...OWNER },
      ...(withSToC ? [{ name: "s-to-c", from: "s", to: "sc", services: ["tcp/8080"], ...OWNER }] : []),
      {
        name: "no-src-to-dst",
        from: "srcs",
        to: "dsts",
        verdict: "forbid",
        mode: "monitor",
        reach: "any",
        ...OWNER,
      },
    ],
  };
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

const ORDERS = ["a-first", "b-first"] as const;

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
