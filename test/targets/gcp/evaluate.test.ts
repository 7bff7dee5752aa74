import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AddressSet, ConnectionSet, type Party, type Plan, ServiceSet } from "../../../lib";
import { gcpEvaluator, rulesFromGcloudExport, rulesFromRecords } from "../../../lib/targets/gcp";
import { gcpWorkload, meta, planOf } from "./helpers";

const fixture = (f: string) => JSON.parse(readFileSync(join(__dirname, "fixtures", f), "utf8")) as unknown[];
const party = (plan: Plan, key: string): Party => plan.party(key)!;
const tcp = (src: string, dst: string, port: number) => ({ family: 4 as const, src, dst, protocol: 6, port });

// Topology for the documented examples: two instances in network "default" and a client range.
const webPlan = planOf({
  name: "doc-example",
  workloads: [
    gcpWorkload("web", { role: "web" }, "default", ["10.0.1.0/24"]),
    gcpWorkload("db", { role: "db" }, "default", ["10.0.2.0/24"]),
  ],
  segments: { web: { matchLabels: { role: "web" } } },
  peers: { client: { cidrs: ["10.9.0.0/16"] } },
  paths: [{ name: "client-web", from: "client", to: "web", services: ["tcp/80"], ...meta }],
});

describe("documented example: rule priority (https://cloud.google.com/vpc/docs/firewalls#rule_assignment)", () => {
  // "An ingress rule from sources 0.0.0.0/0 applicable to all targets, all protocols, all ports, having a
  // deny action and a priority of 1000. An ingress rule from sources 0.0.0.0/0 applicable to specific
  // targets with network tag webserver, for traffic on TCP 80, with an allow action."
  const withPriority = (p: number) =>
    gcpEvaluator(
      rulesFromGcloudExport(
        fixture("priority-example.gcloud.json").map((r) => {
          const o = r as Record<string, unknown>;
          return o.name === "allow-webserver-80" ? { ...o, priority: p } : o;
        }),
      ),
      webPlan,
      { tags: { web: ["webserver"] } },
    );
  const client = party(webPlan, "peer:client");
  const web = party(webPlan, "workload:web");
  const db = party(webPlan, "workload:db");

  it("second rule at a number below 1000 has the higher priority: TCP 80 to the webserver targets is allowed", () => {
    const ev = withPriority(999);
    expect(ev.decide(client, web, tcp("10.9.0.1", "10.0.1.1", 80))).toEqual({
      verdict: "allow",
      by: "allow-webserver-80",
    });
    expect(
      ev.allowed(client, web).equals(ConnectionSet.of(client.addresses, web.addresses, ServiceSet.tcp(80))),
    ).toBe(true);
  });

  it("equal priority 1000: the deny wins the tie, TCP 80 is blocked", () => {
    const ev = withPriority(1000);
    expect(ev.decide(client, web, tcp("10.9.0.1", "10.0.1.1", 80))).toEqual({
      verdict: "deny",
      by: "deny-all-ingress",
    });
    expect(ev.allowed(client, web).isEmpty()).toBe(true);
  });

  it("a number above 1000 has the lower priority: the deny-all rule applies", () => {
    const ev = withPriority(1001);
    expect(ev.decide(client, web, tcp("10.9.0.1", "10.0.1.1", 80)).by).toBe("deny-all-ingress");
    expect(ev.allowed(client, web).isEmpty()).toBe(true);
  });

  it("the deny-all rule still denies other traffic to webserver targets and everything to untagged instances", () => {
    const ev = withPriority(999);
    expect(ev.decide(client, web, tcp("10.9.0.1", "10.0.1.1", 443)).verdict).toBe("deny");
    expect(ev.decide(client, db, tcp("10.9.0.1", "10.0.2.1", 80))).toEqual({
      verdict: "deny",
      by: "deny-all-ingress",
    });
    expect(ev.allowed(client, db).isEmpty()).toBe(true);
  });
});

describe("implied rules (https://cloud.google.com/firewall/docs/firewalls#default_firewall_rules)", () => {
  const internet = party(webPlan, "peer:internet");
  const web = party(webPlan, "workload:web");
  const client = party(webPlan, "peer:client");

  it("with no rule: ingress is denied and egress is allowed, each at priority 65535", () => {
    const ev = gcpEvaluator([], webPlan);
    expect(ev.decide(client, web, tcp("10.9.0.1", "10.0.1.1", 80))).toEqual({
      verdict: "deny",
      by: "implied-deny-ingress (priority 65535)",
    });
    expect(ev.decide(web, internet, tcp("10.0.1.1", "8.8.8.8", 443))).toEqual({
      verdict: "allow",
      by: "implied-allow-egress (priority 65535)",
    });
    expect(
      ev.allowed(web, internet).equals(ConnectionSet.of(web.addresses, internet.addresses, ServiceSet.ALL)),
    ).toBe(true);
  });

  it("an explicit deny-all egress overrides the implied allow; an allow above it reopens exactly its range", () => {
    const rules = rulesFromRecords([
      {
        type: "gcp:compute/firewall:Firewall",
        name: "deny-out",
        inputs: {
          name: "deny-out",
          network: "default",
          direction: "EGRESS",
          priority: 65534,
          denies: [{ protocol: "all" }],
          destinationRanges: ["0.0.0.0/0"],
        },
      },
      {
        type: "gcp:compute/firewall:Firewall",
        name: "allow-dns",
        inputs: {
          name: "allow-dns",
          network: "default",
          direction: "EGRESS",
          priority: 1000,
          allows: [{ protocol: "udp", ports: ["53"] }],
          destinationRanges: ["8.8.8.8/32"],
        },
      },
    ]);
    const ev = gcpEvaluator(rules, webPlan);
    expect(ev.decide(web, internet, tcp("10.0.1.1", "8.8.8.8", 443))).toEqual({
      verdict: "deny",
      by: "deny-out",
    });
    const open = ev.allowed(web, internet);
    expect(
      open.equals(ConnectionSet.of(web.addresses, AddressSet.parse("8.8.8.8"), ServiceSet.udp(53))),
    ).toBe(true);
    // IPv6 egress is not covered by a 0.0.0.0/0 rule: the implied allow still applies there.
    expect(
      ev.decide(web, internet, { family: 6, src: "fd00::1", dst: "2001:4860::1", protocol: 6, port: 443 }).by,
    ).toBe("implied-allow-egress (priority 65535)");
  });
});

describe("service accounts, all-instances targets, disabled rules (gcloud export)", () => {
  const plan = planOf({
    name: "sa-example",
    workloads: [
      gcpWorkload(
        "app",
        { role: "app" },
        "prod",
        ["10.1.0.0/24"],
        "app@example-project.iam.gserviceaccount.com",
      ),
      gcpWorkload(
        "db",
        { role: "db" },
        "prod",
        ["10.2.0.0/24"],
        "db@example-project.iam.gserviceaccount.com",
      ),
      gcpWorkload(
        "cache",
        { role: "cache" },
        "prod",
        ["10.3.0.0/24"],
        "cache@example-project.iam.gserviceaccount.com",
      ),
      gcpWorkload(
        "other-app",
        { role: "app2" },
        "staging",
        ["10.4.0.0/24"],
        "app@example-project.iam.gserviceaccount.com",
      ),
    ],
    segments: { app: { matchLabels: { role: "app" } } },
    peers: { admin: { cidrs: ["10.9.0.0/16"] } },
    paths: [],
  });
  const ev = gcpEvaluator(rulesFromGcloudExport(fixture("service-accounts.gcloud.json")), plan);
  const [app, db, cache, otherApp, admin] = [
    "workload:app",
    "workload:db",
    "workload:cache",
    "workload:other-app",
    "peer:admin",
  ].map((k) => party(plan, k)) as [Party, Party, Party, Party, Party];

  it("an SA-targeted rule applies only to instances running as that account", () => {
    expect(ev.decide(app, db, tcp("10.1.0.1", "10.2.0.1", 5432))).toEqual({
      verdict: "allow",
      by: "allow-app-to-db",
    });
    expect(ev.decide(app, cache, tcp("10.1.0.1", "10.3.0.1", 5432)).by).toBe(
      "implied-deny-ingress (priority 65535)",
    );
  });

  it("sourceServiceAccounts OR sourceRanges: either matches; the account only inside its own network", () => {
    expect(
      ev
        .allowed(admin, db)
        .equals(
          ConnectionSet.of(admin.addresses, db.addresses, ServiceSet.tcp(5432).union(ServiceSet.icmp())),
        ),
    ).toBe(true);
    // Same service account, other network: not a source of this rule.
    expect(ev.allowed(otherApp, db).isEmpty()).toBe(true);
  });

  it("an all-instances rule applies to every instance of the network", () => {
    for (const target of [app, db, cache])
      expect(
        ev.decide(admin, target, { family: 4, src: "10.9.0.1", dst: target.addresses.sample()!, protocol: 1 })
          .by,
      ).toBe("allow-admin-icmp");
  });

  it("protocol icmp is IP protocol 1: an IPv6 rule needs 58 to admit ICMPv6", () => {
    const v6Plan = planOf({
      name: "v6",
      workloads: [
        gcpWorkload("v6app", { role: "a" }, "prod", ["fd00:1::/64"], "a@p.iam.gserviceaccount.com"),
      ],
      segments: {},
      peers: { ops: { cidrs: ["fd00:9::/64"] } },
      paths: [],
    });
    const rule = (protocol: string) =>
      rulesFromRecords([
        {
          type: "gcp:compute/firewall:Firewall",
          name: "r",
          inputs: {
            name: `ping-${protocol}`,
            network: "prod",
            allows: [{ protocol }],
            sourceRanges: ["fd00:9::/64"],
          },
        },
      ]);
    const [from, to] = [party(v6Plan, "peer:ops"), party(v6Plan, "workload:v6app")];
    const ping = { family: 6 as const, src: "fd00:9::1", dst: "fd00:1::1", protocol: 58 };
    expect(gcpEvaluator(rule("icmp"), v6Plan).decide(from, to, ping).verdict).toBe("deny");
    expect(gcpEvaluator(rule("58"), v6Plan).decide(from, to, ping)).toEqual({
      verdict: "allow",
      by: "ping-58",
    });
    expect(
      gcpEvaluator(rule("58"), v6Plan)
        .allowed(from, to)
        .equals(ConnectionSet.of(from.addresses, to.addresses, ServiceSet.icmp())),
    ).toBe(true);
  });

  it("a disabled rule does not exist", () => {
    expect(ev.decide(admin, app, tcp("10.9.0.1", "10.1.0.1", 22)).verdict).toBe("deny");
    const enabled = gcpEvaluator(
      rulesFromGcloudExport(
        fixture("service-accounts.gcloud.json").map((r) => ({ ...(r as object), disabled: false })),
      ),
      plan,
    );
    expect(enabled.decide(admin, app, tcp("10.9.0.1", "10.1.0.1", 22))).toEqual({
      verdict: "allow",
      by: "allow-breakglass-ssh",
    });
  });

  it("egress of an instance with a deny-all egress rule is closed; others keep the implied allow", () => {
    const internet = party(plan, "peer:internet");
    expect(ev.decide(db, internet, tcp("10.2.0.1", "8.8.8.8", 443)).by).toBe("deny-db-egress");
    expect(ev.decide(cache, internet, tcp("10.3.0.1", "8.8.8.8", 443)).by).toBe(
      "implied-allow-egress (priority 65535)",
    );
  });

  it("rejects malformed rules with the rule's name", () => {
    expect(() =>
      rulesFromGcloudExport([{ name: "x", allowed: [{ IPProtocol: "tcp", ports: ["99999"] }] }]),
    ).toThrow(/"x": bad port/);
    expect(() =>
      rulesFromGcloudExport([
        { name: "y", allowed: [{ IPProtocol: "tcp" }], denied: [{ IPProtocol: "all" }] },
      ]),
    ).toThrow(/"y": exactly one of allowed and denied/);
    expect(() => rulesFromGcloudExport({})).toThrow(/JSON array/);
  });
});
