/**
 * Config values the schema names for what later releases build (the cpu engine; engine arguments
 * for the mocker, which takes none) but nothing runs yet. They stay in the schema, so the JSON Schema and configs
 * keep their shape, and are refused at load time with what to do instead: a value the schema
 * accepts must be a value that runs.
 */
import {UserError} from '../shared/errors.js';

/** Engines this build can run. */
export const AVAILABLE_ENGINES: readonly string[] = ['mocker', 'vllm', 'sglang', 'trtllm'];

/** A refinement's options: the message, and the fix the loader prints under it. */
const refusal = (message: string | ((input: unknown) => string), fix: string) => ({
  error: (iss: {input: unknown}) => (typeof message === 'string' ? message : message(iss.input)),
  params: {fix},
});

const ENGINE_FIX = 'use engine: vllm, sglang or trtllm (on a machine with NVIDIA GPUs and the engine installed), or mocker (--engine mocker): it simulates a GPU with real KV-cache bookkeeping and modelled timing, and runs anywhere';

export const NOT_YET = {
  engine: refusal((engine) => `"${engine}" is not available yet in this build`, ENGINE_FIX),
  engineArgs: refusal(
    'the mocker takes no engine arguments',
    'remove it; size the mocker with mocker.gpuMemoryGb, mocker.numGpuBlocks, mocker.maxNumSeqs and mocker.maxNumBatchedTokens (engine arguments are for vllm, sglang and trtllm)',
  ),
};

/** `dynamo worker --engine X` for an engine this build cannot run: the same words as the config's refusal. */
export function engineNotAvailable(engine: string): UserError | undefined {
  return AVAILABLE_ENGINES.includes(engine) ? undefined : new UserError(`engine "${engine}" is not available yet in this build`, ENGINE_FIX);
}
