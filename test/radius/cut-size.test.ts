import { describe, expect, it } from "vitest";
import { CUT_SHOWN_LIMIT, HopGraph, type Plan, proveChains } from "../../lib";
import { evaluatorsFor, planOf } from "../support/random-policy";

/*
 * A suggested cut larger than anyone would apply hop by hop is left out, saying how large it is:
 * explaining tens of thousands of hops (a ring of 1,000 workloads cut between two tiers) took
 * seconds and filled the review JSON.
 */

const OWNER = { owner: "x@example.com", justification: "test" };

/** `n` workloads in segment a, `n` in segment b, every a allowed to every b; a monitored forbid a → b. */
function bipartite(n: number): Plan {
  const workloads = [];
  for (let i = 0; i < n; i++) {
    workloads.push({
      name: `a${i}`,
      labels: { side: "a" },
      placements: { aws: { vpc: "v", cidrs: [`10.1.${i}.0/24`] } },
    });
    workloads.push({
      name: `b${i}`,
      labels: { side: "b" },
      placements: { aws: { vpc: "v", cidrs: [`10.2.${i}.0/24`] } },
    });
  }
  const plan = planOf({
    name: "cut-size",
    workloads,
    segments: { a: { matchLabels: { side: "a" } }, b: { matchLabels: { side: "b" } } },
    paths: [
      { name: "a-to-b", from: "a", to: "b", services: ["tcp/443"], ...OWNER },
      { name: "no-a-to-b", from: "a", to: "b", verdict: "forbid", mode: "monitor", reach: "any", ...OWNER },
    ],
  });
  if (!plan) throw new Error("invalid test policy");
  return plan;
}

describe("the size of a suggested cut", () => {
  it(`a cut of up to ${CUT_SHOWN_LIMIT} hops is shown, every hop explained`, () => {
    const plan = bipartite(10);
    const [r] = proveChains(HopGraph.build(plan, evaluatorsFor(plan)));
    expect(r).toMatchObject({ path: "no-a-to-b", status: "open" });
    expect(r!.cut).toHaveLength(100);
    expect(r!.cutSkipped).toBeUndefined();
  });

  it(`a larger one is left out, with its size`, () => {
    const plan = bipartite(15);
    const [r] = proveChains(HopGraph.build(plan, evaluatorsFor(plan)));
    expect(r).toMatchObject({ path: "no-a-to-b", status: "open" });
    expect(r!.chain).toHaveLength(1);
    expect(r!.cut).toBeUndefined();
    expect(r!.cutSkipped).toBe(
      `the smallest cut has 225 hops, more than ${CUT_SHOWN_LIMIT} to show; narrow the allow paths of the chain shown and review again`,
    );
  });
});
