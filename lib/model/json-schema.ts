import { z } from "zod";
import { policySchema } from "./schema";

/** The JSON Schema of policy files, for editor completion (shipped as schema/policy.schema.json). */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(policySchema, { target: "draft-2020-12" }),
    title: "blastradius policy",
  };
}
