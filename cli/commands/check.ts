import { checkPolicyFile } from "../../components/policy-file";
import { formatDiagnostic } from "../../lib";
import { EXIT, type Io } from "../io";

/** `blastradius check <policy>`: parse, validate, compile; print every problem at once. */
export function checkCommand(file: string, io: Io): number {
  const r = checkPolicyFile(file);
  for (const d of r.diagnostics) (d.severity === "error" ? io.err : io.out)(formatDiagnostic(d));
  const errors = r.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = r.diagnostics.length - errors;
  if (!r.ok) {
    io.err(
      `${file}: ${errors} error(s), ${warnings} warning(s); nothing can be rendered until the errors are fixed`,
    );
    return EXIT.INVALID;
  }
  const plan = r.plan!;
  const p = plan.policy;
  io.out(
    `${file}: policy "${p.name}" is valid: ${p.workloads.length} workloads, ${p.segments.length} segments, ` +
      `${p.peers.length - 1} peers (+ internet), ${plan.allows.length} allow / ${plan.guardrails.length} enforce-forbid / ` +
      `${plan.monitored.length} monitored-forbid paths; targets: ${plan.targets.join(", ") || "none"}` +
      (warnings > 0 ? `; ${warnings} warning(s)` : ""),
  );
  return EXIT.OK;
}
