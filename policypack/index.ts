// The blastradius policy pack: `pulumi preview --policy-pack ./policypack --policy-pack-config config.json`
// with config.json = { "all": "mandatory", "blastradius-no-forbidden-path": { "policyFile": "../policy.yaml" } },
// or BLASTRADIUS_POLICY=policy.yaml in the environment. Raised provider limits go in the config of
// "blastradius-quota-limits" and "blastradius-quota-headroom": { "quotas": { "aws.rulesPerSecurityGroup": 200 } }.
import { PolicyPack } from "@pulumi/policy";
import { policypack } from "blastradius/components";

new PolicyPack("blastradius", { policies: policypack.blastradiusPolicies() });
