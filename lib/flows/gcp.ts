/**
 * GCP VPC Flow Logs, as log entries exported from Cloud Logging (JSON lines, or the JSON array of
 * `gcloud logging read --format=json`): `jsonPayload.connection` {src_ip, src_port, dest_ip,
 * dest_port, protocol (IANA number)}, `bytes_sent`/`packets_sent` (int64, written as strings),
 * `start_time`/`end_time` (RFC 3339), `reporter` (SRC or DEST), and the optional metadata
 * `src_instance`/`dest_instance` {project_id, vm_name, region, zone}, `src_vpc`/`dest_vpc`
 * {project_id, vpc_name, subnetwork_name} and `src_gke_details`/`dest_gke_details` {cluster,
 * pod {pod_name, pod_namespace}}.
 *
 * Source: "About VPC Flow Logs records", https://cloud.google.com/vpc/docs/about-flow-logs-records
 * (record format, IpConnection, InstanceDetails, VpcDetails, GkeDetails). VPC Flow Logs sample
 * allowed traffic and record no verdict, and carry no service account: GCP workloads are mapped by
 * address, with the VPC name as a tie-breaker.
 */
import { hasPorts } from "../net";
import { addressFamily, counter, obj, replyByPorts, rfc3339, str } from "./fields";
import type { EndpointHints, Flow } from "./types";

export function isGcpEntry(v: Record<string, unknown>): boolean {
  const payload = obj(v.jsonPayload);
  return payload !== undefined && obj(payload.connection) !== undefined;
}

function hints(payload: Record<string, unknown>, side: "src" | "dest"): EndpointHints | undefined {
  const instance = obj(payload[`${side}_instance`]);
  const vpc = obj(payload[`${side}_vpc`]);
  const gke = obj(payload[`${side}_gke_details`]);
  const pod = obj(gke?.pod);
  const cluster = obj(gke?.cluster);
  const h: EndpointHints = {};
  if (str(instance?.vm_name)) h.vm = str(instance?.vm_name);
  if (str(instance?.project_id)) h.project = str(instance?.project_id);
  if (str(vpc?.vpc_name)) h.network = str(vpc?.vpc_name);
  if (str(pod?.pod_namespace)) h.namespace = str(pod?.pod_namespace);
  if (str(pod?.pod_name)) h.pod = str(pod?.pod_name);
  if (str(cluster?.cluster_name)) h.cluster = str(cluster?.cluster_name);
  return Object.keys(h).length > 0 ? h : undefined;
}

/** One GCP log entry → a flow, "reply", or a problem message. */
export function gcpFlow(
  entry: Record<string, unknown>,
  file: string,
  line: number,
): Flow | "reply" | { problem: string } {
  const payload = obj(entry.jsonPayload)!;
  const c = obj(payload.connection)!;
  const src = str(c.src_ip);
  const dst = str(c.dest_ip);
  if (!src || !dst) return { problem: "jsonPayload.connection needs src_ip and dest_ip" };
  const family = addressFamily(src);
  if (family === undefined) return { problem: `src_ip "${src}" is not an IP address` };
  if (addressFamily(dst) !== family) return { problem: `dest_ip "${dst}" is not an IPv${family} address` };
  const protocol = c.protocol;
  if (typeof protocol !== "number" || !Number.isInteger(protocol) || protocol < 0 || protocol > 255)
    return {
      problem:
        protocol === undefined
          ? "connection.protocol is missing"
          : `connection.protocol ${JSON.stringify(protocol)} is not an IANA protocol number`,
    };
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  if (hasPorts(protocol)) {
    srcPort = port(c.src_port);
    dstPort = port(c.dest_port);
    if (dstPort === undefined)
      return { problem: `connection.dest_port ${JSON.stringify(c.dest_port)} is not a port` };
  }
  if (replyByPorts(protocol, srcPort, dstPort)) return "reply";
  const start = rfc3339(payload.start_time) ?? rfc3339(entry.timestamp);
  const end = rfc3339(payload.end_time) ?? start;
  if (start === undefined) return { problem: "no start_time or timestamp (RFC 3339)" };
  return {
    file,
    line,
    format: "gcp",
    start,
    end: end ?? start,
    family,
    src,
    dst,
    protocol,
    srcPort,
    dstPort,
    bytes: counter(payload.bytes_sent),
    packets: counter(payload.packets_sent),
    observed: `reported-by-${str(payload.reporter) ?? "unknown"}`,
    srcHints: hints(payload, "src"),
    dstHints: hints(payload, "dest"),
  };
}

function port(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
}
