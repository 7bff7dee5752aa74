import { ciliumAdapter, ciliumArtefacts, ciliumRecords } from "../../lib/targets/cilium";
import type { OfflineTarget } from "../offline";

/** The cilium target without Pulumi: the policies of each cluster as records and as YAML artefacts. */
export const ciliumOffline: OfflineTarget = {
  target: "cilium",
  adapter: ciliumAdapter,
  records: (plan) => ciliumRecords(plan),
  artefacts: (plan) => ciliumArtefacts(plan),
};
