// The CUDA driver API opened at run time (cuda_driver.h).
#include "cuda_driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace dynamo::cuda {

const char* Driver::file() {
  const char* f = std::getenv("DYNAMO_LIBCUDA");
  return f && *f ? f : "libcuda.so.1";
}

bool Driver::load() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (handle) return true;
  if (!error.empty()) return false;
  dlerror();
  void* h = dlopen(file(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    error = e ? e : std::string(file()) + ": cannot be opened";
    return false;
  }
#define DYNAMO_CUDA_BIND(name, ret, ...) name = reinterpret_cast<ret (*)(__VA_ARGS__)>(dlsym(h, #name));
  DYNAMO_CUDA_API(DYNAMO_CUDA_BIND)
#undef DYNAMO_CUDA_BIND
  handle = h;
  return true;
}

std::string Driver::err(const char* call, CUresult rc) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName) cuGetErrorName(rc, &name);
  if (cuGetErrorString) cuGetErrorString(rc, &text);
  std::string out = std::string(call) + ": " + (name ? name : "CUDA error " + std::to_string(rc));
  return text ? out + " (" + text + ")" : out;
}

Driver& driver() {
  static Driver d;
  return d;
}

}  // namespace dynamo::cuda
