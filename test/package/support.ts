import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What a user's shell would show of a command. */
export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Both streams, for assertions and failure messages. */
  output: string;
}

/** Runs a command as a user would in `cwd` (never throws; the caller asserts on the status). */
export function sh(
  command: string,
  args: readonly string[],
  cwd: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Ran {
  const r = spawnSync(command, [...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CI: "true", ...options.env },
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  const stdout = r.stdout ?? "";
  const stderr = `${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`;
  return { status: r.status, stdout, stderr, output: `${stdout}\n${stderr}` };
}

/** Fails with the command's output when it did not exit as expected. */
export function expectExit(ran: Ran, status: number, what: string): Ran {
  if (ran.status !== status)
    throw new Error(
      `${what}: exited ${ran.status}, expected ${status}\n--- output ---\n${ran.output.slice(-8000)}`,
    );
  return ran;
}

export const REPO = join(__dirname, "..", "..");

/** The versions this repository is tested with (its devDependencies), for a scratch project. */
export function pinned(name: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  const v = pkg.devDependencies[name];
  if (!v) throw new Error(`${name} is not a devDependency of the repository`);
  return `${name}@${v}`;
}

/** Pulumi's `nodejs` TypeScript template tsconfig (pulumi/templates typescript/tsconfig.json). */
export function pulumiTsconfig(files: readonly string[]) {
  return {
    compilerOptions: {
      strict: true,
      outDir: "bin",
      target: "es2020",
      module: "commonjs",
      moduleResolution: "node",
      sourceMap: true,
      experimentalDecorators: true,
      pretty: true,
      noFallthroughCasesInSwitch: true,
      noImplicitReturns: true,
      forceConsistentCasingInFileNames: true,
    },
    files,
  };
}

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 4)}\n`);
}

/**
 * What `pulumi new <template dir>` does to a template's files: copy them, replacing `${PROJECT}`
 * and `${DESCRIPTION}` in their contents.
 */
export function pulumiNew(template: string, into: string, project: string, description: string): void {
  mkdirSync(into, { recursive: true });
  for (const entry of readdirSync(template)) {
    const from = join(template, entry);
    const to = join(into, entry);
    if (statSync(from).isDirectory()) {
      cpSync(from, to, { recursive: true });
      continue;
    }
    const text = readFileSync(from, "utf8")
      .split(`$\{PROJECT}`)
      .join(project)
      .split(`$\{DESCRIPTION}`)
      .join(description);
    writeFileSync(to, text);
  }
}
