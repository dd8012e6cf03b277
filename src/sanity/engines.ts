/**
 * What `dynamo sanity` knows of each engine a config may name: how to call it in a finding, and for
 * the real engines the Python package and version Dynamo 1.7 pins (dynamo-2026.md §0; the launch
 * lines in src/engines/ follow the same versions) with the CUDA the NVIDIA driver must support for
 * that version. The mocker (and any engine that is not a real one) needs no GPU and no CUDA.
 *
 * CUDA per engine, at the pinned version (sources in docs/sanity.md). A fact of the pin, not a
 * tunable threshold, so it lives here beside the pins rather than in sanity/gpu.yaml:
 * - vLLM 0.33: its PyPI wheel is built for CUDA 13.0 (the default since vLLM 0.20, vllm#39878), on
 *   PyTorch 2.13, which publishes no CUDA 12.9 builds.
 * - SGLang 0.5.23: CUDA 13 only (0.5.19 was the last release with a CUDA 12 lane).
 * - TensorRT-LLM 1.4.0rc2: wheels on PyTorch cu130, installed beside CUDA 13.2. A CUDA 13.0 driver
 *   (R580) runs 13.2 code by CUDA minor-version compatibility, except kernels compiled at run time,
 *   which need a 13.2 driver or the cuda-compat-13-2 package: hence `builtWith`, a warning band.
 */
export const GPU_ENGINES = ['vllm', 'sglang', 'trtllm'] as const;
export type GpuEngine = (typeof GPU_ENGINES)[number];

/** Engines that run on NVIDIA GPUs (the mocker and llama.cpp need none). */
export const needsGpus = (engine: string): engine is GpuEngine => (GPU_ENGINES as readonly string[]).includes(engine);

export const ENGINE_NAMES: Readonly<Record<string, string>> = {vllm: 'vLLM', sglang: 'SGLang', trtllm: 'TensorRT-LLM', mocker: 'the mocker', llamacpp: 'llama.cpp'};

/** "vLLM", "the mocker"; an unknown engine by its config name. */
export const engineName = (engine: string): string => ENGINE_NAMES[engine] ?? engine;

/** The Python distribution of each engine and the version Dynamo 1.7 pins. `accepts`: the installed versions that match the pin (vLLM: any patch of its minor; the others: exactly). */
export const ENGINE_PACKAGES: Readonly<Record<GpuEngine, {dist: string; pin: string; accepts: RegExp; install: string}>> = {
  vllm: {dist: 'vllm', pin: '0.33.0', accepts: /^0\.33\./, install: 'pip install vllm==0.33.*'},
  sglang: {dist: 'sglang', pin: '0.5.23', accepts: /^0\.5\.23(\.post\d+)?$/, install: 'pip install sglang==0.5.23'},
  trtllm: {dist: 'tensorrt_llm', pin: '1.4.0rc2', accepts: /^1\.4\.0rc2$/, install: 'pip install tensorrt-llm==1.4.0rc2'},
};

/**
 * The CUDA an engine's pinned version needs from the driver: below `minCuda` it cannot start; below
 * `builtWith` (when set) it starts by minor-version compatibility, with the caveat above.
 */
export interface CudaNeed {
  minCuda: string;
  builtWith?: string;
}

export const ENGINE_CUDA: Readonly<Record<GpuEngine, CudaNeed>> = {
  vllm: {minCuda: '13.0'},
  sglang: {minCuda: '13.0'},
  trtllm: {minCuda: '13.0', builtWith: '13.2'},
};
