/**
 * `trtllm-serve serve` options: the click command in tensorrt_llm/commands/serve.py, TensorRT-LLM
 * v1.3.0rc7 (the newest whose full option list was stored; the project pins 1.4.0rc2). Names are
 * exactly as declared (underscores, no `-` forms); `--custom_module_dirs` may repeat, one value each.
 * No `--a/--b` boolean pairs in this release: the four flags are is_flag switches. Click stops at the
 * first unknown option (exit 2): `Usage: trtllm-serve serve [OPTIONS] MODEL` /
 * `Try 'trtllm-serve serve --help' for help.` / blank / `Error: No such option: --foo` (a close
 * match adds ` Did you mean --bar?`).
 */
import type {EngineCliFlags} from '../cli-flags-type.js';

export const TRTLLM_REFUSAL = {
  prog: 'trtllm-serve serve',
  usage: "Usage: trtllm-serve serve [OPTIONS] MODEL\nTry 'trtllm-serve serve --help' for help.",
  exitCode: 2,
  /** Click reports only the first offender: an unknown option, else the stray arguments. */
  unknown: (flags: string[]): string => {
    const option = flags.find((f) => f.startsWith('-'));
    if (option !== undefined) return `Error: No such option: ${option}`;
    return `Error: Got unexpected extra argument${flags.length > 1 ? 's' : ''} (${flags.join(' ')})`;
  },
};

export const TRTLLM_SERVE_FLAGS: EngineCliFlags = {
  source: 'NVIDIA/TensorRT-LLM tensorrt_llm/commands/serve.py (click command `serve`), v1.3.0rc7 as its generated trtllm-serve CLI reference lists it, option kinds from the source',
  values: [
    '--backend', '--chat_template', '--config', '--context_parallel_size', '--custom_module_dirs',
    '--custom_tokenizer', '--disagg_cluster_uri', '--extra_visual_gen_options',
    '--free_gpu_memory_fraction', '--gpus_per_node', '--host', '--kv_cache_dtype', '--log_level',
    '--max_batch_size', '--max_beam_width', '--max_num_tokens', '--max_seq_len',
    '--media_io_kwargs', '--metadata_server_config_file', '--moe_cluster_parallel_size',
    '--moe_expert_parallel_size', '--num_postprocess_workers', '--otlp_traces_endpoint',
    '--pipeline_parallel_size', '--port', '--reasoning_parser', '--revision',
    '--served_model_name', '--server_role', '--tensor_parallel_size', '--tokenizer',
    '--tool_parser',
  ],
  switches: [
    '--enable_chunked_prefill', '--fail_fast_on_attention_window_too_large', '--grpc', '--help',
    '--trust_remote_code',
  ],
  lists: [],
  aliases: {
    '--cluster_size': '--moe_cluster_parallel_size', '--cp_size': '--context_parallel_size',
    '--ep_size': '--moe_expert_parallel_size', '--extra_llm_api_options': '--config',
    '--kv_cache_free_gpu_memory_fraction': '--free_gpu_memory_fraction',
    '--pp_size': '--pipeline_parallel_size', '--tp_size': '--tensor_parallel_size',
  },
};
