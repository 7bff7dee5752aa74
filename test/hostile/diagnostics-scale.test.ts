import { describe, expect, it } from "vitest";
import { checkPolicyDocument } from "../../lib";
import { DiagnosticSink } from "../../lib/model/diagnostics";
import { boundedDistance, closest, Suggester } from "../../lib/model/names";

/** The textbook edit distance, to check the bounded one against. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

describe("diagnostics stay linear", () => {
  it("the bounded edit distance equals the full one up to its limit", () => {
    const words = [
      "",
      "a",
      "ab",
      "abc",
      "training",
      "trainign",
      "trianing",
      "datalake",
      "data-lake",
      "x".repeat(30),
    ];
    for (const a of words)
      for (const b of words)
        for (const limit of [0, 1, 2, 3, 5, 40]) {
          const d = distance(a, b);
          expect(boundedDistance(a, b, limit), `${a}|${b}|${limit}`).toBe(d <= limit ? d : limit + 1);
        }
    expect(closest("trainign", ["datalake", "training", "agents"])).toBe("training");
    expect(closest("zzzzzz", ["training"])).toBeUndefined();
  });

  it("a 100k-character reference against 3,000 segments (10.5 s before)", () => {
    const segments = Array.from({ length: 3000 }, (_, i) => `segment-${i}`);
    const s = new Suggester(segments, "segments and peers");
    const t0 = performance.now();
    const hint = s.hint("s".repeat(100_000));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(hint).toContain("(3000 in all)");
    expect(s.hint("segment-12x")).toBe('did you mean "segment-12"?');
  });

  it("the error count is kept, not recounted (5,000 workloads with errors: 27 s before)", () => {
    const workloads = Array.from({ length: 5000 }, (_, i) => ({
      name: `w${i}`,
      labels: { role: "bad value!" },
      placements: { aws: { vpc: "v", cidrs: [] } },
    }));
    const paths = Array.from({ length: 5000 }, (_, i) => ({
      name: `p${i}`,
      from: `nowhere-${i}`,
      to: "internet",
      services: ["tcp/443"],
      owner: "o",
      justification: "j",
    }));
    const t0 = performance.now();
    const r = checkPolicyDocument({ name: "big", workloads, paths });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(r.diagnostics.filter((d) => d.severity === "error").length).toBe(15_000);
  });

  it("errorCount follows pushes and cuts of the items", () => {
    const sink = new DiagnosticSink("f");
    sink.error([], "a");
    sink.warn([], "b");
    expect(sink.errorCount).toBe(1);
    sink.items.push({ severity: "error", path: [], message: "c" });
    expect(sink.errorCount).toBe(2);
    sink.items.splice(1, 2);
    expect(sink.errorCount).toBe(1);
  });
});
