import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../../lib/plan/types";
import {
  clustersOf,
  type GuardrailMode,
  type RenderedPolicy,
  renderCilium,
  segmentationChildren,
} from "../../lib/targets/cilium";
import { childOptions } from "../child-options";

/** Inputs of a CiliumSegmentation. Pass a Kubernetes provider through `opts.provider` to target a cluster. */
export interface CiliumSegmentationArgs {
  /** The cluster name the policy's `placements.kubernetes.cluster` uses for the workloads to render. */
  cluster: string;
  /** The compiled policy (`compile(policy)`), the same plan every target's component renders. */
  plan: Plan;
  /**
   * Where enforce forbids are rendered: "namespaced" (default) as ingressDeny/egressDeny rules in
   * each segment's CiliumNetworkPolicy, or "clusterwide" as one CiliumClusterwideNetworkPolicy per
   * forbid path (only cluster admins can edit or delete it).
   */
  guardrails?: GuardrailMode;
  /**
   * The start of every policy object's name (default: the policy's name). Names are unique per
   * namespace: give each stack its own when two render one policy into one cluster (e.g.
   * `namePrefix: \`\${policy}-\${pulumi.getStack()}\``). A Kubernetes name: lowercase letters,
   * digits, '-' and '.'.
   */
  namePrefix?: string;
}

/** Bad arguments to a CiliumSegmentation; thrown before anything is registered. */
export class CiliumSegmentationArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CiliumSegmentationArgsError";
  }
}

function checkArgs(name: string, args: CiliumSegmentationArgs | undefined): RenderedPolicy[] {
  const where = `CiliumSegmentation "${name}"`;
  if (!args || typeof args !== "object") throw new CiliumSegmentationArgsError(`${where}: args are required`);
  if (!args.plan || !Array.isArray(args.plan.parties))
    throw new CiliumSegmentationArgsError(`${where}: args.plan is missing; pass compile(policy)`);
  if (typeof args.cluster !== "string" || args.cluster === "")
    throw new CiliumSegmentationArgsError(
      `${where}: args.cluster is missing; pass the cluster name the policy's kubernetes placements use`,
    );
  const known = clustersOf(args.plan);
  if (!known.includes(args.cluster))
    throw new CiliumSegmentationArgsError(
      `${where}: args.cluster "${args.cluster}" places no workload in policy "${args.plan.policy.name}"; known clusters: ${known.length > 0 ? known.join(", ") : "none"}`,
    );
  if (args.guardrails !== undefined && args.guardrails !== "namespaced" && args.guardrails !== "clusterwide")
    throw new CiliumSegmentationArgsError(
      `${where}: args.guardrails must be "namespaced" or "clusterwide", not "${String(args.guardrails)}"`,
    );
  if (
    args.namePrefix !== undefined &&
    (typeof args.namePrefix !== "string" || !/^[a-z0-9]([a-z0-9.-]{0,200}[a-z0-9])?$/.test(args.namePrefix))
  )
    throw new CiliumSegmentationArgsError(
      `${where}: args.namePrefix ${JSON.stringify(args.namePrefix)} is not a Kubernetes name start (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)`,
    );
  return renderCilium(args.plan, {
    cluster: args.cluster,
    guardrails: args.guardrails,
    ...(args.namePrefix !== undefined ? { namePrefix: args.namePrefix } : {}),
  });
}

/**
 * The policy's segmentation of one Kubernetes cluster, as Cilium policies: a default-deny baseline
 * per namespace, one CiliumNetworkPolicy per segment per namespace with its allow paths (L7 HTTP
 * rules included) and deny guardrails, optionally clusterwide guardrails.
 */
export class CiliumSegmentation extends pulumi.ComponentResource {
  /** `<namespace>/<name>` of each segment's policy, keyed by segment, then namespace. */
  readonly segmentPolicies: Record<string, Record<string, string>>;
  /** `<namespace>/<name>` of the default-deny baseline, keyed by namespace. */
  readonly defaultDenyPolicies: Record<string, string>;
  /** Names of the CiliumClusterwideNetworkPolicies, keyed by forbid path (clusterwide mode). */
  readonly guardrailPolicies: Record<string, string>;
  /** Every policy object created, keyed by `<namespace>.<name>` (or `clusterwide.<name>`). */
  readonly resources: Record<string, k8s.apiextensions.CustomResource>;
  /** sha256 of the rendered objects: changes exactly when the rules change. */
  readonly digest: string;
  private readonly plan: Plan;
  private readonly cluster: string;

  /**
   * Where a workload's pods run and the labels they must carry (the binding contract: a pod is the
   * workload whose podLabels its labels include, in its namespace). Spread `labels` into the pod
   * template's labels (extra labels are fine; every policy sees them) and use `namespace`.
   */
  podBindingFor(workload: string): { namespace: string; labels: Record<string, string> } {
    const here = this.plan.policy.workloads.filter((w) => w.placements.kubernetes?.cluster === this.cluster);
    const w = here.find((x) => x.name === workload);
    if (!w)
      throw new CiliumSegmentationArgsError(
        `CiliumSegmentation: "${workload}" is not a workload placed in cluster "${this.cluster}" (placed there: ${here.map((x) => x.name).join(", ") || "none"})`,
      );
    return {
      namespace: w.placements.kubernetes!.namespace,
      labels: { ...w.placements.kubernetes!.podLabels },
    };
  }

  constructor(name: string, args: CiliumSegmentationArgs, opts?: pulumi.ComponentResourceOptions) {
    const rendered = checkArgs(name, args);
    super("blastradius:cilium:CiliumSegmentation", name, { cluster: args.cluster }, opts);
    this.plan = args.plan;
    this.cluster = args.cluster;
    // Keyed by policy names ("constructor" is a valid segment name): no prototype to read through.
    this.segmentPolicies = Object.create(null);
    this.defaultDenyPolicies = {};
    this.guardrailPolicies = {};
    this.resources = {};
    // The same children `ciliumRecords` lists: names, ids and inputs cannot drift. Their names are
    // fixed (the policy's): a replacement must delete the old object first.
    const options = childOptions(this, opts, { deleteBeforeReplace: true });
    for (const child of segmentationChildren(name, rendered)) {
      const r = child.rendered;
      this.resources[r.key] = new k8s.apiextensions.CustomResource(child.name, { ...r.object }, options);
      if (r.role === "segment")
        (this.segmentPolicies[r.subject!] ??= Object.create(null))[r.namespace!] = child.id;
      else if (r.role === "default-deny") this.defaultDenyPolicies[r.namespace!] = child.id;
      else this.guardrailPolicies[r.subject!] = child.id;
    }
    this.digest = createHash("sha256")
      .update(JSON.stringify(rendered.map((r) => r.object)))
      .digest("hex");
    this.registerOutputs({
      segmentPolicies: this.segmentPolicies,
      defaultDenyPolicies: this.defaultDenyPolicies,
      guardrailPolicies: this.guardrailPolicies,
      digest: this.digest,
    });
  }
}
