/**
 * An in-process resource monitor (what `pulumi.runtime.setMocks` installs, but recording every
 * registration with its parent/provider, computing URNs like the real engine and rejecting
 * duplicate URNs) and a fake engine that captures log messages.
 */
import { type ConfigLookup, defaultCall, defaultExtraState, defaultId } from "./mocks";
import { type InProcessCallbacks, transformOptionsOf, transformRequest } from "./transforms";
import {
  DuplicateUrnError,
  type MockResourceArgs,
  type RecordedLog,
  type RecordedResource,
  type RunnerMocks,
} from "./types";
import { toPlain, toPlainObject, toWire } from "./wire";

// biome-ignore lint/suspicious/noExplicitAny: protobuf-generated classes are untyped here
type Any = any;
type Callback = (err: Error | null | undefined, resp?: Any) => void;

const resproto: Any = require("@pulumi/pulumi/proto/resource_pb");
const provproto: Any = require("@pulumi/pulumi/proto/provider_pb");
const structproto: Any = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", {
    paths: [require.resolve("@pulumi/pulumi/package.json")],
  }),
);

export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** What the recording monitor implements (not output values, invoke transforms or state migrations). */
const SUPPORTED_FEATURES = [
  "SECRETS",
  "RESOURCE_REFERENCES",
  "ALIAS_SPECS",
  "DELETED_WITH",
  "REPLACE_WITH",
  "TRANSFORMS",
  "PARAMETERIZATION",
  "RESOURCE_HOOKS",
  "ERROR_HOOKS",
];

/** Monitor error carrying a gRPC-like `details` (used by the SDK for call errors). */
function rpcError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  (e as Error & { details?: string }).details = e.message;
  return e;
}

interface Registered {
  urn: string;
  id: string | null;
  state: Record<string, unknown>;
  type: string;
  name: string;
  parent?: string;
}

export class RecordingMonitor {
  readonly resources: RecordedResource[] = [];
  readonly reads: RecordedResource[] = [];
  readonly errors: Error[] = [];
  stackUrn = "";
  private readonly byUrn = new Map<string, Registered>();
  /** Bumped whenever the monitor does anything; used to detect quiescence. */
  activity = 0;
  pending = 0;
  /** Where registered transforms run (set by the runner when transforms are supported). */
  callbacks?: InProcessCallbacks;
  /** Callback tokens of `registerResourceTransform`, in registration order. */
  private readonly stackTransforms: string[] = [];
  /** Callback tokens of each resource's own `transforms` option (they apply to its children too). */
  private readonly resourceTransforms = new Map<string, string[]>();
  private readonly parents = new Map<string, string>();

  constructor(
    private readonly stack: string,
    private readonly project: string,
    private readonly config: ConfigLookup,
    private readonly mocks: RunnerMocks = {},
  ) {}

  /** URN the engine would assign: parent type chain (except the root stack) + type + name. */
  newUrn(parent: string, type: string, name: string): string {
    let qualified = type;
    if (parent) {
      const parentType = parent.split("::")[2] ?? "";
      if (parentType !== ROOT_STACK_TYPE) qualified = `${parentType}$${type}`;
    }
    return `urn:pulumi:${this.stack}::${this.project}::${qualified}::${name}`;
  }

  private async track<T>(fn: () => Promise<T>): Promise<T> {
    this.activity++;
    this.pending++;
    try {
      return await fn();
    } finally {
      this.pending--;
      this.activity++;
    }
  }

  private async resourceState(
    args: MockResourceArgs,
    rawInputs: Record<string, unknown>,
  ): Promise<{ id: string; state: Record<string, unknown> }> {
    const custom = await this.mocks.newResource?.(args);
    const id = custom?.id ?? (args.custom ? (args.id ?? defaultId(args, this.config)) : "");
    const state: Record<string, unknown> = { ...rawInputs };
    if (args.custom) {
      state.id = id;
      for (const [k, v] of Object.entries(defaultExtraState(args, id, this.config))) state[k] = toWire(v);
    }
    for (const [k, v] of Object.entries(custom?.state ?? {})) state[k] = toWire(v);
    return { id, state };
  }

  registerResource(req: Any, callback: Callback): void {
    void this.track(async () => {
      try {
        const type: string = req.getType();
        const name: string = req.getName();
        const parent: string = req.getParent();
        const custom: boolean = req.getCustom();
        const provider: string = req.getProvider();
        const urn = this.newUrn(parent, type, name);
        const shownParent = parent && parent !== this.stackUrn ? parent : undefined;
        const existing = this.byUrn.get(urn);
        if (existing) {
          const err = new DuplicateUrnError(
            urn,
            { type: existing.type, name: existing.name, parent: existing.parent },
            { type, name, parent: shownParent },
          );
          this.errors.push(err);
          throw err;
        }
        // Reserve the URN before any await so that concurrent duplicates are caught.
        const entry: Registered = { urn, id: null, state: {}, type, name, parent: shownParent };
        this.byUrn.set(urn, entry);
        if (parent) this.parents.set(urn, parent);

        const { properties, options } = await this.transformed(req, urn, type, name, custom, parent);
        const rawInputs = (properties?.toJavaScript() ?? {}) as Record<string, unknown>;
        const inputs = toPlainObject(rawInputs);

        if (type === ROOT_STACK_TYPE && !parent) {
          this.stackUrn = urn;
        } else {
          const importId: string = req.getImportid();
          const args: MockResourceArgs = {
            type,
            name,
            urn,
            inputs,
            custom,
            ...(shownParent ? { parent: shownParent } : {}),
            ...(provider ? { provider } : {}),
            ...(importId ? { id: importId } : {}),
          };
          const record: RecordedResource = {
            type,
            name,
            urn,
            custom,
            inputs,
            ...(shownParent ? { parent: shownParent } : {}),
            ...(provider ? { provider } : {}),
            ...dependenciesOf(req, options),
          };
          // Record in arrival order, before the (possibly async) mock runs.
          this.resources.push(record);
          const { id, state } = await this.resourceState(args, rawInputs);
          if (custom) record.id = id;
          entry.id = id || null;
          entry.state = state;
        }

        const resp = new resproto.RegisterResourceResponse();
        resp.setUrn(urn);
        resp.setId(entry.id ?? "");
        resp.setObject(structproto.Struct.fromJavaScript(entry.state));
        callback(null, resp);
      } catch (err) {
        callback(rpcError(err));
      }
    });
  }

  /**
   * The resource's properties and options after its transforms ran, in the engine's order: its own
   * `transforms`, then its ancestors' (nearest first), then the stack's.
   */
  private async transformed(
    req: Any,
    urn: string,
    type: string,
    name: string,
    custom: boolean,
    parent: string,
  ): Promise<{ properties: Any; options: Any }> {
    const own: string[] = (req.getTransformsList?.() ?? []).map((c: Any) => c.getToken());
    if (own.length > 0) this.resourceTransforms.set(urn, own);
    const tokens = [...own];
    for (let p = parent; p; p = this.parents.get(p) ?? "")
      tokens.push(...(this.resourceTransforms.get(p) ?? []));
    tokens.push(...this.stackTransforms);
    let properties = req.getObject();
    let options = transformOptionsOf(req);
    if (tokens.length === 0 || !this.callbacks) return { properties, options };
    for (const token of tokens) {
      const response = await this.callbacks.invoke(
        token,
        transformRequest(type, name, custom, parent, properties, options),
      );
      if (response.hasProperties()) properties = response.getProperties();
      if (response.hasOptions()) options = response.getOptions();
    }
    return { properties, options };
  }

  registerStackTransform(req: Any, callback: Callback): void {
    this.activity++;
    this.stackTransforms.push(req.getToken());
    callback(null, {});
  }

  readResource(req: Any, callback: Callback): void {
    void this.track(async () => {
      try {
        const type: string = req.getType();
        const name: string = req.getName();
        const parent: string = req.getParent();
        const provider: string = req.getProvider();
        const urn = this.newUrn(parent, type, name);
        const rawInputs = (req.getProperties()?.toJavaScript() ?? {}) as Record<string, unknown>;
        const inputs = toPlainObject(rawInputs);
        const shownParent = parent && parent !== this.stackUrn ? parent : undefined;
        const args: MockResourceArgs = {
          type,
          name,
          urn,
          inputs,
          custom: true,
          id: req.getId(),
          ...(shownParent ? { parent: shownParent } : {}),
          ...(provider ? { provider } : {}),
        };
        const { id, state } = await this.resourceState(args, rawInputs);
        this.reads.push({
          type,
          name,
          urn,
          custom: true,
          inputs,
          id,
          ...(shownParent ? { parent: shownParent } : {}),
          ...(provider ? { provider } : {}),
        });
        this.byUrn.set(urn, { urn, id, state, type, name, parent: shownParent });
        const resp = new resproto.ReadResourceResponse();
        resp.setUrn(urn);
        resp.setProperties(structproto.Struct.fromJavaScript(state));
        callback(null, resp);
      } catch (err) {
        callback(rpcError(err));
      }
    });
  }

  registerResourceOutputs(req: Any, callback: Callback): void {
    this.activity++;
    const entry = this.byUrn.get(req.getUrn());
    if (!entry) {
      callback(rpcError(new Error(`unknown resource ${req.getUrn()}`)));
      return;
    }
    callback(null, {});
  }

  private async callMock(token: string, rawArgs: Record<string, unknown>, provider: string) {
    const args = { token, inputs: toPlainObject(rawArgs), ...(provider ? { provider } : {}) };
    const custom = await this.mocks.call?.(args);
    return custom ?? defaultCall(args, this.config);
  }

  invoke(req: Any, callback: Callback): void {
    void this.track(async () => {
      try {
        const token: string = req.getTok();
        const rawArgs = (req.getArgs()?.toJavaScript() ?? {}) as Record<string, unknown>;
        let result: Record<string, unknown>;
        if (token === "pulumi:pulumi:getResource") {
          const urn = String(toPlain(rawArgs.urn));
          const entry = this.byUrn.get(urn);
          if (!entry) throw new Error(`unknown resource ${urn}`);
          result = { urn: entry.urn, id: entry.id, state: entry.state };
        } else {
          result = (toWire(await this.callMock(token, rawArgs, req.getProvider())) ?? {}) as Record<
            string,
            unknown
          >;
        }
        const resp = new provproto.InvokeResponse();
        resp.setReturn(structproto.Struct.fromJavaScript(result));
        callback(null, resp);
      } catch (err) {
        callback(rpcError(err));
      }
    });
  }

  call(req: Any, callback: Callback): void {
    void this.track(async () => {
      try {
        const rawArgs = (req.getArgs()?.toJavaScript() ?? {}) as Record<string, unknown>;
        const result = toWire(await this.callMock(req.getTok(), rawArgs, req.getProvider())) ?? {};
        const resp = new provproto.CallResponse();
        resp.setReturn(structproto.Struct.fromJavaScript(result));
        callback(null, resp);
      } catch (err) {
        callback(rpcError(err));
      }
    });
  }

  supportsFeature(req: Any, callback: Callback): void {
    // Like the SDK's MockMonitor: everything but output values (so inputs arrive resolved).
    const id: string = req.getId();
    const supported = id !== "outputValues" && id !== "invokeTransforms";
    callback(null, { getHassupport: () => supported });
  }

  /**
   * The features this monitor supports, for SDKs that ask once (newer @pulumi/pulumi) rather than
   * feature by feature (`supportsFeature`): the same set.
   */
  getDeploymentInfo(_req: Any, callback: Callback): void {
    const features = resproto.ResourceMonitorFeature as Record<string, number> | undefined;
    if (!resproto.DeploymentInfo || !features) {
      callback(Object.assign(new Error("GetDeploymentInfo is not implemented"), { code: 12 }));
      return;
    }
    const resp = new resproto.DeploymentInfo();
    resp.setSupportedfeaturesList(
      SUPPORTED_FEATURES.map((f) => features[`RESOURCE_MONITOR_FEATURE_${f}`]).filter(
        (v): v is number => v !== undefined,
      ),
    );
    callback(null, resp);
  }

  registerPackage(_req: Any, callback: Callback): void {
    const resp = new resproto.RegisterPackageResponse();
    resp.setRef("mock-package-ref");
    callback(null, resp);
  }

  signalAndWaitForShutdown(_req: Any, callback: Callback): void {
    callback(null, {});
  }
}

/** The engine's dependency records of a registration (omitted when empty or default). */
function dependenciesOf(req: Any, options: Any): Partial<RecordedResource> {
  const out: Partial<RecordedResource> = {};
  const dependencies: string[] = options.getDependsOnList();
  if (dependencies.length > 0) out.dependencies = [...dependencies];
  const byProperty: Record<string, string[]> = {};
  for (const [key, deps] of req.getPropertydependenciesMap().entries()) {
    const urns: string[] = deps.getUrnsList();
    if (urns.length > 0) byProperty[key] = [...urns];
  }
  if (Object.keys(byProperty).length > 0) out.propertyDependencies = byProperty;
  const o: NonNullable<RecordedResource["options"]> = {};
  if (options.getDeleteBeforeReplace()) o.deleteBeforeReplace = true;
  if (options.getProtect()) o.protect = true;
  if (options.getRetainOnDelete()) o.retainOnDelete = true;
  const ignore: string[] = options.getIgnoreChangesList();
  if (ignore.length > 0) o.ignoreChanges = [...ignore];
  if (Object.keys(o).length > 0) out.options = o;
  return out;
}

const SEVERITIES = ["debug", "info", "warning", "error"] as const;

/** Stands in for the engine so that `pulumi.log.*` messages are captured instead of printed. */
export class RecordingEngine {
  readonly logs: RecordedLog[] = [];

  log(req: Any, callback: Callback): void {
    const severity = SEVERITIES[req.getSeverity() as number] ?? "info";
    if (severity !== "debug") {
      const urn: string = req.getUrn();
      this.logs.push({ severity, message: req.getMessage(), ...(urn ? { urn } : {}) });
    }
    callback(null, {});
  }

  setRootResource(_req: Any, callback: Callback): void {
    callback(null, {});
  }

  getRootResource(_req: Any, callback: Callback): void {
    callback(null, { getUrn: () => "" });
  }

  requirePulumiVersion(_req: Any, callback: Callback): void {
    callback(null, {});
  }
}
