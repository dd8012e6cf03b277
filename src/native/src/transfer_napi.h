// Registers the transfer agent's Node-API functions (xfer*) on the addon's exports.
#pragma once

#include <node_api.h>

namespace dynamo {
void register_transfer(napi_env env, napi_value exports);
}
