import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Packet, ServiceSet } from "../../../lib";
import {
  CiliumEvaluateError,
  type ClusterPolicy,
  ciliumEvaluator,
  policiesFromKubectl,
} from "../../../lib/targets/cilium";
import { party, planOf } from "./support";

const meta = { owner: "o@example.com", justification: "test" };
const pod = (name: string, namespace: string, podLabels: Record<string, string>, cidr: string) => ({
  name,
  labels: { role: name },
  placements: { kubernetes: { cluster: "c1", namespace, podLabels, cidrs: [cidr] } },
});

/** Client and server pods in `default`, a client twin in `other`, and a peer outside the cluster. */
const plan = planOf({
  name: "docs",
  workloads: [
    pod("client", "default", { app: "client" }, "10.1.1.0/24"),
    pod("server", "default", { app: "server" }, "10.1.2.0/24"),
    pod("twin", "other", { app: "client" }, "10.1.3.0/24"),
    pod("prod-client", "default", { env: "prod" }, "10.1.4.0/24"),
    pod("service", "default", { app: "service" }, "10.1.5.0/24"),
    pod("restricted", "default", { role: "restricted" }, "10.1.6.0/24"),
  ],
  peers: { outside: { cidrs: ["10.200.0.0/16"] } },
  segments: { clients: { matchLabels: { role: "client" } } },
  paths: [{ name: "placeholder", from: "outside", to: "clients", services: ["tcp/1"], ...meta }],
});

const cnp = (name: string, spec: Record<string, unknown>, namespace = "default"): ClusterPolicy => ({
  cluster: "c1",
  source: name,
  object: { apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", metadata: { name, namespace }, spec },
});
const server = { matchLabels: { app: "server" } };
const client = { matchLabels: { app: "client" } };
const port = (p: string) => ({ ports: [{ port: p, protocol: "TCP" }] });

const tcp = (dport: number): Packet => ({
  family: 4,
  src: "10.1.1.5",
  dst: "10.1.2.5",
  protocol: 6,
  port: dport,
});
const ping: Packet = { family: 4, src: "10.1.1.5", dst: "10.1.2.5", protocol: 1 };

/**
 * The allow/deny verdict table of Cilium's "Deny Policies" page
 * (https://docs.cilium.io/en/latest/security/policy/deny/, Documentation/security/policy/deny.rst):
 * ingress policies on the server pod, client → server traffic.
 */
describe("Cilium docs, Deny Policies: the verdict table", () => {
  const allows = {
    l7: cnp("allow-l7", {
      endpointSelector: server,
      ingress: [
        {
          fromEndpoints: [client],
          toPorts: [{ ...port("80"), rules: { http: [{ method: "GET", path: "/" }] } }],
        },
      ],
    }),
    l4_80: cnp("allow-l4-80", {
      endpointSelector: server,
      ingress: [{ fromEndpoints: [client], toPorts: [port("80")] }],
    }),
    l4_81: cnp("allow-l4-81", {
      endpointSelector: server,
      ingress: [{ fromEndpoints: [client], toPorts: [port("81")] }],
    }),
    l3: cnp("allow-l3", { endpointSelector: server, ingress: [{ fromEndpoints: [client] }] }),
  };
  const denies = {
    l4_80: cnp("deny-l4-80", { endpointSelector: server, ingressDeny: [{ toPorts: [port("80")] }] }),
    l3: cnp("deny-l3", { endpointSelector: server, ingressDeny: [{ fromEndpoints: [client] }] }),
  };
  const allAllows = Object.values(allows);
  const columns: Array<{ policies: ClusterPolicy[]; curl81: string; curl80: string; ping: string }> = [
    { policies: allAllows, curl81: "allow", curl80: "allow", ping: "allow" },
    { policies: [...allAllows, denies.l4_80], curl81: "allow", curl80: "deny", ping: "allow" },
    { policies: [...allAllows, denies.l3], curl81: "deny", curl80: "deny", ping: "deny" },
    { policies: [...allAllows, denies.l4_80, denies.l3], curl81: "deny", curl80: "deny", ping: "deny" },
    { policies: [denies.l4_80], curl81: "deny", curl80: "deny", ping: "deny" },
  ];
  columns.forEach((col, i) => {
    it(`column ${i + 1}: curl :81 ${col.curl81}, curl :80 ${col.curl80}, ping ${col.ping}`, () => {
      const ev = ciliumEvaluator(col.policies, plan);
      const [c, s] = [party(plan, "client"), party(plan, "server")];
      expect(ev.decide(c, s, tcp(81)).verdict).toBe(col.curl81);
      expect(ev.decide(c, s, tcp(80)).verdict).toBe(col.curl80);
      expect(ev.decide(c, s, ping).verdict).toBe(col.ping);
      // allowed() agrees with decide() on every packet of the table.
      const open = ev.allowed(c, s);
      expect(open.has(tcp(81))).toBe(col.curl81 === "allow");
      expect(open.has(tcp(80))).toBe(col.curl80 === "allow");
      expect(open.has(ping)).toBe(col.ping === "allow");
    });
  });

  it("a deny names the deny rule; default deny names the endpoint", () => {
    const ev = ciliumEvaluator([...allAllows, denies.l4_80], plan);
    const [c, s] = [party(plan, "client"), party(plan, "server")];
    expect(ev.decide(c, s, tcp(80)).by).toBe("CiliumNetworkPolicy default/deny-l4-80 spec.ingressDeny[0]");
    const only = ciliumEvaluator([allows.l4_81], plan);
    expect(only.decide(c, s, tcp(80)).by).toBe("default-deny (ingress of default/server)");
    expect(only.decide(c, s, tcp(81)).by).toBe("CiliumNetworkPolicy default/allow-l4-81 spec.ingress[0]");
  });
});

/**
 * "Ingress/Egress Default Deny" (https://docs.cilium.io/en/stable/security/policy/language/,
 * examples/policies/l3/egress-default-deny): a rule section with an empty rule puts the endpoint in
 * default deny without allowing any peer, unlike Kubernetes NetworkPolicy where `ingress: [{}]`
 * allows everything. An empty list does not enable default deny (rule_validation.go: the default is
 * `len(Ingress) > 0 || len(IngressDeny) > 0`).
 */
describe("Cilium docs: ingress: [{}] allows nothing", () => {
  const [c, s] = [party(plan, "client"), party(plan, "server")];
  it("ingress: [{}] denies every connection to the server", () => {
    const ev = ciliumEvaluator([cnp("iso", { endpointSelector: server, ingress: [{}] })], plan);
    expect(ev.allowed(c, s).isEmpty()).toBe(true);
    expect(ev.allowed(party(plan, "outside"), s).isEmpty()).toBe(true);
    // Egress of the server is untouched.
    expect(ev.allowed(s, c).services().equals(ServiceSet.ALL)).toBe(true);
  });
  it("without default deny (ingress: [] or enableDefaultDeny false) everything stays open", () => {
    for (const spec of [
      { endpointSelector: server, ingress: [] },
      { endpointSelector: server, ingress: [{}], enableDefaultDeny: { ingress: false } },
    ]) {
      const ev = ciliumEvaluator([cnp("open", spec)], plan);
      expect(ev.allowed(c, s).services().equals(ServiceSet.ALL)).toBe(true);
    }
  });
  it("a rule with ports and no peer selects every peer; an explicitly empty peer list selects none", () => {
    const l4only = ciliumEvaluator(
      [cnp("l4", { endpointSelector: server, ingress: [{ toPorts: [port("443")] }] })],
      plan,
    );
    expect(l4only.allowed(party(plan, "outside"), s).services().toString()).toBe("tcp/443");
    expect(l4only.allowed(c, s).services().toString()).toBe("tcp/443");
    const none = ciliumEvaluator(
      [cnp("none", { endpointSelector: server, ingress: [{ fromEndpoints: [], toPorts: [port("443")] }] })],
      plan,
    );
    expect(none.allowed(c, s).isEmpty()).toBe(true);
  });
});

describe("Cilium semantics the evaluator implements", () => {
  const [c, s, twin, out] = ["client", "server", "twin", "outside"].map((n) => party(plan, n)) as [
    ReturnType<typeof party>,
    ReturnType<typeof party>,
    ReturnType<typeof party>,
    ReturnType<typeof party>,
  ];

  it("fromEndpoints without a namespace label selects the policy's namespace only", () => {
    const ev = ciliumEvaluator(
      [cnp("p", { endpointSelector: server, ingress: [{ fromEndpoints: [client] }] })],
      plan,
    );
    expect(ev.allowed(c, s).isEmpty()).toBe(false);
    expect(ev.allowed(twin, s).isEmpty()).toBe(true);
    const cross = ciliumEvaluator(
      [
        cnp("p", {
          endpointSelector: server,
          ingress: [
            {
              fromEndpoints: [
                { matchLabels: { ...client.matchLabels, "k8s:io.kubernetes.pod.namespace": "other" } },
              ],
            },
          ],
        }),
      ],
      plan,
    );
    expect(cross.allowed(twin, s).isEmpty()).toBe(false);
    expect(cross.allowed(c, s).isEmpty()).toBe(true);
  });

  it("CIDR rules match only peers outside the cluster, never a pod whatever its address", () => {
    const ev = ciliumEvaluator(
      [
        cnp("p", {
          endpointSelector: server,
          ingress: [{ fromCIDRSet: [{ cidr: "10.0.0.0/8", except: ["10.200.128.0/17"] }] }],
        }),
      ],
      plan,
    );
    expect(ev.allowed(c, s).isEmpty()).toBe(true);
    expect(ev.allowed(out, s).sources().toCidrs()).toEqual(["10.200.0.0/17"]);
  });

  it("entities: world is everything outside the cluster, cluster every pod", () => {
    const world = ciliumEvaluator(
      [cnp("w", { endpointSelector: server, ingress: [{ fromEntities: ["world"] }] })],
      plan,
    );
    expect(world.allowed(out, s).sources().toCidrs()).toEqual(["10.200.0.0/16"]);
    expect(world.allowed(c, s).isEmpty()).toBe(true);
    const cluster = ciliumEvaluator(
      [cnp("c", { endpointSelector: server, ingress: [{ fromEntities: ["cluster"] }] })],
      plan,
    );
    expect(cluster.allowed(twin, s).isEmpty()).toBe(false);
    expect(cluster.allowed(out, s).isEmpty()).toBe(true);
  });

  it("both ends must pass: the client's egress policy and the server's ingress policy", () => {
    const egressOnly = cnp("e", {
      endpointSelector: client,
      egress: [{ toEndpoints: [server], toPorts: [port("443")] }],
    });
    const ev = ciliumEvaluator([egressOnly], plan);
    expect(ev.allowed(c, s).services().toString()).toBe("tcp/443");
    const both = ciliumEvaluator(
      [
        egressOnly,
        cnp("i", {
          endpointSelector: server,
          ingress: [{ fromEndpoints: [client], toPorts: [port("8443")] }],
        }),
      ],
      plan,
    );
    expect(both.allowed(c, s).isEmpty()).toBe(true);
  });

  it("the documented from_world_deny clusterwide policy (examples/policies/l3/entities/from_world_deny.yaml)", () => {
    // https://docs.cilium.io/en/latest/security/policy/deny/: denies ingress from world on every pod,
    // while allowing everything else.
    const ccnp: ClusterPolicy = {
      cluster: "c1",
      source: "external-lockdown",
      object: {
        apiVersion: "cilium.io/v2",
        kind: "CiliumClusterwideNetworkPolicy",
        metadata: { name: "external-lockdown" },
        spec: {
          endpointSelector: {},
          ingressDeny: [{ fromEntities: ["world"] }],
          ingress: [{ fromEntities: ["all"] }],
        },
      },
    };
    const ev = ciliumEvaluator([ccnp], plan);
    expect(ev.allowed(out, s).isEmpty()).toBe(true);
    expect(ev.allowed(twin, s).services().equals(ServiceSet.ALL)).toBe(true);
    expect(
      ev.decide(out, s, { family: 4, src: "10.200.0.1", dst: "10.1.2.5", protocol: 6, port: 80 }).by,
    ).toBe("CiliumClusterwideNetworkPolicy external-lockdown spec.ingressDeny[0]");
  });

  it("rejects fields it cannot interpret instead of guessing", () => {
    const fqdn = cnp("f", {
      endpointSelector: client,
      egress: [{ toFQDNs: [{ matchName: "example.com" }] }],
    });
    expect(() => ciliumEvaluator([fqdn], plan)).toThrow(CiliumEvaluateError);
    const named = cnp("n", {
      endpointSelector: client,
      egress: [{ toPorts: [{ ports: [{ port: "http" }] }] }],
    });
    expect(() => ciliumEvaluator([named], plan)).toThrow(/named port "http"/);
  });
});

/**
 * A live export (`kubectl get cnp -A -o json`) holding the L7 example of the policy language docs
 * (https://docs.cilium.io/en/stable/security/policy/language/#http: "Allow HTTP GET /public from
 * env=prod to app=service") and the egress default-deny example.
 */
describe("kubectl get cnp -A -o json", () => {
  const json = readFileSync(join(__dirname, "fixtures", "kubectl-get-cnp.json"), "utf8");
  const ev = ciliumEvaluator(policiesFromKubectl(json, "c1"), plan);
  const [prod, service, restricted, c] = ["prod-client", "service", "restricted", "client"].map((n) =>
    party(plan, n),
  ) as [
    ReturnType<typeof party>,
    ReturnType<typeof party>,
    ReturnType<typeof party>,
    ReturnType<typeof party>,
  ];

  it("GET /public from env=prod is allowed; other paths, methods and sources are not", () => {
    expect(ev.allowed(prod, service).services().toString()).toBe("tcp/80");
    expect(ev.allowsHttp(prod, service, { port: 80, method: "GET", path: "/public" })).toBe(true);
    expect(ev.allowsHttp(prod, service, { port: 80, method: "GET", path: "/private" })).toBe(false);
    expect(ev.allowsHttp(prod, service, { port: 80, method: "PUT", path: "/public" })).toBe(false);
    expect(ev.allowsHttp(c, service, { port: 80, method: "GET", path: "/public" })).toBe(false);
    expect(ev.httpRules()).toEqual([
      {
        rule: "CiliumNetworkPolicy default/rule1 spec.ingress[0]",
        cluster: "c1",
        workload: "service",
        direction: "ingress",
        ports: "tcp/80",
        http: [{ method: "GET", path: "/public" }],
      },
    ]);
  });

  it("egress: [{}] isolates the restricted pod's egress", () => {
    expect(ev.allowed(restricted, c).isEmpty()).toBe(true);
    expect(ev.allowed(c, restricted).services().equals(ServiceSet.ALL)).toBe(true);
  });
});
