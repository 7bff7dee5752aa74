import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { type Artefact, offlineTarget } from "../../components/offline";
import { checkPolicyFile } from "../../components/policy-file";
import { formatDiagnostic } from "../../lib";
import { EXIT, InvalidInput, type Io } from "../io";
import { assertInside, confinedPath, type OutputFile, writeFailure, writeFilesAtomically } from "../write";

/**
 * `blastradius render <policy> --out <dir>`: each target's native artefacts, without Pulumi.
 * Nothing is written when the policy has errors, when a target cannot render it, or when any file
 * cannot be written: the set is written whole or not at all, and only inside `outDir`.
 */
export function renderCommand(file: string, outDir: string, io: Io): number {
  const r = checkPolicyFile(file);
  for (const d of r.diagnostics) (d.severity === "error" ? io.err : io.out)(formatDiagnostic(d));
  if (!r.ok || !r.plan) {
    io.err(`${file}: invalid policy; nothing rendered`);
    return EXIT.INVALID;
  }
  const plan = r.plan;
  const missing: string[] = [];
  const artefacts: Artefact[] = [];
  for (const target of plan.targets) {
    const m = offlineTarget(target);
    if (!m) {
      missing.push(target);
      continue;
    }
    try {
      artefacts.push(...m.artefacts(plan));
    } catch (e) {
      // A limit (quota, flow count) the renderer enforces: the whole render fails, nothing is written.
      io.err(`${file}: ${target} cannot render this policy: ${(e as Error).message}; nothing rendered`);
      return EXIT.INVALID;
    }
  }
  try {
    writeArtefacts(outDir, artefacts);
  } catch (e) {
    if (e instanceof InvalidInput) {
      io.err(e.message);
      return EXIT.INVALID;
    }
    throw e;
  }
  if (missing.length > 0)
    io.err(`no renderer is available yet for: ${missing.join(", ")} (their placements were not rendered)`);
  const written = artefacts.map((a) => a.path);
  io.out(
    `rendered ${written.length} file(s) into ${outDir}${written.length > 0 ? `:\n  ${written.join("\n  ")}` : ""}`,
  );
  return EXIT.OK;
}

/** Confines every artefact to `outDir`, then writes them all atomically; on failure leaves nothing new. */
function writeArtefacts(outDir: string, artefacts: readonly Artefact[]): void {
  const files: OutputFile[] = artefacts.map((a) => ({
    path: confinedPath(outDir, a.path),
    content: a.content,
  }));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path))
      throw new InvalidInput(`two artefacts would be written to ${f.path}; nothing was written`);
    seen.add(f.path);
  }
  const created: string[] = [];
  try {
    for (const dir of new Set([outDir, ...files.map((f) => dirname(f.path))])) {
      const first = mkdirSync(dir, { recursive: true });
      if (first !== undefined) created.push(first);
    }
    for (const f of files) assertInside(outDir, f.path);
    writeFilesAtomically(files);
  } catch (e) {
    // Directories this run created are removed again (they hold nothing of ours).
    for (const dir of created.reverse()) rmSync(dir, { recursive: true, force: true });
    throw e instanceof InvalidInput ? e : writeFailure(outDir, e);
  }
}
