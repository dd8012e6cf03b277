/**
 * Config values the schema names for what later releases build but nothing runs yet: today,
 * engine arguments for the mocker (which takes none). They stay in the schema, so the JSON Schema
 * and configs keep their shape, and are refused at load time with what to do instead: a value the
 * schema accepts must be a value that runs.
 */
import {ENGINES} from './engines.js';

/** Engines this build can run: every one the schema names (src/sanity words its findings with it). */
export const AVAILABLE_ENGINES: readonly string[] = ENGINES;

/** A refinement's options: the message, and the fix the loader prints under it. */
const refusal = (message: string, fix: string) => ({
  error: () => message,
  params: {fix},
});

export const NOT_YET = {
  engineArgs: refusal(
    'the mocker takes no engine arguments',
    'remove it; size the mocker with mocker.gpuMemoryGb, mocker.numGpuBlocks, mocker.maxNumSeqs and mocker.maxNumBatchedTokens (engine arguments are for vllm, sglang and trtllm)',
  ),
};
