// The KV transfer agent (transfer.h): regions, metadata, peers, the work thread, the shm and TCP
// backends and the TCP server. No exceptions: failures are status values with a message.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "transfer.h"

#include "transfer_cuda.h"
#include "transfer_ucx.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dynamo::xfer {

namespace {

constexpr uint32_t kMagic = 0x31465844;  // "DXF1"
constexpr uint32_t kRespMagic = 0x52465844;  // "DXFR"
constexpr uint32_t kMaxDescs = 1u << 22;
constexpr uint32_t kMaxText = 1u << 20;

struct WireHeader {
  uint32_t magic;
  uint8_t op;
  uint8_t pad[3];
  uint32_t ndesc;
  uint32_t notif_len;
  uint32_t name_len;
  uint32_t pad2;
  uint64_t total;
};
static_assert(sizeof(WireHeader) == 32, "wire header is 32 bytes");

struct WireDesc {
  uint32_t region;
  uint32_t pad;
  uint64_t offset;
  uint64_t length;
};
static_assert(sizeof(WireDesc) == 24, "wire desc is 24 bytes");

struct WireResponse {
  uint32_t magic;
  int32_t status;
  uint64_t total;
};
static_assert(sizeof(WireResponse) == 16, "wire response is 16 bytes");

// Whole-buffer send/recv; false on error or a closed peer (errno says which).
bool send_all(int fd, const void* data, uint64_t len) {
  auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    ssize_t n = ::send(fd, p, len > (1u << 30) ? (1u << 30) : len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

bool recv_all(int fd, void* data, uint64_t len) {
  auto* p = static_cast<uint8_t*>(data);
  while (len > 0) {
    ssize_t n = ::recv(fd, p, len > (1u << 30) ? (1u << 30) : len, MSG_WAITALL);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = ECONNRESET;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

std::string read_boot_id() {
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(f, id);
  return id.empty() ? "unknown" : id;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

bool alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Failed socket IO as a status: a timeout is the backend's, anything else a lost peer.
int32_t io_status(std::string* error, const char* what) {
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    *error = std::string(what) + ": timed out";
    return kBackendError;
  }
  *error = errno_text(what);
  return kRemoteDisconnect;
}

}  // namespace

Peer::~Peer() {
  if (sock >= 0) ::close(sock);
  for (auto& [_, dptr] : device_mapped) device_memory->close_peer(dptr);
  for (auto& [r, base] : mapped) ::munmap(base, regions[r].second);
}

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::kShm: return "shm";
    case Backend::kTcp: return "tcp";
    case Backend::kUcx: return "ucx";
    case Backend::kCuda: return "cuda";
    default: return "auto";
  }
}

void fill_pattern(uint8_t* p, uint64_t len, uint64_t seed) {
  uint64_t words = len / 8;
  for (uint64_t i = 0; i < words; i++) {
    uint64_t w = splitmix64(seed ^ (i * 0xD6E8FEB86659FD93ull));
    std::memcpy(p + i * 8, &w, 8);
  }
  if (len % 8) {
    uint64_t w = splitmix64(seed ^ (words * 0xD6E8FEB86659FD93ull));
    std::memcpy(p + words * 8, &w, len % 8);
  }
}

int64_t verify_pattern(const uint8_t* p, uint64_t len, uint64_t seed) {
  uint64_t words = len / 8;
  for (uint64_t i = 0; i <= words; i++) {
    uint64_t w = splitmix64(seed ^ (i * 0xD6E8FEB86659FD93ull));
    uint64_t n = i < words ? 8 : len % 8;
    if (n && std::memcmp(p + i * 8, &w, n) != 0) {
      for (uint64_t b = 0; b < n; b++)
        if (p[i * 8 + b] != reinterpret_cast<const uint8_t*>(&w)[b]) return static_cast<int64_t>(i * 8 + b);
    }
  }
  return -1;
}

std::unique_ptr<Agent> Agent::create(const std::string& name, const std::string& listen_host, const std::string& advertise_host, int port, int timeout_ms, bool ucx, int cuda_device, std::string* error) {
  if (name.empty() || name.find_first_of(";=,\n") != std::string::npos) {
    *error = "agent name must be non-empty and hold no ; = , or newline";
    return nullptr;
  }
  std::unique_ptr<Agent> a(new Agent());
  a->name_ = name;
  a->host_id_ = read_boot_id();
  a->advertise_ = advertise_host.empty() ? listen_host : advertise_host;
  a->timeout_ms_ = timeout_ms > 0 ? timeout_ms : 30000;
  a->device_ordinal_ = cuda_device;

  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(listen_host.empty() ? nullptr : listen_host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "cannot resolve " + listen_host + ": " + gai_strerror(rc);
    return nullptr;
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
    *error = errno_text(("listen on " + listen_host + ":" + service).c_str());
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(res);
    return nullptr;
  }
  ::freeaddrinfo(res);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  a->port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  a->listen_fd_ = fd;
  if (ucx) a->ucx_ = Ucx::open(&a->ucx_why_);
  else a->ucx_why_ = "not asked for";
  Agent* self = a.get();
  a->worker_ = std::thread([self] { self->work_loop(); });
  a->acceptor_ = std::thread([self] { self->accept_loop(); });
  return a;
}

Agent::~Agent() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_cv_.notify_all();
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (worker_.joinable()) worker_.join();
  ::close(listen_fd_);
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : servers_)
    if (t.joinable()) t.join();
  peers_.clear();
  if (ucx_)
    for (size_t i = 0; i < regions_.size(); i++) ucx_->unmap_region(static_cast<uint32_t>(i));
  ucx_.reset();
  for (auto& r : regions_) {
    if (r.base && r.device) device_->free(reinterpret_cast<uint64_t>(r.base));
    else if (r.base && !r.ucx_owned) ::munmap(r.base, r.size);
    if (r.fd >= 0) ::close(r.fd);
  }
}

int64_t Agent::allocate(uint64_t size, Memory memory, std::string* error) {
  if (size == 0) {
    *error = "a region needs at least one byte";
    return -1;
  }
  if (memory == Memory::kUcx) {
    // UCX maps a region it did not allocate only for cma, the kernel copying for it: a same-host
    // transfer then ran at 10-40 % of memcpy here. Its own segments a peer maps and memcpys.
    if (!ucx_) {
      *error = "no UCX backend: " + ucx_why_;
      return -1;
    }
    std::lock_guard<std::mutex> lock(regions_mu_);
    auto id = static_cast<uint32_t>(regions_.size());
    uint8_t* base = ucx_->allocate_region(id, size, error);
    if (!base) return -1;
    regions_.push_back({-1, base, size, true, false, {}});
    return id;
  }
  if (memory == Memory::kCuda) {
    DeviceMemory* dm = devices(error);
    if (!dm) return -1;
    uint64_t dptr = 0;
    std::string ipc;
    if (!dm->allocate(size, &dptr, &ipc, error)) return -1;
    std::lock_guard<std::mutex> lock(regions_mu_);
    regions_.push_back({-1, reinterpret_cast<uint8_t*>(dptr), size, false, true, ipc});
    return static_cast<int64_t>(regions_.size() - 1);
  }
  int fd = ::memfd_create(("dynamo-kv-" + name_).c_str(), MFD_CLOEXEC);
  if (fd < 0) {
    *error = errno_text("memfd_create");
    return -1;
  }
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    *error = errno_text("ftruncate");
    ::close(fd);
    return -1;
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    *error = errno_text("mmap");
    ::close(fd);
    return -1;
  }
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(regions_mu_);
    regions_.push_back({fd, static_cast<uint8_t*>(base), size, false, false, {}});
    id = static_cast<uint32_t>(regions_.size() - 1);
  }
  // A region UCX cannot register is still served by shm and tcp.
  std::string ignored;
  if (ucx_) ucx_->map_region(id, static_cast<uint8_t*>(base), size, &ignored);
  return id;
}

bool Agent::release(uint32_t region) {
  std::lock_guard<std::mutex> lock(regions_mu_);
  if (region >= regions_.size() || !regions_[region].base) return false;
  if (ucx_) ucx_->unmap_region(region);
  if (regions_[region].device) {
    device_->free(reinterpret_cast<uint64_t>(regions_[region].base));
  } else if (!regions_[region].ucx_owned) {
    ::munmap(regions_[region].base, regions_[region].size);
    ::close(regions_[region].fd);
  }
  regions_[region] = Region{};
  return true;
}

uint8_t* Agent::region_base(uint32_t region, uint64_t* size) {
  std::lock_guard<std::mutex> lock(regions_mu_);
  if (region >= regions_.size() || !regions_[region].base) return nullptr;
  *size = regions_[region].size;
  return regions_[region].base;
}

std::string Agent::metadata() const {
  std::ostringstream md;
  md << "dynamo-xfer/1;name=" << name_ << ";host=" << host_id_ << ";pid=" << ::getpid() << ";tcp=" << advertise_ << ":" << port_ << ";regions=";
  {
    std::lock_guard<std::mutex> lock(regions_mu_);
    bool any_device = false;
    for (size_t i = 0; i < regions_.size(); i++) {
      auto& r = regions_[i];
      md << (i ? "," : "") << (r.device ? kDeviceRegion : r.ucx_owned ? kUcxOwnedRegion : r.fd) << ":" << r.size;
      any_device = any_device || r.device;
    }
    if (any_device) {
      md << ";cuda=";
      bool first = true;
      for (size_t i = 0; i < regions_.size(); i++)
        if (regions_[i].device) {
          md << (first ? "" : ",") << i << ":" << reinterpret_cast<uint64_t>(regions_[i].base) << ":" << regions_[i].ipc;
          first = false;
        }
    }
  }
  if (ucx_) md << ";" << ucx_->metadata();
  return md.str();
}

std::string Agent::load_peer(const std::string& metadata, std::string* error) {
  if (metadata.rfind("dynamo-xfer/1;", 0) != 0) {
    *error = "not a dynamo transfer agent's metadata (expected dynamo-xfer/1)";
    return "";
  }
  auto p = std::make_shared<Peer>();
  std::istringstream in(metadata.substr(14));
  std::string field, ucx_address, ucx_regions;
  while (std::getline(in, field, ';')) {
    auto eq = field.find('=');
    if (eq == std::string::npos) continue;
    std::string key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "name") p->name = value;
    else if (key == "host") p->host_id = value;
    else if (key == "pid") p->pid = std::atoi(value.c_str());
    else if (key == "ucx") ucx_address = value;
    else if (key == "ucx_regions") ucx_regions = value;
    else if (key == "cuda") {
      std::istringstream rs(value);
      std::string r;
      while (std::getline(rs, r, ',')) {
        auto c1 = r.find(':'), c2 = r.find(':', c1 + 1);
        if (c1 == std::string::npos || c2 == std::string::npos) continue;
        p->device[static_cast<uint32_t>(std::stoul(r.substr(0, c1)))] = {std::stoull(r.substr(c1 + 1, c2 - c1 - 1)), r.substr(c2 + 1)};
      }
    }
    else if (key == "tcp") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos) continue;
      p->tcp_host = value.substr(0, colon);
      p->tcp_port = std::atoi(value.c_str() + colon + 1);
    } else if (key == "regions") {
      std::istringstream rs(value);
      std::string r;
      while (std::getline(rs, r, ',')) {
        auto c = r.find(':');
        if (c == std::string::npos) continue;
        p->regions.emplace_back(std::atoi(r.substr(0, c).c_str()), std::strtoull(r.c_str() + c + 1, nullptr, 10));
      }
    }
  }
  if (p->name.empty() || p->tcp_port <= 0) {
    *error = "the peer's metadata lacks its name or TCP endpoint";
    return "";
  }
  if (ucx_) {
    std::string ignored;
    if (ucx_address.empty() || !ucx_->load_peer(p->name, ucx_address + "|" + ucx_regions, &ignored)) ucx_->forget_peer(p->name);
  }
  // A peer loaded again (restarted) replaces the old entry, whose channels close with it.
  std::lock_guard<std::mutex> lock(peers_mu_);
  peers_[p->name] = p;
  return p->name;
}

bool Agent::remove_peer(const std::string& name) {
  if (ucx_) ucx_->forget_peer(name);
  std::lock_guard<std::mutex> lock(peers_mu_);
  return peers_.erase(name) > 0;
}

bool Agent::same_host(const std::string& name) {
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(name);
  return it != peers_.end() && it->second->host_id == host_id_;
}

bool Agent::local_ranges(const std::vector<Desc>& d, std::vector<Span>* out, std::string* error) {
  std::lock_guard<std::mutex> lock(regions_mu_);
  out->reserve(d.size());
  for (auto& l : d) {
    if (l.region >= regions_.size() || !regions_[l.region].base) {
      *error = "local region " + std::to_string(l.region) + " was released during the transfer";
      return false;
    }
    out->push_back({regions_[l.region].base + l.offset, l.length, regions_[l.region].device});
  }
  return true;
}

bool Agent::check_local(const std::vector<Desc>& d, std::string* error) {
  std::lock_guard<std::mutex> lock(regions_mu_);
  for (auto& x : d) {
    if (x.region >= regions_.size() || !regions_[x.region].base) {
      *error = "no local region " + std::to_string(x.region);
      return false;
    }
    if (x.offset + x.length > regions_[x.region].size || x.offset + x.length < x.offset) {
      *error = "a local range runs past its region " + std::to_string(x.region);
      return false;
    }
  }
  return true;
}

uint32_t Agent::post(Op op, const std::string& peer, std::vector<Desc> local, std::vector<Desc> remote, std::string notif, Backend backend, std::string* error) {
  if (op != Op::kNotify) {
    if (local.size() != remote.size()) {
      *error = "local and remote lists differ in length";
      return 0;
    }
    for (size_t i = 0; i < local.size(); i++)
      if (local[i].length != remote[i].length) {
        *error = "range " + std::to_string(i) + " differs in length on the two sides";
        return 0;
      }
    if (!check_local(local, error)) return 0;
  }
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    if (!peers_.count(peer)) {
      *error = "unknown peer " + peer + " (load its metadata first)";
      return 0;
    }
  }
  auto t = std::make_shared<Transfer>();
  t->op = op;
  t->peer = peer;
  t->local = std::move(local);
  t->remote = std::move(remote);
  t->notif = std::move(notif);
  t->backend = backend;
  std::lock_guard<std::mutex> lock(queue_mu_);
  t->id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;
  transfers_[t->id] = t;
  queue_.push_back(t);
  queue_cv_.notify_one();
  return t->id;
}

std::shared_ptr<Transfer> Agent::find(uint32_t id) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  auto it = transfers_.find(id);
  return it == transfers_.end() ? nullptr : it->second;
}

void Agent::forget(uint32_t id) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  transfers_.erase(id);
}

int32_t Agent::wait(uint32_t id, int timeout_ms) {
  auto t = find(id);
  if (!t) return kNotFound;
  std::unique_lock<std::mutex> lock(queue_mu_);
  done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return t->status.load() != kInProgress; });
  return t->status.load();
}

std::vector<std::pair<std::string, std::string>> Agent::take_notifications() {
  std::lock_guard<std::mutex> lock(notif_mu_);
  std::vector<std::pair<std::string, std::string>> out;
  out.swap(notifs_);
  return out;
}

void Agent::work_loop() {
  for (;;) {
    std::shared_ptr<Transfer> t;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        for (auto& q : queue_) {
          q->error = "the agent closed";
          q->status = kCanceled;
        }
        queue_.clear();
        done_cv_.notify_all();
        return;
      }
      t = queue_.front();
      queue_.pop_front();
    }
    run(*t);
    std::lock_guard<std::mutex> lock(queue_mu_);
    done_cv_.notify_all();
  }
}

void Agent::run(Transfer& t) {
  std::shared_ptr<Peer> p;
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    auto it = peers_.find(t.peer);
    if (it != peers_.end()) p = it->second;
  }
  std::string error;
  int32_t status;
  auto start = std::chrono::steady_clock::now();
  if (!p) {
    error = "peer " + t.peer + " was removed";
    status = kNotFound;
  } else if (t.op == Op::kNotify) {
    t.used = Backend::kTcp;
    status = send_notif(*p, t.notif, &error);
  } else {
    // Where the bytes are decides what can move them.
    bool mappable = true, remote_device = false, remote_host = false, local_device = false;
    for (auto& r : t.remote) {
      int fd = r.region < p->regions.size() ? p->regions[r.region].first : -1;
      mappable = mappable && fd >= 0;
      remote_device = remote_device || fd == kDeviceRegion;
      remote_host = remote_host || fd != kDeviceRegion;
    }
    {
      std::lock_guard<std::mutex> lock(regions_mu_);
      for (auto& l : t.local) local_device = local_device || (l.region < regions_.size() && regions_[l.region].device);
    }
    bool device = remote_device || local_device;
    Backend b = t.backend;
    // GPU memory: cuda on one host, else tcp (staged); host memory: shm on one host unless UCX owns
    // the peer's regions, else UCX where both sides have it, else tcp.
    if (b == Backend::kAuto) {
      bool here = p->host_id == host_id_ && alive(p->pid);  // a syscall: only when choosing
      b = device ? (here && !remote_host ? Backend::kCuda : Backend::kTcp)
                 : mappable && here ? Backend::kShm : ucx_ && ucx_->knows(p->name) ? Backend::kUcx : Backend::kTcp;
    }
    t.used = b;
    bool fits = true;
    for (auto& r : t.remote)
      if (r.region >= p->regions.size() || p->regions[r.region].first == -1 || r.offset + r.length > p->regions[r.region].second || r.offset + r.length < r.offset) {
        error = "a remote range is not inside region " + std::to_string(r.region) + " of " + p->name;
        fits = false;
        break;
      }
    auto refuse = [&](std::string why) {
      error = std::move(why);
      return kNotSupported;
    };
    if (!fits) status = kInvalidParam;
    else if ((b == Backend::kShm || b == Backend::kCuda) && p->host_id != host_id_) status = refuse(std::string(backend_name(b)) + " needs the peer on the same host");
    else if ((b == Backend::kShm || b == Backend::kUcx) && device) status = refuse("GPU memory moves with cuda (same host) or tcp");
    else if (b == Backend::kShm && !mappable) status = refuse("the peer's regions are UCX's memory: use ucx (or auto)");
    else if (b == Backend::kCuda && remote_host) status = refuse("cuda needs the peer's ranges in GPU memory: use shm, ucx or tcp");
    else if (b == Backend::kCuda && !alive(p->pid)) {
      // Its IPC mappings here would outlive it: the kernel says whether it still runs.
      error = "the peer " + p->name + " (pid " + std::to_string(p->pid) + ") is no longer running";
      status = kRemoteDisconnect;
    }
    else if (b == Backend::kUcx && !ucx_) status = refuse("no UCX backend: " + ucx_why_);
    else if (b == Backend::kUcx && !ucx_->knows(p->name)) status = refuse("the peer " + p->name + " has no UCX backend");
    else if (b == Backend::kShm) status = run_shm(t, *p, &error);
    else if (b == Backend::kUcx) status = run_ucx(t, *p, &error);
    else if (b == Backend::kCuda) status = run_cuda(t, *p, &error);
    else status = run_tcp(t, *p, &error);
  }
  t.ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  t.error = error;
  t.status = status;
}

int32_t Agent::run_shm(Transfer& t, Peer& p, std::string* error) {
  for (auto& r : t.remote) {
    if (p.mapped.count(r.region)) continue;
    std::string path = "/proc/" + std::to_string(p.pid) + "/fd/" + std::to_string(p.regions[r.region].first);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      *error = errno_text(("open " + path + " (is " + p.name + " still running?)").c_str());
      return alive(p.pid) ? kBackendError : kRemoteDisconnect;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < p.regions[r.region].second) {
      ::close(fd);
      *error = "region " + std::to_string(r.region) + " of " + p.name + " is not what its metadata says (the peer restarted?)";
      return kMismatch;
    }
    void* base = ::mmap(nullptr, p.regions[r.region].second, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (base == MAP_FAILED) {
      *error = errno_text("mmap a peer region");
      return kBackendError;
    }
    p.mapped[r.region] = static_cast<uint8_t*>(base);
  }
  std::vector<Span> local;
  if (!local_ranges(t.local, &local, error)) return kInvalidParam;
  for (size_t i = 0; i < t.remote.size(); i++) {
    uint8_t* remote = p.mapped[t.remote[i].region] + t.remote[i].offset;
    if (t.op == Op::kRead) std::memcpy(local[i].ptr, remote, local[i].len);
    else std::memcpy(remote, local[i].ptr, local[i].len);
    t.bytes += local[i].len;
  }
  if (!t.notif.empty()) return send_notif(p, t.notif, error);
  return kSuccess;
}

int32_t Agent::run_ucx(Transfer& t, Peer& p, std::string* error) {
  std::vector<Span> spans;
  if (!local_ranges(t.local, &spans, error)) return kInvalidParam;
  std::vector<std::pair<uint8_t*, uint64_t>> local;
  for (auto& s : spans) local.emplace_back(s.ptr, s.len);
  std::vector<std::pair<uint32_t, uint64_t>> remote;
  remote.reserve(t.remote.size());
  for (auto& r : t.remote) remote.emplace_back(r.region, r.offset);
  // On one host UCX cannot tell a dead peer (its endpoints run without error handling there) and its
  // mapped segments outlive the owner: ask the kernel, before and after.
  bool here = p.host_id == host_id_;
  auto gone = [&] {
    if (!here || alive(p.pid)) return false;
    *error = "the peer " + p.name + " (pid " + std::to_string(p.pid) + ") is no longer running";
    return true;
  };
  if (gone()) return kRemoteDisconnect;
  int32_t s = ucx_->transfer(t.op == Op::kRead, p.name, here, local, remote, timeout_ms_, error);
  if (s != kSuccess) return s;
  if (gone()) return kRemoteDisconnect;
  for (auto& l : local) t.bytes += l.second;
  if (!t.notif.empty()) return send_notif(p, t.notif, error);
  return kSuccess;
}

bool Agent::connect_peer(Peer& p, std::string* error) {
  if (p.sock >= 0) return true;
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = ::getaddrinfo(p.tcp_host.c_str(), std::to_string(p.tcp_port).c_str(), &hints, &res);
  if (rc != 0) {
    *error = "cannot resolve " + p.tcp_host + ": " + gai_strerror(rc);
    return false;
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fd < 0 || ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    *error = errno_text(("connect to " + p.name + " at " + p.tcp_host + ":" + std::to_string(p.tcp_port)).c_str());
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(res);
    return false;
  }
  ::freeaddrinfo(res);
  p.sock = fd;
  return true;
}

int32_t Agent::run_tcp(Transfer& t, Peer& p, std::string* error) {
  if (!connect_peer(p, error)) return kRemoteDisconnect;
  uint64_t total = 0;
  for (auto& d : t.remote) total += d.length;
  std::string msg(sizeof(WireHeader) + t.remote.size() * sizeof(WireDesc), '\0');
  WireHeader h{kMagic, static_cast<uint8_t>(t.op), {0, 0, 0}, static_cast<uint32_t>(t.remote.size()), static_cast<uint32_t>(t.notif.size()), static_cast<uint32_t>(name_.size()), 0, total};
  std::memcpy(&msg[0], &h, sizeof h);
  for (size_t i = 0; i < t.remote.size(); i++) {
    WireDesc d{t.remote[i].region, 0, t.remote[i].offset, t.remote[i].length};
    std::memcpy(&msg[sizeof h + i * sizeof d], &d, sizeof d);
  }
  msg += name_;
  msg += t.notif;
  std::vector<Span> local;
  if (!local_ranges(t.local, &local, error)) return kInvalidParam;
  auto fail = [&](const char* what) {
    int32_t s = io_status(error, what);
    ::close(p.sock);
    p.sock = -1;
    return s;
  };
  if (!send_all(p.sock, msg.data(), msg.size())) return fail("send to the peer");
  if (t.op == Op::kWrite)
    for (auto& span : local)
      if (!move_span(p.sock, span, true)) return fail("send to the peer");
  WireResponse resp{};
  if (!recv_all(p.sock, &resp, sizeof resp)) return fail("the peer's answer");
  if (resp.magic != kRespMagic) {
    ::close(p.sock);
    p.sock = -1;
    *error = "the peer answered with something else than the transfer protocol";
    return kBackendError;
  }
  if (resp.status != kSuccess) {
    *error = "the peer refused the transfer (status " + std::to_string(resp.status) + ")";
    return resp.status;
  }
  if (t.op == Op::kRead)
    for (auto& span : local)
      if (!move_span(p.sock, span, false)) return fail("receive from the peer");
  if (t.op == Op::kRead) {
    // The peer queues the notification once every byte is sent; its final word says so.
    WireResponse done{};
    if (!recv_all(p.sock, &done, sizeof done)) return fail("the peer's answer");
  }
  t.bytes = total;
  return kSuccess;
}

// GPU memory crosses a socket through a host buffer, a chunk at a time (copy, then send; receive,
// then copy), so a large range needs no host buffer its size.
constexpr uint64_t kStagingChunk = 4ull << 20;

bool Agent::move_span(int fd, const Span& s, bool send) {
  if (!s.device) return send ? send_all(fd, s.ptr, s.len) : recv_all(fd, s.ptr, s.len);
  std::string ignored;
  DeviceMemory* dm = devices(&ignored);
  if (!dm) return false;
  std::vector<uint8_t> staging(std::min(s.len, kStagingChunk));
  for (uint64_t at = 0; at < s.len; at += staging.size()) {
    uint64_t n = std::min<uint64_t>(staging.size(), s.len - at);
    bool ok = send ? dm->copy(staging.data(), s.ptr + at, n, &ignored) && dm->sync(&ignored) && send_all(fd, staging.data(), n)
                   : recv_all(fd, staging.data(), n) && dm->copy(s.ptr + at, staging.data(), n, &ignored) && dm->sync(&ignored);
    if (!ok) return false;
  }
  return true;
}

int32_t Agent::send_notif(Peer& p, const std::string& msg, std::string* error) {
  if (!connect_peer(p, error)) return kRemoteDisconnect;
  std::string m(sizeof(WireHeader), '\0');
  WireHeader h{kMagic, static_cast<uint8_t>(Op::kNotify), {0, 0, 0}, 0, static_cast<uint32_t>(msg.size()), static_cast<uint32_t>(name_.size()), 0, 0};
  std::memcpy(&m[0], &h, sizeof h);
  m += name_;
  m += msg;
  WireResponse resp{};
  if (!send_all(p.sock, m.data(), m.size()) || !recv_all(p.sock, &resp, sizeof resp)) {
    int32_t s = io_status(error, "notify the peer");
    ::close(p.sock);
    p.sock = -1;
    return s;
  }
  return resp.status;
}

void Agent::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(conns_mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    conns_.push_back(fd);
    servers_.emplace_back([this, fd] { serve(fd); });
  }
}

// One peer's connection: requests one after another until it closes.
void Agent::serve(int fd) {
  auto answer = [&](int32_t status, uint64_t total) {
    WireResponse r{kRespMagic, status, total};
    return send_all(fd, &r, sizeof r);
  };
  for (;;) {
    WireHeader h{};
    if (!recv_all(fd, &h, sizeof h) || h.magic != kMagic || h.ndesc > kMaxDescs || h.notif_len > kMaxText || h.name_len > kMaxText) break;
    std::vector<WireDesc> descs(h.ndesc);
    std::string name(h.name_len, '\0'), notif(h.notif_len, '\0');
    if ((h.ndesc && !recv_all(fd, descs.data(), descs.size() * sizeof(WireDesc))) || !recv_all(fd, &name[0], name.size()) || !recv_all(fd, &notif[0], notif.size())) break;
    auto op = static_cast<Op>(h.op);
    if (op == Op::kNotify) {
      {
        std::lock_guard<std::mutex> lock(notif_mu_);
        notifs_.emplace_back(name, notif);
      }
      if (!answer(kSuccess, 0)) break;
      continue;
    }
    if (op != Op::kRead && op != Op::kWrite) break;
    // Resolve every range before moving a byte: a bad one refuses the whole transfer.
    std::vector<Span> ranges;
    uint64_t total = 0;
    bool ok = true;
    {
      std::lock_guard<std::mutex> lock(regions_mu_);
      for (auto& d : descs) {
        if (d.region >= regions_.size() || !regions_[d.region].base || d.offset + d.length > regions_[d.region].size || d.offset + d.length < d.offset) {
          ok = false;
          break;
        }
        ranges.push_back({regions_[d.region].base + d.offset, d.length, regions_[d.region].device});
        total += d.length;
      }
    }
    if (!ok || total != h.total) {
      answer(kInvalidParam, 0);
      break;  // a WRITE's payload follows: the connection cannot be reused
    }
    // READ: the answer goes first, then the bytes; WRITE: the bytes come, then the answer.
    if (op == Op::kRead && !answer(kSuccess, total)) break;
    bool moved = true;
    for (auto& span : ranges)
      if (!(moved = move_span(fd, span, op == Op::kRead))) break;
    if (!moved) break;
    if (!notif.empty()) {
      std::lock_guard<std::mutex> lock(notif_mu_);
      notifs_.emplace_back(name, notif);
    }
    if (!answer(kSuccess, total)) break;
  }
  std::lock_guard<std::mutex> lock(conns_mu_);
  for (auto& c : conns_)
    if (c == fd) c = -1;
  ::close(fd);
}

}  // namespace dynamo::xfer
