import {describe, expect, it} from 'vitest';
import {checkEngineArgs} from './cli-check.js';

describe('engine arguments, as each engine\'s CLI takes them', () => {
  it('vLLM (argparse, flexible): values, switches, lists, --x=v, underscores, dotted JSON keys, unique prefixes, short aliases', () => {
    expect(checkEngineArgs('vllm', ['--max-model-len', '8192', '--enforce-eager', '--max_num_seqs=64', '--compilation-config.level', '3', '--served-model-name', 'a', 'b', '-tp', '2', '--max-num-batch', '4096'])).toBeUndefined();
    expect(checkEngineArgs('vllm', ['--enable-magic', 'x'])).toBe('vllm serve: error: unrecognized arguments: --enable-magic x');
    expect(checkEngineArgs('vllm', ['--max-model-len'])).toBe('argument --max-model-len: expected one argument');
    // An ambiguous prefix is not a name.
    expect(checkEngineArgs('vllm', ['--max'])).toMatch(/unrecognized arguments: --max$/);
  });

  it('SGLang (argparse): its own option names and its refusal wording', () => {
    expect(checkEngineArgs('sglang', ['--chunked-prefill-size', '4096', '--disable-cuda-graph', '--tp', '2'])).toBeUndefined();
    expect(checkEngineArgs('sglang', ['--max-model-len', '10'])).toBe('launch_server.py: error: unrecognized arguments: --max-model-len 10');
  });

  it('TensorRT-LLM (click): options as declared, no prefixes, the first unknown one named', () => {
    expect(checkEngineArgs('trtllm', ['--max_batch_size', '64', '--trust_remote_code'])).toBeUndefined();
    expect(checkEngineArgs('trtllm', ['--max_batch', '64'])).toBe('Error: No such option: --max_batch');
    expect(checkEngineArgs('trtllm', ['--max_batch_size'])).toBe("Option '--max_batch_size' requires an argument.");
  });
});
