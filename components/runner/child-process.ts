/**
 * The parent side of a stack directory's run in a child process: fork `child.ts` (or its compiled
 * `child.js`) in the project directory, hand it the prepared run, and take back the recorded
 * resources, or an error. A program that does not finish in time is killed, whatever it is doing.
 */
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import type { PreparedStackDir } from "./run";
import { DuplicateUrnError, RunTimeoutError, StackDirError, type StackDirResult } from "./types";

/** What the child sends back. */
export type ChildMessage =
  | { ok: true; result: StackDirResult }
  | {
      ok: false;
      error: {
        name: string;
        message: string;
        urn?: string;
        first?: DuplicateUrnError["first"];
        second?: DuplicateUrnError["second"];
      };
    };

/** How much of the child's output an error quotes (the rest was forwarded to stderr as it came). */
const OUTPUT_TAIL_BYTES = 4096;

function childScript(): string {
  const compiled = path.join(__dirname, "child.js");
  return existsSync(compiled) ? compiled : path.join(__dirname, "child.ts");
}

function errorFrom(e: Extract<ChildMessage, { ok: false }>["error"]): Error {
  if (e.name === "DuplicateUrnError" && e.urn && e.first && e.second)
    return new DuplicateUrnError(e.urn, e.first, e.second);
  if (e.name === "StackDirError") return new StackDirError(e.message);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export async function runInChildProcess(
  p: PreparedStackDir,
  options: { timeoutMs: number; cwd: string },
): Promise<StackDirResult> {
  // tsx loads TypeScript programs (and, from the repository's sources, the child itself).
  const tsx = require.resolve("tsx/cjs");
  const child = fork(childScript(), [], {
    cwd: options.cwd,
    execArgv: ["--require", tsx],
    env: { ...process.env, BLASTRADIUS_RUNNER_CHILD: "1" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "advanced",
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    // The program's output goes to stderr (stdout belongs to the command that runs the review).
    process.stderr.write(chunk);
    tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const outputTail = () =>
    tail.trim() === ""
      ? ""
      : `\n(the last ${OUTPUT_TAIL_BYTES} bytes of its output, at most:)\n${tail.trimEnd()}`;

  return new Promise<StackDirResult>((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const timer =
      Number.isFinite(options.timeoutMs) && options.timeoutMs > 0
        ? setTimeout(() => {
            child.kill("SIGKILL");
            finish(() => reject(new RunTimeoutError(options.timeoutMs, p.root)));
          }, options.timeoutMs)
        : undefined;
    child.on("message", (m: ChildMessage) => {
      finish(() => (m.ok ? resolve(m.result) : reject(errorFrom(m.error))));
    });
    child.on("error", (e) => finish(() => reject(e)));
    child.on("exit", (code, signal) => {
      finish(() =>
        reject(
          new Error(
            `the Pulumi program in ${p.root} exited (${signal ? `signal ${signal}` : `code ${code}`}) before it finished${outputTail()}`,
          ),
        ),
      );
    });
    child.send(p);
  });
}
