/*
 * Policies with `reach: any` forbids whose `from` and `to` share parties, for `check`
 * (test/plan/chains-shared-ends.test.ts) and the proof (test/radius/shared-ends.test.ts). Each
 * takes the order of its first workloads: the search once kept one origin per party (whichever start
 * reached it first, in workload order), so every case runs in both orders.
 */

export const OWNER = { owner: "x@example.com", justification: "test" };
export const ORDERS = ["a-first", "b-first"] as const;
export type Order = (typeof ORDERS)[number];

export type Workload = { name: string; labels: Record<string, string>; placements: unknown };
/** A workload in AWS VPC main at one CIDR. */
export const aws = (name: string, labels: Record<string, string>, cidr: string): Workload => ({
  name,
  labels,
  placements: { aws: { vpc: "main", cidrs: [cidr] } },
});

/**
 * tenant-a and tenant-b both use `shared` (or only the segment `tenantsUseShared` does), which calls
 * tenant-a: tenant-b → shared → tenant-a.
 */
export function tenants(
  order: Order,
  options: { mode?: "enforce" | "monitor"; tenantsUseShared?: string } = {},
) {
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
      {
        name: "tenants-use-shared",
        from: options.tenantsUseShared ?? "tenants",
        to: "shared",
        services: ["tcp/443"],
        ...OWNER,
      },
      { name: "shared-calls-a", from: "shared", to: "a", services: ["tcp/8080"], ...OWNER },
      {
        name: "no-tenant-to-tenant",
        from: "tenants",
        to: "tenants",
        verdict: "forbid",
        mode: options.mode ?? "enforce",
        reach: "any",
        ...OWNER,
      },
    ],
  };
}

/**
 * a and b reach s; s reaches a (and c, `withSToC`). Sources {a, b}, destinations {a, c}, a monitored
 * forbid: the chains are b → s → a (and a → s → c, b → s → c); a → s → a goes back to its start.
 */
export function cutPolicy(order: Order, withSToC = true) {
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
