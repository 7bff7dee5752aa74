// The blastradius policy pack: `pulumi preview --policy-pack node_modules/blastradius/policypack`.
//
// The Pulumi CLI starts this directory's package (package.json `main`) with the pack directory as
// the working directory. The policies live in the compiled library; inside the repository, before
// `npm run build`, they are loaded from the TypeScript sources through tsx.
//
// The policy file: the stack config `blastradius:policyFile` (pulumi config set blastradius:policyFile
// policy.yaml), or `policyFile` in the pack config (--policy-pack-config), or BLASTRADIUS_POLICY; a
// relative path is relative to the directory pulumi runs in (the project). Raised provider limits go
// in the pack config of "blastradius-quota-limits" and "blastradius-quota-headroom":
// { "quotas": { "aws.rulesPerSecurityGroup": 200 } }.

const { existsSync } = require("node:fs");
const { join } = require("node:path");

const compiled = join(__dirname, "..", "dist", "components", "policypack", "pack.js");
if (existsSync(compiled)) require(compiled).servePolicyPack();
else {
  require("tsx/cjs");
  require(join(__dirname, "..", "components", "policypack", "pack.ts")).servePolicyPack();
}
