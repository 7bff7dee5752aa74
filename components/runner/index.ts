/**
 * components/runner — run a Pulumi program offline (in-process, under mocks) and record every
 * resource as registered: type token + resolved inputs. Generic: nothing blastradius-specific.
 */
export { defaultCall, defaultExtraState, defaultId } from "./mocks";
export { runProgram, runStackDir } from "./run";
export {
  encodeConfigValue,
  fullConfigKey,
  normalizeConfig,
  readProject,
  secretPlaceholder,
  selectStack,
} from "./stack-config";
export {
  type ConfigValue,
  DuplicateUrnError,
  type MockCallArgs,
  type MockResourceArgs,
  type RecordedLog,
  type RecordedResource,
  type RunnerMocks,
  type RunOptions,
  type RunResult,
  RunTimeoutError,
  StackDirError,
  type StackDirOptions,
  type StackDirResult,
  UNKNOWN,
} from "./types";
