import { AddressSet } from "../../net";
import { UNKNOWN_VALUE } from "../../verify/binding";
import type { ResourceRecord } from "../../verify/types";

/*
 * Which VMs a stack really runs on GCP, as which service account and with which network tags: the
 * binding contract read from recorded `gcp.compute.Instance`, instance templates and
 * `gcp.compute.InstanceFromTemplate` (or from `gcloud compute instances list --format=json`). A VM
 * is bound to the workload whose placement names its service account in its network; its network
 * tags are what tag-targeted rules see.
 *
 * Each network interface of a VM sits in its own VPC network, whose firewall rules alone decide
 * what reaches it there: every interface is read as a compute of its own (same account and tags,
 * its own network and addresses), so an interface in another network than its workload's is found.
 */

export const GCP_COMPUTE_TYPES = {
  instance: "gcp:compute/instance:Instance",
  instanceTemplate: "gcp:compute/instanceTemplate:InstanceTemplate",
  regionInstanceTemplate: "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
  instanceFromTemplate: "gcp:compute/instanceFromTemplate:InstanceFromTemplate",
} as const;

/** Resources read to locate the compute: a subnetwork names its network. */
export const GCP_SUBNETWORK_TYPE = "gcp:compute/subnetwork:Subnetwork";

/** One network interface of a VM (or of the VMs of one template) as the stack builds it. */
export interface GcpCompute {
  resource: string;
  kind: "instance" | "instance template";
  /** Which of the VM's network interfaces this is (0 is the first), and how many it has. */
  nic: number;
  nics: number;
  /** The service account it runs as; undefined: the project's default compute account. */
  serviceAccount?: string;
  /** Its network tags, sorted. */
  tags: string[];
  /** The interface's network as written (name, id or self link), or the one its subnetwork is in. */
  network?: string;
  /** The interface's addresses, when the stack fixes them (`networkIp`). */
  addresses?: AddressSet;
  /** A value unknown during a preview (the account or the network of a resource not created yet). */
  unknown: boolean;
  /** Why the proof cannot see what it runs as or where (a subnetwork or template it cannot find). */
  unresolved?: string;
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" && v !== UNKNOWN_VALUE ? v : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A resource reference without the API's URL prefix or a query (`selfLinkUnique`'s `?uniqueId=`). */
const refKey = (v: string): string =>
  v
    .replace(/^https:\/\/(www\.)?(compute\.)?googleapis\.com\/compute\/(v1|beta)\//, "")
    .replace(/\?.*$/, "")
    .replace(/\/+$/, "")
    .toLowerCase();

/** Recorded resources by every reference a program may pass: id, self link, name. */
function index(records: readonly ResourceRecord[], types: readonly string[]) {
  const byRef = new Map<string, ResourceRecord>();
  const byName = new Map<string, ResourceRecord[]>();
  for (const r of records) {
    if (!types.includes(r.type)) continue;
    if (r.id) byRef.set(refKey(r.id), r);
    const name = str(r.inputs.name) ?? (r.id ? r.id.split("/").pop() : undefined) ?? r.name;
    byName.set(name.toLowerCase(), [...(byName.get(name.toLowerCase()) ?? []), r]);
  }
  return (ref: string): ResourceRecord | undefined => {
    const k = refKey(ref);
    const hit = byRef.get(k);
    if (hit) return hit;
    // A bare name: the one recorded resource of that name, if only one has it (a path is exact).
    if (k.includes("/")) return undefined;
    const named = byName.get(k) ?? [];
    return named.length === 1 ? named[0] : undefined;
  };
}

/** Every VM interface of the records (instances, instance templates, instances from templates). */
export function gcpComputes(records: readonly ResourceRecord[]): GcpCompute[] {
  const subnetwork = index(records, [GCP_SUBNETWORK_TYPE]);
  const template = index(records, [
    GCP_COMPUTE_TYPES.instanceTemplate,
    GCP_COMPUTE_TYPES.regionInstanceTemplate,
  ]);
  const networkOfSubnet = (s: string) => {
    const r = subnetwork(s);
    return r ? str(r.inputs.network) : undefined;
  };
  const out: GcpCompute[] = [];
  for (const r of records) {
    if (r.type === GCP_COMPUTE_TYPES.instance)
      out.push(...computeOf(r.name, "instance", r.inputs, networkOfSubnet));
    else if (
      r.type === GCP_COMPUTE_TYPES.instanceTemplate ||
      r.type === GCP_COMPUTE_TYPES.regionInstanceTemplate
    )
      out.push(...computeOf(r.name, "instance template", r.inputs, networkOfSubnet));
    else if (r.type === GCP_COMPUTE_TYPES.instanceFromTemplate) {
      // Its own fields override the template's (the provider sends the template's, then these).
      const own = Object.fromEntries(
        Object.entries(r.inputs).filter(
          ([k, v]) => k !== "sourceInstanceTemplate" && v !== undefined && v !== null,
        ),
      );
      const ref = r.inputs.sourceInstanceTemplate;
      const source = typeof ref === "string" ? template(ref) : undefined;
      const covered =
        own.serviceAccount !== undefined && own.networkInterfaces !== undefined && own.tags !== undefined;
      const computes = computeOf(r.name, "instance", { ...(source?.inputs ?? {}), ...own }, networkOfSubnet);
      if (!source && !covered)
        for (const c of computes) {
          if (ref === UNKNOWN_VALUE) c.unknown = true;
          else
            c.unresolved = `its source instance template (${String(ref)}) is not a template of this stack, so the account, tags and interfaces it gives are unknown (create the template in the stack, or set serviceAccount, tags and networkInterfaces on the instance)`;
        }
      out.push(...computes);
    }
  }
  return out;
}

/**
 * The interfaces of one VM from Pulumi inputs or a `gcloud compute instances list --format=json`
 * item (one compute per interface; one with no network when it names none). `networkOfSubnet`
 * finds the network of an interface that names only its subnetwork.
 */
export function computeOf(
  name: string,
  kind: GcpCompute["kind"],
  i: Record<string, unknown>,
  networkOfSubnet: (subnetwork: string) => string | undefined = () => undefined,
): GcpCompute[] {
  const sa = (i.serviceAccount ?? list(i.serviceAccounts)[0]) as Record<string, unknown> | undefined;
  const nics = list(i.networkInterfaces) as Array<Record<string, unknown>>;
  const rawTags = i.tags;
  // gcloud prints tags as { items: [...] }; Pulumi takes a list.
  const tags = Array.isArray(rawTags) ? rawTags : list((rawTags as { items?: unknown } | undefined)?.items);
  const base = {
    resource: name,
    kind,
    nics: nics.length,
    tags: [...new Set(tags.map((t) => str(t)).filter((t): t is string => t !== undefined))].sort(),
  };
  const email = str(sa?.email);
  const unknownAll = JSON.stringify({ ...i, networkInterfaces: undefined }).includes(UNKNOWN_VALUE);
  const one = (n: Record<string, unknown> | undefined, k: number): GcpCompute => {
    const c: GcpCompute = {
      ...base,
      tags: [...base.tags],
      nic: k,
      unknown: unknownAll || JSON.stringify(n ?? {}).includes(UNKNOWN_VALUE),
    };
    if (email) c.serviceAccount = email;
    const addresses: AddressSet[] = [];
    for (const ip of [n?.networkIp, n?.networkIP]) {
      const s = str(ip);
      if (!s) continue;
      try {
        addresses.push(AddressSet.parse(s));
      } catch {
        // an unknown or malformed value: the VM's address stays unknown
      }
    }
    if (addresses.length > 0) c.addresses = AddressSet.unionAll(addresses);
    const network = str(n?.network);
    const subnet = str(n?.subnetwork);
    if (network) c.network = network;
    else if (subnet) {
      const derived = networkOfSubnet(subnet);
      if (derived) c.network = derived;
      else if (!c.unknown)
        c.unresolved = `its network interface ${k} names subnetwork ${subnet} only, which is not a subnetwork of this stack, so its network is unknown (give the interface its network too)`;
    }
    return c;
  };
  return nics.length === 0 ? [one(undefined, 0)] : nics.map(one);
}

/** The VM interfaces of `gcloud compute instances list --format=json` (an array of instances). */
export function gcpComputesFromExport(json: unknown): GcpCompute[] {
  const list = typeof json === "string" ? (JSON.parse(json) as unknown) : json;
  if (!Array.isArray(list))
    throw new Error("a gcloud instances export is a JSON array of instances (--format=json)");
  return list.flatMap((item, i) => {
    const o = (item ?? {}) as Record<string, unknown>;
    return computeOf(typeof o.name === "string" ? o.name : `instance[${i}]`, "instance", o);
  });
}
