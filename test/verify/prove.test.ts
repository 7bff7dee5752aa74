import { describe, expect, it } from "vitest";
import { checkPolicyDocument, type Party, type Plan, prove, type TargetName } from "../../lib";
import { faithfulToyRules, toyAdapter, toyRule } from "../support/toy-target";

const DOC = {
  name: "proof",
  workloads: [
    {
      name: "trainer",
      labels: { role: "training" },
      placements: { aws: { vpc: "ml", cidrs: ["10.10.1.0/24"] } },
    },
    {
      name: "lake",
      labels: { role: "datalake" },
      placements: {
        gcp: { network: "data", serviceAccount: "lake@p.iam.gserviceaccount.com", cidrs: ["10.20.0.0/20"] },
      },
    },
  ],
  segments: {
    training: { matchLabels: { role: "training" } },
    datalake: { matchLabels: { role: "datalake" } },
  },
  peers: { workstations: { cidrs: ["10.200.0.0/16"] } },
  paths: [
    {
      name: "training-reads-datalake",
      from: "training",
      to: "datalake",
      services: ["tcp/443"],
      owner: "o",
      justification: "j",
    },
    {
      name: "no-workstation-to-training",
      from: "workstations",
      to: "training",
      verdict: "forbid",
      owner: "o",
      justification: "j",
    },
    {
      name: "no-lake-to-training",
      from: "datalake",
      to: "training",
      verdict: "forbid",
      mode: "monitor",
      owner: "o",
      justification: "j",
    },
  ],
};

function plan(): Plan {
  const r = checkPolicyDocument(DOC);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.plan!;
}

function proofWith(extra: Partial<Record<TargetName, ReturnType<typeof toyRule>[]>>, drop = false) {
  const p = plan();
  const evaluators = (["aws", "gcp"] as const).map((t) => {
    const records = [...(drop ? [] : faithfulToyRules(t, p)), ...(extra[t] ?? [])];
    return toyAdapter(t).evaluator(records, p);
  });
  return prove(p, evaluators);
}

describe("prove", () => {
  it("a faithful rendering: every forbid blocked by default deny, every allow open, on each target", () => {
    const proof = proofWith({});
    expect(proof.ok).toBe(true);
    expect(proof.targets).toEqual(["aws", "gcp"]);
    expect(proof.forbidden).toEqual([
      {
        path: "no-workstation-to-training",
        mode: "enforce",
        target: "aws",
        status: "blocked",
        by: "default-deny",
      },
      { path: "no-lake-to-training", mode: "monitor", target: "aws", status: "blocked", by: "default-deny" },
      { path: "no-lake-to-training", mode: "monitor", target: "gcp", status: "blocked", by: "default-deny" },
    ]);
    expect(proof.allowed).toEqual([
      { path: "training-reads-datalake", target: "aws", status: "open" },
      { path: "training-reads-datalake", target: "gcp", status: "open" },
    ]);
  });

  it("a permissive extra rule on one target opens the forbid there only, with a witness and the rule's name", () => {
    const leak = toyRule("aws", "hand-added-ssh", {
      action: "allow",
      from: ["10.200.5.0/24"],
      to: ["10.10.1.0/24"],
      services: ["tcp/22"],
    });
    const proof = proofWith({ aws: [leak] });
    expect(proof.ok).toBe(false);
    const aws = proof.forbidden.find((f) => f.path === "no-workstation-to-training" && f.target === "aws")!;
    expect(aws).toEqual({
      path: "no-workstation-to-training",
      mode: "enforce",
      target: "aws",
      status: "open",
      by: "hand-added-ssh",
      witness: {
        src: "10.200.5.1",
        dst: "10.10.1.1",
        protocol: "tcp",
        port: 22,
        from: "workstations",
        to: "trainer",
      },
      open: "tcp/22",
    });
    // Defense in depth: gcp does not place either end of this path, so it has no verdict on it.
    expect(
      proof.forbidden.filter((f) => f.path === "no-workstation-to-training").map((f) => f.target),
    ).toEqual(["aws"]);
  });

  it("a deny guardrail beats the permissive rule and is named as the deciding rule", () => {
    const leak = toyRule("aws", "hand-added-ssh", {
      action: "allow",
      from: ["10.200.0.0/16"],
      to: ["10.10.1.0/24"],
      services: ["tcp/22"],
    });
    const guard = toyRule("aws", "guard-no-workstation", {
      action: "deny",
      from: ["10.200.0.0/16"],
      to: ["10.10.1.0/24"],
      services: ["any"],
    });
    const proof = proofWith({ aws: [leak, guard] });
    expect(proof.ok).toBe(true);
    expect(proof.forbidden[0]).toMatchObject({
      target: "aws",
      status: "blocked",
      by: "guard-no-workstation",
    });
  });

  it("a missing rule breaks the allow path and says what is missing", () => {
    const partial = toyRule("gcp", "half", {
      action: "allow",
      from: ["10.10.1.0/25"],
      to: ["10.20.0.0/20"],
      services: ["tcp/443"],
    });
    const proof = proofWith({ gcp: [partial] }, true);
    expect(proof.ok).toBe(false);
    expect(proof.allowed).toEqual([
      {
        path: "training-reads-datalake",
        target: "aws",
        status: "broken",
        missing: "tcp/443",
        witness: {
          src: "10.10.1.1",
          dst: "10.20.0.1",
          protocol: "tcp",
          port: 443,
          from: "trainer",
          to: "lake",
        },
        by: "default-deny",
      },
      {
        path: "training-reads-datalake",
        target: "gcp",
        status: "broken",
        missing: "tcp/443",
        // Only the upper half of the trainer's /24 is missing on gcp.
        witness: {
          src: "10.10.1.129",
          dst: "10.20.0.1",
          protocol: "tcp",
          port: 443,
          from: "trainer",
          to: "lake",
        },
        by: "default-deny",
      },
    ]);
  });

  it("an open monitored forbid is reported with what enforcing would close, and does not fail the proof", () => {
    const open = toyRule("gcp", "lake-callback", {
      action: "allow",
      from: ["10.20.0.0/20"],
      to: ["10.10.1.0/24"],
      services: ["tcp/9000"],
    });
    const proof = proofWith({ gcp: [open] });
    expect(proof.ok).toBe(true);
    expect(proof.forbidden.find((f) => f.path === "no-lake-to-training" && f.target === "gcp")).toMatchObject(
      {
        status: "open",
        mode: "monitor",
        by: "lake-callback",
        wouldClose: "tcp/9000",
      },
    );
  });

  it("lists placed targets without an evaluator as unproven", () => {
    const p = plan();
    const proof = prove(p, [toyAdapter("aws").evaluator(faithfulToyRules("aws", p), p)]);
    expect(proof.unproven).toEqual(["gcp"]);
  });
  it("asks each pair of classes once however the paths between them are spread, and reports in policy order", () => {
    const doc = {
      ...DOC,
      // Two trainers: the source end of the training paths is two classes on each target.
      workloads: [
        ...DOC.workloads,
        {
          name: "trainer-2",
          labels: { role: "training" },
          placements: { aws: { vpc: "ml", cidrs: ["10.10.2.0/24"] } },
        },
      ],
      paths: [
        DOC.paths[0]!,
        DOC.paths[1]!,
        // A second path between the same ends, with another source's path before it.
        { ...DOC.paths[0]!, name: "training-writes-datalake", services: ["tcp/8443"] },
        DOC.paths[2]!,
        // A forbid between the same ends as the allows: the same question again.
        {
          ...DOC.paths[1]!,
          name: "no-telnet-to-lake",
          from: "training",
          to: "datalake",
          services: ["tcp/23"],
        },
      ],
    };
    const r = checkPolicyDocument(doc);
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const p = r.plan!;
    const asked: string[] = [];
    const evaluators = (["aws", "gcp"] as const).map((t) => {
      const ev = toyAdapter(t).evaluator(faithfulToyRules(t, p), p);
      return {
        ...ev,
        allowed: (from: Party, to: Party) => {
          asked.push(`${t} ${from.name}->${to.name}`);
          return ev.allowed(from, to);
        },
      };
    });
    const proof = prove(p, evaluators);
    expect(proof.ok).toBe(true);
    // Each pair of parties once per target, though three paths join trainer and lake.
    expect([...asked].sort()).toEqual(
      [
        "aws lake->trainer",
        "aws lake->trainer-2",
        "aws trainer->lake",
        "aws trainer-2->lake",
        "aws workstations->trainer",
        "aws workstations->trainer-2",
        "gcp lake->trainer",
        "gcp lake->trainer-2",
        "gcp trainer->lake",
        "gcp trainer-2->lake",
      ].sort(),
    );
    expect(proof.allowed.map((a) => `${a.path} ${a.target}`)).toEqual([
      "training-reads-datalake aws",
      "training-reads-datalake gcp",
      "training-writes-datalake aws",
      "training-writes-datalake gcp",
    ]);
    expect(proof.forbidden.map((f) => `${f.path} ${f.target}`)).toEqual([
      "no-workstation-to-training aws",
      "no-telnet-to-lake aws",
      "no-telnet-to-lake gcp",
      "no-lake-to-training aws",
      "no-lake-to-training gcp",
    ]);
  });
});
