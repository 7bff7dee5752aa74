/**
 * Reading a Pulumi project directory (Pulumi.yaml + Pulumi.<stack>.yaml) and turning config into
 * the flat string map the Pulumi runtime reads (`PULUMI_CONFIG`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { type ConfigValue, StackDirError } from "./types";

/**
 * Placeholder for a `secure:` config value, which can't be decrypted offline. The key is also
 * flagged secret, so `requireSecret` yields a secret output and `get`/`require` log Pulumi's usual
 * "value is a secret" warning.
 */
export function secretPlaceholder(fullKey: string): string {
  return `[secret ${fullKey}]`;
}

/** "x" → "proj:x"; "aws:region" stays; "proj:config:x" (old spelling) → "proj:x". */
export function fullConfigKey(key: string, project: string): string {
  const idx = key.indexOf(":");
  if (idx <= 0) return `${project}:${key}`;
  if (key.startsWith("config:", idx + 1))
    return key.slice(0, idx) + ":" + key.slice(idx + 1 + "config:".length);
  return key;
}

/** Config value → the string Pulumi stores: strings as-is, scalars stringified, objects as JSON. */
export function encodeConfigValue(v: ConfigValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSecure(v: unknown): v is { secure: unknown } {
  return isRecord(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** Replace `{secure: ...}` leaves by placeholders; reports whether any were found. */
function replaceSecure(v: unknown, fullKey: string): { value: unknown; secret: boolean } {
  if (isSecure(v)) return { value: secretPlaceholder(fullKey), secret: true };
  if (Array.isArray(v)) {
    let secret = false;
    const value = v.map((x) => {
      const r = replaceSecure(x, fullKey);
      secret ||= r.secret;
      return r.value;
    });
    return { value, secret };
  }
  if (isRecord(v)) {
    let secret = false;
    const value: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = replaceSecure(x, fullKey);
      secret ||= r.secret;
      value[k] = r.value;
    }
    return { value, secret };
  }
  return { value: v, secret: false };
}

export interface NormalizedConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

/**
 * Normalize a config map (stack file `config:` section or RunOptions.config): namespace keys,
 * encode values, turn `secure:` values into placeholders (listed in `secretKeys`).
 */
export function normalizeConfig(
  raw: Record<string, unknown> | undefined,
  project: string,
  extraSecretKeys: string[] = [],
): NormalizedConfig {
  const config: Record<string, string> = {};
  const secretKeys = new Set(extraSecretKeys.map((k) => fullConfigKey(k, project)));
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (value === undefined || value === null) continue;
    const fullKey = fullConfigKey(key, project);
    const { value: v, secret } = replaceSecure(value, fullKey);
    if (secret) secretKeys.add(fullKey);
    config[fullKey] = encodeConfigValue(v as ConfigValue);
  }
  return { config, secretKeys: [...secretKeys].sort() };
}

/** What `pulumi new` replaces in a template's files (project name and description). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder, not a template
export const PROJECT_PLACEHOLDER = "${PROJECT}";

export interface ProjectFile {
  /** The project name; for a template (`name: ${PROJECT}`), its directory's name, as `pulumi new` defaults it. */
  name: string;
  /** The directory is a Pulumi template: `${PROJECT}` placeholders stand for the project name. */
  template: boolean;
  /** Absolute path of the program entry (file or directory). */
  main: string;
  /** Defaults from the project file's `config:` section (already namespaced & encoded). */
  config: Record<string, unknown>;
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new StackDirError(`Cannot read ${file}: ${(err as Error).message}`);
  }
}

export function readProject(dir: string): ProjectFile {
  let file = path.join(dir, "Pulumi.yaml");
  if (!fs.existsSync(file)) {
    const alt = path.join(dir, "Pulumi.yml");
    if (!fs.existsSync(alt)) throw new StackDirError(`No Pulumi.yaml in ${dir}`);
    file = alt;
  }
  const doc = readYaml(file);
  if (!isRecord(doc)) throw new StackDirError(`${file}: expected a mapping`);
  const template = doc.name === PROJECT_PLACEHOLDER;
  const name = template ? templateProjectName(dir) : doc.name;
  if (typeof name !== "string" || name === "") throw new StackDirError(`${file}: missing project \`name\``);
  const runtime = isRecord(doc.runtime) ? doc.runtime.name : doc.runtime;
  if (runtime !== "nodejs") {
    throw new StackDirError(
      `${file}: runtime is ${JSON.stringify(runtime)}; only "nodejs" programs can be run`,
    );
  }
  const main = typeof doc.main === "string" ? path.resolve(dir, doc.main) : dir;
  const config: Record<string, unknown> = {};
  if (isRecord(doc.config)) {
    for (const [key, spec] of Object.entries(doc.config)) {
      // Project config: either a plain value, or {type, default | value, description, secret}.
      let value: unknown = spec;
      if (isRecord(spec) && ("default" in spec || "value" in spec || "type" in spec)) {
        value = "value" in spec ? spec.value : spec.default;
      }
      if (value !== undefined && value !== null) config[key] = value;
    }
  }
  return { name, main, config, template };
}

/** The project name `pulumi new` proposes for a template copied into `dir`: the directory's name. */
function templateProjectName(dir: string): string {
  return (
    path
      .basename(path.resolve(dir))
      .replace(/[^A-Za-z0-9_.-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "project"
  );
}

/** The stack to use: the requested one, else the only Pulumi.<stack>.yaml, else "dev". */
export function selectStack(dir: string, requested?: string): { stack: string; file?: string } {
  const stackFiles = fs
    .readdirSync(dir)
    .filter((f) => /^Pulumi\.[^.]+\.ya?ml$/.test(f))
    .sort();
  const fileFor = (s: string) => stackFiles.find((f) => f === `Pulumi.${s}.yaml` || f === `Pulumi.${s}.yml`);
  if (requested) {
    const f = fileFor(requested);
    if (!f)
      throw new StackDirError(
        `No stack "${requested}" in ${dir}: there is no Pulumi.${requested}.yaml; ` +
          (stackFiles.length > 0
            ? `the stack files there are ${stackFiles.join(", ")}`
            : "there are no stack files there (omit --stack to run with the project's defaults)"),
      );
    return { stack: requested, file: path.join(dir, f) };
  }
  if (stackFiles.length === 0) return { stack: "dev" };
  if (stackFiles.length === 1) {
    const f = stackFiles[0]!;
    return { stack: f.replace(/^Pulumi\./, "").replace(/\.ya?ml$/, ""), file: path.join(dir, f) };
  }
  throw new StackDirError(
    `Cannot choose a stack in ${dir}: found ${stackFiles.join(", ")}; pass a stack name (e.g. ${JSON.stringify(
      stackFiles[0]!.replace(/^Pulumi\./, "").replace(/\.ya?ml$/, ""),
    )})`,
  );
}

/**
 * The `config:` section of a stack file. With `project`, `${PROJECT}` in a key (a template's sample
 * stack file: `${PROJECT}:vpcId`) stands for the project name, as `pulumi new` writes it.
 */
export function readStackConfig(file: string | undefined, project?: string): Record<string, unknown> {
  if (!file) return {};
  const doc = readYaml(file);
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) throw new StackDirError(`${file}: expected a mapping`);
  if (doc.config === undefined || doc.config === null) return {};
  if (!isRecord(doc.config)) throw new StackDirError(`${file}: \`config\` must be a mapping`);
  if (project === undefined) return doc.config;
  return Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k.split(PROJECT_PLACEHOLDER).join(project), v]),
  );
}
