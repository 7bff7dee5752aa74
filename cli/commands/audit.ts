import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { checkPolicyFile } from "../../components/policy-file";
import {
  formatDiagnostic,
  formatPacket,
  formatReview,
  type Plan,
  prove,
  proveDeployment,
  radiusReview,
  reviewJson,
  type TargetEvaluator,
  type TargetName,
  targets,
  type UnexplainedOpening,
  unexplainedOpenings,
} from "../../lib";
import { EXIT, InvalidInput, type Io } from "../io";
import { writeOutputs } from "../write";

/** Live exports, one option per target (as the targets' CLIs print them). */
export interface AuditOptions {
  /** `aws ec2 describe-security-groups` JSON. */
  aws?: string;
  /** `aws ec2 describe-network-acls` JSON, with --aws. */
  awsNacls?: string;
  /** `gcloud compute firewall-rules list --format=json`. */
  gcp?: string;
  /** `az network nsg show` / `az network nsg list` JSON (one or more files). */
  azure?: string[];
  /** `kubectl get cnp -A -o json`. */
  cilium?: string;
  /** The cluster name the Cilium export comes from (default: the policy's only cluster). */
  ciliumCluster?: string;
  /** `ovs-ofctl dump-flows <bridge>` output per DPU host, as HOST=FILE (default host: the file's name without extension). */
  bluefield?: string[];
  /** `aws ec2 describe-instances` JSON: which groups each instance's interfaces carry (the binding). */
  awsInstances?: string;
  /** `aws ec2 describe-network-interfaces` JSON: which groups each interface carries (the binding). */
  awsInterfaces?: string;
  /** `gcloud compute instances list --format=json`: the account and tags each VM runs with. */
  gcpInstances?: string;
  /** `az network nic list` / `az network nic show` JSON: each NIC's ASGs, NSG, subnet, tags. */
  azureNics?: string[];
  /** `kubectl get pods -A -o json`: the labels each pod really carries. */
  kubernetesPods?: string;
  json?: string;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new InvalidInput(`${file}: cannot read the ${what} export: ${(e as Error).message}`);
  }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new InvalidInput(`${file}: cannot read the ${what} export: ${(e as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The shape of each export, checked before it is read: a file of another command (`describe-instances`
 * given as `--aws`, `{}`) must not read as an export with no rules, which proves every forbid
 * blocked. An export that holds nothing to prove is refused too: the audit would be about nothing.
 */
function shaped(file: string, what: string, ok: boolean, expected: string): void {
  if (!ok) throw new InvalidInput(`${file}: not a usable ${what} export: expected ${expected}`);
}

function awsGroupsOf(file: string, json: unknown): Array<Record<string, unknown>> {
  const groups = isObject(json) ? json.SecurityGroups : undefined;
  shaped(
    file,
    "aws",
    Array.isArray(groups) && groups.every((g) => isObject(g) && typeof g.GroupId === "string"),
    'the output of `aws ec2 describe-security-groups` ({"SecurityGroups": [{"GroupId": …}, …]})',
  );
  if ((groups as unknown[]).length === 0)
    throw new InvalidInput(
      `${file}: the aws export holds no security group: nothing to audit (export the groups of the policy's VPCs)`,
    );
  return groups as Array<Record<string, unknown>>;
}

function azureNsgsOf(file: string, json: unknown): void {
  const items = Array.isArray(json) ? json : [json];
  const isNsg = (i: unknown) =>
    isObject(i) &&
    (Array.isArray(i.securityRules) ||
      (isObject(i.properties) && Array.isArray(i.properties.securityRules)) ||
      (typeof i.type === "string" && /networkSecurityGroups$/i.test(i.type)));
  shaped(
    file,
    "azure",
    items.every(isNsg),
    "the output of `az network nsg show` or `az network nsg list` (network security groups with securityRules)",
  );
  if (items.length === 0)
    throw new InvalidInput(`${file}: the azure export holds no network security group: nothing to audit`);
}

const KUBE_POLICY_KINDS = ["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"];

function ciliumPoliciesOf(file: string, json: unknown): void {
  const items = isObject(json) && Array.isArray(json.items) ? json.items : [json];
  shaped(
    file,
    "cilium",
    items.every((i) => isObject(i) && typeof i.kind === "string" && KUBE_POLICY_KINDS.includes(i.kind)),
    "the output of `kubectl get cnp,ccnp,networkpolicies -A -o json` (a List of CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy items)",
  );
}

/** Builds each target's evaluator from its live export; every export is read by the target's own reader. */
function evaluatorsFor(
  plan: Plan,
  o: AuditOptions,
): { evaluators: TargetEvaluator[]; rules: Partial<Record<TargetName, number>> } {
  const evaluators: TargetEvaluator[] = [];
  const rules: Partial<Record<TargetName, number>> = {};
  const attempt = <T>(file: string, what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof InvalidInput) throw e;
      throw new InvalidInput(`${file}: not a usable ${what} export: ${(e as Error).message}`);
    }
  };
  // A companion export is read with its target's export only: alone it would be silently ignored.
  const companions: Array<[given: unknown, flag: string, base: string, present: boolean]> = [
    [o.awsNacls, "--aws-nacls", "--aws", !!o.aws],
    [o.awsInstances, "--aws-instances", "--aws", !!o.aws],
    [o.awsInterfaces, "--aws-interfaces", "--aws", !!o.aws],
    [o.gcpInstances, "--gcp-instances", "--gcp", !!o.gcp],
    [o.azureNics?.length ? o.azureNics : undefined, "--azure-nics", "--azure", !!o.azure?.length],
    [o.kubernetesPods, "--kubernetes-pods", "--cilium", !!o.cilium],
    [o.ciliumCluster, "--cilium-cluster", "--cilium", !!o.cilium],
  ];
  for (const [given, flag, base, present] of companions)
    if (given !== undefined && !present)
      throw new InvalidInput(`${flag} is read with ${base} (the target's rules): give ${base} too`);
  if (o.aws) {
    const awsFile = o.aws;
    const raw = readJson(awsFile, "aws");
    const list = awsGroupsOf(awsFile, raw);
    const groups = raw as Parameters<typeof targets.aws.evaluateAwsExport>[0];
    const networkAcls = o.awsNacls ? (readJson(o.awsNacls, "aws NACL") as never) : undefined;
    const instances = o.awsInstances ? (readJson(o.awsInstances, "aws instances") as never) : undefined;
    const interfaces = o.awsInterfaces ? (readJson(o.awsInterfaces, "aws interfaces") as never) : undefined;
    const computes =
      instances || interfaces
        ? attempt(o.awsInstances ?? o.awsInterfaces!, "aws instances or interfaces", () =>
            targets.aws.awsComputesFromExport(instances, interfaces),
          )
        : undefined;
    evaluators.push(
      attempt(o.aws, "aws", () =>
        targets.aws.evaluateAwsExport(groups, plan, {
          ...(networkAcls ? { networkAcls } : {}),
          ...(computes ? { computes } : {}),
        }),
      ),
    );
    const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
    rules.aws = list.reduce((n, g) => n + count(g.IpPermissions) + count(g.IpPermissionsEgress), 0);
  }
  if (o.gcp) {
    const gcpFile = o.gcp;
    const list = attempt(gcpFile, "gcp", () => targets.gcp.rulesFromGcloudExport(readJson(gcpFile, "gcp")));
    const vms = o.gcpInstances;
    const computes = vms
      ? attempt(vms, "gcp instances", () => targets.gcp.gcpComputesFromExport(readJson(vms, "gcp instances")))
      : undefined;
    evaluators.push(targets.gcp.gcpEvaluator(list, plan, computes ? { computes } : {}));
    rules.gcp = list.length;
  }
  if (o.azure && o.azure.length > 0) {
    const records = [
      ...o.azure.flatMap((f) => {
        const json = readJson(f, "azure");
        azureNsgsOf(f, json);
        return attempt(f, "azure", () => targets.azure.readNsgExport(json));
      }),
      ...(o.azureNics ?? []).flatMap((f) =>
        attempt(f, "azure NIC", () => targets.azure.readNicExport(readJson(f, "azure NIC"))),
      ),
    ];
    evaluators.push(targets.azure.azureEvaluator(records, plan));
    rules.azure = records.filter(
      (r) => r.type.includes("SecurityRule") || r.type.includes("networkSecurityGroup"),
    ).length;
  }
  if (o.cilium) {
    const clusters = targets.cilium.clustersOf(plan);
    const cluster = o.ciliumCluster ?? (clusters.length === 1 ? clusters[0] : undefined);
    if (!cluster)
      throw new InvalidInput(
        `--cilium: the policy has ${clusters.length} clusters (${clusters.join(", ") || "none"}); say which one the export is from with --cilium-cluster`,
      );
    const ciliumFile = o.cilium;
    const json = readJson(ciliumFile, "cilium");
    ciliumPoliciesOf(ciliumFile, json);
    const policies = attempt(ciliumFile, "cilium", () => targets.cilium.policiesFromKubectl(json, cluster));
    const podsFile = o.kubernetesPods;
    const pods = podsFile
      ? attempt(podsFile, "kubernetes pods", () => targets.cilium.podsFromKubectl(readJson(podsFile, "pods")))
      : undefined;
    evaluators.push(targets.cilium.ciliumEvaluator(policies, plan, pods ? { pods } : {}));
    rules.cilium = policies.length;
  }
  if (o.bluefield && o.bluefield.length > 0) {
    // Keyed by host names from the command line: no prototype to write through.
    const dumps: Record<string, string> = Object.create(null);
    const hosts = new Set(plan.policy.workloads.flatMap((w) => w.placements.bluefield?.hosts ?? []));
    for (const spec of o.bluefield) {
      const eq = spec.indexOf("=");
      const [host, file] =
        eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [basename(spec).replace(/\.[^.]*$/, ""), spec];
      if (!hosts.has(host))
        throw new InvalidInput(
          `--bluefield ${spec}: the policy places no workload on DPU host "${host}" (its hosts: ${[...hosts].sort().join(", ") || "none"}); name the dump HOST=FILE`,
        );
      if (host in dumps) throw new InvalidInput(`--bluefield: two dumps for DPU host "${host}"`);
      dumps[host] = readText(file, "bluefield");
    }
    evaluators.push(
      attempt(o.bluefield.join(", "), "bluefield", () => targets.bluefield.evaluatorFromDumps(dumps, plan)),
    );
    rules.bluefield = Object.values(dumps).reduce(
      (n, t) => n + t.split("\n").filter((l) => /actions=/.test(l)).length,
      0,
    );
  }
  return { evaluators, rules };
}

function formatUnexplained(list: readonly UnexplainedOpening[]): string {
  if (list.length === 0) return "Live rules the policy does not explain: none";
  const lines = ["Live rules the policy does not explain (they open what no allow path asks for):"];
  for (const u of list) {
    const w = formatPacket(u.witness);
    lines.push(`  ${u.target}: ${u.by} opens ${u.services} from ${u.from} to ${u.to} (witness ${w})`);
  }
  return lines.join("\n");
}

/**
 * `blastradius audit <policy> --aws … --gcp … --azure … --cilium … --bluefield …`: the proof of
 * `review` over exports of what is live, plus every opening the policy does not explain.
 * Exit 0 proven and nothing unexplained, 1 a forbid open, an allow broken or drift, 2 bad input.
 */
export function auditCommand(policyFile: string, options: AuditOptions, io: Io): number {
  const r = checkPolicyFile(policyFile);
  for (const d of r.diagnostics) (d.severity === "error" ? io.err : io.out)(formatDiagnostic(d));
  if (!r.ok || !r.plan) {
    io.err(`${policyFile}: invalid policy; nothing was audited`);
    return EXIT.INVALID;
  }
  const plan = r.plan;
  let built: ReturnType<typeof evaluatorsFor>;
  try {
    built = evaluatorsFor(plan, options);
  } catch (e) {
    if (e instanceof InvalidInput) {
      io.err(e.message);
      return EXIT.INVALID;
    }
    throw e;
  }
  if (built.evaluators.length === 0) {
    io.err("audit: give at least one export (--aws, --gcp, --azure, --cilium, --bluefield)");
    return EXIT.INVALID;
  }
  const proof = prove(plan, built.evaluators);
  const deployment = proveDeployment(plan, built.evaluators);
  const binding = Object.fromEntries(
    built.evaluators.filter((e) => e.binding !== undefined).map((e) => [e.target, e.binding!] as const),
  );
  // Targets without an export were not audited: say so rather than count them as proven.
  const review = reviewJson(plan, proof, built.rules, {
    deployment,
    binding,
    kubeDns: plan.targets.includes("cilium") && options.cilium !== undefined,
    radius: radiusReview(plan, built.evaluators),
  });
  // Live rules are all "outside the library": every opening any pair of parties has beyond the
  // policy, plus what the unmodelled endpoints reach.
  const unexplained = [...deployment.unexplained, ...unexplainedOpenings(plan, built.evaluators)];
  io.out(
    formatReview(review)
      .replace("blastradius review:", "blastradius audit:")
      .replace("NOT proven (no renderer yet)", "NOT audited (no export given)")
      .replace(/ resources\)/g, " live rules)"),
  );
  io.out("");
  io.out(formatUnexplained(unexplained));
  if (options.json) {
    if (
      !writeOutputs(
        [{ path: options.json, content: `${JSON.stringify({ ...review, unexplained }, null, 2)}\n` }],
        io,
      )
    )
      return EXIT.INVALID;
  }
  return review.ok && unexplained.length === 0 && review.errors.length === 0 ? EXIT.OK : EXIT.PROOF_FAILED;
}
