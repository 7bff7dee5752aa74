import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import type { Input } from "@pulumi/pulumi";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { AzureSegmentation } from "../../components/azure";
import { plan, RG, stack } from "./azure-hub";
import { fails, reviewProgram, verdict } from "./support";

/*
 * Azure binding: what the proof cannot see of a workload's compute (its subnet, compute built
 * without a NetworkInterface resource) is an error, never a silent "blocked".
 */

const VNET_ID =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub-prod";

const nic = (net: AzureSegmentation, workload: string, subnet: Input<string>) =>
  new network.NetworkInterface(`${workload}-nic`, {
    resourceGroupName: RG,
    networkInterfaceName: `${workload}-nic`,
    tags: net.tagsFor(workload),
    ipConfigurations: [
      {
        name: "ipconfig1",
        subnet: { id: subnet },
        applicationSecurityGroups: net.applicationSecurityGroupsFor(workload),
      },
    ],
  });
const portal = (net: AzureSegmentation) =>
  nic(
    net,
    "portal",
    net.subnetIds.apply((i) => i.portal!),
  );

describe("Azure binding: a workload's NIC in a subnet the stack does not record", () => {
  it("an existing (unrecorded) subnet of the VNet: an unknown error naming the NIC and the subnet, never a silent blocked", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        portal(net);
        nic(net, "reports", `${VNET_ID}/subnets/legacy`);
      }),
    );
    expect(review.findings).toContainEqual(
      expect.objectContaining({
        kind: "unknown",
        severity: "error",
        resource: "reports-nic",
        workload: "reports",
      }),
    );
    expect(review.errors.some((e) => e.includes("subnets/legacy, which this stack does not record"))).toBe(
      true,
    );
    expect(fails(review)).toBe(true);
  });

  it("a recorded subnet wider than the workload's cidrs with a dynamic address: Azure may allocate outside them (error)", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        portal(net);
        const wide = new network.Subnet("wide", {
          resourceGroupName: RG,
          virtualNetworkName: "vnet-hub-prod",
          subnetName: "wide",
          addressPrefix: "10.30.2.0/23",
          networkSecurityGroup: { id: net.networkSecurityGroupId },
        });
        nic(net, "reports", wide.id);
      }),
    );
    expect(
      review.errors.some((e) =>
        e.includes(
          'network interface reports-nic of workload "reports" takes a dynamic address in subnet wide (10.30.2.0/23)',
        ),
      ),
    ).toBe(true);
  });

  it("the component's own subnets stay proven (the subnet holds exactly the workload's cidrs)", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        portal(net);
        nic(
          net,
          "reports",
          net.subnetIds.apply((i) => i.reports!),
        );
      }),
    );
    expect(review.errors).toEqual([]);
    expect(verdict(review, "no-corp-to-reports", "azure")?.status).toBe("blocked");
  });
});

const vmssArgs = (
  net: AzureSegmentation,
  workload: string,
  subnet: Input<string>,
  nsg?: Input<string>,
): compute.VirtualMachineScaleSetArgs => ({
  resourceGroupName: RG,
  vmScaleSetName: `${workload}-vmss`,
  tags: net.tagsFor(workload),
  sku: { name: "Standard_B2s", capacity: 2 },
  upgradePolicy: { mode: compute.UpgradeMode.Manual },
  virtualMachineProfile: {
    networkProfile: {
      networkInterfaceConfigurations: [
        {
          name: "nic0",
          primary: true,
          ...(nsg ? { networkSecurityGroup: { id: nsg } } : {}),
          ipConfigurations: [
            {
              name: "ipconfig1",
              subnet: { id: subnet },
              applicationSecurityGroups: net.applicationSecurityGroupsFor(workload),
            },
          ],
        },
      ],
    },
  },
});

/** A resource of the classic provider's type, registered as its SDK class registers it. */
class ClassicAsgAssociation extends pulumi.CustomResource {
  constructor(name: string, args: Record<string, Input<string>>) {
    super(
      "azure:network/networkInterfaceApplicationSecurityGroupAssociation:NetworkInterfaceApplicationSecurityGroupAssociation",
      name,
      args,
    );
  }
}

describe("Azure binding: compute built without a NetworkInterface resource", () => {
  it("a scale set's inline NIC configuration is read: its own NSG denying all inbound is seen (and the reports are bound)", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        portal(net);
        const open = new network.NetworkSecurityGroup("open-nsg", {
          resourceGroupName: RG,
          networkSecurityGroupName: "open-nsg",
          securityRules: [
            {
              name: "deny-all-in",
              priority: 100,
              direction: "Inbound",
              access: "Deny",
              protocol: "*",
              sourceAddressPrefix: "*",
              sourcePortRange: "*",
              destinationAddressPrefix: "*",
              destinationPortRange: "*",
            },
          ],
        });
        new compute.VirtualMachineScaleSet(
          "reports-vmss",
          vmssArgs(
            net,
            "reports",
            net.subnetIds.apply((i) => i.reports!),
            open.id,
          ),
        );
      }),
    );
    expect(review.binding.azure).toBe("bound");
    // Bound: no "no network interface is bound to it" error for the reports.
    expect(review.errors.filter((e) => e.includes('workload "reports"'))).toEqual([]);
    // Its NIC's own NSG denies everything inbound: the allow to the reports is broken.
    expect(verdict(review, "portal-reads-reports", "azure")).toMatchObject({ status: "broken" });
  });

  it("a virtual machine naming a NIC the stack does not record is an unknown error naming it", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        portal(net);
        const reports = nic(
          net,
          "reports",
          net.subnetIds.apply((i) => i.reports!),
        );
        new compute.VirtualMachine("reports-vm", {
          resourceGroupName: RG,
          vmName: "reports-vm",
          networkProfile: { networkInterfaces: [{ id: reports.id }] },
        });
        new compute.VirtualMachine("jump", {
          resourceGroupName: RG,
          vmName: "jump",
          networkProfile: {
            networkInterfaces: [
              {
                id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/networkInterfaces/legacy-nic",
              },
            ],
          },
        });
      }),
    );
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "unknown", severity: "error", resource: "virtual machine jump" }),
    );
    // The VM using the recorded NIC is seen through it: nothing reported about it.
    expect(review.findings.filter((f) => f.resource === "virtual machine reports-vm")).toEqual([]);
    expect(fails(review)).toBe(true);
  });

  it("a classic-provider association (@pulumi/azure, not a dependency) is an unknown error naming it, never a silent pass", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        portal(net);
        nic(
          net,
          "reports",
          net.subnetIds.apply((i) => i.reports!),
        );
        // What `new azure.network.NetworkInterfaceApplicationSecurityGroupAssociation(...)` registers.
        new ClassicAsgAssociation("reports-in-portal-asg", {
          networkInterfaceId: "nic-id",
          applicationSecurityGroupId: "asg-id",
        });
      }),
    );
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "unknown", severity: "error", resource: "reports-in-portal-asg" }),
    );
    expect(fails(review)).toBe(true);
  });
});
