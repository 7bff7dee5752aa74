import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { policyJsonSchema } from "../../lib/model/json-schema";

describe("schema/policy.schema.json", () => {
  it("is what lib/model/schema.ts generates (run `npm run schema` after changing the schema)", () => {
    const committed = JSON.parse(
      readFileSync(join(__dirname, "..", "..", "schema", "policy.schema.json"), "utf8"),
    );
    expect(committed).toEqual(policyJsonSchema());
  });

  it("describes the documented fields, so editors complete them", () => {
    const s = policyJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(s.properties)).toEqual(
      expect.arrayContaining(["name", "workloads", "segments", "peers", "paths"]),
    );
    expect(s.required).toEqual(["name"]);
    const text = JSON.stringify(s);
    for (const field of [
      "serviceAccount",
      "podLabels",
      "matchExpressions",
      "justification",
      "expires",
      "verdict",
      "monitor",
    ])
      expect(text).toContain(field);
  });
});
