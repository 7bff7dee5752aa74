import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { offlineTarget } from "../../components/offline";
import { checkPolicyFile } from "../../components/policy-file";
import { formatDiagnostic } from "../../lib";
import { EXIT, type Io } from "../io";

/**
 * `blastradius render <policy> --out <dir>`: each target's native artefacts, without Pulumi.
 * Nothing is written when the policy has errors.
 */
export function renderCommand(file: string, outDir: string, io: Io): number {
  const r = checkPolicyFile(file);
  for (const d of r.diagnostics) (d.severity === "error" ? io.err : io.out)(formatDiagnostic(d));
  if (!r.ok || !r.plan) {
    io.err(`${file}: invalid policy; nothing rendered`);
    return EXIT.INVALID;
  }
  const plan = r.plan;
  const written: string[] = [];
  const missing: string[] = [];
  const files: Array<{ path: string; content: string }> = [];
  for (const target of plan.targets) {
    const m = offlineTarget(target);
    if (!m) {
      missing.push(target);
      continue;
    }
    files.push(...m.artefacts(plan));
  }
  for (const f of files) {
    const path = join(outDir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    written.push(f.path);
  }
  if (missing.length > 0)
    io.err(`no renderer is available yet for: ${missing.join(", ")} (their placements were not rendered)`);
  io.out(
    `rendered ${written.length} file(s) into ${outDir}${written.length > 0 ? `:\n  ${written.join("\n  ")}` : ""}`,
  );
  return EXIT.OK;
}
