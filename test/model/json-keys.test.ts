import { describe, expect, it } from "vitest";
import { firstDuplicateJsonKey } from "../../lib/model/json-keys";

describe("firstDuplicateJsonKey", () => {
  it("finds a duplicate key, written plainly or with escapes, at its offset", () => {
    expect(firstDuplicateJsonKey('{"a": 1, "b": {"a": 2}, "a": 3}')).toEqual({ offset: 24, key: "a" });
    expect(firstDuplicateJsonKey('{"a": 1, "\\u0061": 2}')).toEqual({ offset: 9, key: "a" });
    expect(firstDuplicateJsonKey('{"x\\"y": 1, "x\\"y": 2}')).toEqual({ offset: 12, key: 'x"y' });
  });

  it("does not confuse values, array elements or sibling objects with keys", () => {
    expect(firstDuplicateJsonKey('{"a": "a", "b": ["a", "a"], "c": [{"a": 1}, {"a": 2}]}')).toBeUndefined();
    expect(firstDuplicateJsonKey('{"a\\\\": 1, "a": 2}')).toBeUndefined();
  });
});
