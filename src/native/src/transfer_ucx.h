// The UCX backend of the transfer agent (transfer.h): one-sided RMA (ucp_get/ucp_put) over
// whichever transports UCX picks (cma/sysv/posix on one host, tcp across hosts, RDMA where there
// is hardware). libucp is opened with dlopen at run time, never linked, so the addon (and the
// binary) load where UCX is absent; built without UCX's headers, the backend reports that instead.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dynamo::xfer {

class Ucx {
 public:
  // Opens libucp and starts a worker with its progress thread; nullptr with `why` when it cannot.
  static std::unique_ptr<Ucx> open(std::string* why);
  ~Ucx();

  // What peers need: the worker's address and, per mapped region, its base address and packed key.
  std::string metadata() const;
  bool map_region(uint32_t region, uint8_t* base, uint64_t size, std::string* error);
  // A region of memory UCX allocates itself (a shared-memory segment where it can), so a peer on the
  // same host maps it and copies at memcpy speed instead of through the kernel (cma); its base, or
  // nullptr with `error`. unmap_region frees it.
  uint8_t* allocate_region(uint32_t region, uint64_t size, std::string* error);
  void unmap_region(uint32_t region);

  // Loads what a peer's metadata said of its UCX side (the `ucx=…` fields); replaces older state.
  bool load_peer(const std::string& name, const std::string& fields, std::string* error);
  void forget_peer(const std::string& name);
  bool knows(const std::string& name) const;

  // READ (get) or WRITE (put) of range pairs with the peer; returns a NIXL status.
  int32_t transfer(bool read, const std::string& peer, bool same_host, const std::vector<std::pair<uint8_t*, uint64_t>>& local,
                   const std::vector<std::pair<uint32_t, uint64_t>>& remote /* region, offset */, int timeout_ms, std::string* error);

  struct Impl;

 private:
  explicit Ucx(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dynamo::xfer
