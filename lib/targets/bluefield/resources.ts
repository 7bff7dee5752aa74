import { createHash, createPrivateKey } from "node:crypto";
import type { Plan } from "../../plan/types";
import type { ResourceRecord } from "../../verify/types";
import { publicKeyPem, signRuleSet } from "./bundle";
import {
  COMPONENT_TYPE,
  CONFIGMAP_TYPE,
  DAEMONSET_TYPE,
  FLOWS_KEY,
  HOST_ANNOTATION,
  MANIFEST_KEY,
  TARGET_LABEL,
} from "./evaluate";
import type { BlueFieldOptions } from "./options";
import { type BlueFieldRuleSet, renderBlueField } from "./render";

/**
 * The Kubernetes objects of a BlueFieldSegmentation in `kubernetes` agent mode, as plain data: the
 * component registers exactly these (its `V` is a Pulumi output), and `bluefieldRecords` builds the
 * resources a review records without the Pulumi engine (its `V` is a string), so the two cannot drift.
 */
export interface KubernetesObjectSpec<V> {
  type: typeof CONFIGMAP_TYPE | typeof DAEMONSET_TYPE;
  /** Pulumi logical name. */
  name: string;
  inputs: Record<string, unknown>;
  /** Only to type what `inputs` may hold. */
  readonly _value?: V;
}

export interface KubernetesAgentSettings {
  namespace: string;
  image: string;
  nodeNames?: Record<string, string>;
  ovsRunDir?: string;
  interval?: number;
}

export interface KubernetesObjectsArgs<V> {
  /** The component's name. */
  name: string;
  policy: string;
  ruleSets: readonly BlueFieldRuleSet[];
  agent: KubernetesAgentSettings;
  agentScript: string;
  /** Extra labels on the Kubernetes objects. */
  labels?: Record<string, string>;
  publicKey: V;
  /** The signed manifest and its signature of a rule set, for the agent on `agentHost`. */
  manifest(r: BlueFieldRuleSet, agentHost: string): V;
  signature(r: BlueFieldRuleSet, agentHost: string): V;
}

/** A DNS-1123 name (Kubernetes object names), with a short hash when the input had to change. */
export function dnsName(text: string): string {
  const clean = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const fixed =
    clean === text ? clean : `${clean}-${createHash("sha256").update(text).digest("hex").slice(0, 6)}`;
  return fixed.slice(0, 63).replace(/-+$/, "");
}

function labelValue(text: string): string | undefined {
  return /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/.test(text) ? text : undefined;
}

/** The agent ConfigMap, one rule-set ConfigMap per DPU and the DaemonSet, in registration order. */
export function kubernetesObjects<V>(a: KubernetesObjectsArgs<V>): Array<KubernetesObjectSpec<V>> {
  const { name, policy, ruleSets, agent } = a;
  const labels = {
    ...a.labels,
    "app.kubernetes.io/name": "blastradius-agent",
    "app.kubernetes.io/instance": dnsName(name),
    "app.kubernetes.io/managed-by": "blastradius",
    [TARGET_LABEL]: "bluefield",
    ...(labelValue(policy) ? { "blastradius.io/policy": policy } : {}),
  };
  const nodeOf = (h: string) => agent.nodeNames?.[h] ?? h;
  const agentCmName = dnsName(`${name}-agent`);
  const out: Array<KubernetesObjectSpec<V>> = [
    {
      type: CONFIGMAP_TYPE,
      name: `${name}-agent`,
      inputs: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: agentCmName, namespace: agent.namespace, labels },
        data: { "blastradius-agent": a.agentScript, "signing-key.pub": a.publicKey },
      },
    },
  ];
  const ruleCmNames: string[] = [];
  for (const r of ruleSets) {
    const cmName = dnsName(`${name}-rules-${r.host}`);
    ruleCmNames.push(cmName);
    out.push({
      type: CONFIGMAP_TYPE,
      name: `${name}-rules-${r.host}`,
      inputs: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: cmName,
          namespace: agent.namespace,
          labels: { ...labels, ...(labelValue(r.host) ? { "blastradius.io/dpu-host": r.host } : {}) },
          annotations: {
            [HOST_ANNOTATION]: r.host,
            "blastradius.io/node": nodeOf(r.host),
            "blastradius.io/digest": r.digest,
            "blastradius.io/flows": String(r.flowCount),
          },
        },
        data: {
          [FLOWS_KEY]: r.flows,
          [MANIFEST_KEY]: a.manifest(r, nodeOf(r.host)),
          "rules.manifest.sig": a.signature(r, nodeOf(r.host)),
        },
      },
    });
  }
  const selector = {
    "app.kubernetes.io/name": "blastradius-agent",
    "app.kubernetes.io/instance": dnsName(name),
  };
  const agentDigest = createHash("sha256").update(a.agentScript).digest("hex");
  const rulesDigest = createHash("sha256")
    .update(ruleSets.map((r) => `${r.host}=${r.digest}\n`).join(""))
    .update(agentDigest)
    .digest("hex");
  const ovsRunDir = agent.ovsRunDir ?? "/var/run/openvswitch";
  out.push({
    type: DAEMONSET_TYPE,
    name: `${name}-agent`,
    inputs: {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: agentCmName, namespace: agent.namespace, labels },
      spec: {
        selector: { matchLabels: selector },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: {
            labels: { ...labels, ...selector },
            annotations: {
              // Changes whenever a rule set (or the agent) changes: the DaemonSet rolls.
              "blastradius.io/rules-digest": rulesDigest,
              "blastradius.io/policy": policy,
            },
          },
          spec: {
            hostNetwork: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            tolerations: [{ operator: "Exists" }],
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        {
                          key: "kubernetes.io/hostname",
                          operator: "In",
                          values: ruleSets.map((r) => nodeOf(r.host)),
                        },
                      ],
                    },
                  ],
                },
              },
            },
            containers: [
              {
                name: "agent",
                image: agent.image,
                command: ["/bin/sh", "/opt/blastradius/agent/blastradius-agent", "run"],
                env: [
                  { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                  { name: "BLASTRADIUS_HOST", value: "$(NODE_NAME)" },
                  { name: "BLASTRADIUS_BUNDLE_DIR", value: "/etc/blastradius/rules/$(NODE_NAME)" },
                  { name: "BLASTRADIUS_PUBKEY", value: "/opt/blastradius/agent/signing-key.pub" },
                  { name: "BLASTRADIUS_STATE", value: "/var/lib/blastradius" },
                  { name: "BLASTRADIUS_CONFIG", value: "/dev/null" },
                  { name: "BLASTRADIUS_INTERVAL", value: String(agent.interval ?? 30) },
                  { name: "OVS_RUNDIR", value: ovsRunDir },
                ],
                securityContext: {
                  runAsUser: 0,
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                },
                volumeMounts: [
                  { name: "agent", mountPath: "/opt/blastradius/agent", readOnly: true },
                  { name: "rules", mountPath: "/etc/blastradius/rules", readOnly: true },
                  { name: "ovs-run", mountPath: ovsRunDir },
                  { name: "state", mountPath: "/var/lib/blastradius" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "agent", configMap: { name: agentCmName, defaultMode: 0o555 } },
              {
                name: "rules",
                projected: {
                  sources: ruleSets.map((r, i) => ({
                    configMap: {
                      name: ruleCmNames[i]!,
                      items: [FLOWS_KEY, MANIFEST_KEY, "rules.manifest.sig"].map((k) => ({
                        key: k,
                        path: `${nodeOf(r.host)}/${k}`,
                      })),
                    },
                  })),
                },
              },
              { name: "ovs-run", hostPath: { path: ovsRunDir, type: "Directory" } },
              { name: "state", hostPath: { path: "/var/lib/blastradius", type: "DirectoryOrCreate" } },
              { name: "tmp", emptyDir: {} },
            ],
          },
        },
      },
    },
  });
  return out;
}

/** The placeholder program's component name and agent settings (`review <policy file>`). */
export const PLACEHOLDER_AGENT: KubernetesAgentSettings = {
  namespace: "blastradius-system",
  image: "registry.example.com/blastradius-agent:placeholder",
};

export function placeholderComponentName(plan: Plan): string {
  return `bluefield-${plan.policy.name}`;
}

/**
 * The throw-away Ed25519 key a review signs with (PKCS#8 PEM), derived from the policy name so that
 * reviews are deterministic. It signs bundles that are only ever read by the review itself: a real
 * stack passes its own secret key to the component.
 */
export function placeholderSigningKey(plan: Plan): string {
  const seed = createHash("sha256")
    .update(`blastradius review placeholder key\u0000${plan.policy.name}`)
    .digest();
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
}

/**
 * The resources the placeholder program registers (component first, then its Kubernetes objects),
 * built from the renderer without the Pulumi engine.
 */
export function bluefieldRecords(
  plan: Plan,
  agentScript: string,
  options?: BlueFieldOptions,
): ResourceRecord[] {
  const ruleSets = renderBlueField(plan, options);
  if (ruleSets.length === 0) return [];
  const name = placeholderComponentName(plan);
  const key = placeholderSigningKey(plan);
  const policy = plan.policy.name;
  const signed = new Map<string, ReturnType<typeof signRuleSet>>();
  const bundle = (r: BlueFieldRuleSet, agentHost: string) => {
    const k = `${r.host}\u0000${agentHost}`;
    let b = signed.get(k);
    if (!b) signed.set(k, (b = signRuleSet(r, key, policy, agentHost)));
    return b;
  };
  const objects = kubernetesObjects<string>({
    name,
    policy,
    ruleSets,
    agent: PLACEHOLDER_AGENT,
    agentScript,
    publicKey: publicKeyPem(key),
    manifest: (r, h) => bundle(r, h).manifest,
    signature: (r, h) => bundle(r, h).signature,
  });
  // URNs and parents as the engine gives them (the form ciliumRecords uses): analyses that skip our
  // own components' children (e.g. pod binding, which must not count the agent's DaemonSet as a
  // workload's compute) see the same thing offline as under the engine.
  const urn = `${OFFLINE_URN_PREFIX}${COMPONENT_TYPE}::${name}`;
  return [
    { type: COMPONENT_TYPE, name, urn, inputs: {} },
    ...objects.map((o) => ({
      type: o.type,
      name: o.name,
      urn: `${OFFLINE_URN_PREFIX}${COMPONENT_TYPE}$${o.type}::${o.name}`,
      parent: urn,
      inputs: o.inputs,
    })),
  ];
}

/** The stack and project part of offline URNs (the same as the other targets' offline records). */
const OFFLINE_URN_PREFIX = "urn:pulumi:dev::blastradius-offline::";
