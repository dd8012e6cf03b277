# dynamo_native: built by scripts/build-native.mjs (node-gyp, headers from the local node install).
# More sources go in `sources`; optional parts (CUDA, a later task) go under `conditions` keyed by
# a variable that defaults to off, so that the addon always builds without them.
{
  "variables": {"with_cuda%": 0},
  "targets": [
    {
      "target_name": "dynamo_native",
      "sources": ["src/addon.cc", "src/prefix_index.cc", "src/predictions.cc", "src/gpu.cc", "src/transfer.cc", "src/transfer_napi.cc", "src/transfer_ucx.cc", "src/transfer_cuda.cc", "src/transfer_device.cc", "src/cuda_driver.cc"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-exceptions", "-pthread"],
      "cflags_cc!": ["-fno-rtti"],
      "defines": ["NAPI_VERSION=8"],
      # dlopen (NVML and libcuda are opened at run time, never linked); part of libc from glibc 2.34.
      "libraries": ["-ldl", "-pthread"],
      "conditions": [
        ["with_cuda==1", {"defines": ["DYNAMO_WITH_CUDA=1"]}]
      ]
    }
  ]
}
