import {
  AddressSet,
  ConnectionSet,
  type Decision,
  type Packet,
  type Party,
  type Plan,
  type ResourceRecord,
  ServiceSet,
  type TargetAdapter,
  type TargetEvaluator,
  type TargetName,
} from "../../lib";

/**
 * A test-only target, to exercise the proof engine end to end before the real targets land. Its
 * rule language: resources of type `toy:<target>:Rule` with inputs
 * `{ action: "allow" | "deny", from: CIDRs, to: CIDRs, services: ["tcp/443", …] }`;
 * deny beats allow, no match means default deny. It sees every party by address and enforces
 * the workloads placed on `target`.
 */
export interface ToyRule {
  action: "allow" | "deny";
  from: string[];
  to: string[];
  services: string[];
}

export const toyType = (target: TargetName) => `toy:${target}:Rule`;

export function toyRule(target: TargetName, name: string, rule: ToyRule): ResourceRecord {
  return { type: toyType(target), name, inputs: { ...rule } };
}

/** The toy target's one limit: rules per target (`<target>.toyRules`), `ruleLimit` by default. */
export function toyAdapter(target: TargetName, ruleLimit = 100): TargetAdapter {
  const quota = `${target}.toyRules`;
  return {
    target,
    owns: (r) => r.type === toyType(target),
    evaluator: (resources, plan) => toyEvaluator(target, resources, plan),
    usage: (resources, _plan, limits) => ({
      rules: resources.length,
      guardrailRules: resources.filter((r) => (r.inputs as unknown as ToyRule).action === "deny").length,
      resources: resources.length,
      quotas: [
        {
          target,
          quota,
          description: "toy rules",
          scope: `toy ${target}`,
          used: resources.length,
          limit: limits?.[quota] ?? ruleLimit,
        },
      ],
    }),
  };
}

function toyEvaluator(
  target: TargetName,
  resources: readonly ResourceRecord[],
  _plan: Plan,
): TargetEvaluator {
  const rules = resources.map((r) => {
    const i = r.inputs as unknown as ToyRule;
    return {
      name: r.name,
      action: i.action,
      set: ConnectionSet.of(
        AddressSet.fromCidrs(i.from),
        AddressSet.fromCidrs(i.to),
        i.services.map((s) => ServiceSet.parse(s)).reduce((a, b) => a.union(b), ServiceSet.EMPTY),
      ),
    };
  });
  const allows = rules
    .filter((r) => r.action === "allow")
    .reduce((a, r) => a.union(r.set), ConnectionSet.EMPTY);
  const denies = rules
    .filter((r) => r.action === "deny")
    .reduce((a, r) => a.union(r.set), ConnectionSet.EMPTY);
  const placedKey = target === "cilium" ? "kubernetes" : target;
  return {
    target,
    enforces: (p: Party) => p.kind === "workload" && placedKey in p.workload.placements,
    allowed: (from, to) =>
      allows.subtract(denies).intersect(ConnectionSet.of(from.addresses, to.addresses, ServiceSet.ALL)),
    decide: (_from, _to, packet: Packet): Decision => {
      const deny = rules.find((r) => r.action === "deny" && r.set.has(packet));
      if (deny) return { verdict: "deny", by: deny.name };
      const allow = rules.find((r) => r.action === "allow" && r.set.has(packet));
      return allow ? { verdict: "allow", by: allow.name } : { verdict: "deny", by: "default-deny" };
    },
  };
}

/** The rules a faithful toy renderer would emit for a plan: one allow per allow path. */
export function faithfulToyRules(target: TargetName, plan: Plan): ResourceRecord[] {
  return plan.allows.map((c) =>
    toyRule(target, `allow-${c.path.name}`, {
      action: "allow",
      from: c.from.flatMap((s) => s.addresses.toCidrs()),
      to: c.to.flatMap((s) => s.addresses.toCidrs()),
      services: c.path.serviceTexts,
    }),
  );
}
