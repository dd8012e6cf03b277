// The GPUs as NVML and the CUDA driver report them (gpu.cc), for `dynamo sanity`.
#pragma once
#include <node_api.h>

namespace dynamo {

// gpuProbe(options?: {cuda?: boolean}) → {nvml: {...}, cuda?: {...}}; never throws.
napi_value GpuProbe(napi_env env, napi_callback_info info);

// gpuBandwidth(sizeMiB?: number, ordinal?: number) → {ok: true, h2dGBps, d2dGBps, …} | {ok: false, error}; never throws.
napi_value GpuBandwidth(napi_env env, napi_callback_info info);

}  // namespace dynamo
