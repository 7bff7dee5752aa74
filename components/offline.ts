import type { Plan, ResourceRecord, TargetAdapter, TargetName } from "../lib";
import { awsOffline } from "./aws/offline";
import { azureOffline } from "./azure/offline";
import { bluefieldOffline } from "./bluefield/offline";
import { ciliumOffline } from "./cilium/offline";
import { gcpOffline } from "./gcp/offline";

/** A file a target renders for `blastradius render`, relative to the output directory. */
export interface Artefact {
  path: string;
  content: string;
}

/**
 * What a target contributes without Pulumi and without its provider package: its evaluator adapter
 * (from `lib/targets/<t>/evaluate`), the resources its placeholder program registers built without
 * the engine, and its native artefacts. `render`, the proof of recorded resources (`review`, the
 * policy pack, `blastradius/testing`) and the benchmarks need nothing more, so none of them loads a
 * provider package. `components/<t>/module.ts` adds the placeholder program, which does.
 */
export interface OfflineTarget {
  readonly target: TargetName;
  readonly adapter: TargetAdapter;
  /**
   * The resources the target's placeholder program registers, built without the Pulumi engine (for
   * benchmarks and large proofs): the same types, names and inputs, with ids that are consistent
   * among themselves (references by id resolve) though not the mock engine's.
   * `test/targets/offline-records.test.ts` checks it against the runner for every target.
   */
  records(plan: Plan): ResourceRecord[];
  artefacts(plan: Plan): Artefact[];
}

/** Every target, in TARGETS order, without Pulumi. */
export const OFFLINE_TARGETS: readonly OfflineTarget[] = [
  awsOffline,
  gcpOffline,
  azureOffline,
  ciliumOffline,
  bluefieldOffline,
];

export function offlineTarget(target: TargetName): OfflineTarget | undefined {
  return OFFLINE_TARGETS.find((m) => m.target === target);
}

/** Every target's evaluator adapter (what proving recorded resources needs). */
export const TARGET_ADAPTERS: readonly TargetAdapter[] = OFFLINE_TARGETS.map((m) => m.adapter);
