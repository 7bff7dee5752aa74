// The quickstart: a policy built in TypeScript (no policy file), rendered to AWS and GCP.
import { compilePolicy, PolicyBuilder, Service } from "blastradius";
import * as aws from "blastradius/aws";
import * as gcp from "blastradius/gcp";

const p = new PolicyBuilder("quickstart");
p.workload("checkout", {
  labels: { app: "checkout" },
  placements: { aws: { vpc: "shop", cidrs: ["10.1.1.0/24"] } },
});
p.workload("payments", {
  labels: { app: "payments" },
  placements: {
    gcp: {
      network: "pci",
      serviceAccount: "payments@pci-prod.iam.gserviceaccount.com",
      cidrs: ["10.2.0.0/24"],
    },
  },
});
const checkout = p.segment("checkout", { matchLabels: { app: "checkout" } });
const payments = p.segment("payments", { matchLabels: { app: "payments" } });
const partner = p.peer("card-processor", ["198.18.0.0/24"]);

p.allow("checkout-charges-payments", checkout, payments, [Service.tcp(8443)], {
  owner: "payments@example.com",
  justification: "Checkout asks the payment service to charge the card.",
})
  .allow("payments-calls-processor", payments, partner, [Service.tcp(443)], {
    owner: "payments@example.com",
    justification: "Authorisations go to the card processor.",
  })
  .forbid("no-checkout-to-processor", checkout, partner, {
    owner: "secops@example.com",
    justification: "Only the PCI zone talks to the card processor.",
  });

// Validated exactly like a policy file: every problem throws here, before anything is registered.
const plan = compilePolicy({ document: p.toDocument(), source: "quickstart" });

new aws.AwsSegmentation("shop", { vpc: "shop", vpcId: "vpc-0c0ffee000000000a", plan });
new gcp.GcpSegmentation("pci", {
  network: "pci",
  networkId: "projects/pci-prod/global/networks/pci",
  project: "pci-prod",
  plan,
});

// `blastradius review examples/quickstart` proves the stack against this exported document.
export const blastradiusPolicy = p.toDocument();
