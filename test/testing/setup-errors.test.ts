import { describe, expect, it } from "vitest";
import { recordResources, TestingSetupError } from "../../components/testing";
import { type Registration, recordsOf } from "../../components/testing/record";

describe("blastradius/testing used wrongly", () => {
  it("asks for Pulumi mocks when none are installed", async () => {
    await expect(recordResources(() => undefined)).rejects.toThrow(
      /no Pulumi mocks are installed; call pulumi\.runtime\.setMocks/,
    );
  });

  it("cannot attribute an input two same-id resources could have given, and says how to fix the mocks", () => {
    const reg = (name: string, extra: Partial<Registration> = {}): Registration => ({
      type: "test:x:R",
      name,
      custom: true,
      parent: "",
      inputs: {},
      propertyDependencies: {},
      urn: `urn:pulumi:s::p::test:x:R::${name}`,
      id: "same",
      ...extra,
    });
    const a = reg("a");
    const b = reg("b");
    const uses = reg("uses", {
      id: "u",
      inputs: { members: [{ id: "same" }, { id: "same" }] },
      propertyDependencies: { members: [a.urn!, b.urn!] },
    });
    expect(() => recordsOf([a, b, uses])).toThrow(TestingSetupError);
    expect(() => recordsOf([a, b, uses])).toThrow(
      /input members of test:x:R "uses" is "same", the id your mocks returned for 2 resources it depends on/,
    );
    // One dependency per value: attributed, whatever the ids.
    const one = reg("one", {
      id: "u1",
      inputs: { group: "same" },
      propertyDependencies: { group: [a.urn!] },
    });
    const records = recordsOf([a, b, one]);
    expect(records.find((r) => r.name === "one")!.inputs.group).toBe(records.find((r) => r.name === "a")!.id);
    expect(new Set(records.map((r) => r.id)).size).toBe(3);
  });
});
