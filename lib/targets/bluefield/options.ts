/**
 * Rendering options of the BlueField target, with their defaults. Every value ends up in the flow
 * file, so the options are validated here (a bad bridge name must not reach a shell or ovs-ofctl).
 */
export interface BlueFieldOptions {
  /** OVS bridge the DPU's host representors and uplinks are on. Default `br-sfc` (NVIDIA DPF style). */
  bridge?: string;
  /**
   * OpenFlow tables (the entry table is 0: every packet enters the pipeline there). Traffic from a
   * host port goes through `conntrack` (guardrails and connection-state checks) then `policy` (the
   * per-path allows); traffic to a local address from elsewhere through `ingressConntrack` then
   * `ingressPolicy`. Defaults 70 / 71 / 72 / 73, high enough to stay clear of the tables other
   * controllers (OVN, DOCA services) use.
   */
  tables?: { conntrack?: number; policy?: number; ingressConntrack?: number; ingressPolicy?: number };
  /** Conntrack zone (0-65535) our connections are tracked in. Default 45477 (0xb1a5). */
  zone?: number;
  /**
   * High 32 bits of the cookie of every flow we install, as hex (`0x…`, at most 8 digits). The low 32
   * bits name the path (FNV-1a of its name) or 0 for pipeline flows. Default `0xb1a5ce11`.
   */
  cookiePrefix?: string;
  /** Refuse to render a host whose rule set exceeds this many flows. Default 100000. */
  maxFlowsPerHost?: number;
}

export interface ResolvedBlueFieldOptions {
  bridge: string;
  tables: { entry: 0; conntrack: number; policy: number; ingressConntrack: number; ingressPolicy: number };
  zone: number;
  /** Full 64-bit cookie prefix value (low 32 bits zero) and its mask. */
  cookie: { value: bigint; mask: bigint };
  maxFlowsPerHost: number;
}

const MASK = 0xffffffff00000000n;

export const DEFAULT_BLUEFIELD_OPTIONS = {
  bridge: "br-sfc",
  tables: { conntrack: 70, policy: 71, ingressConntrack: 72, ingressPolicy: 73 },
  zone: 0xb1a5,
  cookiePrefix: "0xb1a5ce11",
  maxFlowsPerHost: 100_000,
} as const;

/** Validates and fills in the defaults; throws a RangeError naming the option on bad input. */
export function resolveOptions(o: BlueFieldOptions = {}): ResolvedBlueFieldOptions {
  const bridge = o.bridge ?? DEFAULT_BLUEFIELD_OPTIONS.bridge;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(bridge))
    throw new RangeError(
      `options.bridge "${bridge}" is not a valid OVS bridge name (letters, digits, "_", "." and "-", at most 15 characters)`,
    );
  const table = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1 || v > 253)
      throw new RangeError(
        `options.tables.${name} ${v} must be an integer 1-253 (table 0 is the entry table)`,
      );
    return v;
  };
  const conntrack = table("conntrack", o.tables?.conntrack ?? DEFAULT_BLUEFIELD_OPTIONS.tables.conntrack);
  const policy = table("policy", o.tables?.policy ?? DEFAULT_BLUEFIELD_OPTIONS.tables.policy);
  if (policy <= conntrack)
    throw new RangeError(
      `options.tables.policy (${policy}) must be greater than options.tables.conntrack (${conntrack}): the pipeline moves forward with goto_table`,
    );
  const ingressConntrack = table(
    "ingressConntrack",
    o.tables?.ingressConntrack ?? DEFAULT_BLUEFIELD_OPTIONS.tables.ingressConntrack,
  );
  const ingressPolicy = table(
    "ingressPolicy",
    o.tables?.ingressPolicy ?? DEFAULT_BLUEFIELD_OPTIONS.tables.ingressPolicy,
  );
  if (ingressPolicy <= ingressConntrack)
    throw new RangeError(
      `options.tables.ingressPolicy (${ingressPolicy}) must be greater than options.tables.ingressConntrack (${ingressConntrack}): the pipeline moves forward with goto_table`,
    );
  const used = [conntrack, policy, ingressConntrack, ingressPolicy];
  if (new Set(used).size !== used.length)
    throw new RangeError(
      `options.tables conntrack ${conntrack}, policy ${policy}, ingressConntrack ${ingressConntrack} and ingressPolicy ${ingressPolicy} must be four different tables`,
    );
  const zone = o.zone ?? DEFAULT_BLUEFIELD_OPTIONS.zone;
  if (!Number.isInteger(zone) || zone < 0 || zone > 65535)
    throw new RangeError(`options.zone ${zone} must be an integer 0-65535`);
  const prefix = o.cookiePrefix ?? DEFAULT_BLUEFIELD_OPTIONS.cookiePrefix;
  if (!/^0x[0-9a-fA-F]{1,8}$/.test(prefix) || BigInt(prefix) === 0n)
    throw new RangeError(
      `options.cookiePrefix "${prefix}" must be a non-zero hex number of at most 8 digits, e.g. "0xb1a5ce11"`,
    );
  const maxFlowsPerHost = o.maxFlowsPerHost ?? DEFAULT_BLUEFIELD_OPTIONS.maxFlowsPerHost;
  if (!Number.isInteger(maxFlowsPerHost) || maxFlowsPerHost < 1)
    throw new RangeError(`options.maxFlowsPerHost ${maxFlowsPerHost} must be a positive integer`);
  return {
    bridge,
    tables: { entry: 0, conntrack, policy, ingressConntrack, ingressPolicy },
    zone,
    cookie: { value: BigInt(prefix) << 32n, mask: MASK },
    maxFlowsPerHost,
  };
}

export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}
