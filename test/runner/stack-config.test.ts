import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  fullConfigKey,
  normalizeConfig,
  readProject,
  StackDirError,
  selectStack,
} from "../../components/runner";

const fixture = (name: string) => path.join(__dirname, "fixtures", name);

describe("stack config", () => {
  it("namespaces keys like Pulumi", () => {
    expect(fullConfigKey("x", "proj")).toBe("proj:x");
    expect(fullConfigKey("aws:region", "proj")).toBe("aws:region");
    expect(fullConfigKey("proj:config:x", "proj")).toBe("proj:x");
  });

  it("encodes values and turns secure values into flagged placeholders", () => {
    expect(
      normalizeConfig(
        {
          s: "text",
          n: 3,
          b: false,
          obj: { a: 1, list: [1, "two"] },
          "aws:region": "us-west-2",
          pw: { secure: "AAAB" },
          nested: { user: "u", pass: { secure: "AAAC" } },
          empty: null,
        },
        "proj",
        ["s"],
      ),
    ).toEqual({
      config: {
        "proj:s": "text",
        "proj:n": "3",
        "proj:b": "false",
        "proj:obj": '{"a":1,"list":[1,"two"]}',
        "aws:region": "us-west-2",
        "proj:pw": "[secret proj:pw]",
        "proj:nested": '{"user":"u","pass":"[secret proj:nested]"}',
      },
      secretKeys: ["proj:nested", "proj:pw", "proj:s"],
    });
  });

  it("reads Pulumi.yaml name, runtime and project config defaults", () => {
    const project = readProject(fixture("config-stack"));
    expect(project.name).toBe("cfgproj");
    expect(project.main).toBe(fixture("config-stack"));
    expect(project.config).toEqual({ greeting: "hello-from-project", port: 80 });
    expect(readProject(fixture("main-function")).main).toBe(path.join(fixture("main-function"), "src"));
  });

  it("selects the only stack file, the requested one, or dev; a requested stack must have its file", () => {
    expect(selectStack(fixture("config-stack"))).toEqual({
      stack: "dev",
      file: path.join(fixture("config-stack"), "Pulumi.dev.yaml"),
    });
    expect(selectStack(fixture("main-function"))).toEqual({ stack: "dev" });
    expect(selectStack(fixture("two-stacks"), "prod").file).toBe(
      path.join(fixture("two-stacks"), "Pulumi.prod.yaml"),
    );
    // A typo (`--stack prdo`) must not run with empty config: the error names the stack files there.
    expect(() => selectStack(fixture("two-stacks"), "prdo")).toThrow(
      /No stack "prdo" in .*two-stacks: there is no Pulumi\.prdo\.yaml; the stack files there are Pulumi\.dev\.yaml, Pulumi\.prod\.yaml/,
    );
    expect(() => selectStack(fixture("main-function"), "dev")).toThrow(/there are no stack files there/);
    expect(() => selectStack(fixture("two-stacks"))).toThrow(StackDirError);
    expect(() => selectStack(fixture("two-stacks"))).toThrow(/Pulumi\.dev\.yaml, Pulumi\.prod\.yaml/);
  });
});
