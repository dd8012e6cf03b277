// The CUDA driver API (libcuda.so.1), opened with dlopen on first use and never linked: the few
// types and entry points used are declared here from the public driver API reference, so the addon
// builds without CUDA and loads on machines without a driver. Shared by the sanity probe (gpu.cc)
// and the transfer agent's device memory (transfer_cuda.cc).
//
// Every entry point is optional: one a driver lacks (older than the call) is null, and callers
// check before use. The library stays open for the life of the process (unloading libcuda while
// its threads run is unsafe). DYNAMO_LIBCUDA names another file to open instead (a driver outside
// the loader's path, or the tests' stand-in on machines without a GPU).
#pragma once

#include <cstddef>
#include <string>

namespace dynamo::cuda {

using CUresult = int;
using CUdevice = int;
using CUcontext = struct CUctx_st*;
using CUstream = struct CUstream_st*;
using CUdeviceptr = unsigned long long;  // CUdeviceptr_v2 on 64-bit hosts
struct CUipcMemHandle {
  char reserved[64];
};

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr unsigned CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS = 1;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;

// X(name, return type, parameter types…): the entry points used, by their exported (versioned) names.
#define DYNAMO_CUDA_API(X)                                                \
  X(cuInit, CUresult, unsigned int)                                       \
  X(cuDriverGetVersion, CUresult, int*)                                   \
  X(cuDeviceGetCount, CUresult, int*)                                     \
  X(cuDeviceGet, CUresult, CUdevice*, int)                                \
  X(cuDeviceGetName, CUresult, char*, int, CUdevice)                      \
  X(cuDeviceGetAttribute, CUresult, int*, int, CUdevice)                  \
  X(cuDeviceTotalMem_v2, CUresult, size_t*, CUdevice)                     \
  X(cuDeviceGetPCIBusId, CUresult, char*, int, CUdevice)                  \
  X(cuDeviceCanAccessPeer, CUresult, int*, CUdevice, CUdevice)            \
  X(cuGetErrorName, CUresult, CUresult, const char**)                     \
  X(cuGetErrorString, CUresult, CUresult, const char**)                   \
  X(cuCtxCreate_v2, CUresult, CUcontext*, unsigned int, CUdevice)         \
  X(cuCtxDestroy_v2, CUresult, CUcontext)                                 \
  X(cuCtxSynchronize, CUresult, void)                                     \
  X(cuCtxSetCurrent, CUresult, CUcontext)                                 \
  X(cuDevicePrimaryCtxRetain, CUresult, CUcontext*, CUdevice)             \
  X(cuDevicePrimaryCtxRelease_v2, CUresult, CUdevice)                     \
  X(cuMemAlloc_v2, CUresult, CUdeviceptr*, size_t)                        \
  X(cuMemFree_v2, CUresult, CUdeviceptr)                                  \
  X(cuMemAllocHost_v2, CUresult, void**, size_t)                          \
  X(cuMemFreeHost, CUresult, void*)                                       \
  X(cuMemsetD8_v2, CUresult, CUdeviceptr, unsigned char, size_t)          \
  X(cuMemcpyHtoD_v2, CUresult, CUdeviceptr, const void*, size_t)          \
  X(cuMemcpyDtoD_v2, CUresult, CUdeviceptr, CUdeviceptr, size_t)          \
  X(cuMemcpyAsync, CUresult, CUdeviceptr, CUdeviceptr, size_t, CUstream)  \
  X(cuStreamCreate, CUresult, CUstream*, unsigned int)                    \
  X(cuStreamDestroy_v2, CUresult, CUstream)                               \
  X(cuStreamSynchronize, CUresult, CUstream)                              \
  X(cuIpcGetMemHandle, CUresult, CUipcMemHandle*, CUdeviceptr)            \
  X(cuIpcOpenMemHandle_v2, CUresult, CUdeviceptr*, CUipcMemHandle, unsigned int) \
  X(cuIpcCloseMemHandle, CUresult, CUdeviceptr)

struct Driver {
  void* handle = nullptr;
  std::string error;  // why the library could not be opened
#define DYNAMO_CUDA_DECLARE(name, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
  DYNAMO_CUDA_API(DYNAMO_CUDA_DECLARE)
#undef DYNAMO_CUDA_DECLARE

  // Opens the library once (thread-safe); false with `error` when it cannot be.
  bool load();
  // "call: NAME (text)" for a failed call.
  std::string err(const char* call, CUresult rc) const;
  // The file opened: DYNAMO_LIBCUDA or libcuda.so.1.
  static const char* file();
};

// The process's one driver.
Driver& driver();

}  // namespace dynamo::cuda
