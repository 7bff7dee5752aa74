import * as network from "@pulumi/azure-native/network";
import { describe, expect, it } from "vitest";
import { AzureSegmentation } from "../../components/azure";
import { plan, RG, stack } from "./azure-hub";
import { fails, reviewProgram, verdict } from "./support";

/*
 * Azure: network interfaces are bound to workloads by the `blastradius:workload` tag; their ASG
 * membership, their own NSG and their subnet are read from the stack; the placement VNet is mapped
 * to the Azure VNet the subnets live in.
 */

function nic(
  net: AzureSegmentation,
  name: string,
  workload: string | undefined,
  subnet: string,
  extra: Partial<network.NetworkInterfaceArgs> = {},
  asgsOf: string | null | undefined = workload,
) {
  return new network.NetworkInterface(name, {
    resourceGroupName: RG,
    networkInterfaceName: name,
    ...(workload ? { tags: net.tagsFor(workload) } : {}),
    ipConfigurations: [
      {
        name: "ipconfig1",
        subnet: { id: net.subnetIds.apply((ids) => ids[subnet]!) },
        ...(asgsOf ? { applicationSecurityGroups: net.applicationSecurityGroupsFor(asgsOf) } : {}),
      },
    ],
    ...extra,
  });
}

describe("Azure: the proof reads the NICs (ASGs, NSG, subnet) and maps the Azure VNet", () => {
  it("NICs wired with the helpers in the component's subnets (VNet named differently in Azure): proven", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        nic(net, "portal-nic", "portal", "portal");
        nic(net, "reports-nic", "reports", "reports");
      }),
    );
    expect(review.binding.azure).toBe("bound");
    expect(review.errors).toEqual([]);
    expect(review.ok).toBe(true);
    expect(verdict(review, "portal-reads-reports", "azure")?.status).toBe("open");
  });

  it("a NIC's own NSG allowing RDP from anywhere opens nothing while the subnet's NSG still denies (both levels must allow)", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        const open = new network.NetworkSecurityGroup("open-nsg", {
          resourceGroupName: RG,
          networkSecurityGroupName: "open-nsg",
          securityRules: [
            {
              name: "allow-rdp",
              priority: 100,
              direction: "Inbound",
              access: "Allow",
              protocol: "Tcp",
              sourceAddressPrefix: "*",
              sourcePortRange: "*",
              destinationAddressPrefix: "*",
              destinationPortRange: "3389",
            },
          ],
        });
        nic(net, "portal-nic", "portal", "portal");
        nic(net, "reports-nic", "reports", "reports", { networkSecurityGroup: { id: open.id } });
      }),
    );
    expect(verdict(review, "no-corp-to-reports", "azure")?.status).toBe("blocked");
    expect(review.unexplained).toEqual([]);
    expect(review.errors).toEqual([]);
  });

  it("a rule added to the rendered NSG outside the library, allowing RDP from anywhere, fails the review naming it", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        nic(net, "portal-nic", "portal", "portal");
        nic(net, "reports-nic", "reports", "reports");
        new network.SecurityRule("hand-added-rdp", {
          resourceGroupName: RG,
          networkSecurityGroupName: net.networkSecurityGroupName,
          securityRuleName: "hand-added-rdp",
          // Below the Deny band (100-1599) where the enforce forbids' guardrails sit.
          priority: 4000,
          direction: "Inbound",
          access: "Allow",
          protocol: "Tcp",
          sourceAddressPrefix: "*",
          sourcePortRange: "*",
          destinationAddressPrefix: "*",
          destinationPortRange: "3389",
        });
      }),
    );
    // The enforce forbid's Deny guardrail sits above it...
    expect(verdict(review, "no-corp-to-reports", "azure")?.status).toBe("blocked");
    // ...but every unclaimed address (other NICs of the VNet among them: NSGs see them by address)
    // and the peers (one class: Azure sees peers by address; the witness is a private address where
    // one gets through) now reach both workloads over RDP. The portal itself does not: its subnet's
    // outbound rules still hold.
    expect(review.unexplained.map((u) => `${u.from} -> ${u.to} ${u.services}`).sort()).toEqual([
      "corp -> portal tcp/3389",
      // corp cannot reach the reports (the guardrail holds): the peers' class witness is the internet.
      "internet -> reports tcp/3389",
      "unmodelled addresses -> portal tcp/3389",
      "unmodelled addresses -> reports tcp/3389",
    ]);
    expect(review.unexplained.every((u) => u.by.includes("hand-added-rdp"))).toBe(true);
    expect(fails(review)).toBe(true);
  });

  it("a NIC in no ASG breaks the allow that names its segment's ASG, and the ASG attached to nothing is an error", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        nic(net, "portal-nic", "portal", "portal", {}, null);
        nic(net, "reports-nic", "reports", "reports");
      }),
    );
    expect(verdict(review, "portal-reads-reports", "azure")?.status).toBe("broken");
    expect(review.findings).toContainEqual(
      expect.objectContaining({ kind: "unattached", severity: "error" }),
    );
    expect(fails(review)).toBe(true);
  });

  it("an untagged NIC in the portal's ASG is an unmodelled endpoint that reaches the reports", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        nic(net, "portal-nic", "portal", "portal");
        nic(net, "reports-nic", "reports", "reports");
        nic(net, "jumpbox-nic", undefined, "portal", {}, "portal");
      }),
    );
    expect(review.unexplained).toContainEqual(
      expect.objectContaining({ from: "network interface jumpbox-nic", to: "reports", services: "tcp/443" }),
    );
    expect(fails(review)).toBe(true);
  });

  it("a workload's NIC in another workload's subnet is an error (NSGs decide by address)", async () => {
    const { review } = await reviewProgram(
      plan,
      stack((net) => {
        nic(net, "portal-nic", "portal", "reports");
        nic(net, "reports-nic", "reports", "reports");
      }),
    );
    expect(
      review.errors.some((e) =>
        e.includes('network interface portal-nic of workload "portal" is in subnet reports'),
      ),
    ).toBe(true);
  });

  it("an NSG associated with nothing enforces nothing: an error, and the forbid is open", async () => {
    const { review } = await reviewProgram(plan, () => {
      new AzureSegmentation("hub", { vnet: "hub", plan, resourceGroupName: RG, location: "westeurope" });
    });
    expect(
      review.errors.some((e) => e.includes("is associated with no subnet and no network interface")),
    ).toBe(true);
    expect(verdict(review, "no-corp-to-reports", "azure")?.status).toBe("open");
  });
});
