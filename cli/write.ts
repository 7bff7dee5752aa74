import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { InvalidInput, type Io } from "./io";

/** A file to write: where, and its whole content. */
export interface OutputFile {
  path: string;
  content: string;
}

/** What a failed write says: the file, the system's reason and what to do (never a stack trace). */
export function writeFailure(path: string, e: unknown): InvalidInput {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === "ENOSPC"
      ? "no space left on the device"
      : err.code === "EACCES" || err.code === "EPERM"
        ? "permission denied"
        : err.code === "ENOTDIR"
          ? "a part of the path is a file, not a directory"
          : err.code === "EISDIR"
            ? "it is a directory"
            : err.code === "EROFS"
              ? "the file system is read-only"
              : (err.message ?? String(e));
  return new InvalidInput(
    `cannot write ${path}: ${why}${err.code ? ` (${err.code})` : ""}; nothing was written`,
  );
}

function writeWhole(path: string, content: string): void {
  // "wx": the temporary name is fresh; a file planted there in advance is an error, not a target.
  const fd = openSync(path, "wx", 0o644);
  try {
    const data = Buffer.from(content, "utf8");
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Where a file really goes. A symbolic link is written through (its target is replaced, the link
 * stays); a destination that is not a regular file (a named pipe, `/dev/stdout`, a device) is
 * written into, not replaced: renaming a file over it would swap the pipe or device node for a
 * file and the reader would get nothing.
 */
function destinationOf(path: string): { path: string; direct: boolean } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return { path, direct: false };
  }
  if (st.isDirectory()) return { path, direct: false };
  if (!st.isFile() || /^\/(dev|proc)\//.test(resolve(path))) return { path, direct: true };
  return { path: realpathSync(path), direct: false };
}

function writeInto(path: string, content: string): void {
  const fd = openSync(path, "w");
  try {
    const data = Buffer.from(content, "utf8");
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a set of files so that none is ever half-written and the set is all or nothing: each
 * content goes to a temporary file beside its destination (same directory, so the same file
 * system), and only when every one is complete are they renamed into place (rename replaces a file
 * atomically). On any error the temporary files are removed and an InvalidInput names the file and
 * the reason (ENOSPC, EACCES, ENOTDIR…), so the CLI exits 2 with nothing left behind.
 */
export function writeFilesAtomically(files: readonly OutputFile[]): void {
  const staged: Array<{ temp: string; path: string }> = [];
  const unstage = () => {
    for (const s of staged)
      try {
        unlinkSync(s.temp);
      } catch {
        // Already gone.
      }
  };
  const streams: OutputFile[] = [];
  for (const given of files) {
    const where = destinationOf(given.path);
    if (where.direct) {
      streams.push(given);
      continue;
    }
    const f = { ...given, path: where.path };
    const dir = dirname(f.path);
    const temp = join(dir, `.${basename(f.path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      mkdirSync(dir, { recursive: true });
      staged.push({ temp, path: f.path });
      writeWhole(temp, f.content);
    } catch (e) {
      unstage();
      throw writeFailure(f.path, e);
    }
  }
  for (let i = 0; i < staged.length; i++) {
    try {
      renameSync(staged[i]!.temp, staged[i]!.path);
    } catch (e) {
      unstage();
      throw writeFailure(staged[i]!.path, e);
    }
  }
  // Pipes and devices last, once the files are in place: they cannot be staged.
  for (const f of streams)
    try {
      writeInto(f.path, f.content);
    } catch (e) {
      throw writeFailure(f.path, e);
    }
}

/**
 * A command's output files (`--json`, `--markdown`, `--emit`, `--out`), written atomically; a
 * failure is said on stderr in one line and the command exits 2 (false here).
 */
export function writeOutputs(files: readonly OutputFile[], io: Pick<Io, "err">): boolean {
  try {
    writeFilesAtomically(files);
    return true;
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    io.err(e.message);
    return false;
  }
}

/** One file, atomically (see writeFilesAtomically). */
export function writeFileAtomically(path: string, content: string): void {
  writeFilesAtomically([{ path, content }]);
}

/**
 * The destination of an artefact's relative path inside `outDir`, refused unless it stays inside:
 * no absolute path, no "..", and no symbolic link on the way that leads out. `check` already
 * refuses names that could do this; this is the second line (defence in depth).
 */
export function confinedPath(outDir: string, relativePath: string): string {
  const refuse = (why: string) =>
    new InvalidInput(`refusing to write ${JSON.stringify(relativePath)}: ${why}; nothing was written`);
  if (relativePath === "" || isAbsolute(relativePath) || relativePath.includes("\0"))
    throw refuse("not a relative file name");
  if (relativePath.split(/[\\/]/).some((part) => part === ".." || part === "." || part === ""))
    throw refuse(`it would leave ${outDir}`);
  const root = resolve(outDir);
  const target = resolve(root, relativePath);
  const rel = relative(root, target);
  if (rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) throw refuse(`it would leave ${outDir}`);
  return target;
}

/**
 * After the directories exist: every directory between `outDir` and the file is a real directory
 * inside `outDir` (a symbolic link planted in the output directory must not redirect a write).
 */
export function assertInside(outDir: string, target: string): void {
  const root = realpathSync(outDir);
  const parent = realpathSync(dirname(target));
  const rel = relative(root, parent);
  if (rel.startsWith("..") || isAbsolute(rel))
    throw new InvalidInput(
      `refusing to write ${target}: ${dirname(target)} leads outside ${outDir} (a symbolic link?); nothing was written`,
    );
}
