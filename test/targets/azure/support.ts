import { azurePlaceholderProgram } from "../../../components/azure/module";
import { runProgram } from "../../../components/runner";
import { compilePolicy, type Party, type Plan, type ResourceRecord } from "../../../lib";
import {
  AZURE_TYPES,
  type AzureEvaluator,
  azureEvaluator,
  azureName,
  renderAzure,
  TAGS,
} from "../../../lib/targets/azure";

/** Compiles a policy document (throws PolicyError with every diagnostic when it is invalid). */
export function planOf(document: unknown): Plan {
  return compilePolicy({ document });
}

/** The custom resources a Pulumi program registered, as the evaluator sees them. */
export async function recordsOf(program: () => void): Promise<ResourceRecord[]> {
  const { resources } = await runProgram(program, { project: "azure-test" });
  return resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
}

/** Renders the placeholder program under the runner and builds the evaluator over what it recorded. */
export async function renderAndEvaluate(
  plan: Plan,
  extra: () => void = () => {},
): Promise<{ records: ResourceRecord[]; evaluator: AzureEvaluator }> {
  const records = await recordsOf(() => {
    azurePlaceholderProgram(plan);
    extra();
  });
  return { records, evaluator: azureEvaluator(records, plan) };
}

export function party(plan: Plan, name: string): Party {
  const p = plan.party(`workload:${name}`) ?? plan.party(`peer:${name}`);
  if (!p) throw new Error(`no party ${name}`);
  return p;
}

export const tcp = (src: string, dst: string, port: number) => ({
  family: (src.includes(":") ? 6 : 4) as 4 | 6,
  src,
  dst,
  protocol: 6,
  port,
});

const MOCK_SUB = "/subscriptions/00000000-0000-0000-0000-000000000000";

/**
 * The records the placeholder program registers, built without Pulumi (for the property test,
 * where the runner's per-resource cost would dominate). `component.test.ts` checks this mirror
 * against what the runner actually records, so the two cannot drift apart.
 */
export function mirrorRecords(plan: Plan): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const r of renderAzure(plan)) {
    const name = `azure-${r.vnet}`;
    const rg = azureName(`rg-${plan.policy.name}-${r.vnet}`);
    const base = `${MOCK_SUB}/resourceGroups/${rg}/providers/Microsoft.Network`;
    const tags = { [TAGS.policy]: r.policy, [TAGS.vnet]: r.vnet };
    out.push({
      type: AZURE_TYPES.nsg,
      name: `${name}-nsg`,
      inputs: {
        resourceGroupName: rg,
        networkSecurityGroupName: r.networkSecurityGroupName,
        location: "westeurope",
        tags,
      },
    });
    const asgId = new Map<string, string>();
    for (const a of r.applicationSecurityGroups) {
      asgId.set(a.segment, `${base}/applicationSecurityGroups/${a.name}`);
      out.push({
        type: AZURE_TYPES.asg,
        name: `${name}-asg-${a.segment}`,
        inputs: {
          resourceGroupName: rg,
          applicationSecurityGroupName: a.name,
          location: "westeurope",
          tags: { ...tags, [TAGS.segment]: a.segment },
        },
      });
    }
    for (const rule of r.rules) {
      const {
        name: _name,
        path: _path,
        sourceApplicationSecurityGroups: s,
        destinationApplicationSecurityGroups: d,
        ...rest
      } = rule;
      out.push({
        type: AZURE_TYPES.rule,
        name: `${name}-rule-${rule.name}`,
        inputs: {
          ...rest,
          resourceGroupName: rg,
          networkSecurityGroupName: r.networkSecurityGroupName,
          securityRuleName: rule.name,
          ...(s ? { sourceApplicationSecurityGroups: s.map((x) => ({ id: asgId.get(x)! })) } : {}),
          ...(d ? { destinationApplicationSecurityGroups: d.map((x) => ({ id: asgId.get(x)! })) } : {}),
        },
      });
    }
    for (const w of r.workloads)
      out.push({
        type: AZURE_TYPES.subnet,
        name: `${name}-subnet-${w.name}`,
        inputs: {
          resourceGroupName: rg,
          virtualNetworkName: r.vnet,
          subnetName: w.name,
          addressPrefixes: w.cidrs,
          networkSecurityGroup: { id: `${base}/networkSecurityGroups/${r.networkSecurityGroupName}` },
          // Defaults the azure-native SDK fills in for a Subnet.
          privateEndpointNetworkPolicies: "Disabled",
          privateLinkServiceNetworkPolicies: "Enabled",
        },
      });
  }
  return out;
}
