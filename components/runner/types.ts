/** One resource as the engine would have seen it registered: type token + resolved inputs. */
export interface RecordedResource {
  /** Type token, e.g. "aws:ec2/securityGroup:SecurityGroup", or a component's own type. */
  type: string;
  /** The logical name given to the constructor. */
  name: string;
  urn: string;
  /** False for ComponentResources. */
  custom: boolean;
  /**
   * Fully resolved plain inputs as Pulumi would send them to the provider: outputs resolved,
   * secrets unwrapped, resource references downgraded to the referenced resource's id (custom
   * resources) or URN (components). For components: whatever the component passed as args
   * (often `{}`). Values that are unknown during a preview are left as {@link UNKNOWN}.
   */
  inputs: Record<string, unknown>;
  /** Parent URN, when the parent is not the root stack. */
  parent?: string;
  /** Provider reference (`<provider urn>::<provider id>`), when one was passed explicitly. */
  provider?: string;
  /** The id the mocks assigned (custom resources only). */
  id?: string;
  /**
   * URNs the resource depends on, as the engine records them: its `dependsOn` and every resource
   * whose outputs its inputs use (after transforms). Absent when there are none.
   */
  dependencies?: string[];
  /** Per input property, the URNs of the resources its value came from. Absent when there are none. */
  propertyDependencies?: Record<string, string[]>;
  /** Options that change what the engine does with the resource, when set (after transforms). */
  options?: {
    deleteBeforeReplace?: boolean;
    protect?: boolean;
    retainOnDelete?: boolean;
    ignoreChanges?: string[];
  };
}

/** A log message the program (or the Pulumi runtime on its behalf) emitted. */
export interface RecordedLog {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  urn?: string;
}

/** What a resource mock receives. Inputs are plain (same form as {@link RecordedResource.inputs}). */
export interface MockResourceArgs {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, unknown>;
  custom: boolean;
  parent?: string;
  provider?: string;
  /** Set for `Resource.get(...)` reads and `import` ids. */
  id?: string;
}

export interface MockCallArgs {
  token: string;
  inputs: Record<string, unknown>;
  provider?: string;
}

/**
 * Optional overrides for the built-in mocks. Return `undefined` to fall back to the defaults.
 * `newResource` may return extra `state` (merged over the echoed inputs) and/or an `id`.
 */
export interface RunnerMocks {
  newResource?(
    args: MockResourceArgs,
  ):
    | { id?: string; state?: Record<string, unknown> }
    | undefined
    | Promise<{ id?: string; state?: Record<string, unknown> } | undefined>;
  call?(
    args: MockCallArgs,
  ): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
}

export type ConfigValue = string | number | boolean | object;

export interface RunOptions {
  /** Project name; default "blastradius-offline". */
  project?: string;
  /** Stack name; default "dev". */
  stack?: string;
  /** Organization returned by `pulumi.getOrganization()`; default "organization". */
  organization?: string;
  /**
   * Config keys. A key without "ns:" gets the project namespace. Objects/arrays are JSON-encoded,
   * numbers/booleans stringified, like Pulumi does for stack config.
   */
  config?: Record<string, ConfigValue>;
  /** Config keys (same spelling rules as `config`) that Pulumi should treat as secrets. */
  secretKeys?: string[];
  /** Dry run (preview); default true. */
  preview?: boolean;
  /** Override/extend the built-in mocks. */
  mocks?: RunnerMocks;
  /** Reject the run if it has not settled after this many ms; default 120000. */
  timeoutMs?: number;
  /** Value of `pulumi.runtime.getRootDirectory()`; default process.cwd(). */
  rootDirectory?: string;
}

export interface RunResult {
  /** Every registered resource (custom and component, not the root stack), in the order the engine saw them. */
  resources: RecordedResource[];
  /** Stack outputs, fully resolved to plain values. */
  outputs: Record<string, unknown>;
  /** Resources read with `Resource.get(...)` (not part of `resources`). */
  reads: RecordedResource[];
  /** Log messages (info, warnings, errors; debug messages are dropped). */
  logs: RecordedLog[];
  /** The root stack URN. */
  stackUrn: string;
}

export interface StackDirOptions {
  /** Stack to use; default: the only Pulumi.<stack>.yaml, else "dev". */
  stack?: string;
  /** Extra config, merged over the stack file's (e.g. real values for `secure:` keys). */
  config?: Record<string, ConfigValue>;
  preview?: boolean;
  /**
   * Custom mocks. They are functions, which cannot cross into a child process: with mocks the program
   * runs in this process, where `timeoutMs` cannot stop a program stuck in a synchronous loop.
   */
  mocks?: RunnerMocks;
  /**
   * Stop the program after this many ms (default 600000). Without custom mocks the program runs in a
   * child process, which is killed then, whatever it is doing.
   */
  timeoutMs?: number;
  /** Run in the project directory, like the Pulumi CLI; default true. */
  chdir?: boolean;
}

export interface StackDirResult extends RunResult {
  project: string;
  stack: string;
}

/** Value Pulumi uses on the wire for a value that is unknown during a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Two registrations produced the same URN (the Pulumi engine rejects this too). */
export class DuplicateUrnError extends Error {
  constructor(
    readonly urn: string,
    readonly first: { type: string; name: string; parent?: string },
    readonly second: { type: string; name: string; parent?: string },
  ) {
    const describe = (r: { type: string; name: string; parent?: string }) =>
      `${r.type} "${r.name}"${r.parent ? ` (parent ${r.parent})` : ""}`;
    super(
      `Duplicate resource URN '${urn}': first registered as ${describe(first)}, ` +
        `registered again as ${describe(second)}`,
    );
    this.name = "DuplicateUrnError";
  }
}

/** The stack directory cannot be run (missing/invalid Pulumi.yaml, ambiguous stack, ...). */
export class StackDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackDirError";
  }
}

/**
 * The run did not finish in time. A stack directory's program (`dir`) runs in its own process,
 * which was killed; a `runProgram` callback runs in this one and can only be abandoned.
 */
export class RunTimeoutError extends Error {
  constructor(
    readonly ms: number,
    readonly dir?: string,
  ) {
    const limit = ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
    super(
      dir
        ? `the Pulumi program in ${dir} did not finish within ${limit}, so its process was stopped: look for a loop that never ends or a promise that never settles, or allow more time (review --timeout <seconds>)`
        : `Pulumi program did not settle within ${limit}`,
    );
    this.name = "RunTimeoutError";
  }
}
