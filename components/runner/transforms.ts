/**
 * Resource transforms (`pulumi.runtime.registerResourceTransform`, the `transforms` resource
 * option) without a gRPC callback server. The SDK registers each transform with its callback
 * server and sends the engine a token; the engine calls the token back with a TransformRequest for
 * every resource the transform applies to. Here both sides are in one process: the "server" is
 * the SDK's own CallbackServer logic (request decoding, option mapping) with its transport left
 * out, and the monitor calls it directly.
 */

// biome-ignore lint/suspicious/noExplicitAny: the SDK's runtime internals and protobuf classes are untyped here
type Any = any;

const callbacksModule: {
  CallbackServer: { prototype: object };
} = require("@pulumi/pulumi/runtime/callbacks");
const resproto: Any = require("@pulumi/pulumi/proto/resource_pb");

/** The address sent in place of a callback server's: nothing listens there, nothing dials it. */
export const IN_PROCESS_TARGET = "in-process";

/** A registered callback: `(request bytes) → response message`. */
type Callback = (bytes: Uint8Array) => Promise<Any>;

/** What the monitor needs of the callbacks object. */
export interface InProcessCallbacks {
  /** Runs the transform registered under `token` on a TransformRequest; its TransformResponse. */
  invoke(token: string, request: Any): Promise<Any>;
}

/**
 * The SDK's CallbackServer without its gRPC server: `registerTransform`, `registerStackTransform`
 * and `awaitStackRegistrations` are the SDK's own (its prototype), the transport is replaced by
 * `invoke`. Install it as the run's `store.callbacks`.
 */
export function inProcessCallbacks(monitor: object): InProcessCallbacks {
  const server: Any = Object.create(callbacksModule.CallbackServer.prototype);
  const callbacks = new Map<string, Callback>();
  Object.assign(server, {
    _callbacks: callbacks,
    _pendingRegistrations: 0,
    _awaitQueue: [],
    _monitor: monitor,
    _target: Promise.resolve(IN_PROCESS_TARGET),
    shutdown: () => {},
    invoke: async (token: string, request: Any) => {
      const cb = callbacks.get(token);
      if (!cb) throw new Error(`no transform is registered under callback token ${token}`);
      return cb(request.serializeBinary());
    },
  });
  return server as InProcessCallbacks;
}

/** The resource's options as a transform receives them (what the engine builds from the request). */
export function transformOptionsOf(req: Any): Any {
  const o = new resproto.TransformResourceOptions();
  o.setDependsOnList(req.getDependenciesList());
  o.setProtect(req.getProtect());
  o.setIgnoreChangesList(req.getIgnorechangesList());
  o.setReplaceOnChangesList(req.getReplaceonchangesList());
  o.setVersion(req.getVersion());
  o.setAliasesList(req.getAliasesList());
  o.setProvider(req.getProvider());
  for (const [k, v] of req.getProvidersMap().entries()) o.getProvidersMap().set(k, v);
  const timeouts = req.getCustomtimeouts();
  if (timeouts) o.setCustomTimeouts(timeouts);
  o.setPluginDownloadUrl(req.getPlugindownloadurl());
  o.setRetainOnDelete(req.getRetainondelete());
  o.setDeletedWith(req.getDeletedwith());
  if (req.getDeletebeforereplacedefined()) o.setDeleteBeforeReplace(req.getDeletebeforereplace());
  o.setAdditionalSecretOutputsList(req.getAdditionalsecretoutputsList());
  o.setImport(req.getImportid());
  return o;
}

/** A TransformRequest for one resource. */
export function transformRequest(
  type: string,
  name: string,
  custom: boolean,
  parent: string,
  properties: Any,
  options: Any,
): Any {
  const r = new resproto.TransformRequest();
  r.setType(type);
  r.setName(name);
  r.setCustom(custom);
  r.setParent(parent);
  if (properties) r.setProperties(properties);
  r.setOptions(options);
  return r;
}
