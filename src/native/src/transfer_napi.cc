// Node-API face of the transfer agent (transfer.h). Every call returns at once: transfers run on
// the agent's thread and JavaScript polls their status (xferStatus), so it works the same under
// node and inside the Bun binary. xferWait blocks, for benchmarks and tests only.
#include "transfer_napi.h"

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "napi_util.h"
#include "transfer.h"

namespace dynamo {

namespace {

using xfer::Agent;

struct AgentBox {
  std::unique_ptr<Agent> agent;
};



double get_number(napi_env env, napi_value v, double fallback = -1) {
  double d;
  return napi_get_value_double(env, v, &d) == napi_ok ? d : fallback;
}

Agent* agent_of(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) return nullptr;
  return static_cast<AgentBox*>(p)->agent.get();
}

napi_value make_string(napi_env env, const std::string& s) {
  napi_value out;
  napi_create_string_utf8(env, s.data(), s.size(), &out);
  return out;
}

napi_value make_number(napi_env env, double d) {
  napi_value out;
  napi_create_double(env, d, &out);
  return out;
}

void set(napi_env env, napi_value obj, const char* key, napi_value v) { napi_set_named_property(env, obj, key, v); }

// [region, offset, length]* in a Float64Array (offsets past 4 GiB, exact to 2^53).
bool get_descs(napi_env env, napi_value v, std::vector<xfer::Desc>* out) {
  napi_typedarray_type type;
  size_t n;
  void* raw;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &n, &raw, &buf, &off) != napi_ok || type != napi_float64_array || n % 3) return false;
  auto* d = static_cast<double*>(raw);
  out->reserve(n / 3);
  for (size_t i = 0; i < n; i += 3) {
    if (d[i] < 0 || d[i + 1] < 0 || d[i + 2] < 0) return false;
    out->push_back({static_cast<uint32_t>(d[i]), static_cast<uint64_t>(d[i + 1]), static_cast<uint64_t>(d[i + 2])});
  }
  return true;
}

// xferAgentNew(name, listenHost, advertiseHost, port, timeoutMs, ucx) → agent
napi_value AgentNew(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  std::string name, listen, advertise, error;
  if (!get_string(env, a.argv[0], &name) || !get_string(env, a.argv[1], &listen) || !get_string(env, a.argv[2], &advertise)) return fail(env, "xferAgentNew(name, listenHost, advertiseHost, port, timeoutMs)");
  bool ucx = false;
  napi_get_value_bool(env, a.argv[5], &ucx);
  auto agent = Agent::create(name, listen, advertise, static_cast<int>(get_number(env, a.argv[3], 0)), static_cast<int>(get_number(env, a.argv[4], 30000)), ucx,
                             static_cast<int>(get_number(env, a.argv[6], 0)), &error);
  if (!agent) return fail(env, error);
  auto* box = new AgentBox{std::move(agent)};
  napi_value out;
  NAPI_CALL(napi_create_external(env, box, [](napi_env, void* p, void*) { delete static_cast<AgentBox*>(p); }, nullptr, &out));
  return out;
}

// xferAgentClose(agent): stops its threads and frees its regions; later calls see a closed agent.
napi_value AgentClose(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  void* p = nullptr;
  if (napi_get_value_external(env, a.argv[0], &p) == napi_ok && p) static_cast<AgentBox*>(p)->agent.reset();
  return nullptr;
}

#define AGENT(index)                                                    \
  Agent* agent = agent_of(env, a.argv[index]);                          \
  if (!agent) return fail(env, "the transfer agent is closed");

// xferUcxUnavailable(agent) → why the UCX backend is not up, or undefined when it is
napi_value UcxUnavailable(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  if (agent->ucx_unavailable().empty()) return nullptr;
  return make_string(env, agent->ucx_unavailable());
}

napi_value Port(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  return make_number(env, agent->port());
}

// xferAllocate(agent, bytes, memory: 0 memfd | 1 ucx | 2 cuda) → region id
napi_value Allocate(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  std::string error;
  double kind = get_number(env, a.argv[2], 0);
  auto memory = kind == 1 ? xfer::Memory::kUcx : kind == 2 ? xfer::Memory::kCuda : xfer::Memory::kMemfd;
  int64_t id = agent->allocate(static_cast<uint64_t>(get_number(env, a.argv[1], 0)), memory, &error);
  if (id < 0) return fail(env, error);
  return make_number(env, static_cast<double>(id));
}

napi_value Release(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  napi_value out;
  NAPI_CALL(napi_get_boolean(env, agent->release(static_cast<uint32_t>(get_number(env, a.argv[1], 0))), &out));
  return out;
}

napi_value Metadata(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  return make_string(env, agent->metadata());
}

napi_value LoadPeer(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  std::string md, error;
  if (!get_string(env, a.argv[1], &md)) return fail(env, "metadata must be a string");
  std::string name = agent->load_peer(md, &error);
  if (name.empty()) return fail(env, error);
  return make_string(env, name);
}

// (agent, name) → fn(agent, name) as a boolean: the entry points that ask something of one peer.
template <typename F>
napi_value peer_flag(napi_env env, napi_callback_info info, F fn) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  std::string name;
  get_string(env, a.argv[1], &name);
  napi_value out;
  NAPI_CALL(napi_get_boolean(env, fn(agent, name), &out));
  return out;
}

napi_value RemovePeer(napi_env env, napi_callback_info info) {
  return peer_flag(env, info, [](Agent* agent, const std::string& name) { return agent->remove_peer(name); });
}

napi_value SameHost(napi_env env, napi_callback_info info) {
  return peer_flag(env, info, [](Agent* agent, const std::string& name) { return agent->same_host(name); });
}

// xferPost(agent, op, peer, local, remote, notif, backend) → {id} | {status, error}
napi_value Post(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  auto op = static_cast<xfer::Op>(static_cast<int>(get_number(env, a.argv[1], 0)));
  std::string peer, notif, error;
  std::vector<xfer::Desc> local, remote;
  napi_value out;
  NAPI_CALL(napi_create_object(env, &out));
  if (!get_string(env, a.argv[2], &peer) || !get_descs(env, a.argv[3], &local) || !get_descs(env, a.argv[4], &remote) || !get_string(env, a.argv[5], &notif)) {
    set(env, out, "status", make_number(env, xfer::kInvalidParam));
    set(env, out, "error", make_string(env, "xferPost(agent, op, peer, local: Float64Array, remote: Float64Array, notif, backend)"));
    return out;
  }
  auto backend = static_cast<xfer::Backend>(static_cast<int>(get_number(env, a.argv[6], 0)));
  uint32_t id = agent->post(op, peer, std::move(local), std::move(remote), std::move(notif), backend, &error);
  if (!id) {
    set(env, out, "status", make_number(env, error.rfind("unknown peer", 0) == 0 ? xfer::kNotFound : xfer::kInvalidParam));
    set(env, out, "error", make_string(env, error));
  } else {
    set(env, out, "id", make_number(env, id));
  }
  return out;
}

// xferStatus(agent, id) → {status, error?, bytes, ns, backend}
napi_value StatusOf(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  auto t = agent->find(static_cast<uint32_t>(get_number(env, a.argv[1], 0)));
  napi_value out;
  NAPI_CALL(napi_create_object(env, &out));
  if (!t) {
    set(env, out, "status", make_number(env, xfer::kNotFound));
    set(env, out, "error", make_string(env, "no such transfer (released?)"));
    return out;
  }
  int32_t status = t->status.load();
  set(env, out, "status", make_number(env, status));
  if (status != xfer::kInProgress) {
    if (!t->error.empty()) set(env, out, "error", make_string(env, t->error));
    set(env, out, "bytes", make_number(env, static_cast<double>(t->bytes)));
    set(env, out, "ns", make_number(env, static_cast<double>(t->ns)));
    set(env, out, "backend", make_string(env, xfer::backend_name(t->used)));
  }
  return out;
}

napi_value Wait(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  return make_number(env, agent->wait(static_cast<uint32_t>(get_number(env, a.argv[1], 0)), static_cast<int>(get_number(env, a.argv[2], 30000))));
}

napi_value Forget(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  agent->forget(static_cast<uint32_t>(get_number(env, a.argv[1], 0)));
  return nullptr;
}

// xferNotifications(agent) → [agent, message, agent, message, …]
napi_value Notifications(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  auto list = agent->take_notifications();
  napi_value out;
  NAPI_CALL(napi_create_array_with_length(env, list.size() * 2, &out));
  for (size_t i = 0; i < list.size(); i++) {
    napi_set_element(env, out, static_cast<uint32_t>(2 * i), make_string(env, list[i].first));
    napi_set_element(env, out, static_cast<uint32_t>(2 * i + 1), make_string(env, list[i].second));
  }
  return out;
}

// The pattern helpers work on [offset, offset + length) of a region: (agent, region, offset, length, seed: bigint).
bool pattern_args(napi_env env, Args& a, xfer::Desc* d, uint64_t* seed) {
  d->region = static_cast<uint32_t>(get_number(env, a.argv[1], 0));
  d->offset = static_cast<uint64_t>(get_number(env, a.argv[2], 0));
  d->length = static_cast<uint64_t>(get_number(env, a.argv[3], 0));
  bool lossless;
  return napi_get_value_bigint_uint64(env, a.argv[4], seed, &lossless) == napi_ok;
}

napi_value Fill(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  xfer::Desc d{};
  uint64_t seed;
  std::string error;
  if (!pattern_args(env, a, &d, &seed)) return fail(env, "xferFill(agent, region, offset, length, seed: bigint)");
  if (!agent->host_view(d, true, [&](uint8_t* p, uint64_t n) { xfer::fill_pattern(p, n, seed); }, &error)) return fail(env, "xferFill: " + error);
  return nullptr;
}

// Bytes in and out of a local range (an engine's KV state staged for a peer): (agent, region, offset, bytes) and (agent, region, offset, length).
napi_value WriteBytes(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_buffer_info(env, a.argv[3], &data, &length) != napi_ok) return fail(env, "xferWriteBytes(agent, region, offset, bytes: Buffer)");
  xfer::Desc d{};
  d.region = static_cast<uint32_t>(get_number(env, a.argv[1], 0));
  d.offset = static_cast<uint64_t>(get_number(env, a.argv[2], 0));
  d.length = length;
  std::string error;
  if (!agent->host_view(d, true, [&](uint8_t* p, uint64_t n) { memcpy(p, data, n); }, &error)) return fail(env, "xferWriteBytes: " + error);
  return nullptr;
}

napi_value ReadBytes(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  xfer::Desc d{};
  d.region = static_cast<uint32_t>(get_number(env, a.argv[1], 0));
  d.offset = static_cast<uint64_t>(get_number(env, a.argv[2], 0));
  d.length = static_cast<uint64_t>(get_number(env, a.argv[3], 0));
  void* out_data = nullptr;
  napi_value out;
  NAPI_CALL(napi_create_buffer(env, d.length, &out_data, &out));
  std::string error;
  if (!agent->host_view(d, false, [&](uint8_t* p, uint64_t n) { memcpy(out_data, p, n); }, &error)) return fail(env, "xferReadBytes: " + error);
  return out;
}

napi_value Verify(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  AGENT(0);
  xfer::Desc d{};
  uint64_t seed;
  std::string error;
  int64_t bad = -1;
  if (!pattern_args(env, a, &d, &seed)) return fail(env, "xferVerify(agent, region, offset, length, seed: bigint)");
  if (!agent->host_view(d, false, [&](uint8_t* p, uint64_t n) { bad = xfer::verify_pattern(p, n, seed); }, &error)) return fail(env, "xferVerify: " + error);
  return make_number(env, static_cast<double>(bad));
}

// xferCopyNs(dstAgent, srcAgent, dst, src) → ns of a plain copy of each src range into its dst
// range, both agents in this process: the same bytes a READ moves, with nothing around it.
napi_value CopyNs(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  Agent* dst_agent = agent_of(env, a.argv[0]);
  Agent* src_agent = agent_of(env, a.argv[1]);
  std::vector<xfer::Desc> dst, src;
  if (!dst_agent || !src_agent || !get_descs(env, a.argv[2], &dst) || !get_descs(env, a.argv[3], &src) || dst.size() != src.size())
    return fail(env, "xferCopyNs(dstAgent, srcAgent, dst: Float64Array, src: Float64Array)");
  std::string error;
  int64_t ns = Agent::plain_copy_ns(*dst_agent, *src_agent, dst, src, &error);
  if (ns < 0) return fail(env, "xferCopyNs: " + error);
  return make_number(env, static_cast<double>(ns));
}

}  // namespace

void register_transfer(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"xferAgentNew", nullptr, AgentNew, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferAgentClose", nullptr, AgentClose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferPort", nullptr, Port, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferUcxUnavailable", nullptr, UcxUnavailable, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferAllocate", nullptr, Allocate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferRelease", nullptr, Release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferMetadata", nullptr, Metadata, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferLoadPeer", nullptr, LoadPeer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferRemovePeer", nullptr, RemovePeer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferSameHost", nullptr, SameHost, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferPost", nullptr, Post, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferStatus", nullptr, StatusOf, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferWait", nullptr, Wait, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferForget", nullptr, Forget, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferNotifications", nullptr, Notifications, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferFill", nullptr, Fill, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferVerify", nullptr, Verify, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferWriteBytes", nullptr, WriteBytes, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferReadBytes", nullptr, ReadBytes, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xferCopyNs", nullptr, CopyNs, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace dynamo
