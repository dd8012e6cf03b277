// The GPUs as NVML (libnvidia-ml.so.1) and the CUDA driver API (libcuda.so.1) report them, for
// `dynamo sanity`. Both libraries come with the NVIDIA driver, not with us: they are opened with
// dlopen on first use and never linked, and the few entry points and types used are declared below
// from the public NVML and CUDA driver API references. So the addon builds without CUDA and loads
// on machines without a driver, where gpuProbe() says why the libraries could not be opened.
//
// Every entry point but the handful without which nothing can be read is optional: a driver that
// lacks one (older than the call) leaves that field out. Opened libraries stay open for the life of
// the process (unloading libcuda while its threads run is unsafe, and reopening costs time).
// Calls are synchronous: NVML takes tens of milliseconds per GPU (longer without persistence mode).
#include "gpu.h"

#include "cuda_driver.h"

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// ---- NVML (nvml.h) ----------------------------------------------------------------------------

using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
using nvmlEnableState_t = int;  // NVML_FEATURE_DISABLED 0, NVML_FEATURE_ENABLED 1

constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED = 9;

struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlMemory_v2_t {
  unsigned int version;
  unsigned long long total, reserved, free, used;
};
constexpr unsigned int nvmlMemory_v2 = sizeof(nvmlMemory_v2_t) | (2u << 24);  // NVML_STRUCT_VERSION(Memory, 2)

struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];  // "00000000:18:00.0"
};
static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t layout");
static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t layout");

constexpr int NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2;
constexpr int NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;
constexpr int NVML_VOLATILE_ECC = 0, NVML_AGGREGATE_ECC = 1;
constexpr int NVML_NVLINK_DEVICE_TYPE_SWITCH = 2;
constexpr int NVML_P2P_CAPS_INDEX_NVLINK = 2, NVML_P2P_STATUS_OK = 0;
constexpr int NVML_AFFINITY_SCOPE_NODE = 0;
constexpr unsigned NVML_NVLINK_MAX_LINKS = 18;

// X(name, return type, parameter types…): the entry points used, by their exported (versioned) names.
#define NVML_API(X)                                                                                \
  X(nvmlInit_v2, nvmlReturn_t, void)                                                               \
  X(nvmlShutdown, nvmlReturn_t, void)                                                              \
  X(nvmlDeviceGetCount_v2, nvmlReturn_t, unsigned int*)                                            \
  X(nvmlDeviceGetHandleByIndex_v2, nvmlReturn_t, unsigned int, nvmlDevice_t*)                      \
  X(nvmlErrorString, const char*, nvmlReturn_t)                                                    \
  X(nvmlSystemGetDriverVersion, nvmlReturn_t, char*, unsigned int)                                 \
  X(nvmlSystemGetNVMLVersion, nvmlReturn_t, char*, unsigned int)                                   \
  X(nvmlSystemGetCudaDriverVersion_v2, nvmlReturn_t, int*)                                         \
  X(nvmlSystemGetCudaDriverVersion, nvmlReturn_t, int*)                                            \
  X(nvmlDeviceGetName, nvmlReturn_t, nvmlDevice_t, char*, unsigned int)                            \
  X(nvmlDeviceGetUUID, nvmlReturn_t, nvmlDevice_t, char*, unsigned int)                            \
  X(nvmlDeviceGetPciInfo_v3, nvmlReturn_t, nvmlDevice_t, nvmlPciInfo_t*)                           \
  X(nvmlDeviceGetMemoryInfo_v2, nvmlReturn_t, nvmlDevice_t, nvmlMemory_v2_t*)                      \
  X(nvmlDeviceGetMemoryInfo, nvmlReturn_t, nvmlDevice_t, nvmlMemory_t*)                            \
  X(nvmlDeviceGetCudaComputeCapability, nvmlReturn_t, nvmlDevice_t, int*, int*)                    \
  X(nvmlDeviceGetMigMode, nvmlReturn_t, nvmlDevice_t, unsigned int*, unsigned int*)                \
  X(nvmlDeviceGetEccMode, nvmlReturn_t, nvmlDevice_t, nvmlEnableState_t*, nvmlEnableState_t*)      \
  X(nvmlDeviceGetTotalEccErrors, nvmlReturn_t, nvmlDevice_t, int, int, unsigned long long*)        \
  X(nvmlDeviceGetPersistenceMode, nvmlReturn_t, nvmlDevice_t, nvmlEnableState_t*)                  \
  X(nvmlDeviceGetPowerUsage, nvmlReturn_t, nvmlDevice_t, unsigned int*)                            \
  X(nvmlDeviceGetEnforcedPowerLimit, nvmlReturn_t, nvmlDevice_t, unsigned int*)                    \
  X(nvmlDeviceGetClockInfo, nvmlReturn_t, nvmlDevice_t, int, unsigned int*)                        \
  X(nvmlDeviceGetMaxClockInfo, nvmlReturn_t, nvmlDevice_t, int, unsigned int*)                     \
  X(nvmlDeviceGetMemoryAffinity, nvmlReturn_t, nvmlDevice_t, unsigned int, unsigned long*, int)    \
  X(nvmlDeviceGetNumaNodeId, nvmlReturn_t, nvmlDevice_t, unsigned int*)                            \
  X(nvmlDeviceGetNvLinkState, nvmlReturn_t, nvmlDevice_t, unsigned int, nvmlEnableState_t*)        \
  X(nvmlDeviceGetNvLinkVersion, nvmlReturn_t, nvmlDevice_t, unsigned int, unsigned int*)           \
  X(nvmlDeviceGetNvLinkRemotePciInfo_v2, nvmlReturn_t, nvmlDevice_t, unsigned int, nvmlPciInfo_t*) \
  X(nvmlDeviceGetNvLinkRemoteDeviceType, nvmlReturn_t, nvmlDevice_t, unsigned int, int*)           \
  X(nvmlDeviceGetTopologyCommonAncestor, nvmlReturn_t, nvmlDevice_t, nvmlDevice_t, int*)           \
  X(nvmlDeviceGetP2PStatus, nvmlReturn_t, nvmlDevice_t, nvmlDevice_t, int, int*)

#define DECLARE(name, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
#define BIND(name, ret, ...) name = reinterpret_cast<ret (*)(__VA_ARGS__)>(dlsym(handle, #name));

// A driver library, opened once; `error` says why it could not be (dlerror's text).
struct Library {
  const char* file;
  void* handle = nullptr;
  std::string error;

  bool open() {
    if (handle) return true;
    dlerror();
    handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (handle) return true;
    const char* e = dlerror();
    error = e ? e : std::string(file) + ": cannot be opened";
    return false;
  }
};

struct Nvml : Library {
  NVML_API(DECLARE)
  bool load() {
    if (handle) return true;
    if (!open()) return false;
    NVML_API(BIND)
    return true;
  }
  std::string err(const char* call, nvmlReturn_t rc) const {
    const char* text = nvmlErrorString ? nvmlErrorString(rc) : nullptr;
    return std::string(call) + ": " + (text ? text : "NVML error " + std::to_string(rc));
  }
};

Nvml nvml{{"libnvidia-ml.so.1", nullptr, {}}};
// The CUDA driver, shared with the transfer agent (cuda_driver.h).
using namespace dynamo::cuda;
Driver& cuda = driver();

// True when NVML has `f` and it succeeded.
#define NVML_OK(f, ...) (nvml.f && nvml.f(__VA_ARGS__) == NVML_SUCCESS)
#define CUDA_OK(f, ...) (cuda.f && cuda.f(__VA_ARGS__) == CUDA_SUCCESS)

// ---- building plain JS objects (N-API failures here can only mean a pending exception) --------

struct Js {
  napi_env env;
  napi_value object() const {
    napi_value v = nullptr;
    napi_create_object(env, &v);
    return v;
  }
  napi_value array() const {
    napi_value v = nullptr;
    napi_create_array(env, &v);
    return v;
  }
  napi_value num(double d) const {
    napi_value v = nullptr;
    napi_create_double(env, d, &v);
    return v;
  }
  napi_value str(const std::string& s) const {
    napi_value v = nullptr;
    napi_create_string_utf8(env, s.c_str(), s.size(), &v);
    return v;
  }
  napi_value boolean(bool b) const {
    napi_value v = nullptr;
    napi_get_boolean(env, b, &v);
    return v;
  }
  void set(napi_value o, const char* key, napi_value v) const {
    if (o && v) napi_set_named_property(env, o, key, v);
  }
  void push(napi_value a, napi_value v) const {
    uint32_t n = 0;
    if (a && v && napi_get_array_length(env, a, &n) == napi_ok) napi_set_element(env, a, n, v);
  }
  napi_value failure(const char* flag, const std::string& error, int code = 0) const {
    napi_value o = object();
    set(o, flag, boolean(false));
    set(o, "error", str(error));
    if (code) set(o, "code", num(code));
    return o;
  }
};

// ---- NVML probe -------------------------------------------------------------------------------

// The NUMA node whose CPUs and memory sit nearest the GPU's PCIe root (nvidia-smi topo's "NUMA
// Affinity"): NVML's memory affinity when it names one node, else the kernel's view in sysfs; -1
// when neither knows. (nvmlDeviceGetNumaNodeId is another thing: the node that is the GPU's own
// memory on coherent platforms such as Grace Hopper; reported apart as gpuNumaNode.)
int numa_node(nvmlDevice_t d, const char* bus_id) {
  unsigned long mask = 0;
  if (NVML_OK(nvmlDeviceGetMemoryAffinity, d, 1, &mask, NVML_AFFINITY_SCOPE_NODE) && mask && !(mask & (mask - 1)))
    return __builtin_ctzl(mask);
  // NVML's "00000000:18:00.0" is sysfs's "0000:18:00.0" (lower case).
  std::string id(bus_id);
  if (id.size() == 16 && id.compare(0, 4, "0000") == 0) id.erase(0, 4);
  for (char& c : id) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  std::string path = "/sys/bus/pci/devices/" + id + "/numa_node";
  int node = -1;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    if (std::fscanf(f, "%d", &node) != 1) node = -1;
    std::fclose(f);
  }
  return node;
}

napi_value nvml_links(const Js& js, nvmlDevice_t d) {
  napi_value links = js.array();
  for (unsigned l = 0; l < NVML_NVLINK_MAX_LINKS; l++) {
    nvmlEnableState_t active = 0;
    if (!NVML_OK(nvmlDeviceGetNvLinkState, d, l, &active)) continue;  // not a link this GPU has
    napi_value link = js.object();
    js.set(link, "link", js.num(l));
    js.set(link, "active", js.boolean(active == 1));
    if (active == 1) {
      unsigned version = 0;
      nvmlPciInfo_t remote{};
      int type = 0;
      if (NVML_OK(nvmlDeviceGetNvLinkVersion, d, l, &version)) js.set(link, "version", js.num(version));
      if (NVML_OK(nvmlDeviceGetNvLinkRemotePciInfo_v2, d, l, &remote)) js.set(link, "remotePciBusId", js.str(remote.busId));
      if (NVML_OK(nvmlDeviceGetNvLinkRemoteDeviceType, d, l, &type))
        js.set(link, "remoteIsSwitch", js.boolean(type == NVML_NVLINK_DEVICE_TYPE_SWITCH));
    }
    js.push(links, link);
  }
  return links;
}

napi_value nvml_device(const Js& js, unsigned index, nvmlDevice_t* handle) {
  napi_value dev = js.object();
  js.set(dev, "index", js.num(index));
  nvmlDevice_t d = nullptr;
  nvmlReturn_t rc = nvml.nvmlDeviceGetHandleByIndex_v2(index, &d);
  if (rc != NVML_SUCCESS) {  // e.g. "GPU is lost": the GPU fell off the bus
    *handle = nullptr;
    js.set(dev, "error", js.str(nvml.err("nvmlDeviceGetHandleByIndex_v2", rc)));
    js.set(dev, "nvlinks", js.array());
    return dev;
  }
  *handle = d;
  char text[256] = {0};
  if (NVML_OK(nvmlDeviceGetName, d, text, sizeof text)) js.set(dev, "name", js.str(text));
  if (NVML_OK(nvmlDeviceGetUUID, d, text, sizeof text)) js.set(dev, "uuid", js.str(text));
  nvmlPciInfo_t pci{};
  if (NVML_OK(nvmlDeviceGetPciInfo_v3, d, &pci)) js.set(dev, "pciBusId", js.str(pci.busId));

  napi_value memory = js.object();
  nvmlMemory_v2_t m2{};
  nvmlMemory_t m1{};
  m2.version = nvmlMemory_v2;
  if (NVML_OK(nvmlDeviceGetMemoryInfo_v2, d, &m2)) {
    js.set(memory, "total", js.num(static_cast<double>(m2.total)));
    js.set(memory, "used", js.num(static_cast<double>(m2.used)));
    js.set(memory, "free", js.num(static_cast<double>(m2.free)));
    js.set(memory, "reserved", js.num(static_cast<double>(m2.reserved)));
    js.set(dev, "memory", memory);
  } else if (NVML_OK(nvmlDeviceGetMemoryInfo, d, &m1)) {
    js.set(memory, "total", js.num(static_cast<double>(m1.total)));
    js.set(memory, "used", js.num(static_cast<double>(m1.used)));
    js.set(memory, "free", js.num(static_cast<double>(m1.free)));
    js.set(dev, "memory", memory);
  }

  int major = 0, minor = 0;
  if (NVML_OK(nvmlDeviceGetCudaComputeCapability, d, &major, &minor)) {
    napi_value cc = js.array();
    js.push(cc, js.num(major));
    js.push(cc, js.num(minor));
    js.set(dev, "computeCapability", cc);
  }
  unsigned current = 0, pending = 0;
  if (NVML_OK(nvmlDeviceGetMigMode, d, &current, &pending)) js.set(dev, "migMode", js.num(current));
  nvmlEnableState_t ecc = 0, ecc_pending = 0;
  if (NVML_OK(nvmlDeviceGetEccMode, d, &ecc, &ecc_pending)) {
    js.set(dev, "eccMode", js.num(ecc));
    unsigned long long count = 0;
    if (NVML_OK(nvmlDeviceGetTotalEccErrors, d, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &count))
      js.set(dev, "eccVolatileUncorrected", js.num(static_cast<double>(count)));
    if (NVML_OK(nvmlDeviceGetTotalEccErrors, d, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC, &count))
      js.set(dev, "eccAggregateUncorrected", js.num(static_cast<double>(count)));
  }
  nvmlEnableState_t persistence = 0;
  if (NVML_OK(nvmlDeviceGetPersistenceMode, d, &persistence)) js.set(dev, "persistenceMode", js.boolean(persistence == 1));
  unsigned value = 0;
  if (NVML_OK(nvmlDeviceGetPowerUsage, d, &value)) js.set(dev, "powerDrawMw", js.num(value));
  if (NVML_OK(nvmlDeviceGetEnforcedPowerLimit, d, &value)) js.set(dev, "powerLimitMw", js.num(value));
  napi_value clocks = js.object();
  if (NVML_OK(nvmlDeviceGetClockInfo, d, NVML_CLOCK_SM, &value)) js.set(clocks, "sm", js.num(value));
  if (NVML_OK(nvmlDeviceGetClockInfo, d, NVML_CLOCK_MEM, &value)) js.set(clocks, "mem", js.num(value));
  if (NVML_OK(nvmlDeviceGetMaxClockInfo, d, NVML_CLOCK_SM, &value)) js.set(clocks, "maxSm", js.num(value));
  js.set(dev, "clocks", clocks);
  int node = numa_node(d, pci.busId);
  if (node >= 0) js.set(dev, "numaNode", js.num(node));
  if (NVML_OK(nvmlDeviceGetNumaNodeId, d, &value)) js.set(dev, "gpuNumaNode", js.num(value));
  js.set(dev, "nvlinks", nvml_links(js, d));
  return dev;
}

napi_value nvml_probe(const Js& js) {
  if (!nvml.load()) return js.failure("loaded", nvml.error);
  if (!nvml.nvmlInit_v2 || !nvml.nvmlShutdown || !nvml.nvmlDeviceGetCount_v2 || !nvml.nvmlDeviceGetHandleByIndex_v2)
    return js.failure("loaded", "libnvidia-ml.so.1 lacks nvmlInit_v2, nvmlDeviceGetCount_v2 or nvmlDeviceGetHandleByIndex_v2 (driver too old)");
  nvmlReturn_t rc = nvml.nvmlInit_v2();
  if (rc != NVML_SUCCESS) return js.failure("loaded", nvml.err("nvmlInit_v2", rc), rc);
  unsigned count = 0;
  rc = nvml.nvmlDeviceGetCount_v2(&count);
  if (rc != NVML_SUCCESS) {
    nvml.nvmlShutdown();
    return js.failure("loaded", nvml.err("nvmlDeviceGetCount_v2", rc), rc);
  }
  napi_value out = js.object();
  js.set(out, "loaded", js.boolean(true));
  char text[96] = {0};
  if (NVML_OK(nvmlSystemGetDriverVersion, text, sizeof text)) js.set(out, "driverVersion", js.str(text));
  if (NVML_OK(nvmlSystemGetNVMLVersion, text, sizeof text)) js.set(out, "nvmlVersion", js.str(text));
  int cuda_version = 0;
  if (NVML_OK(nvmlSystemGetCudaDriverVersion_v2, &cuda_version) || NVML_OK(nvmlSystemGetCudaDriverVersion, &cuda_version))
    js.set(out, "cudaDriverVersion", js.num(cuda_version));

  napi_value devices = js.array();
  std::vector<nvmlDevice_t> handles(count);
  for (unsigned i = 0; i < count; i++) js.push(devices, nvml_device(js, i, &handles[i]));
  js.set(out, "devices", devices);

  napi_value pairs = js.array();
  for (unsigned i = 0; i < count; i++) {
    for (unsigned j = i + 1; j < count; j++) {
      if (!handles[i] || !handles[j]) continue;
      napi_value pair = js.object();
      js.set(pair, "i", js.num(i));
      js.set(pair, "j", js.num(j));
      int level = 0, status = 0;
      if (NVML_OK(nvmlDeviceGetTopologyCommonAncestor, handles[i], handles[j], &level)) js.set(pair, "commonAncestor", js.num(level));
      if (NVML_OK(nvmlDeviceGetP2PStatus, handles[i], handles[j], NVML_P2P_CAPS_INDEX_NVLINK, &status))
        js.set(pair, "p2pNvlink", js.boolean(status == NVML_P2P_STATUS_OK));
      js.push(pairs, pair);
    }
  }
  js.set(out, "pairs", pairs);
  nvml.nvmlShutdown();
  return out;
}

// ---- CUDA probe -------------------------------------------------------------------------------

// Loads libcuda and runs cuInit; false (with `why`, `code`) when either fails.
bool cuda_init(std::string* why, CUresult* code) {
  *code = 0;
  if (!cuda.load()) return *why = cuda.error, false;
  if (!cuda.cuInit || !cuda.cuDeviceGetCount || !cuda.cuDeviceGet)
    return *why = "libcuda.so.1 lacks cuInit, cuDeviceGetCount or cuDeviceGet", false;
  CUresult rc = cuda.cuInit(0);
  if (rc != CUDA_SUCCESS && rc != CUDA_ERROR_NO_DEVICE) return *why = cuda.err("cuInit", rc), *code = rc, false;
  return true;
}

napi_value cuda_probe(const Js& js) {
  std::string why;
  CUresult code;
  if (!cuda_init(&why, &code)) return js.failure("loaded", why, code);
  napi_value out = js.object();
  js.set(out, "loaded", js.boolean(true));
  int version = 0, count = 0;
  if (CUDA_OK(cuDriverGetVersion, &version)) js.set(out, "driverVersion", js.num(version));
  CUresult rc = cuda.cuDeviceGetCount(&count);
  if (rc != CUDA_SUCCESS) count = 0;  // CUDA_ERROR_NO_DEVICE (e.g. CUDA_VISIBLE_DEVICES="") and the like
  js.set(out, "deviceCount", js.num(count));
  napi_value devices = js.array();
  std::vector<CUdevice> devs(count, -1);
  for (int o = 0; o < count; o++) {
    napi_value dev = js.object();
    js.set(dev, "ordinal", js.num(o));
    rc = cuda.cuDeviceGet(&devs[o], o);
    if (rc != CUDA_SUCCESS) {
      devs[o] = -1;
      js.set(dev, "error", js.str(cuda.err("cuDeviceGet", rc)));
      js.push(devices, dev);
      continue;
    }
    char text[128] = {0};
    int value = 0;
    size_t bytes = 0;
    if (CUDA_OK(cuDeviceGetName, text, sizeof text, devs[o])) js.set(dev, "name", js.str(text));
    if (CUDA_OK(cuDeviceGetPCIBusId, text, sizeof text, devs[o])) js.set(dev, "pciBusId", js.str(text));
    if (CUDA_OK(cuDeviceGetAttribute, &value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, devs[o])) js.set(dev, "ccMajor", js.num(value));
    if (CUDA_OK(cuDeviceGetAttribute, &value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, devs[o])) js.set(dev, "ccMinor", js.num(value));
    if (CUDA_OK(cuDeviceGetAttribute, &value, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, devs[o])) js.set(dev, "multiprocessors", js.num(value));
    if (CUDA_OK(cuDeviceTotalMem_v2, &bytes, devs[o])) js.set(dev, "totalMemBytes", js.num(static_cast<double>(bytes)));
    js.push(devices, dev);
  }
  js.set(out, "devices", devices);
  napi_value peers = js.array();
  for (int a = 0; a < count; a++) {
    napi_value row = js.array();
    for (int b = 0; b < count; b++) {
      int can = 0;
      bool ok = a != b && devs[a] >= 0 && devs[b] >= 0 && CUDA_OK(cuDeviceCanAccessPeer, &can, devs[a], devs[b]) && can;
      js.push(row, js.boolean(ok));
    }
    js.push(peers, row);
  }
  js.set(out, "canAccessPeer", peers);
  return out;
}

// ---- bandwidth --------------------------------------------------------------------------------

// What gpuBandwidth allocated; released in reverse order whatever happened.
struct BandwidthRun {
  CUcontext ctx = nullptr;
  CUdeviceptr src = 0, dst = 0;
  void* host = nullptr;
  bool pinned = false;
  ~BandwidthRun() {
    if (host) pinned ? (void)cuda.cuMemFreeHost(host) : std::free(host);
    if (dst) cuda.cuMemFree_v2(dst);
    if (src) cuda.cuMemFree_v2(src);
    if (ctx) cuda.cuCtxDestroy_v2(ctx);
  }
};

constexpr int kBandwidthReps = 10;

// Seconds that `reps` calls of `copy` take after one warm-up call, or < 0 (with `why`) on failure.
template <typename Copy>
double time_copies(const char* name, Copy copy, std::string* why) {
  CUresult rc = copy();
  if (rc == CUDA_SUCCESS) rc = cuda.cuCtxSynchronize();
  if (rc != CUDA_SUCCESS) return *why = cuda.err(name, rc), -1;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < kBandwidthReps && rc == CUDA_SUCCESS; r++) rc = copy();
  if (rc == CUDA_SUCCESS) rc = cuda.cuCtxSynchronize();  // device-to-device copies return before they finish
  if (rc != CUDA_SUCCESS) return *why = cuda.err(name, rc), -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool measure(int ordinal, size_t bytes, double* h2d, double* d2d, bool* pinned, std::string* why) {
  CUresult code;
  if (!cuda_init(why, &code)) return false;
  if (!cuda.cuCtxCreate_v2 || !cuda.cuCtxDestroy_v2 || !cuda.cuCtxSynchronize || !cuda.cuMemAlloc_v2 || !cuda.cuMemFree_v2 ||
      !cuda.cuMemcpyHtoD_v2 || !cuda.cuMemcpyDtoD_v2)
    return *why = "libcuda.so.1 lacks a context, allocation or copy entry point", false;
  int count = 0;
  if (cuda.cuDeviceGetCount(&count) != CUDA_SUCCESS || ordinal >= count)
    return *why = "no CUDA device " + std::to_string(ordinal) + " (" + std::to_string(count) + " visible)", false;
  CUdevice dev;
  CUresult rc = cuda.cuDeviceGet(&dev, ordinal);
  if (rc != CUDA_SUCCESS) return *why = cuda.err("cuDeviceGet", rc), false;
  BandwidthRun run;
  if ((rc = cuda.cuCtxCreate_v2(&run.ctx, 0, dev)) != CUDA_SUCCESS) return run.ctx = nullptr, *why = cuda.err("cuCtxCreate_v2", rc), false;
  if ((rc = cuda.cuMemAlloc_v2(&run.src, bytes)) != CUDA_SUCCESS) return run.src = 0, *why = cuda.err("cuMemAlloc_v2", rc), false;
  if ((rc = cuda.cuMemAlloc_v2(&run.dst, bytes)) != CUDA_SUCCESS) return run.dst = 0, *why = cuda.err("cuMemAlloc_v2", rc), false;
  // Pinned host memory, as the PCIe link's speed is what is asked (pageable copies go through a bounce buffer).
  if (CUDA_OK(cuMemAllocHost_v2, &run.host, bytes) && cuda.cuMemFreeHost) {
    run.pinned = true;
  } else {
    run.host = std::malloc(bytes);
    if (!run.host) return *why = "out of host memory", false;
  }
  std::memset(run.host, 0x5a, bytes);
  double h = time_copies("cuMemcpyHtoD_v2", [&] { return cuda.cuMemcpyHtoD_v2(run.src, run.host, bytes); }, why);
  if (h < 0) return false;
  double d = time_copies("cuMemcpyDtoD_v2", [&] { return cuda.cuMemcpyDtoD_v2(run.dst, run.src, bytes); }, why);
  if (d < 0) return false;
  double moved = static_cast<double>(bytes) * kBandwidthReps;
  *h2d = h > 0 ? moved / h / 1e9 : 0;
  *d2d = d > 0 ? moved / d / 1e9 : 0;
  *pinned = run.pinned;
  return true;
}

// Reads an optional numeric argument (undefined → `fallback`); false when it is not a number.
bool number_arg(napi_env env, napi_value* argv, size_t argc, size_t at, double fallback, double* out) {
  napi_valuetype t = napi_undefined;
  if (at >= argc || napi_typeof(env, argv[at], &t) != napi_ok || t == napi_undefined) return *out = fallback, true;
  return t == napi_number && napi_get_value_double(env, argv[at], out) == napi_ok;
}

}  // namespace

namespace dynamo {

napi_value GpuProbe(napi_env env, napi_callback_info info) {
  Js js{env};
  napi_value argv[1];
  size_t argc = 1;
  bool with_cuda = true;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc > 0) {
    napi_valuetype t;
    napi_value flag;
    bool value;
    if (napi_typeof(env, argv[0], &t) == napi_ok && t == napi_object && napi_get_named_property(env, argv[0], "cuda", &flag) == napi_ok &&
        napi_get_value_bool(env, flag, &value) == napi_ok)
      with_cuda = value;
  }
  napi_value out = js.object();
  js.set(out, "nvml", nvml_probe(js));
  if (with_cuda) js.set(out, "cuda", cuda_probe(js));
  return out;
}

napi_value GpuBandwidth(napi_env env, napi_callback_info info) {
  Js js{env};
  napi_value argv[2];
  size_t argc = 2;
  double size_mib = 64, ordinal = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return js.failure("ok", "bad arguments");
  if (!number_arg(env, argv, argc, 0, 64, &size_mib) || !(size_mib >= 1 && size_mib <= 16384) || size_mib != static_cast<double>(static_cast<int>(size_mib)))
    return js.failure("ok", "sizeMiB must be an integer from 1 to 16384");
  if (!number_arg(env, argv, argc, 1, 0, &ordinal) || !(ordinal >= 0 && ordinal < 1024) || ordinal != static_cast<double>(static_cast<int>(ordinal)))
    return js.failure("ok", "ordinal must be a CUDA device ordinal");
  double h2d = 0, d2d = 0;
  bool pinned = false;
  std::string why;
  if (!measure(static_cast<int>(ordinal), static_cast<size_t>(size_mib) << 20, &h2d, &d2d, &pinned, &why)) return js.failure("ok", why);
  napi_value out = js.object();
  js.set(out, "ok", js.boolean(true));
  js.set(out, "ordinal", js.num(ordinal));
  js.set(out, "sizeMiB", js.num(size_mib));
  js.set(out, "pinned", js.boolean(pinned));
  js.set(out, "h2dGBps", js.num(h2d));
  js.set(out, "d2dGBps", js.num(d2d));
  return out;
}

}  // namespace dynamo
