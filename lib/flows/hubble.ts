/**
 * Cilium Hubble flows, `hubble observe -o jsonpb` (one GetFlowsResponse per line:
 * `{"flow": {...}, "node_name": "...", "time": "..."}`). Read from the Flow message: `time`,
 * `verdict` (FORWARDED, DROPPED, AUDIT, …), `IP` {source, destination, ipVersion}, `l4` {TCP|UDP|SCTP
 * {source_port, destination_port, flags}, ICMPv4|ICMPv6 {type, code}}, `source`/`destination`
 * Endpoint {namespace, labels ["k8s:app=x", …], pod_name, cluster_name}, and `is_reply`.
 *
 * Source: Hubble's flow API, https://docs.cilium.io/en/stable/_api/v1/flow/README/ (Flow, Endpoint,
 * Layer4, Verdict) and "Inspecting Network Flows with the CLI",
 * https://docs.cilium.io/en/stable/observability/hubble/hubble-cli/ (jsonpb output).
 */
import { addressFamily, obj, rfc3339, str } from "./fields";
import type { EndpointHints, Flow } from "./types";

export function isHubbleResponse(v: Record<string, unknown>): boolean {
  const f = obj(v.flow);
  return f !== undefined && ("IP" in f || "verdict" in f || "l4" in f || "source" in f);
}

const L4: ReadonlyArray<readonly [string, number]> = [
  ["TCP", 6],
  ["UDP", 17],
  ["SCTP", 132],
  ["ICMPv4", 1],
  ["ICMPv6", 58],
];

function hints(ep: Record<string, unknown> | undefined): EndpointHints | undefined {
  if (!ep) return undefined;
  const h: EndpointHints = {};
  if (str(ep.namespace)) h.namespace = str(ep.namespace);
  if (str(ep.pod_name)) h.pod = str(ep.pod_name);
  if (str(ep.cluster_name)) h.cluster = str(ep.cluster_name);
  if (Array.isArray(ep.labels)) {
    const labels: Record<string, string> = {};
    for (const l of ep.labels) {
      if (typeof l !== "string") continue;
      // "k8s:app=x": drop the source prefix; "reserved:world" and the like are not pod labels.
      const colon = l.indexOf(":");
      const source = colon >= 0 ? l.slice(0, colon) : "";
      if (source === "reserved") continue;
      const kv = colon >= 0 ? l.slice(colon + 1) : l;
      const eq = kv.indexOf("=");
      if (eq > 0) labels[kv.slice(0, eq)] = kv.slice(eq + 1);
      else if (kv !== "") labels[kv] = "";
    }
    if (Object.keys(labels).length > 0) h.labels = labels;
  }
  return Object.keys(h).length > 0 ? h : undefined;
}

/** One Hubble response → a flow, "reply", "no-data" (an event without an IP layer), or a problem. */
export function hubbleFlow(
  response: Record<string, unknown>,
  file: string,
  line: number,
): Flow | "reply" | "no-data" | { problem: string } {
  const f = obj(response.flow)!;
  const ip = obj(f.IP);
  if (!ip) return "no-data";
  const src = str(ip.source);
  const dst = str(ip.destination);
  if (!src || !dst) return { problem: "flow.IP needs source and destination" };
  const family = addressFamily(src);
  if (family === undefined) return { problem: `flow.IP.source "${src}" is not an IP address` };
  if (addressFamily(dst) !== family)
    return { problem: `flow.IP.destination "${dst}" is not an IPv${family} address` };
  const l4 = obj(f.l4);
  if (!l4) return { problem: "flow.l4 is missing (no protocol)" };
  const found = L4.find(([k]) => obj(l4[k]) !== undefined);
  if (!found) return { problem: `flow.l4 has none of ${L4.map(([k]) => k).join(", ")}` };
  const [kind, protocol] = found;
  const layer = obj(l4[kind])!;
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  if (kind === "TCP" || kind === "UDP" || kind === "SCTP") {
    // proto3 JSON omits zero values: an absent port is 0.
    srcPort = portOf(layer.source_port ?? 0);
    dstPort = portOf(layer.destination_port ?? 0);
    if (srcPort === undefined || dstPort === undefined) return { problem: `flow.l4.${kind} has a bad port` };
  }
  const flags = obj(layer.flags);
  const reply =
    typeof f.is_reply === "boolean"
      ? f.is_reply
      : flags !== undefined && flags.SYN === true && flags.ACK === true;
  if (reply) return "reply";
  const time = rfc3339(f.time) ?? rfc3339(response.time);
  if (time === undefined) return { problem: "flow.time is missing or not RFC 3339" };
  return {
    file,
    line,
    format: "hubble",
    start: time,
    end: time,
    family,
    src,
    dst,
    protocol,
    srcPort,
    dstPort,
    observed: str(f.verdict) ?? "VERDICT_UNKNOWN",
    srcHints: hints(obj(f.source)),
    dstHints: hints(obj(f.destination)),
  };
}

function portOf(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
}
