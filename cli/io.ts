/** Where a command writes; the bin writes to the process streams, tests capture. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes (a public contract): 0 proven/valid, 1 proof failed, 2 invalid input. */
export const EXIT = { OK: 0, PROOF_FAILED: 1, INVALID: 2 } as const;

/** An error that maps to exit code 2 with a message and nothing else printed. */
export class InvalidInput extends Error {}
