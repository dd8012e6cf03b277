// The transfer agent's GPU side (transfer.h, transfer_cuda.h): the device memory opened on first
// need, the cuda backend between same-host peers, and host views of device ranges for the pattern
// helpers and the benchmark's yardstick.
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "transfer.h"
#include "transfer_cuda.h"

namespace dynamo::xfer {

DeviceMemory* Agent::devices(std::string* error) {
  std::lock_guard<std::mutex> lock(device_mu_);
  if (!device_ && device_why_.empty()) {
    device_ = DeviceMemory::open(device_ordinal_, &device_why_);
    if (!device_ && device_why_.empty()) device_why_ = "no CUDA device";
  }
  if (!device_) *error = device_why_;
  return device_.get();
}

int32_t Agent::run_cuda(Transfer& t, Peer& p, std::string* error) {
  DeviceMemory* dm = devices(error);
  if (!dm) return kNotSupported;
  // The peer's device address of each remote range: as it is when the peer lives in this process
  // (CUDA refuses to open its own IPC handles), else its handle opened here once per region.
  std::vector<uint8_t*> remote;
  for (auto& r : t.remote) {
    auto it = p.device.find(r.region);
    if (it == p.device.end()) {
      *error = "region " + std::to_string(r.region) + " of " + p.name + " has no CUDA handle in its metadata";
      return kInvalidParam;
    }
    uint64_t base = it->second.first;
    if (p.pid != ::getpid()) {
      auto m = p.device_mapped.find(r.region);
      if (m == p.device_mapped.end()) {
        if (!dm->open_peer(it->second.second, &base, error)) return kRemoteDisconnect;
        p.device_mapped[r.region] = base;
        p.device_memory = dm;
      } else {
        base = m->second;
      }
    }
    remote.push_back(reinterpret_cast<uint8_t*>(base) + r.offset);
  }
  std::vector<Span> local;
  if (!local_ranges(t.local, &local, error)) return kInvalidParam;
  for (size_t i = 0; i < local.size(); i++) {
    bool ok = t.op == Op::kRead ? dm->copy(local[i].ptr, remote[i], local[i].len, error) : dm->copy(remote[i], local[i].ptr, local[i].len, error);
    if (!ok) return kBackendError;
    t.bytes += local[i].len;
  }
  if (!dm->sync(error)) return kBackendError;
  if (!t.notif.empty()) return send_notif(p, t.notif, error);
  return kSuccess;
}

bool Agent::host_view(const Desc& d, bool write, const std::function<void(uint8_t*, uint64_t)>& fn, std::string* error) {
  uint8_t* at = nullptr;
  bool device = false;
  {
    std::lock_guard<std::mutex> lock(regions_mu_);
    if (d.region >= regions_.size() || !regions_[d.region].base || d.offset + d.length > regions_[d.region].size || d.offset + d.length < d.offset) {
      *error = "the range is not inside a region";
      return false;
    }
    at = regions_[d.region].base + d.offset;
    device = regions_[d.region].device;
  }
  if (!device) {
    fn(at, d.length);
    return true;
  }
  DeviceMemory* dm = devices(error);
  std::vector<uint8_t> staged(d.length);
  if (!dm || !dm->copy(staged.data(), at, d.length, error) || !dm->sync(error)) return false;
  fn(staged.data(), d.length);
  return !write || (dm->copy(at, staged.data(), d.length, error) && dm->sync(error));
}

int64_t Agent::plain_copy_ns(Agent& dst, Agent& src, const std::vector<Desc>& d, const std::vector<Desc>& s, std::string* error) {
  std::vector<Span> to, from;
  if (d.size() != s.size() || !dst.check_local(d, error) || !src.check_local(s, error) || !dst.local_ranges(d, &to, error) || !src.local_ranges(s, &from, error)) return -1;
  bool device = false;
  for (size_t i = 0; i < to.size(); i++) {
    if (to[i].len != from[i].len) return *error = "range " + std::to_string(i) + " differs in length", -1;
    device = device || to[i].device || from[i].device;
  }
  DeviceMemory* dm = device ? dst.devices(error) : nullptr;
  if (device && !dm) return -1;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < to.size(); i++)
    if (dm) dm->copy(to[i].ptr, from[i].ptr, to[i].len, error);
    else std::memcpy(to[i].ptr, from[i].ptr, to[i].len);
  if (dm && !dm->sync(error)) return -1;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace dynamo::xfer
