/**
 * Azure Network Watcher flow logs (JSON blobs `{"records": [...]}`).
 *
 * NSG flow logs — source: "Flow logging for network security groups", log format,
 * https://learn.microsoft.com/en-us/azure/network-watcher/nsg-flow-logs-overview#log-format:
 * `records[].properties.flows[].rule`, `.flows[].mac`, `.flows[].flowTuples[]`, each tuple
 * "timestamp,srcIP,dstIP,srcPort,dstPort,protocol,direction,decision" in version 1 (timestamp in
 * Unix seconds, protocol T or U, direction I or O, decision A or D) and, in version 2, followed by
 * "flowState,packetsSrcToDst,bytesSrcToDst,packetsDstToSrc,bytesDstToSrc" (state B, C or E; the
 * counters are empty for B).
 *
 * VNet flow logs — source: "Virtual network flow logs", log format,
 * https://learn.microsoft.com/en-us/azure/network-watcher/vnet-flow-logs-overview#log-format:
 * `records[].flowRecords.flows[].aclID`, `.flowGroups[].rule`, `.flowGroups[].flowTuples[]`, each
 * "timestamp,srcIP,dstIP,srcPort,dstPort,protocol,direction,flowState,encryption,packetsSrcToDst,
 * bytesSrcToDst,packetsDstToSrc,bytesDstToSrc" (timestamp in Unix milliseconds, protocol an IANA
 * number, state B, C, E or D — D meaning denied).
 *
 * A tuple always names the flow's initiator as its source, so no reply detection is needed.
 */
import { hasPorts } from "../net";
import { addressFamily, intIn, obj, str } from "./fields";
import type { Flow } from "./types";

export function isAzureRecord(v: Record<string, unknown>): boolean {
  return obj(v.flowRecords) !== undefined || Array.isArray(obj(v.properties)?.flows);
}

export interface AzureTuple {
  tuple: unknown;
  rule?: string;
}

/** The tuples of one record, with the rule that decided them. */
export function azureTuples(record: Record<string, unknown>): AzureTuple[] {
  const out: AzureTuple[] = [];
  const vnet = obj(record.flowRecords);
  if (vnet) {
    for (const acl of arr(vnet.flows)) {
      for (const group of arr(obj(acl)?.flowGroups)) {
        const g = obj(group);
        for (const tuple of arr(g?.flowTuples)) out.push({ tuple, rule: str(g?.rule) });
      }
    }
    return out;
  }
  for (const byRule of arr(obj(record.properties)?.flows)) {
    const r = obj(byRule);
    for (const byMac of arr(r?.flows)) {
      for (const tuple of arr(obj(byMac)?.flowTuples)) out.push({ tuple, rule: str(r?.rule) });
    }
  }
  return out;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** One tuple → a flow or a problem. */
export function azureFlow(t: AzureTuple, file: string, line: number): Flow | { problem: string } {
  if (typeof t.tuple !== "string") return { problem: "a flowTuples entry is not a string" };
  const p = t.tuple.split(",");
  if (p.length !== 8 && p.length !== 13)
    return {
      problem: `flow tuple "${t.tuple}" has ${p.length} fields; expected 8 (NSG v1) or 13 (NSG v2, VNet)`,
    };
  const [ts, src, dst, sport, dport, proto, dir] = p as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const vnet = /^[0-9]+$/.test(proto);
  const family = addressFamily(src);
  if (family === undefined)
    return { problem: `flow tuple "${t.tuple}": source "${src}" is not an IP address` };
  if (addressFamily(dst) !== family)
    return { problem: `flow tuple "${t.tuple}": destination "${dst}" is not an IPv${family} address` };
  const protocol = vnet ? intIn(proto, 0, 255) : proto === "T" ? 6 : proto === "U" ? 17 : undefined;
  if (protocol === undefined)
    return { problem: `flow tuple "${t.tuple}": protocol "${proto}" is not T, U or an IANA number` };
  if (dir !== "I" && dir !== "O")
    return { problem: `flow tuple "${t.tuple}": direction "${dir}" is not I or O` };
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  if (hasPorts(protocol)) {
    srcPort = intIn(sport, 0, 65535);
    dstPort = intIn(dport, 0, 65535);
    if (dstPort === undefined)
      return { problem: `flow tuple "${t.tuple}": destination port "${dport}" is not a port` };
  }
  const stamp = intIn(ts, 0, Number.MAX_SAFE_INTEGER);
  if (stamp === undefined)
    return { problem: `flow tuple "${t.tuple}": timestamp "${ts}" is not a Unix time` };
  // VNet flow logs stamp in milliseconds, NSG flow logs in seconds.
  const ms = stamp > 1e11 ? stamp : stamp * 1000;
  let observed: string;
  let packets: number | undefined;
  let bytes: number | undefined;
  if (vnet) {
    const state = p[7]!;
    if (!["B", "C", "E", "D"].includes(state))
      return { problem: `flow tuple "${t.tuple}": flow state "${state}" is not B, C, E or D` };
    observed = state === "D" ? "D" : "A";
  } else {
    const decision = p[7]!;
    if (decision !== "A" && decision !== "D")
      return { problem: `flow tuple "${t.tuple}": decision "${decision}" is not A or D` };
    observed = decision;
    if (p.length === 13 && !["B", "C", "E"].includes(p[8]!))
      return { problem: `flow tuple "${t.tuple}": flow state "${p[8]}" is not B, C or E` };
  }
  if (p.length === 13) {
    const n = (i: number) => intIn(p[i], 0, Number.MAX_SAFE_INTEGER);
    const a = n(9);
    const b = n(11);
    if (a !== undefined || b !== undefined) packets = (a ?? 0) + (b ?? 0);
    const c = n(10);
    const d = n(12);
    if (c !== undefined || d !== undefined) bytes = (c ?? 0) + (d ?? 0);
  }
  return {
    file,
    line,
    format: "azure",
    start: ms,
    end: ms,
    family,
    src,
    dst,
    protocol,
    srcPort,
    dstPort,
    bytes,
    packets,
    observed: t.rule ? `${observed} (${t.rule})` : observed,
  };
}
