// The UCX backend (transfer_ucx.h). Every UCX call goes through a pointer found with dlsym, so the
// addon never links libucp; the headers only give the types and the API version.
#include "transfer_ucx.h"

#include "hex.h"
#include "transfer.h"

#if __has_include(<ucp/api/ucp.h>)
#define DYNAMO_HAVE_UCX_HEADERS 1
#include <dlfcn.h>
#include <poll.h>
#include <ucp/api/ucp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>
#endif

namespace dynamo::xfer {

#ifndef DYNAMO_HAVE_UCX_HEADERS

struct Ucx::Impl {};
Ucx::Ucx(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ucx::~Ucx() = default;
std::unique_ptr<Ucx> Ucx::open(std::string* why) {
  *why = "this build has no UCX backend (UCX's headers, Debian's libucx-dev, were missing when it was built)";
  return nullptr;
}
std::string Ucx::metadata() const { return ""; }
bool Ucx::map_region(uint32_t, uint8_t*, uint64_t, std::string*) { return false; }
uint8_t* Ucx::allocate_region(uint32_t, uint64_t, std::string*) { return nullptr; }
void Ucx::unmap_region(uint32_t) {}
bool Ucx::load_peer(const std::string&, const std::string&, std::string*) { return false; }
void Ucx::forget_peer(const std::string&) {}
bool Ucx::knows(const std::string&) const { return false; }
int32_t Ucx::transfer(bool, const std::string&, bool, const std::vector<std::pair<uint8_t*, uint64_t>>&, const std::vector<std::pair<uint32_t, uint64_t>>&, int, std::string* error) {
  *error = "no UCX backend in this build";
  return kNotSupported;
}

#else

namespace {

// The entry points used, found in libucp (and its dependencies) by name.
struct Api {
  decltype(&ucp_config_read) config_read;
  decltype(&ucp_config_release) config_release;
  decltype(&ucp_init_version) init_version;
  decltype(&ucp_cleanup) cleanup;
  decltype(&ucp_worker_create) worker_create;
  decltype(&ucp_worker_destroy) worker_destroy;
  decltype(&ucp_worker_get_address) worker_get_address;
  decltype(&ucp_worker_release_address) worker_release_address;
  decltype(&ucp_worker_progress) worker_progress;
  decltype(&ucp_worker_get_efd) worker_get_efd;
  decltype(&ucp_worker_arm) worker_arm;
  decltype(&ucp_mem_map) mem_map;
  decltype(&ucp_mem_unmap) mem_unmap;
  decltype(&ucp_mem_query) mem_query;
  decltype(&ucp_rkey_ptr) rkey_ptr;
  decltype(&ucp_rkey_pack) rkey_pack;
  decltype(&ucp_rkey_buffer_release) rkey_buffer_release;
  decltype(&ucp_ep_create) ep_create;
  decltype(&ucp_ep_close_nbx) ep_close_nbx;
  decltype(&ucp_ep_flush_nbx) ep_flush_nbx;
  decltype(&ucp_ep_rkey_unpack) ep_rkey_unpack;
  decltype(&ucp_rkey_destroy) rkey_destroy;
  decltype(&ucp_get_nbx) get_nbx;
  decltype(&ucp_put_nbx) put_nbx;
  decltype(&ucp_request_check_status) request_check_status;
  decltype(&ucp_request_free) request_free;
  decltype(&ucs_status_string) status_string;
};

template <typename F>
bool find(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (!*out && missing->empty()) *missing = name;
  return *out != nullptr;
}

void ignore_error(void*, ucp_ep_h, ucs_status_t) {}

}  // namespace

struct Ucx::Impl {
  void* lib = nullptr;
  Api api{};
  ucp_context_h context = nullptr;
  ucp_worker_h worker = nullptr;
  std::string address;  // hex
  struct Region {
    ucp_mem_h memh;
    uint8_t* base;
    uint64_t size;
    std::string packed_key;  // hex, for the metadata
  };
  std::map<uint32_t, Region> regions;

  // The handle of the local region holding [p, p+n): passed with each operation so UCX never
  // registers a buffer per call (there is no registration cache without memory events).
  ucp_mem_h local_memh(const uint8_t* p, uint64_t n) const {
    for (auto& [_, r] : regions)
      if (p >= r.base && p + n <= r.base + r.size) return r.memh;
    return nullptr;
  }

  // Packs the key peers need and records the region; unmaps it on failure.
  bool add_region(uint32_t region, ucp_mem_h memh, uint8_t* base, uint64_t size, std::string* error) {
    void* key = nullptr;
    size_t key_len = 0;
    ucs_status_t s = api.rkey_pack(context, memh, &key, &key_len);
    if (s != UCS_OK) {
      api.mem_unmap(context, memh);
      *error = std::string("ucp_rkey_pack: ") + api.status_string(s);
      return false;
    }
    std::string packed = hex(key, key_len);
    api.rkey_buffer_release(key);
    std::lock_guard<std::mutex> lock(mu);
    regions[region] = {memh, base, size, packed};
    return true;
  }
  struct Peer {
    std::string address;
    std::vector<uint64_t> bases;
    std::vector<std::string> keys;
    ucp_ep_h ep = nullptr;
    std::vector<ucp_rkey_h> rkeys;
    // Where UCX mapped a region of the peer into this process (its shared-memory transports can, for
    // memory UCX allocated): copied with memcpy, no request at all. Null: use get/put.
    std::vector<uint8_t*> direct;
  };
  std::map<std::string, Peer> peers;
  mutable std::mutex mu;  // regions and peers; transfers run on the agent's one work thread
  std::atomic<bool> stop{false};
  std::thread progress;

  void close_peer(Peer& p) {
    for (auto k : p.rkeys)
      if (k) api.rkey_destroy(k);
    p.rkeys.clear();
    p.direct.clear();
    if (p.ep) {
      ucp_request_param_t prm{};
      prm.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
      prm.flags = UCP_EP_CLOSE_FLAG_FORCE;
      ucs_status_ptr_t r = api.ep_close_nbx(p.ep, &prm);
      if (UCS_PTR_IS_PTR(r)) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (api.request_check_status(r) == UCS_INPROGRESS && std::chrono::steady_clock::now() < until) api.worker_progress(worker);
        api.request_free(r);
      }
      p.ep = nullptr;
    }
  }

  // Waits for a request (NULL: done at once); a NIXL status.
  int32_t wait(ucs_status_ptr_t r, std::chrono::steady_clock::time_point until, std::string* error) {
    if (r == nullptr) return kSuccess;
    if (UCS_PTR_IS_ERR(r)) {
      *error = api.status_string(UCS_PTR_STATUS(r));
      return kRemoteDisconnect;
    }
    ucs_status_t s;
    while ((s = api.request_check_status(r)) == UCS_INPROGRESS) {
      if (std::chrono::steady_clock::now() > until) {
        api.request_free(r);
        *error = "timed out";
        return kBackendError;
      }
      api.worker_progress(worker);
    }
    api.request_free(r);
    if (s != UCS_OK) {
      *error = api.status_string(s);
      return kRemoteDisconnect;
    }
    return kSuccess;
  }
};

Ucx::Ucx(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// UCX's defaults suit an MPI program, not a process with a JIT runtime. At load, libucs takes
// SIGSEGV/SIGBUS/SIGILL/SIGFPE for its own error reports (the runtime needs them: wasm traps), and
// its memory events hot-patch libc's mmap/munmap ("bistro") while the runtime's GC and compiler
// threads are inside them: a known race that crashed a test process once in CI. The agent maps
// each region once with ucp_mem_map, so it needs no registration cache and loses nothing. These
// are read when libucs loads, hence before dlopen; a value the user set wins.
static void keep_ucx_out_of_the_runtime() {
  setenv("UCX_ERROR_SIGNALS", "", 0);
  setenv("UCX_MEM_EVENTS", "no", 0);
  setenv("UCX_MEM_MALLOC_HOOKS", "no", 0);
}

std::unique_ptr<Ucx> Ucx::open(std::string* why) {
  auto m = std::make_unique<Impl>();
  keep_ucx_out_of_the_runtime();
  m->lib = dlopen("libucp.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!m->lib) {
    *why = std::string("UCX is not installed (") + dlerror() + "): apt-get install libucx0";
    return nullptr;
  }
  std::string missing;
  Api& a = m->api;
  find(m->lib, "ucp_config_read", &a.config_read, &missing);
  find(m->lib, "ucp_config_release", &a.config_release, &missing);
  find(m->lib, "ucp_init_version", &a.init_version, &missing);
  find(m->lib, "ucp_cleanup", &a.cleanup, &missing);
  find(m->lib, "ucp_worker_create", &a.worker_create, &missing);
  find(m->lib, "ucp_worker_destroy", &a.worker_destroy, &missing);
  find(m->lib, "ucp_worker_get_address", &a.worker_get_address, &missing);
  find(m->lib, "ucp_worker_release_address", &a.worker_release_address, &missing);
  find(m->lib, "ucp_worker_progress", &a.worker_progress, &missing);
  find(m->lib, "ucp_worker_get_efd", &a.worker_get_efd, &missing);
  find(m->lib, "ucp_worker_arm", &a.worker_arm, &missing);
  find(m->lib, "ucp_mem_map", &a.mem_map, &missing);
  find(m->lib, "ucp_mem_unmap", &a.mem_unmap, &missing);
  find(m->lib, "ucp_mem_query", &a.mem_query, &missing);
  find(m->lib, "ucp_rkey_ptr", &a.rkey_ptr, &missing);
  find(m->lib, "ucp_rkey_pack", &a.rkey_pack, &missing);
  find(m->lib, "ucp_rkey_buffer_release", &a.rkey_buffer_release, &missing);
  find(m->lib, "ucp_ep_create", &a.ep_create, &missing);
  find(m->lib, "ucp_ep_close_nbx", &a.ep_close_nbx, &missing);
  find(m->lib, "ucp_ep_flush_nbx", &a.ep_flush_nbx, &missing);
  find(m->lib, "ucp_ep_rkey_unpack", &a.ep_rkey_unpack, &missing);
  find(m->lib, "ucp_rkey_destroy", &a.rkey_destroy, &missing);
  find(m->lib, "ucp_get_nbx", &a.get_nbx, &missing);
  find(m->lib, "ucp_put_nbx", &a.put_nbx, &missing);
  find(m->lib, "ucp_request_check_status", &a.request_check_status, &missing);
  find(m->lib, "ucp_request_free", &a.request_free, &missing);
  find(m->lib, "ucs_status_string", &a.status_string, &missing);
  if (!missing.empty()) {
    *why = "libucp lacks " + missing + " (UCX older than 1.12?)";
    return nullptr;
  }
  ucp_config_t* config = nullptr;
  if (a.config_read(nullptr, nullptr, &config) != UCS_OK) {
    *why = "ucp_config_read failed";
    return nullptr;
  }
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES;
  // AM too: the shared-memory transports need it to wire an endpoint up, even for RMA alone.
  params.features = UCP_FEATURE_RMA | UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
  ucs_status_t s = a.init_version(UCP_API_MAJOR, UCP_API_MINOR, &params, config, &m->context);
  a.config_release(config);
  if (s != UCS_OK) {
    *why = std::string("ucp_init: ") + a.status_string(s);
    return nullptr;
  }
  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  wp.thread_mode = UCS_THREAD_MODE_MULTI;  // the agent's work thread and the progress thread share it
  if ((s = a.worker_create(m->context, &wp, &m->worker)) != UCS_OK) {
    *why = std::string("ucp_worker_create: ") + a.status_string(s);
    a.cleanup(m->context);
    return nullptr;
  }
  ucp_address_t* addr = nullptr;
  size_t len = 0;
  a.worker_get_address(m->worker, &addr, &len);
  m->address = hex(addr, len);
  a.worker_release_address(m->worker, addr);
  int efd = -1;
  a.worker_get_efd(m->worker, &efd);
  // One-sided operations over software transports need the target to progress: this thread does
  // it, sleeping on the worker's event fd when there is nothing to do. Not every transport signals
  // that fd for work it brings (cma's rendezvous did not): the sleep is cut at 1 ms, which bounds
  // the added latency (50 ms cost 15 ms per 4 MiB transfer) for a wake-up a millisecond when idle.
  Impl* impl = m.get();
  m->progress = std::thread([impl, efd] {
    while (!impl->stop) {
      while (impl->api.worker_progress(impl->worker)) {
      }
      if (impl->api.worker_arm(impl->worker) == UCS_ERR_BUSY) continue;
      pollfd p{efd, POLLIN, 0};
      ::poll(&p, 1, 1);
    }
  });
  return std::unique_ptr<Ucx>(new Ucx(std::move(m)));
}

Ucx::~Ucx() {
  if (!impl_) return;
  Impl& m = *impl_;
  m.stop = true;
  if (m.progress.joinable()) m.progress.join();
  for (auto& [_, p] : m.peers) m.close_peer(p);
  for (auto& [_, r] : m.regions) m.api.mem_unmap(m.context, r.memh);
  m.api.worker_destroy(m.worker);
  m.api.cleanup(m.context);
  // libucp stays loaded: unloading a library with threads of its own is not safe.
}

std::string Ucx::metadata() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::ostringstream md;
  md << "ucx=" << impl_->address << ";ucx_regions=";
  bool first = true;
  for (auto& [id, r] : impl_->regions) {
    md << (first ? "" : ",") << id << ":" << reinterpret_cast<uint64_t>(r.base) << ":" << r.packed_key;
    first = false;
  }
  return md.str();
}

bool Ucx::map_region(uint32_t region, uint8_t* base, uint64_t size, std::string* error) {
  ucp_mem_map_params_t p{};
  p.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
  p.address = base;
  p.length = size;
  ucp_mem_h memh = nullptr;
  ucs_status_t s = impl_->api.mem_map(impl_->context, &p, &memh);
  if (s != UCS_OK) {
    *error = std::string("ucp_mem_map: ") + impl_->api.status_string(s);
    return false;
  }
  return impl_->add_region(region, memh, base, size, error);
}

uint8_t* Ucx::allocate_region(uint32_t region, uint64_t size, std::string* error) {
  Impl& m = *impl_;
  ucp_mem_map_params_t p{};
  p.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
  p.address = nullptr;
  p.length = size;
  p.flags = UCP_MEM_MAP_ALLOCATE;
  ucp_mem_h memh = nullptr;
  ucs_status_t s = m.api.mem_map(m.context, &p, &memh);
  if (s != UCS_OK) {
    *error = std::string("ucp_mem_map (allocate): ") + m.api.status_string(s);
    return nullptr;
  }
  ucp_mem_attr_t attr{};
  attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS;
  if ((s = m.api.mem_query(memh, &attr)) != UCS_OK) {
    m.api.mem_unmap(m.context, memh);
    *error = std::string("ucp_mem_query: ") + m.api.status_string(s);
    return nullptr;
  }
  auto* base = static_cast<uint8_t*>(attr.address);
  return m.add_region(region, memh, base, size, error) ? base : nullptr;
}

void Ucx::unmap_region(uint32_t region) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->regions.find(region);
  if (it == impl_->regions.end()) return;
  impl_->api.mem_unmap(impl_->context, it->second.memh);
  impl_->regions.erase(it);
}

bool Ucx::load_peer(const std::string& name, const std::string& fields, std::string* error) {
  // fields: "<worker address hex>|<region>:<base>:<key hex>,…"
  auto bar = fields.find('|');
  if (bar == std::string::npos) {
    *error = "malformed UCX metadata";
    return false;
  }
  Impl::Peer p;
  p.address = unhex(fields.substr(0, bar));
  std::istringstream rs(fields.substr(bar + 1));
  std::string r;
  while (std::getline(rs, r, ',')) {
    auto c1 = r.find(':'), c2 = r.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    auto id = static_cast<uint32_t>(std::stoul(r.substr(0, c1)));
    if (p.bases.size() <= id) {
      p.bases.resize(id + 1, 0);
      p.keys.resize(id + 1);
    }
    p.bases[id] = std::stoull(r.substr(c1 + 1, c2 - c1 - 1));
    p.keys[id] = unhex(r.substr(c2 + 1));
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto old = impl_->peers.find(name);
  if (old != impl_->peers.end()) {
    impl_->close_peer(old->second);
    impl_->peers.erase(old);
  }
  impl_->peers[name] = std::move(p);
  return true;
}

void Ucx::forget_peer(const std::string& name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->peers.find(name);
  if (it == impl_->peers.end()) return;
  impl_->close_peer(it->second);
  impl_->peers.erase(it);
}

bool Ucx::knows(const std::string& name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->peers.count(name) > 0;
}

int32_t Ucx::transfer(bool read, const std::string& peer, bool same_host, const std::vector<std::pair<uint8_t*, uint64_t>>& local,
                      const std::vector<std::pair<uint32_t, uint64_t>>& remote, int timeout_ms, std::string* error) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  auto it = m.peers.find(peer);
  if (it == m.peers.end()) {
    *error = "the peer has no UCX side";
    return kNotSupported;
  }
  Impl::Peer& p = it->second;
  if (!p.ep) {
    ucp_ep_params_t ep{};
    ep.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
    ep.address = reinterpret_cast<const ucp_address_t*>(p.address.data());
    // Across hosts a peer that dies fails its requests at once (PEER mode). UCX 1.13's shared-memory
    // transports cannot work in that mode (the endpoint would be "unreachable"), so on one host the
    // mode is NONE and a dead peer costs the transfer time-out instead.
    ep.err_mode = same_host ? UCP_ERR_HANDLING_MODE_NONE : UCP_ERR_HANDLING_MODE_PEER;
    ep.err_handler.cb = ignore_error;
    ucs_status_t s = m.api.ep_create(m.worker, &ep, &p.ep);
    if (s != UCS_OK) {
      p.ep = nullptr;
      *error = std::string("ucp_ep_create: ") + m.api.status_string(s);
      return kRemoteDisconnect;
    }
    p.rkeys.assign(p.keys.size(), nullptr);
    p.direct.assign(p.keys.size(), nullptr);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<ucs_status_ptr_t> pending;
  int32_t status = kSuccess;
  bool posted = false;  // a get/put went to UCX (not every range was copied through a mapping)
  for (size_t i = 0; i < local.size() && status == kSuccess; i++) {
    uint32_t region = remote[i].first;
    if (region >= p.keys.size() || p.keys[region].empty()) {
      *error = "region " + std::to_string(region) + " of the peer is not registered with UCX";
      status = kInvalidParam;
      break;
    }
    if (!p.rkeys[region]) {
      ucs_status_t s = m.api.ep_rkey_unpack(p.ep, p.keys[region].data(), &p.rkeys[region]);
      if (s != UCS_OK) {
        *error = std::string("ucp_ep_rkey_unpack: ") + m.api.status_string(s);
        status = kBackendError;
        break;
      }
      void* ptr = nullptr;
      if (same_host && m.api.rkey_ptr(p.rkeys[region], p.bases[region], &ptr) == UCS_OK) p.direct[region] = static_cast<uint8_t*>(ptr);
    }
    if (uint8_t* mapped = p.direct[region]) {
      uint8_t* there = mapped + remote[i].second;
      if (read) std::memcpy(local[i].first, there, local[i].second);
      else std::memcpy(there, local[i].first, local[i].second);
      continue;
    }
    posted = true;
    ucp_request_param_t prm{};
    if (ucp_mem_h h = m.local_memh(local[i].first, local[i].second)) {
      prm.op_attr_mask = UCP_OP_ATTR_FIELD_MEMH;
      prm.memh = h;
    }
    uint64_t addr = p.bases[region] + remote[i].second;
    ucs_status_ptr_t r = read ? m.api.get_nbx(p.ep, local[i].first, local[i].second, addr, p.rkeys[region], &prm)
                              : m.api.put_nbx(p.ep, local[i].first, local[i].second, addr, p.rkeys[region], &prm);
    if (UCS_PTR_IS_ERR(r)) {
      *error = m.api.status_string(UCS_PTR_STATUS(r));
      status = kRemoteDisconnect;
    } else if (r) {
      pending.push_back(r);
    }
  }
  for (auto r : pending) {
    std::string e;
    int32_t s = m.wait(r, until, &e);
    if (s != kSuccess && status == kSuccess) {
      status = s;
      *error = e;
    }
  }
  if (status == kSuccess && posted) {
    // Completion of a get means the bytes are here; a put needs the flush to be sure they landed.
    // Copies through a mapping (direct) are done when memcpy returns: nothing to flush.
    ucp_request_param_t prm{};
    status = m.wait(m.api.ep_flush_nbx(p.ep, &prm), until, error);
  }
  if (status != kSuccess) m.close_peer(p);  // the next transfer reconnects
  return status;
}

#endif

}  // namespace dynamo::xfer
