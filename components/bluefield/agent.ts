import { existsSync } from "node:fs";
import { join } from "node:path";

/** The agent script shipped with the package (agent/blastradius-agent), from source or from dist/. */
export const AGENT_PATH: string | undefined = [
  join(__dirname, "..", "..", "agent", "blastradius-agent"),
  join(__dirname, "..", "..", "..", "agent", "blastradius-agent"),
].find((p) => existsSync(p));
