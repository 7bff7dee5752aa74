#!/usr/bin/env node
import { processIo } from "./io";
import { internalError, run } from "./program";

// Whatever escapes (an error thrown from a stream callback, a rejected promise nobody awaited) still
// ends as one line and exit 2: the exit codes are 0, 1 and 2, never a stack trace.
const fatal = (e: unknown) => {
  process.exitCode = internalError(e, processIo);
  process.exit();
};
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);

run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, fatal);
