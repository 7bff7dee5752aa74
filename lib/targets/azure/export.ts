import type { ResourceRecord } from "../../verify/types";
import { AZURE_TYPES } from "./evaluate";
import { armIdSegment, parseArmId } from "./nsg";

/** What an `az network nsg show` export does not say, and the evaluator needs. */
export interface NsgExportOptions {
  /**
   * Address prefixes of the associated subnets, by subnet id or `<vnet>/<subnet>` (e.g. from
   * `az network vnet subnet list`). Without them, an NSG associated to a subnet is taken to guard
   * every workload the plan places in that subnet's VNet.
   */
  subnetPrefixes?: Record<string, readonly string[]>;
  /** Private addresses of the associated NICs, by NIC id or name (e.g. from `az network nic show`). */
  nicAddresses?: Record<string, readonly string[]>;
  /** ASG ids each NIC is in, by NIC id or name (membership is not part of an NSG export). */
  nicAsgs?: Record<string, readonly string[]>;
}

type Json = Record<string, unknown>;

/**
 * Reads `az network nsg show` JSON (one NSG, or an array as from `az network nsg list`) into the
 * records the Azure evaluator reads: the NSG with its `securityRules` and `defaultSecurityRules`
 * (the `az` flattened shape or the ARM shape with `properties`), and one subnet or NIC record per
 * association it lists.
 */
export function readNsgExport(json: unknown, options: NsgExportOptions = {}): ResourceRecord[] {
  const items = Array.isArray(json) ? json : [json];
  const out: ResourceRecord[] = [];
  for (const raw of items) {
    const item = raw as Json;
    const nsg = { ...item, ...((item.properties as Json | undefined) ?? {}) };
    const id = typeof nsg.id === "string" ? nsg.id : undefined;
    const name = String(nsg.name ?? (id ? parseArmId(id).name : "nsg"));
    const resourceGroup =
      (typeof nsg.resourceGroup === "string" ? nsg.resourceGroup : undefined) ??
      (id ? parseArmId(id).resourceGroup : undefined) ??
      "";
    const nsgId =
      id ??
      `/subscriptions/export/resourceGroups/${resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/${name}`;
    out.push({
      type: AZURE_TYPES.nsg,
      name,
      inputs: {
        networkSecurityGroupName: name,
        resourceGroupName: resourceGroup,
        securityRules: nsg.securityRules ?? [],
        defaultSecurityRules: nsg.defaultSecurityRules ?? [],
      },
    });
    for (const s of (nsg.subnets as Json[] | undefined) ?? []) {
      const sid = String(s.id ?? "");
      const vnet = armIdSegment(sid, "virtualNetworks") ?? "";
      const subnet = parseArmId(sid).name;
      const prefixes = options.subnetPrefixes?.[sid] ?? options.subnetPrefixes?.[`${vnet}/${subnet}`] ?? [];
      out.push({
        type: AZURE_TYPES.subnet,
        name: `${vnet}/${subnet}`,
        // Its id: the NICs of a `az network nic` export name their subnet by it.
        ...(sid !== "" ? { id: sid } : {}),
        inputs: {
          subnetName: subnet,
          virtualNetworkName: vnet,
          resourceGroupName: parseArmId(sid).resourceGroup ?? resourceGroup,
          ...(prefixes.length > 0 ? { addressPrefixes: [...prefixes] } : {}),
          networkSecurityGroup: { id: nsgId },
        },
      });
    }
    for (const n of (nsg.networkInterfaces as Json[] | undefined) ?? []) {
      const nid = String(n.id ?? "");
      const nic = parseArmId(nid).name;
      const addresses = options.nicAddresses?.[nid] ?? options.nicAddresses?.[nic] ?? [];
      const asgs = options.nicAsgs?.[nid] ?? options.nicAsgs?.[nic] ?? [];
      out.push({
        type: AZURE_TYPES.nic,
        name: nic,
        inputs: {
          networkInterfaceName: nic,
          networkSecurityGroup: { id: nsgId },
          ipConfigurations: addresses.map((a, k) => ({
            name: `ipconfig${k + 1}`,
            privateIPAddress: a,
            applicationSecurityGroups: asgs.map((x) => ({ id: x })),
          })),
        },
      });
    }
  }
  return out;
}

/**
 * Reads `az network nic show` JSON (one NIC or an array) into NIC records: its private addresses,
 * the ASGs its IP configurations are in, its subnet (hence VNet), and its own NSG if any.
 */
export function readNicExport(json: unknown): ResourceRecord[] {
  const items = Array.isArray(json) ? json : [json];
  return items.map((raw) => {
    const item = raw as Json;
    const nic = { ...item, ...((item.properties as Json | undefined) ?? {}) };
    const name = String(nic.name ?? parseArmId(String(nic.id ?? "nic")).name);
    const configs = ((nic.ipConfigurations as Json[] | undefined) ?? []).map((c) => ({
      ...c,
      ...((c.properties as Json | undefined) ?? {}),
    }));
    return {
      type: AZURE_TYPES.nic,
      name,
      inputs: {
        networkInterfaceName: name,
        // The binding tag (`blastradius:workload`) is read from here.
        ...(nic.tags && typeof nic.tags === "object" ? { tags: nic.tags } : {}),
        ...(nic.networkSecurityGroup ? { networkSecurityGroup: nic.networkSecurityGroup } : {}),
        ipConfigurations: configs.map((c) => ({
          name: c.name,
          privateIPAddress: c.privateIPAddress,
          subnet: c.subnet,
          applicationSecurityGroups: c.applicationSecurityGroups ?? [],
        })),
      },
    };
  });
}
