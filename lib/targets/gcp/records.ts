import type { Plan } from "../../plan/types";
import type { ResourceRecord } from "../../verify/types";
import { gcpNetworks, renderGcpNetwork } from "./render";
import { COMPONENT_TYPE, FIREWALL_TYPE, type GcpFirewallRule, type GcpRenderOptions } from "./types";

/** The `gcp.compute.Firewall` inputs of one rendered rule: what the component registers, field for field. */
export interface GcpFirewallInputs<N, P> {
  name: string;
  network: N;
  project?: P;
  description: string;
  direction: "INGRESS" | "EGRESS";
  priority: number;
  allows?: GcpFirewallRule["allows"];
  denies?: GcpFirewallRule["denies"];
  sourceRanges?: string[];
  destinationRanges?: string[];
  sourceServiceAccounts?: string[];
  targetServiceAccounts?: string[];
  logConfig?: GcpFirewallRule["logConfig"];
}

/**
 * A rule's provider inputs on a network (name, id or self link) and project. Absent fields stay
 * absent (as Pulumi records them), so `GcpSegmentation` and `gcpRecords` cannot drift apart.
 */
export function firewallInputs<N, P>(
  rule: GcpFirewallRule,
  network: N,
  project?: P,
): GcpFirewallInputs<N, P> {
  const out: GcpFirewallInputs<N, P> = {
    name: rule.name,
    network,
    description: rule.description,
    direction: rule.direction,
    priority: rule.priority,
  };
  if (project !== undefined) out.project = project;
  if (rule.allows) out.allows = rule.allows;
  if (rule.denies) out.denies = rule.denies;
  if (rule.sourceRanges) out.sourceRanges = rule.sourceRanges;
  if (rule.destinationRanges) out.destinationRanges = rule.destinationRanges;
  if (rule.sourceServiceAccounts) out.sourceServiceAccounts = rule.sourceServiceAccounts;
  if (rule.targetServiceAccounts) out.targetServiceAccounts = rule.targetServiceAccounts;
  if (rule.logConfig) out.logConfig = rule.logConfig;
  return out;
}

/** Where one network's component lives: its Pulumi name, the network id its rules carry, the project. */
export interface GcpNetworkScope {
  component: string;
  networkId: string;
  project?: string;
}

/**
 * The resources a program of one `GcpSegmentation` per network registers (the component, then one
 * firewall per rule), built without the Pulumi engine: same types, names and inputs. Firewall ids
 * follow the provider's form `projects/<project>/global/firewalls/<name>`.
 */
export function gcpRecords(
  plan: Plan,
  scopeOf: (network: string) => GcpNetworkScope,
  options?: GcpRenderOptions,
): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const network of gcpNetworks(plan)) {
    const scope = scopeOf(network);
    out.push({
      type: COMPONENT_TYPE,
      name: scope.component,
      inputs: { network, networkId: scope.networkId },
    });
    for (const rule of renderGcpNetwork(plan, network, options)) {
      const record: ResourceRecord = {
        type: FIREWALL_TYPE,
        name: `${scope.component}-${rule.key}`,
        inputs: firewallInputs(rule, scope.networkId, scope.project) as unknown as Record<string, unknown>,
      };
      if (scope.project !== undefined) record.id = `projects/${scope.project}/global/firewalls/${rule.name}`;
      out.push(record);
    }
  }
  return out;
}
