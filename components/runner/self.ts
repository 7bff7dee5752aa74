/**
 * The blastradius package resolving itself. A stack program imports `blastradius/<target>`; when
 * the runner runs it, those imports must reach this very copy of the library (the one whose
 * runner records the resources), wherever the program lives: inside this repository (no
 * node_modules/blastradius there), in a template copied elsewhere, or in a user's project.
 */
import { existsSync, readFileSync } from "node:fs";
import Module from "node:module";
import { basename, dirname, join } from "node:path";

/** The root of the compiled or source tree this file belongs to (`dist/` or the repository). */
const CODE_ROOT = join(__dirname, "..", "..");
/** The package root (with package.json, schema/, agent/, policypack/). */
export const PACKAGE_ROOT = basename(CODE_ROOT) === "dist" ? dirname(CODE_ROOT) : CODE_ROOT;

/**
 * Each public subpath of the package (package.json `exports`) → its module, relative to the code
 * root, without extension. `test/runner/self.test.ts` checks this against package.json.
 */
export const SELF_MODULES: Readonly<Record<string, string>> = {
  blastradius: "lib/index",
  "blastradius/components": "components/index",
  "blastradius/aws": "components/aws/index",
  "blastradius/gcp": "components/gcp/index",
  "blastradius/azure": "components/azure/index",
  "blastradius/cilium": "components/cilium/index",
  "blastradius/bluefield": "components/bluefield/index",
  "blastradius/testing": "components/testing/index",
  "blastradius/policypack": "components/policypack/index",
};

/** The file a request for this package resolves to (without extension for modules), or undefined. */
export function selfPath(request: string): string | undefined {
  const mod = SELF_MODULES[request];
  if (mod) return join(CODE_ROOT, mod);
  if (request === "blastradius/package.json") return join(PACKAGE_ROOT, "package.json");
  if (request.startsWith("blastradius/schema/"))
    return join(PACKAGE_ROOT, request.slice("blastradius/".length));
  return undefined;
}

/** This package's version (package.json), from source or from dist/. */
export function packageVersion(): string {
  const file = join(PACKAGE_ROOT, "package.json");
  if (!existsSync(file)) return "unknown";
  return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? "unknown";
}

type Resolve = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;
const M = Module as unknown as { _resolveFilename: Resolve };

/**
 * Until the returned function is called, `require("blastradius…")` from any module resolves to
 * this copy of the package (other requests are untouched). Installed over whatever resolver is in
 * place (tsx's included), so TypeScript sources resolve as such.
 */
export function resolveSelf(): () => void {
  const previous = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request, parent, isMain, options) {
    const mapped = request.startsWith("blastradius") ? selfPath(request) : undefined;
    return previous.call(this, mapped ?? request, parent, isMain, options);
  };
  return () => {
    M._resolveFilename = previous;
  };
}
