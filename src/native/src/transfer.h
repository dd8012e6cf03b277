// The KV transfer agent: NIXL's model in a small form. One agent per worker process owns memory
// regions, exports metadata that peers load, and moves lists of byte ranges between its regions
// and a peer's (READ pulls from the peer, WRITE pushes to it) on its own thread, with an optional
// notification delivered to the peer when a transfer is done. The bytes never reach JavaScript.
//
// Backends:
// - shm: same host. Regions are memfd-backed; a peer maps them through /proc/<pid>/fd/<fd>, so a
//   transfer is one memcpy per range and nothing is left in /dev/shm when a process dies.
// - tcp: any host. Each agent serves its regions on a listening socket; a READ asks for ranges and
//   receives them straight into the local ones, a WRITE sends them.
// - ucx: UCX's one-sided get/put (transfer_ucx.h), libucp opened at run time.
// - cuda: GPU memory (transfer_cuda.h): same-host peers open each other's allocations through CUDA
//   IPC and copy device to device; tcp moves device memory through host staging.
// Notifications always travel on the TCP connection (shm and ucx have no channel of their own).
//
// Status codes are NIXL's (nixl_types.h): 1 in progress, 0 done, negative errors.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dynamo::xfer {

class Ucx;
class DeviceMemory;

enum Status : int32_t {
  kInProgress = 1,
  kSuccess = 0,
  kNotPosted = -1,
  kInvalidParam = -2,
  kBackendError = -3,
  kNotFound = -4,
  kMismatch = -5,
  kNotAllowed = -6,
  kUnknown = -8,
  kNotSupported = -9,
  kRemoteDisconnect = -10,
  kCanceled = -11,
};

enum class Op : uint8_t { kRead = 1, kWrite = 2, kNotify = 3 };
enum class Backend : uint8_t { kAuto = 0, kShm = 1, kTcp = 2, kUcx = 3, kCuda = 4 };
// Where a region's bytes live: a memfd (mapped by same-host peers for shm, served over tcp, mapped
// into UCX for cma/tcp), or memory UCX allocated (a segment its shared-memory transports map into a
// same-host peer, so UCX copies at memcpy speed; no fd for shm), or GPU memory (cuda, or tcp staged).
enum class Memory : uint8_t { kMemfd = 0, kUcx = 1, kCuda = 2 };

const char* backend_name(Backend b);

// One byte range of a region.
struct Desc {
  uint32_t region;
  uint64_t offset;
  uint64_t length;
};

struct Region {
  int fd = -1;  // the memfd peers map for shm; -1 when released or owned by UCX
  uint8_t* base = nullptr;
  uint64_t size = 0;
  bool ucx_owned = false;  // allocated by UCX (Ucx::allocate_region), freed by it
  bool device = false;     // GPU memory: `base` is a device address, never read on the host
  std::string ipc;         // a device region's CUDA IPC handle (hex), for the metadata
};

// One local range resolved to memory: where, how long, and whether on the GPU.
struct Span {
  uint8_t* ptr;
  uint64_t len;
  bool device;
};

// A peer region's fd in its metadata when UCX allocated it: nothing to map for shm, UCX maps it.
constexpr int kUcxOwnedRegion = -2;
// ... and when it is GPU memory: its `cuda=` field gives the device address and IPC handle.
constexpr int kDeviceRegion = -3;

// What an agent learns of a peer from its metadata, and its open channels.
struct Peer {
  std::string name;
  std::string host_id;
  int pid = 0;
  std::string tcp_host;
  int tcp_port = 0;
  std::vector<std::pair<int, uint64_t>> regions;  // (fd in the peer or kUcxOwnedRegion, size)
  std::map<uint32_t, uint8_t*> mapped;             // shm mappings, by region
  std::map<uint32_t, std::pair<uint64_t, std::string>> device;  // device regions: (address in the peer, IPC handle)
  std::map<uint32_t, uint64_t> device_mapped;      // those opened here through IPC, by region
  DeviceMemory* device_memory = nullptr;           // the agent's, which opened them
  int sock = -1;                                   // the TCP connection, opened on first use
  ~Peer();  // closes the connection and unmaps: when the last transfer using it lets go
};

struct Transfer {
  uint32_t id = 0;
  Op op = Op::kRead;
  Backend backend = Backend::kAuto;
  std::string peer;
  std::vector<Desc> local, remote;
  std::string notif;
  std::atomic<int32_t> status{kInProgress};
  std::string error;     // written before status leaves kInProgress
  uint64_t bytes = 0;
  uint64_t ns = 0;       // from the start of the work to its end, on the agent's thread
  Backend used = Backend::kAuto;
};

class Agent {
 public:
  // Listens on listen_host:port (0: any free port) and advertises advertise_host to peers.
  // With `ucx`, also opens the UCX backend (transfer_ucx.h); where UCX is missing the agent runs
  // without it and `ucx_unavailable()` says why.
  // `cuda_device`: the GPU ordinal for device regions (opened on first use).
  static std::unique_ptr<Agent> create(const std::string& name, const std::string& listen_host, const std::string& advertise_host, int port, int timeout_ms, bool ucx, int cuda_device, std::string* error);
  ~Agent();

  const std::string& name() const { return name_; }
  // Empty when the UCX backend is up.
  const std::string& ucx_unavailable() const { return ucx_why_; }
  int port() const { return port_; }

  // A new zero-filled region of `size` bytes; its id, or -1 with `error`.
  int64_t allocate(uint64_t size, Memory memory, std::string* error);
  bool release(uint32_t region);
  uint8_t* region_base(uint32_t region, uint64_t* size);
  // Runs `fn` on a host view of a local range (device memory: a staged copy, written back when
  // `write`); false with `error` when the range is not inside a region.
  bool host_view(const Desc& d, bool write, const std::function<void(uint8_t*, uint64_t)>& fn, std::string* error);
  // Copies between ranges of two agents of this process, any memory: the benchmark's yardstick
  // (memcpy for host memory, a device copy for GPU memory); its nanoseconds, or -1 with `error`.
  static int64_t plain_copy_ns(Agent& dst, Agent& src, const std::vector<Desc>& d, const std::vector<Desc>& s, std::string* error);

  std::string metadata() const;
  // Loads (or replaces) a peer; its name, or "" with `error`.
  std::string load_peer(const std::string& metadata, std::string* error);
  bool remove_peer(const std::string& name);
  bool same_host(const std::string& peer);

  // Queues a transfer; its id, or 0 with `error` when it cannot even start.
  uint32_t post(Op op, const std::string& peer, std::vector<Desc> local, std::vector<Desc> remote, std::string notif, Backend backend, std::string* error);
  std::shared_ptr<Transfer> find(uint32_t id);
  void forget(uint32_t id);
  // Blocks until the transfer leaves kInProgress or timeout_ms passes; its status.
  int32_t wait(uint32_t id, int timeout_ms);

  // Notifications received so far, as (peer name, message), oldest first; taken.
  std::vector<std::pair<std::string, std::string>> take_notifications();

 private:
  Agent() = default;
  void work_loop();
  void accept_loop();
  void serve(int sock);
  void run(Transfer& t);
  int32_t run_shm(Transfer& t, Peer& p, std::string* error);
  int32_t run_tcp(Transfer& t, Peer& p, std::string* error);
  int32_t run_ucx(Transfer& t, Peer& p, std::string* error);
  int32_t run_cuda(Transfer& t, Peer& p, std::string* error);
  int32_t send_notif(Peer& p, const std::string& msg, std::string* error);
  bool connect_peer(Peer& p, std::string* error);
  bool check_local(const std::vector<Desc>& d, std::string* error);
  // The local ranges' addresses, or false when a region was released since the post.
  bool local_ranges(const std::vector<Desc>& d, std::vector<Span>* out, std::string* error);
  // A span sent (or received) over a socket: host memory directly, device memory through a host
  // staging buffer.
  bool move_span(int fd, const Span& s, bool send);
  // The device side, opened on first need (a device region, or a peer's); nullptr with `error`.
  DeviceMemory* devices(std::string* error);

  std::string name_, host_id_, advertise_;
  int port_ = 0, listen_fd_ = -1, timeout_ms_ = 30000;
  std::atomic<bool> stopping_{false};

  mutable std::mutex regions_mu_;
  std::vector<Region> regions_;

  std::mutex peers_mu_;  // guards peers_; a Peer's channels are used only on the work thread
  std::map<std::string, std::shared_ptr<Peer>> peers_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_, done_cv_;
  std::deque<std::shared_ptr<Transfer>> queue_;
  std::map<uint32_t, std::shared_ptr<Transfer>> transfers_;
  uint32_t next_id_ = 1;

  std::mutex notif_mu_;
  std::vector<std::pair<std::string, std::string>> notifs_;

  std::mutex conns_mu_;
  std::vector<int> conns_;
  std::vector<std::thread> servers_;

  std::unique_ptr<Ucx> ucx_;
  std::string ucx_why_;

  std::mutex device_mu_;
  std::unique_ptr<DeviceMemory> device_;
  std::string device_why_;
  int device_ordinal_ = 0;

  std::thread worker_, acceptor_;
};

// Pattern helpers (the mocker's KV blocks): 8-byte words derived from seed and position, so a
// block's bytes say which block they are; verify returns the first differing offset, or -1.
void fill_pattern(uint8_t* p, uint64_t len, uint64_t seed);
int64_t verify_pattern(const uint8_t* p, uint64_t len, uint64_t seed);

}  // namespace dynamo::xfer
