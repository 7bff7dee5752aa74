/**
 * Recording what a Pulumi program registers under the user's own `pulumi.runtime.setMocks`: the
 * monitor Pulumi's mocks installed is wrapped for the duration of the program, and every
 * registration (type, name, inputs, parent, the resources each input came from) is kept alongside
 * the id the user's mocks returned.
 */
import type { ResourceRecord } from "../../lib";
import { defaultId } from "../runner/mocks";
import { UNKNOWN } from "../runner/types";
import { toPlainObject } from "../runner/wire";

// biome-ignore lint/suspicious/noExplicitAny: the SDK's runtime internals and protobuf classes are untyped here
type Any = any;

const state: {
  getStore(): { settings: { monitor?: Any; rpcDone: Promise<unknown> } };
} = require("@pulumi/pulumi/runtime/state");
const settings: { waitForRPCs(): Promise<void> } = require("@pulumi/pulumi/runtime/settings");
const structproto: Any = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", {
    paths: [require.resolve("@pulumi/pulumi/package.json")],
  }),
);

/** One registration as seen on the way to the user's mocks and back. */
export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  inputs: Record<string, unknown>;
  /** Input property → URNs of the resources its value came from. */
  propertyDependencies: Record<string, string[]>;
  urn?: string;
  /** The id the user's mocks returned ("" when none). */
  id?: string;
}

/** A thrown Error with this name means the helper was used wrongly (not a proof failure). */
export class TestingSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TestingSetupError";
  }
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * Outputs a provider computes that a mock may leave out, and that the components read back from
 * the resources they create: an azure-native resource's `name` (its `<kind>Name` input, or the
 * logical name when the provider names it). Filled in only where the mocks returned none.
 */
function computedOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  if (!type.startsWith("azure-native:")) return {};
  const kind = type.split(":")[2] ?? "";
  const given = inputs[`${lowerFirst(kind)}Name`];
  return { name: typeof given === "string" && given !== "" ? given : name };
}

const QUEUE = Symbol.for("blastradius.testing.queue");
type WithQueue = typeof globalThis & { [QUEUE]?: Promise<unknown> };

/** One recording at a time in a process: the monitor is process-wide. */
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const g = globalThis as WithQueue;
  const result = (g[QUEUE] ?? Promise.resolve()).then(fn, fn);
  g[QUEUE] = result.then(
    () => undefined,
    () => undefined,
  );
  return result;
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `program` (e.g. `() => import("../index")`) with the mocks the caller set with
 * `pulumi.runtime.setMocks(...)`, waits until every registration has been answered, and returns
 * them in the order they were sent.
 */
export function recordRegistrations(program: () => unknown): Promise<Registration[]> {
  return serialized(async () => {
    const store = state.getStore();
    const inner = store.settings.monitor;
    if (!inner || typeof inner.registerResource !== "function")
      throw new TestingSetupError(
        "blastradius/testing: no Pulumi mocks are installed; call pulumi.runtime.setMocks({ newResource, call }) before running the program",
      );
    const registrations: Registration[] = [];
    let pending = 0;
    let activity = 0;
    const registerResource = (req: Any, callback: (err: unknown, resp?: Any) => void) => {
      const r: Registration = {
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        parent: req.getParent(),
        inputs: toPlainObject(req.getObject()?.toJavaScript() ?? {}),
        propertyDependencies: {},
      };
      for (const [key, deps] of req.getPropertydependenciesMap().entries()) {
        const urns: string[] = deps.getUrnsList();
        if (urns.length > 0) r.propertyDependencies[key] = [...urns];
      }
      registrations.push(r);
      pending++;
      activity++;
      inner.registerResource(req, (err: unknown, resp?: Any) => {
        if (!err && resp) {
          r.urn = resp.getUrn();
          r.id = resp.getId();
          if (r.custom) {
            const outputs = (resp.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
            const missing = Object.entries(computedOutputs(r.type, r.name, r.inputs)).filter(
              ([k]) => outputs[k] === undefined || outputs[k] === null,
            );
            if (missing.length > 0)
              resp.setObject(
                structproto.Struct.fromJavaScript({ ...outputs, ...Object.fromEntries(missing) }),
              );
          }
        }
        pending--;
        activity++;
        callback(err, resp);
      });
    };
    store.settings.monitor = new Proxy(inner, {
      get(target, prop) {
        if (prop === "registerResource") return registerResource;
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    try {
      await program();
      // Registrations made in `.apply` callbacks arrive later: wait until nothing moves.
      for (let quiet = 0; quiet < 2; ) {
        const before = { activity, rpcDone: store.settings.rpcDone };
        await settings.waitForRPCs();
        await macrotask();
        quiet =
          pending === 0 && activity === before.activity && store.settings.rpcDone === before.rpcDone
            ? quiet + 1
            : 0;
      }
    } finally {
      store.settings.monitor = inner;
    }
    return registrations;
  });
}

/**
 * The registrations as records the evaluators read. The evaluators link resources by id (a rule's
 * `securityGroupId`, a subnet's `networkSecurityGroup.id`), and some read an id's shape as the
 * provider writes it (an Azure ARM id names the resource group and the resource). So the ids of
 * the records are not the ids the mocks returned: each resource gets the id the runner's own mocks
 * would give it (`defaultId`: provider-shaped, unique; its URN if two would collide), and every
 * input that came from a resource (the SDK records where each input came from) and holds that
 * resource's mocked id, or a value the mocks left unknown, is rewritten to the resource's record
 * id. A value that could come from two resources of one input cannot be attributed: that is an
 * error naming them.
 */
export function recordsOf(registrations: readonly Registration[]): ResourceRecord[] {
  const byUrn = new Map<string, Registration>();
  for (const r of registrations) if (r.urn) byUrn.set(r.urn, r);
  const ids = new Map<string, string>();
  const uses = new Map<string, number>();
  for (const r of registrations) {
    if (!r.custom || !r.urn) continue;
    const id = defaultId(
      { type: r.type, name: r.name, urn: r.urn, inputs: r.inputs, custom: true },
      () => undefined,
    );
    ids.set(r.urn, id);
    uses.set(id, (uses.get(id) ?? 0) + 1);
  }
  for (const [urn, id] of ids) if (uses.get(id)! > 1) ids.set(urn, urn);
  const customDeps = (deps: readonly string[]) => deps.filter((d) => ids.has(d));
  const rewrite = (value: unknown, deps: readonly string[], where: string): unknown => {
    if (typeof value === "string") {
      if (value === UNKNOWN && deps.length > 1)
        throw new TestingSetupError(
          `blastradius/testing: ${where} is unknown (your mocks returned no id for the ${deps.length} resources it comes from: ${deps.join(", ")}); return an id from newResource`,
        );
      const from =
        value === UNKNOWN ? deps : deps.filter((d) => byUrn.get(d)!.id === value && ids.get(d) !== value);
      if (from.length === 1) return ids.get(from[0]!);
      if (from.length > 1)
        throw new TestingSetupError(
          `blastradius/testing: ${where} is "${value}", the id your mocks returned for ${from.length} resources it depends on (${from.join(", ")}); return a distinct id per resource from newResource (e.g. \`\${args.name}-id\`)`,
        );
      return value;
    }
    if (Array.isArray(value)) return value.map((v) => rewrite(v, deps, where));
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, deps, where)]));
    return value;
  };
  return registrations.map((r) => {
    const inputs: Record<string, unknown> = { ...r.inputs };
    for (const [key, deps] of Object.entries(r.propertyDependencies))
      if (key in inputs)
        inputs[key] = rewrite(inputs[key], customDeps(deps), `input ${key} of ${r.type} "${r.name}"`);
    const record: ResourceRecord = { type: r.type, name: r.name, inputs };
    if (r.urn) record.urn = r.urn;
    if (r.parent && byUrn.has(r.parent)) record.parent = r.parent;
    const id = r.urn ? ids.get(r.urn) : undefined;
    if (id !== undefined) record.id = id;
    return record;
  });
}
