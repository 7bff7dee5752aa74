import { describe, expect, it } from "vitest";
import { checkPolicyDocument, formatDiagnostic } from "../../lib";
import { aws, cutPolicy, ORDERS, type Order, OWNER, tenants } from "../support/chain-policies";

/*
 * `check` against `reach: any` forbids whose `from` and `to` share parties: a chain of allow paths
 * from one party of `from` to another party of `to` is reported, one back to its own start is not,
 * whatever the order of the workloads (the search once kept one origin per party: whichever source
 * reached it first, in workload order). Each case runs with the workloads in both orders.
 */

function check(doc: unknown) {
  const r = checkPolicyDocument(doc, "policy.json");
  return {
    errors: r.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic),
    warnings: r.diagnostics.filter((d) => d.severity === "warning").map(formatDiagnostic),
  };
}

/** Sources s = {a, b}, destinations t = {a, c}; a and b reach x, x reaches a: b → x → a. */
function overlapping(order: Order) {
  const a = aws("a", { s: "y", t: "y", name: "a" }, "10.0.1.0/24");
  const b = aws("b", { s: "y", name: "b" }, "10.0.2.0/24");
  const x = aws("x", { name: "x" }, "10.0.3.0/24");
  const c = aws("c", { t: "y", name: "c" }, "10.0.4.0/24");
  return {
    name: "overlapping",
    workloads: order === "a-first" ? [a, b, x, c] : [b, a, x, c],
    segments: {
      s: { matchLabels: { s: "y" } },
      t: { matchLabels: { t: "y" } },
      sa: { matchLabels: { name: "a" } },
      sb: { matchLabels: { name: "b" } },
      sx: { matchLabels: { name: "x" } },
    },
    paths: [
      { name: "a-to-x", from: "sa", to: "sx", services: ["tcp/443"], ...OWNER },
      { name: "b-to-x", from: "sb", to: "sx", services: ["tcp/443"], ...OWNER },
      { name: "x-to-a", from: "sx", to: "sa", services: ["tcp/443"], ...OWNER },
      { name: "no-s-to-t", from: "s", to: "t", verdict: "forbid", reach: "any", ...OWNER },
    ],
  };
}

/**
 * Sources s = {a, b, c}, destination t = {a}: a reaches b and c first (in workload order a-first),
 * b reaches c, c reaches a: b → c → a. c is a source, so its own origin is one of those it keeps,
 * and a's is no use for a chain into a: it must keep b too.
 */
function sourceInBetween(order: Order) {
  const a = aws("a", { s: "y", t: "y", name: "a" }, "10.0.1.0/24");
  const b = aws("b", { s: "y", name: "b" }, "10.0.2.0/24");
  const c = aws("c", { s: "y", name: "c" }, "10.0.3.0/24");
  return {
    name: "source-in-between",
    workloads: order === "a-first" ? [a, b, c] : [b, a, c],
    segments: {
      s: { matchLabels: { s: "y" } },
      t: { matchLabels: { t: "y" } },
      sa: { matchLabels: { name: "a" } },
      sb: { matchLabels: { name: "b" } },
      sc: { matchLabels: { name: "c" } },
    },
    paths: [
      { name: "a-to-b", from: "sa", to: "sb", services: ["tcp/443"], ...OWNER },
      { name: "a-to-c", from: "sa", to: "sc", services: ["tcp/443"], ...OWNER },
      { name: "b-to-c", from: "sb", to: "sc", services: ["tcp/443"], ...OWNER },
      { name: "c-to-a", from: "sc", to: "sa", services: ["tcp/443"], ...OWNER },
      { name: "no-s-to-t", from: "s", to: "t", verdict: "forbid", reach: "any", ...OWNER },
    ],
  };
}

describe("check: chains for reach: any forbids whose from and to share parties", () => {
  it.each(ORDERS)("tenants → tenants: tenant-b → shared → tenant-a is an error (%s)", (order) => {
    const { errors } = check(tenants(order));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      'enforce forbid "no-tenant-to-tenant" (reach: any) is reached by a chain of allow paths: ' +
        'tenant-b → shared by "tenants-use-shared" (tcp/443), shared → tenant-a by "shared-calls-a" (tcp/8080)',
    );
  });

  it.each(ORDERS)("a chain only back to its own start is not one (%s)", (order) => {
    expect(check(tenants(order, { tenantsUseShared: "a" }))).toEqual({ errors: [], warnings: [] });
  });

  it.each(ORDERS)("overlapping segments s = {a, b}, t = {a, c}: b → x → a is an error (%s)", (order) => {
    const { errors } = check(overlapping(order));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      'enforce forbid "no-s-to-t" (reach: any) is reached by a chain of allow paths: ' +
        'b → x by "b-to-x" (tcp/443), x → a by "x-to-a" (tcp/443)',
    );
  });

  it.each(ORDERS)("a monitored forbid: b → s → a is a warning (%s)", (order) => {
    const { errors, warnings } = check(cutPolicy(order, false));
    expect(errors).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'monitored forbid "no-src-to-dst" (reach: any) is reached by a chain of allow paths: ' +
        'b → s by "srcs-to-s" (tcp/443), s → a by "s-to-a" (tcp/8080)',
    );
  });

  it.each(ORDERS)("a source between: b → c → a, though a reaches c first (%s)", (order) => {
    const chains = check(sourceInBetween(order)).errors.filter((e) => e.includes("chain of allow paths"));
    expect(chains).toHaveLength(1);
    expect(chains[0]).toContain(
      'enforce forbid "no-s-to-t" (reach: any) is reached by a chain of allow paths: ' +
        'b → c by "b-to-c" (tcp/443), c → a by "c-to-a" (tcp/443)',
    );
  });

  it("a last hop from a party into itself is no chain: b → a (tcp/22), then a → a (tcp/443)", () => {
    const a = aws("a", { name: "a" }, "10.0.1.0/24");
    const b = aws("b", { name: "b" }, "10.0.2.0/24");
    const doc = {
      name: "self",
      workloads: [a, b],
      segments: { sa: { matchLabels: { name: "a" } }, sb: { matchLabels: { name: "b" } } },
      paths: [
        { name: "b-to-a-ssh", from: "sb", to: "sa", services: ["tcp/22"], ...OWNER },
        { name: "a-to-a", from: "sa", to: "sa", services: ["tcp/443"], ...OWNER },
        {
          name: "no-b-to-a-https",
          from: "sb",
          to: "sa",
          services: ["tcp/443"],
          verdict: "forbid",
          reach: "any",
          ...OWNER,
        },
      ],
    };
    expect(check(doc)).toEqual({ errors: [], warnings: [] });
    // With a second member of sa, it is one: b → c → a.
    doc.workloads.push(aws("c", { name: "a" }, "10.0.3.0/24"));
    expect(check(doc).errors.join("\n")).toContain(
      'b → c by "b-to-a-ssh" (tcp/22), c → a by "a-to-a" (tcp/443)',
    );
  });
});
