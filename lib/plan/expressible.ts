import type { Diagnostic, DocPath } from "../model/diagnostics";
import type { TargetName } from "../model/types";
import { hasPorts, IntervalSet, MAX_PORT, Protocol, ServiceSet } from "../net";
import type { CompiledPath, Plan } from "./types";

const ALL_PORTS = IntervalSet.range(0n, BigInt(MAX_PORT));

/**
 * What each target's rule language can say of a path's services, checked at `check` time so that
 * `render` and `review` never fail on a policy `check` passed. The renderers keep their own checks
 * (they are the last line); these mirror them and say where in the file to fix it:
 *
 * - AWS security groups have ports for tcp and udp only: AWS ignores the ports of any other
 *   protocol, so `sctp/1-65535` cannot be rendered exactly (only `sctp`, every port).
 * - Cilium matches TCP, UDP and SCTP ports and ICMP; other protocols only as "any"; and reads port 0
 *   as "every port", so a range starting at 0 that is not every port cannot be said.
 * - Azure NSG rules name Tcp, Udp, Icmp, Esp, Ah or `*`: an allow naming another protocol would
 *   have to open `*`.
 */
export function expressibilityDiagnostics(
  plan: Plan,
  where: (pathName: string) => { file?: string; path: DocPath },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const paths: Array<[CompiledPath, "allow" | "forbid"]> = [
    ...plan.allows.map((c) => [c, "allow"] as [CompiledPath, "allow"]),
    ...plan.guardrails.map((c) => [c, "forbid"] as [CompiledPath, "forbid"]),
  ];
  for (const [c, verdict] of paths) {
    const services = c.path.services;
    if (services.equals(ServiceSet.ALL) || services.isEmpty()) continue;
    const on = touched(c);
    const problems: string[] = [];
    for (const { protocol, ports } of services.entries()) {
      const full = ports.equals(ALL_PORTS);
      // Named only in a message (22k paths at scale: not worth naming each).
      let text: string | undefined;
      const named = () => (text ??= ServiceSet.protocol(protocol).toStrings().join(", "));
      if (
        on.has("aws") &&
        verdict === "allow" &&
        hasPorts(protocol) &&
        protocol !== Protocol.TCP &&
        protocol !== Protocol.UDP &&
        !full
      )
        problems.push(
          `AWS security groups cannot restrict the ports of ${named()} (only tcp and udp have ports there): write "${named()}" for every port, or place these workloads elsewhere`,
        );
      if (on.has("cilium")) {
        if (!hasPorts(protocol) && protocol !== Protocol.ICMP)
          problems.push(
            `Cilium policies cannot match ${named()} (only tcp, udp, sctp and icmp, or "any"); narrow the services or use "any"`,
          );
        else if (hasPorts(protocol) && !full && ports.ranges[0]![0] === 0n)
          problems.push(
            `Cilium reads port 0 as "every port", so a ${named()} range starting at 0 cannot be rendered exactly; start it at 1`,
          );
      }
      if (
        on.has("azure") &&
        verdict === "allow" &&
        ![Protocol.TCP, Protocol.UDP, Protocol.ICMP, 50, 51].includes(protocol as never)
      )
        problems.push(
          `Azure NSG rules can only name tcp, udp, icmp, esp (50), ah (51) or any protocol, not ${named()}`,
        );
    }
    if (problems.length === 0) continue;
    const at = where(c.path.name);
    for (const message of new Set(problems))
      out.push({
        severity: "error",
        file: at.file,
        path: [...at.path, "services"],
        subject: `path "${c.path.name}"`,
        message,
      });
  }
  return out;
}

/** The targets a path is rendered on: those of the workloads at either end (placement key per target). */
function touched(c: CompiledPath): Set<TargetName> {
  const on = new Set<TargetName>();
  for (const slices of [c.from, c.to]) for (const t of targetsOfEnd(slices)) on.add(t);
  return on;
}

const endTargets = new WeakMap<object, TargetName[]>();
/** The targets of one end's workloads, once per end (paths share their ends' slice arrays). */
function targetsOfEnd(slices: CompiledPath["from"]): TargetName[] {
  let out = endTargets.get(slices);
  if (!out) {
    const on = new Set<TargetName>();
    for (const s of slices) {
      if (s.party.kind !== "workload") continue;
      const p = s.party.workload.placements;
      if (p.aws) on.add("aws");
      if (p.azure) on.add("azure");
      if (p.kubernetes) on.add("cilium");
    }
    endTargets.set(slices, (out = [...on]));
  }
  return out;
}
