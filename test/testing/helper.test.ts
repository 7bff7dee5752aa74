import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { loadPolicy } from "../../components/policy-file";
import {
  expectNoForbiddenPath,
  ForbiddenPathError,
  proveRecords,
  recordResources,
} from "../../components/testing";

/**
 * The helper a user calls in their own test suite, with Pulumi's own `setMocks`. Each mock style
 * below is one users write: the ids differ in shape, uniqueness and presence, and the proof must
 * not depend on any of it.
 */
const POLICY = join(__dirname, "fixtures", "policy.yaml");
const program = () => import("./fixtures/program");

type Mocks = Parameters<typeof pulumi.runtime.setMocks>[0];
const MOCK_STYLES: Array<[string, Mocks]> = [
  // Pulumi's documentation: most of these resources have no `name` input, so most ids are "undefined_id".
  [
    'the documentation\'s inputs.name + "_id" (shared ids), state = inputs',
    {
      newResource: (a) => ({ id: `${a.inputs.name}_id`, state: a.inputs }),
      call: (a) => a.inputs,
    },
  ],
  [
    "a counter (ids of no known shape), state = inputs",
    (() => {
      let n = 0;
      return {
        newResource: (a: pulumi.runtime.MockResourceArgs) => ({ id: String(++n), state: a.inputs }),
        call: (a: pulumi.runtime.MockCallArgs) => a.inputs,
      };
    })(),
  ],
  ["no id at all and no outputs", { newResource: () => ({ id: undefined, state: {} }), call: () => ({}) }],
];

afterEach(() => {
  vi.resetModules();
  delete process.env.LEAKY_PROGRAM;
});

describe("blastradius/testing with Pulumi's own setMocks", () => {
  it.each(MOCK_STYLES)("proves a faithful program: mocks with %s", async (_style, mocks) => {
    pulumi.runtime.setMocks(mocks);
    const proof = await expectNoForbiddenPath(program, { policy: POLICY });
    expect(proof.review.ok).toBe(true);
    expect(proof.review.targets).toEqual(["aws", "azure"]);
    expect(proof.review.forbidden.map((f) => `${f.path} ${f.target} ${f.status}`).sort()).toEqual([
      "no-office-to-db aws blocked",
      "no-reports-to-portal azure blocked",
    ]);
    expect(proof.review.allowed.every((a) => a.status === "open")).toBe(true);
  });

  // The hand-added rule takes `securityGroupIds.db` from the component's record of ids: its input
  // comes from both groups, so only a distinct id per resource says which one it is.
  it.each(MOCK_STYLES.slice(1, 2))(
    "names the opened path and the hand-added rule: mocks with %s",
    async (_style, mocks) => {
      pulumi.runtime.setMocks(mocks);
      process.env.LEAKY_PROGRAM = "1";
      const err = await expectNoForbiddenPath(program, { policy: loadPolicy(POLICY) }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ForbiddenPathError);
      expect((err as ForbiddenPathError).failures).toEqual([
        expect.stringMatching(
          /^forbidden path "no-office-to-db" is open on aws: tcp\/5432 gets through, let in by .*hand-added-office-to-db.*witness 192\.168\.0\.\d+ → 10\.0\.2\.\d+ tcp\/5432/,
        ),
      ]);
    },
  );

  it.each([
    [
      MOCK_STYLES[0]!,
      /input securityGroupId of .*"hand-added-office-to-db" is "undefined_id", the id your mocks returned for 2 resources it depends on .*return a distinct id per resource/,
    ],
    [
      MOCK_STYLES[2]!,
      /input securityGroupId of .*"hand-added-office-to-db" is unknown \(your mocks returned no id for the 2 resources it comes from/,
    ],
  ] as const)(
    "cannot tell which group a hand-added rule joins when %s: says so, never passes",
    async ([, mocks], message) => {
      pulumi.runtime.setMocks(mocks);
      process.env.LEAKY_PROGRAM = "1";
      await expect(expectNoForbiddenPath(program, { policy: POLICY })).rejects.toThrow(message);
    },
  );

  it("records the resources for proveRecords, which takes a policy document too", async () => {
    pulumi.runtime.setMocks(MOCK_STYLES[0]![1]);
    const records = await recordResources(program);
    // The VPC's baseline group and one group per segment.
    expect(records.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup")).toHaveLength(3);
    // Shared mocked ids were replaced by ids of their own, and the rules point at them.
    const groups = new Set(
      records.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup").map((r) => r.id),
    );
    expect(groups.size).toBe(3);
    const rule = records.find((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")!;
    expect(groups.has(rule.inputs.securityGroupId as string)).toBe(true);
    const document = parse(readFileSync(POLICY, "utf8")) as object;
    expect(proveRecords(records, { policy: document }).failures).toEqual([]);
  });

  it("fails a program that leaves a placed target without rules", async () => {
    pulumi.runtime.setMocks(MOCK_STYLES[1]![1]);
    const proof = await (async () => {
      const records = await recordResources(program);
      return proveRecords(
        records.filter((r) => !r.type.startsWith("azure-native:")),
        { policy: POLICY },
      );
    })();
    // Said once: the review's own unrendered error, not the helper's sentence beside it.
    const azure = proof.failures.filter((f) =>
      /^azure: the policy places workloads (there|on azure)/.test(f),
    );
    expect(azure).toHaveLength(1);
    expect(azure[0]).toMatch(
      /^azure: the policy places workloads on azure \(.+\) but the stack created no azure resources/,
    );
  });
});
