import * as pulumi from "@pulumi/pulumi";
import type { TargetModule } from "../../components/targets";
import type { Plan, TargetName } from "../../lib";
import { faithfulToyRules, type ToyRule, toyAdapter, toyRule } from "./toy-target";

/** A resource of the toy rule language, registered like any provider resource. */
class ToyRuleResource extends pulumi.CustomResource {
  constructor(type: string, name: string, inputs: Record<string, unknown>) {
    super(type, name, inputs);
  }
}

/**
 * A test-only target module: its placeholder program registers one real Pulumi custom resource per
 * toy rule (type `toy:<target>:Rule`), so review goes through the runner, the recorded inputs, the
 * toy evaluator and the proof exactly as a real target will.
 */
export function toyModule(
  target: TargetName,
  extra: Array<{ name: string; rule: ToyRule }> = [],
  options: { ruleLimit?: number } = {},
): TargetModule {
  const toyRecords = (plan: Plan) => [
    ...faithfulToyRules(target, plan),
    ...extra.map((e) => toyRule(target, e.name, e.rule)),
  ];
  return {
    target,
    adapter: toyAdapter(target, options.ruleLimit),
    placeholderProgram: (plan) => {
      for (const r of toyRecords(plan)) new ToyRuleResource(r.type, r.name, r.inputs);
    },
    records: (plan) => toyRecords(plan),
    artefacts: (plan) => [
      {
        path: `${target}/rules.json`,
        content: `${JSON.stringify(faithfulToyRules(target, plan), null, 2)}\n`,
      },
    ],
  };
}
