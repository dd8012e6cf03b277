// The transfer agent's device memory (transfer.h): regions in GPU memory through the CUDA driver
// API (cuda_driver.h, opened at run time). A region is cuMemAlloc'd on the agent's device and
// exported with cuIpcGetMemHandle; a peer on the same host opens that handle (cuIpcOpenMemHandle)
// and copies device to device on its own stream, over NVLink or PCIe as the GPUs are wired. Copies
// use unified addressing, so one call moves device↔device and device↔host alike (host staging for
// TCP, and the pattern helpers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cuda_driver.h"

namespace dynamo::xfer {

class DeviceMemory {
 public:
  // The device's primary context and a stream of the agent's; nullptr with `why` (no driver, no device).
  static std::unique_ptr<DeviceMemory> open(int ordinal, std::string* why);
  ~DeviceMemory();

  // A zero-filled allocation and its IPC handle (hex); false with `error`.
  bool allocate(uint64_t size, uint64_t* dptr, std::string* handle, std::string* error);
  void free(uint64_t dptr);

  // A peer's allocation mapped here from its handle; false with `error`. close_peer unmaps it.
  bool open_peer(const std::string& handle, uint64_t* dptr, std::string* error);
  void close_peer(uint64_t dptr);

  // Queues a copy of `n` bytes (either side device or host memory); sync waits for all queued.
  bool copy(void* dst, const void* src, uint64_t n, std::string* error);
  bool sync(std::string* error);

 private:
  DeviceMemory() = default;
  bool current(std::string* error);  // the context is current on the calling thread
  cuda::CUdevice device_ = 0;
  cuda::CUcontext ctx_ = nullptr;
  cuda::CUstream stream_ = nullptr;
};

}  // namespace dynamo::xfer
