// Writes schema/policy.schema.json from the zod schema (the single source of truth).
// A test fails when the committed file is stale: run `npm run schema` after changing lib/model/schema.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { policyJsonSchema } from "../lib/model/json-schema";

writeFileSync(
  join(__dirname, "..", "schema", "policy.schema.json"),
  `${JSON.stringify(policyJsonSchema(), null, 2)}\n`,
);
