import { describe, expect, it } from "vitest";
import { confinedPath } from "../../cli/write";

describe("render's second line of defence", () => {
  it("artefact paths are confined to --out whatever the name", () => {
    for (const bad of ["../x", "a/../../x", "/etc/passwd", "", "a//b", "./a", "a/./b", "x\0y"])
      expect(() => confinedPath("/out", bad), bad).toThrow(/refusing to write/);
    expect(confinedPath("/out", "aws/ml.json")).toBe("/out/aws/ml.json");
  });
});
