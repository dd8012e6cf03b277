// What every Node-API entry point of the addon uses: a checked call that throws and returns, and
// room for its arguments.
#pragma once

#include <node_api.h>

#include <string>

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

// Throws `msg` into JavaScript; returns what an entry point then returns.
inline napi_value fail(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

inline bool get_string(napi_env env, napi_value v, std::string* out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return false;
  out->assign(len, '\0');
  return napi_get_value_string_utf8(env, v, &(*out)[0], len + 1, &len) == napi_ok;
}

}  // namespace dynamo
