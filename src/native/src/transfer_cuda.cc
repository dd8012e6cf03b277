// Device memory for the transfer agent (transfer_cuda.h).
#include "transfer_cuda.h"

#include <cstring>

#include "hex.h"

namespace dynamo::xfer {

using namespace cuda;

std::unique_ptr<DeviceMemory> DeviceMemory::open(int ordinal, std::string* why) {
  Driver& d = driver();
  if (!d.load()) return *why = "no CUDA driver: " + d.error, nullptr;
  if (!d.cuInit || !d.cuDeviceGet || !d.cuDevicePrimaryCtxRetain || !d.cuCtxSetCurrent || !d.cuMemAlloc_v2 || !d.cuMemFree_v2 || !d.cuMemsetD8_v2 ||
      !d.cuMemcpyAsync || !d.cuStreamCreate || !d.cuStreamSynchronize || !d.cuIpcGetMemHandle || !d.cuIpcOpenMemHandle_v2 || !d.cuIpcCloseMemHandle)
    return *why = std::string(Driver::file()) + " lacks an entry point the transfer agent needs (a driver older than CUDA 11?)", nullptr;
  CUresult rc = d.cuInit(0);
  if (rc != CUDA_SUCCESS) return *why = d.err("cuInit", rc), nullptr;
  std::unique_ptr<DeviceMemory> m(new DeviceMemory());
  if ((rc = d.cuDeviceGet(&m->device_, ordinal)) != CUDA_SUCCESS) return *why = d.err("cuDeviceGet", rc), nullptr;
  if ((rc = d.cuDevicePrimaryCtxRetain(&m->ctx_, m->device_)) != CUDA_SUCCESS) return m->ctx_ = nullptr, *why = d.err("cuDevicePrimaryCtxRetain", rc), nullptr;
  if (!m->current(why)) return nullptr;
  if ((rc = d.cuStreamCreate(&m->stream_, CU_STREAM_NON_BLOCKING)) != CUDA_SUCCESS) return m->stream_ = nullptr, *why = d.err("cuStreamCreate", rc), nullptr;
  return m;
}

DeviceMemory::~DeviceMemory() {
  Driver& d = driver();
  if (stream_ && d.cuStreamDestroy_v2 && current(nullptr)) d.cuStreamDestroy_v2(stream_);
  if (ctx_ && d.cuDevicePrimaryCtxRelease_v2) d.cuDevicePrimaryCtxRelease_v2(device_);
}

bool DeviceMemory::current(std::string* error) {
  CUresult rc = driver().cuCtxSetCurrent(ctx_);
  if (rc == CUDA_SUCCESS) return true;
  if (error) *error = driver().err("cuCtxSetCurrent", rc);
  return false;
}

bool DeviceMemory::allocate(uint64_t size, uint64_t* dptr, std::string* handle, std::string* error) {
  Driver& d = driver();
  if (!current(error)) return false;
  CUdeviceptr p = 0;
  CUresult rc = d.cuMemAlloc_v2(&p, size);
  if (rc != CUDA_SUCCESS) return *error = d.err("cuMemAlloc_v2", rc), false;
  CUipcMemHandle h{};
  if ((rc = d.cuMemsetD8_v2(p, 0, size)) != CUDA_SUCCESS || (rc = d.cuIpcGetMemHandle(&h, p)) != CUDA_SUCCESS) {
    *error = d.err("cuMemsetD8/cuIpcGetMemHandle", rc);
    d.cuMemFree_v2(p);
    return false;
  }
  *dptr = p;
  *handle = hex(&h, sizeof h);
  return true;
}

void DeviceMemory::free(uint64_t dptr) {
  if (current(nullptr)) driver().cuMemFree_v2(dptr);
}

bool DeviceMemory::open_peer(const std::string& handle, uint64_t* dptr, std::string* error) {
  CUipcMemHandle h{};
  std::string bytes = unhex(handle);
  if (bytes.size() != sizeof h) return *error = "malformed CUDA IPC handle in the peer's metadata", false;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (!current(error)) return false;
  CUdeviceptr p = 0;
  CUresult rc = driver().cuIpcOpenMemHandle_v2(&p, h, CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS);
  if (rc != CUDA_SUCCESS) return *error = driver().err("cuIpcOpenMemHandle", rc), false;
  *dptr = p;
  return true;
}

void DeviceMemory::close_peer(uint64_t dptr) {
  if (current(nullptr)) driver().cuIpcCloseMemHandle(dptr);
}

bool DeviceMemory::copy(void* dst, const void* src, uint64_t n, std::string* error) {
  if (!current(error)) return false;
  CUresult rc = driver().cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst), reinterpret_cast<CUdeviceptr>(src), n, stream_);
  if (rc != CUDA_SUCCESS) return *error = driver().err("cuMemcpyAsync", rc), false;
  return true;
}

bool DeviceMemory::sync(std::string* error) {
  if (!current(error)) return false;
  CUresult rc = driver().cuStreamSynchronize(stream_);
  if (rc != CUDA_SUCCESS) return *error = driver().err("cuStreamSynchronize", rc), false;
  return true;
}

}  // namespace dynamo::xfer
