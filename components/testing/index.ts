/**
 * blastradius/testing: prove a Pulumi program in its own unit tests, with Pulumi's mocks.
 *
 * ```ts
 * import * as pulumi from "@pulumi/pulumi";
 * import { expectNoForbiddenPath } from "blastradius/testing";
 *
 * pulumi.runtime.setMocks({
 *   newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
 *   call: (args) => args.inputs,
 * });
 *
 * it("opens no forbidden path", async () => {
 *   await expectNoForbiddenPath(() => import("../index"), { policy: "policy.yaml" });
 * });
 * ```
 *
 * The ids your mocks return do not matter (shared or empty ids are told apart by where each input
 * came from). Import the program only here: a module already imported registers nothing again.
 */
import type { ResourceRecord } from "../../lib";
import { type ProofOptions, proveRecords, type StackProof } from "./prove";
import { recordRegistrations, recordsOf, TestingSetupError } from "./record";

export { failuresOf, type ProofOptions, proveRecords, type StackProof } from "./prove";
export { TestingSetupError } from "./record";

/** Runs `program` under the installed Pulumi mocks and returns every resource it registered, as the evaluators read them. */
export async function recordResources(program: () => unknown): Promise<ResourceRecord[]> {
  return recordsOf(await recordRegistrations(program));
}

/** The name under which a program may export its policy document (as `blastradius review` reads it). */
const POLICY_OUTPUT = "blastradiusPolicy";

/**
 * Runs `program` under the installed Pulumi mocks and proves what it registered. Without
 * `options.policy`, the policy is the document the program exports as `blastradiusPolicy` (what
 * `program` resolves to, e.g. the module `import()` returns).
 */
export async function proveProgram(
  program: () => unknown,
  options: Partial<ProofOptions> = {},
): Promise<StackProof> {
  let exported: unknown;
  const registrations = await recordRegistrations(async () => {
    exported = await program();
  });
  const records = recordsOf(registrations);
  if (records.length === 0)
    throw new TestingSetupError(
      "blastradius/testing: the program registered no resources (was its module imported before? a module runs once per test file)",
    );
  const policy = options.policy ?? exportedPolicy(exported);
  return proveRecords(records, { ...options, policy });
}

function exportedPolicy(exported: unknown): object {
  const doc = (exported as Record<string, unknown> | undefined)?.[POLICY_OUTPUT];
  if (doc && typeof doc === "object" && !("apply" in doc)) return doc;
  throw new TestingSetupError(
    `blastradius/testing: no policy: pass { policy: "policy.yaml" } (a file, a plan or a document), or export the document from the program as "${POLICY_OUTPUT}" and return the module from program`,
  );
}

/** The proof failed: `failures` says why, one sentence each. */
export class ForbiddenPathError extends Error {
  constructor(
    readonly failures: readonly string[],
    readonly proof: StackProof,
  ) {
    super(
      `blastradius: the stack does not satisfy policy "${proof.review.policy}":\n${failures.map((f) => `  - ${f}`).join("\n")}`,
    );
    this.name = "ForbiddenPathError";
  }
}

/**
 * Runs `program` (e.g. `() => import("../index")`) under the installed Pulumi mocks and throws a
 * ForbiddenPathError when `blastradius review` would fail on what it registered: an enforce forbid
 * open or an allow broken on any target, a provider limit exceeded, or a target the policy places
 * workloads on left without rules. Resolves to the proof otherwise.
 */
export async function expectNoForbiddenPath(
  program: () => unknown,
  options: Partial<ProofOptions> = {},
): Promise<StackProof> {
  const proof = await proveProgram(program, options);
  if (proof.failures.length > 0) throw new ForbiddenPathError(proof.failures, proof);
  return proof;
}
