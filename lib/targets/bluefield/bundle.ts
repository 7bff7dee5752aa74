import { createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import type { BlueFieldRuleSet } from "./render";

/**
 * Signed bundles for the DPU agent (agent/blastradius-agent). A bundle is three files:
 *
 * - `rules.flows`: the flow file, byte for byte what `render` produced;
 * - `rules.manifest`: `key=value` lines naming the format, the host the bundle is for (as the agent
 *   knows itself), the bridge, our cookie match, the flow count, the sha256 of `rules.flows`, the
 *   bundle's serial (the agent refuses a bundle older than the one it applied: no rollback) and
 *   the host-facing ports (which the agent isolates until a first bundle is applied);
 * - `rules.manifest.sig`: the Ed25519 signature of `rules.manifest`, base64.
 *
 * The agent checks the signature with the public key it was provisioned with, then the digest and
 * the count, so a bundle cannot be altered, nor replayed onto another host, without the private key.
 */

export const BUNDLE_FORMAT = "blastradius-bluefield-bundle/1";
export const BUNDLE_FILES = ["rules.manifest", "rules.manifest.sig", "rules.flows"] as const;

export interface SignedBundle {
  /** The host name the agent knows itself by (the Kubernetes node name in `kubernetes` mode). */
  agentHost: string;
  manifest: string;
  /** Base64 Ed25519 signature of `manifest`. */
  signature: string;
  flows: string;
  digest: string;
}

/** The largest serial the agent reads (15 decimal digits: its shell arithmetic is 64-bit). */
export const MAX_SERIAL = 999_999_999_999_999;

/** A serial as the manifest carries it; RangeError naming `what` unless a whole number 0..MAX_SERIAL. */
export function checkSerial(serial: number, what = "serial"): number {
  if (!Number.isSafeInteger(serial) || serial < 0 || serial > MAX_SERIAL)
    throw new RangeError(`${what} must be a whole number from 0 to ${MAX_SERIAL}, not ${serial}`);
  return serial;
}

/**
 * The manifest of a rule set (deterministic: the same rule set, host and serial give the same text).
 * `serial` orders bundles: the agent refuses one whose serial is below the applied bundle's, and one
 * with the same serial that it applied before and then replaced (a replay).
 */
export function bundleManifest(
  ruleSet: BlueFieldRuleSet,
  policy: string,
  agentHost = ruleSet.host,
  serial = 0,
): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(agentHost))
    throw new RangeError(`agent host name "${agentHost}" may only hold letters, digits, "_", "." and "-"`);
  checkSerial(serial);
  return [
    `format=${BUNDLE_FORMAT}`,
    `policy=${policy}`,
    `host=${agentHost}`,
    `bridge=${ruleSet.bridge}`,
    `cookie=${ruleSet.cookie}`,
    `flows=${ruleSet.flowCount}`,
    `sha256=${ruleSet.digest}`,
    `serial=${serial}`,
    `ports=${Object.keys(ruleSet.ports).sort().join(",")}`,
    "",
  ].join("\n");
}

/** The last keys read: a rendering signs one bundle per DPU with the same key (parsing PEM is slow). */
const keyCache = new Map<string, KeyObject>();

/** The Ed25519 private key of a PEM text; a RangeError naming `what` when it is anything else. */
export function ed25519PrivateKey(pem: string, what = "signingKey"): KeyObject {
  const known = keyCache.get(pem);
  if (known) return known;
  const key = readEd25519PrivateKey(pem, what);
  if (keyCache.size >= 8) keyCache.clear();
  keyCache.set(pem, key);
  return key;
}

function readEd25519PrivateKey(pem: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new RangeError(`${what} is not a PEM private key (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw new RangeError(
      `${what} is a ${key.asymmetricKeyType} key; the agent verifies Ed25519 signatures: create one with \`openssl genpkey -algorithm ed25519\``,
    );
  return key;
}

/** The SPKI PEM public key the agents verify with. */
export function publicKeyPem(privateKeyPem: string): string {
  return createPublicKey(ed25519PrivateKey(privateKeyPem)).export({ type: "spki", format: "pem" }).toString();
}

/** Signs a rule set for the agent on `agentHost` (default: the rule set's host) with a serial (default 0). */
export function signRuleSet(
  ruleSet: BlueFieldRuleSet,
  privateKeyPem: string,
  policy: string,
  agentHost = ruleSet.host,
  serial = 0,
): SignedBundle {
  const manifest = bundleManifest(ruleSet, policy, agentHost, serial);
  const signature = sign(null, Buffer.from(manifest, "utf8"), ed25519PrivateKey(privateKeyPem)).toString(
    "base64",
  );
  return { agentHost, manifest, signature: `${signature}\n`, flows: ruleSet.flows, digest: ruleSet.digest };
}

/**
 * One text stream carrying files, for `blastradius-agent receive`/`provision` on stdin: each file is
 * a line `=== <name>` followed by its lines (file contents end with a newline and never hold a line
 * starting with "=== ").
 */
export function bundleStream(files: ReadonlyArray<readonly [string, string]>): string {
  return files
    .map(([name, content]) => {
      if (!content.endsWith("\n")) content += "\n";
      if (/^=== /m.test(content)) throw new RangeError(`${name} holds a line starting with "=== "`);
      return `=== ${name}\n${content}`;
    })
    .join("");
}

/** The stream of a signed bundle (manifest, signature, flows). */
export function signedBundleStream(b: SignedBundle): string {
  return bundleStream([
    ["rules.manifest", b.manifest],
    ["rules.manifest.sig", b.signature],
    ["rules.flows", b.flows],
  ]);
}
