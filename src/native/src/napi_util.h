// What every Node-API entry point of the addon uses: a checked call that throws and returns, and
// room for its arguments.
#pragma once

#include <node_api.h>

// Throws "dynamo_native: <call> failed" into JavaScript and returns from the entry point.
#define NAPI_CALL(call)                                                  \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, nullptr, "dynamo_native: " #call " failed"); \
      return nullptr;                                                    \
    }                                                                    \
  } while (0)

namespace dynamo {

// An entry point's arguments (napi_get_cb_info fills argc with how many came).
struct Args {
  napi_value argv[8];
  size_t argc = 8;
};

}  // namespace dynamo
