/**
 * The child process of `runStackDir`: receives a prepared run from its parent, runs the program
 * under mocks in this (disposable) process, sends the result or the error back, and exits. The
 * parent kills it when it takes too long.
 */
import type { ChildMessage } from "./child-process";
import { type PreparedStackDir, runPreparedStackDir } from "./run";
import { resolveSelf } from "./self";

/** Only plain data crosses back: functions and symbols in outputs are dropped, bigints become strings. */
function plain<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v) =>
      typeof v === "bigint" ? v.toString() : typeof v === "function" || typeof v === "symbol" ? undefined : v,
    ) ?? "null",
  ) as T;
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    process.send!(message, () => resolve());
  });
}

process.once("message", async (p: PreparedStackDir) => {
  resolveSelf();
  let message: ChildMessage;
  try {
    const result = await runPreparedStackDir(p, {}, (entry) => require(entry));
    message = { ok: true, result: { ...result, outputs: plain(result.outputs) } };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const dup = err as Partial<{ urn: string; first: unknown; second: unknown }>;
    message = {
      ok: false,
      error: {
        name: err.name,
        message: err.message,
        ...(typeof dup.urn === "string" ? { urn: dup.urn, first: dup.first, second: dup.second } : {}),
      } as Extract<ChildMessage, { ok: false }>["error"],
    };
  }
  await send(message);
  process.exit(0);
});
