// dynamo_llama: llama.cpp in the worker process, linked statically (scripts/build-llama.mjs builds
// llama.cpp from a pinned source and this addon against it). The engine's scheduler lives in
// TypeScript (src/engines/llamacpp/); this file only exposes what a scheduler needs:
//   open/close/info · tokenize/piece · step (one llama_decode of many sequences, then sampling,
//   off the JS thread) · per-sequence KV: remove, copy, position, state get/set (disaggregation).
// Token ids in, token ids out: the frontend's tokenizer and llama.cpp's must agree, and a test says so.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ggml-cpu.h"
#include "llama.h"
#include "napi_util.h"  // the main addon's helpers (src/native/src)

#define CALL(call)                                                       \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, nullptr, "dynamo_llama: " #call " failed"); \
      return nullptr;                                                    \
    }                                                                    \
  } while (0)

namespace {

using dynamo::fail;
using dynamo::get_string;

struct Engine {
  llama_model* model = nullptr;
  llama_context* ctx = nullptr;
  const llama_vocab* vocab = nullptr;
  ggml_threadpool* threadpool = nullptr;
  int32_t batch_capacity = 0;
  bool busy = false;  // a step runs on the thread pool: nothing else may touch the context
};

// Per output row: temperature, top_p, top_k, and one uniform draw from the request's seeded PRNG.
struct Sampling {
  float temperature, top_p;
  int32_t top_k;
  double uniform;
};

struct StepWork {
  Engine* engine;
  std::vector<llama_token> tokens;
  std::vector<llama_pos> positions;
  std::vector<llama_seq_id> seqs;
  std::vector<int8_t> want_logits;
  std::vector<Sampling> sampling;  // one per row with want_logits, in row order
  std::vector<llama_token> sampled;
  int32_t status = 0;
  napi_deferred deferred;
  napi_async_work work;
};

bool quiet_logs = true;  // llama.cpp talks a lot; errors reach JS as exceptions, DYN_LLAMA_LOG=1 shows the rest

void log_callback(ggml_log_level level, const char* text, void*) {
  (void)level;
  if (!quiet_logs) fputs(text, stderr);
}

int32_t get_int(napi_env env, napi_value obj, const char* key, int32_t fallback) {
  napi_value v;
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return fallback;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return fallback;
  int32_t out;
  return napi_get_value_int32(env, v, &out) == napi_ok ? out : fallback;
}

Engine* unwrap(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || !data) return nullptr;
  auto* e = static_cast<Engine*>(data);
  return e->ctx ? e : nullptr;
}

// A typed array's elements, or false when it is not one of `want` (Int32Array, Float64Array, Int8Array, Uint8Array).
template <typename T>
bool typed(napi_env env, napi_value v, T** data, size_t* length, napi_typedarray_type want) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* raw;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok || type != want) return false;
  *data = static_cast<T*>(raw);
  return true;
}

napi_value int32_array(napi_env env, const int32_t* data, size_t n) {
  void* raw;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, n * 4, &raw, &buffer) != napi_ok) return nullptr;
  if (n) memcpy(raw, data, n * 4);
  if (napi_create_typedarray(env, napi_int32_array, n, buffer, 0, &array) != napi_ok) return nullptr;
  return array;
}

napi_value bytes(napi_env env, const void* data, size_t n) {
  void* raw;
  napi_value out;
  if (napi_create_buffer_copy(env, n, data, &raw, &out) != napi_ok) return nullptr;
  return out;
}

// open(path, {contextTokens, sequences, batchTokens, threads}) → engine handle
napi_value open_model(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  std::string path;
  if (argc < 2 || !get_string(env, argv[0], &path)) return fail(env, "open(path, options)");
  static bool backend = false;
  if (!backend) {
    quiet_logs = getenv("DYN_LLAMA_LOG") == nullptr;
    llama_log_set(log_callback, nullptr);
    llama_backend_init();
    backend = true;
  }
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(path.c_str(), mp);
  if (!model) return fail(env, "llama.cpp could not load " + path + " (set DYN_LLAMA_LOG=1 to see why)");
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = get_int(env, argv[1], "contextTokens", 0);
  cp.n_seq_max = get_int(env, argv[1], "sequences", 1);
  cp.n_batch = get_int(env, argv[1], "batchTokens", 512);
  cp.n_ubatch = cp.n_batch;
  cp.n_threads = cp.n_threads_batch = get_int(env, argv[1], "threads", 2);
  cp.kv_unified = true;  // sequences that share a prefix share its cells (seq_cp is then free)
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) {
    llama_model_free(model);
    return fail(env, "llama.cpp could not create a context for " + path + " (too many sequences or tokens for memory?)");
  }
  // One thread pool for the context's life. Left to ggml, each decode gets a pool whose threads
  // spin for work; on a busy machine with few cores that spinning costs more than the decode.
  ggml_threadpool_params tpp = ggml_threadpool_params_default(cp.n_threads);
  tpp.poll = static_cast<uint32_t>(get_int(env, argv[1], "poll", 0));
  ggml_threadpool* threadpool = ggml_threadpool_new(&tpp);
  if (threadpool) llama_attach_threadpool(ctx, threadpool, threadpool);
  auto* e = new Engine{model, ctx, llama_model_get_vocab(model), threadpool, static_cast<int32_t>(cp.n_batch)};
  napi_value out;
  CALL(napi_create_external(env, e, nullptr, nullptr, &out));
  return out;
}

napi_value close_model(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = unwrap(env, argv[0]);
  if (!e) return nullptr;
  if (e->busy) return fail(env, "close while a step runs");
  llama_free(e->ctx);
  if (e->threadpool) ggml_threadpool_free(e->threadpool);
  llama_model_free(e->model);
  e->ctx = nullptr;
  e->model = nullptr;
  return nullptr;  // the Engine itself stays (tiny) so a late call sees a closed handle, not freed memory
}

std::string meta(llama_model* model, const char* key) {
  char buf[256];
  int32_t n = llama_model_meta_val_str(model, key, buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, std::min<size_t>(n, sizeof buf - 1));
}

void set_number(napi_env env, napi_value obj, const char* key, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, key, n);
}

void set_string(napi_env env, napi_value obj, const char* key, const std::string& v) {
  napi_value s;
  napi_create_string_utf8(env, v.data(), v.size(), &s);
  napi_set_named_property(env, obj, key, s);
}

napi_value model_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = unwrap(env, argv[0]);
  if (!e) return fail(env, "the model is closed");
  napi_value out;
  CALL(napi_create_object(env, &out));
  char desc[256];
  llama_model_desc(e->model, desc, sizeof desc);
  set_string(env, out, "description", desc);
  set_string(env, out, "architecture", meta(e->model, "general.architecture"));
  set_number(env, out, "contextTrain", llama_model_n_ctx_train(e->model));
  set_number(env, out, "contextTokens", llama_n_ctx(e->ctx));
  set_number(env, out, "sequences", llama_n_seq_max(e->ctx));
  set_number(env, out, "embedding", llama_model_n_embd(e->model));
  set_number(env, out, "layers", llama_model_n_layer(e->model));
  set_number(env, out, "vocabSize", llama_vocab_n_tokens(e->vocab));
  set_number(env, out, "parameters", static_cast<double>(llama_model_n_params(e->model)));
  set_number(env, out, "bytes", static_cast<double>(llama_model_size(e->model)));
  set_number(env, out, "bos", llama_vocab_bos(e->vocab));
  set_number(env, out, "eos", llama_vocab_eos(e->vocab));
  const char* tmpl = llama_model_chat_template(e->model, nullptr);
  if (tmpl) set_string(env, out, "chatTemplate", tmpl);
  std::vector<int32_t> eog;
  for (int32_t t = 0, n = llama_vocab_n_tokens(e->vocab); t < n; t++)
    if (llama_vocab_is_eog(e->vocab, t)) eog.push_back(t);
  napi_set_named_property(env, out, "endOfGeneration", int32_array(env, eog.data(), eog.size()));
  return out;
}

// tokenize(engine, text, addSpecial, parseSpecial) → Int32Array
napi_value tokenize(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = unwrap(env, argv[0]);
  std::string text;
  if (!e || !get_string(env, argv[1], &text)) return fail(env, "tokenize(engine, text, addSpecial, parseSpecial)");
  bool add_special = false, parse_special = false;
  napi_get_value_bool(env, argv[2], &add_special);
  napi_get_value_bool(env, argv[3], &parse_special);
  std::vector<llama_token> out(text.size() + 8);
  int32_t n = llama_tokenize(e->vocab, text.data(), text.size(), out.data(), out.size(), add_special, parse_special);
  if (n < 0) {
    out.resize(-n);
    n = llama_tokenize(e->vocab, text.data(), text.size(), out.data(), out.size(), add_special, parse_special);
  }
  if (n < 0) return fail(env, "llama_tokenize failed");
  return int32_array(env, out.data(), n);
}

// piece(engine, tokens) → Buffer: the tokens' bytes, special tokens rendered
napi_value piece(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = unwrap(env, argv[0]);
  int32_t* tokens;
  size_t n;
  if (!e || !typed(env, argv[1], &tokens, &n, napi_int32_array)) return fail(env, "piece(engine, Int32Array)");
  std::string out;
  char buf[256];
  for (size_t i = 0; i < n; i++) {
    int32_t k = llama_token_to_piece(e->vocab, tokens[i], buf, sizeof buf, 0, true);
    if (k > 0) out.append(buf, k);
  }
  return bytes(env, out.data(), out.size());
}

llama_token sample(const float* logits, int32_t vocab, const Sampling& s) {
  if (s.temperature <= 0) return static_cast<llama_token>(std::max_element(logits, logits + vocab) - logits);
  if (s.top_k <= 0 && s.top_p >= 1) {
    // Plain temperature (OpenAI's default): one pass over the softmax, no sort of the vocabulary.
    float max = *std::max_element(logits, logits + vocab);
    double total = 0;
    for (int32_t t = 0; t < vocab; t++) total += std::exp((logits[t] - max) / s.temperature);
    double target = s.uniform * total, acc = 0;
    for (int32_t t = 0; t < vocab; t++) {
      acc += std::exp((logits[t] - max) / s.temperature);
      if (acc >= target) return t;
    }
    return vocab - 1;
  }
  std::vector<std::pair<float, llama_token>> c(vocab);
  for (int32_t t = 0; t < vocab; t++) c[t] = {logits[t] / s.temperature, t};
  size_t k = s.top_k > 0 ? std::min<size_t>(s.top_k, c.size()) : c.size();
  std::partial_sort(c.begin(), c.begin() + k, c.end(), [](auto& a, auto& b) { return a.first > b.first; });
  c.resize(k);
  double max = c[0].first, sum = 0;
  std::vector<double> p(k);
  for (size_t i = 0; i < k; i++) sum += p[i] = std::exp(c[i].first - max);
  size_t keep = k;
  if (s.top_p < 1) {
    double acc = 0;
    for (size_t i = 0; i < k; i++) {
      acc += p[i] / sum;
      if (acc >= s.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double total = 0;
  for (size_t i = 0; i < keep; i++) total += p[i];
  double target = s.uniform * total, acc = 0;
  for (size_t i = 0; i < keep; i++) {
    acc += p[i];
    if (acc >= target) return c[i].second;
  }
  return c[keep - 1].second;
}

void step_execute(napi_env, void* data) {
  auto* w = static_cast<StepWork*>(data);
  Engine* e = w->engine;
  llama_batch batch = llama_batch_init(static_cast<int32_t>(w->tokens.size()), 0, 1);
  batch.n_tokens = static_cast<int32_t>(w->tokens.size());
  for (int32_t i = 0; i < batch.n_tokens; i++) {
    batch.token[i] = w->tokens[i];
    batch.pos[i] = w->positions[i];
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = w->seqs[i];
    batch.logits[i] = w->want_logits[i];
  }
  w->status = llama_decode(e->ctx, batch);
  if (w->status == 0) {
    int32_t vocab = llama_vocab_n_tokens(e->vocab);
    size_t out = 0;
    for (int32_t i = 0; i < batch.n_tokens; i++) {
      if (!w->want_logits[i]) continue;
      w->sampled.push_back(sample(llama_get_logits_ith(e->ctx, i), vocab, w->sampling[out++]));
    }
  }
  llama_batch_free(batch);
}

void step_complete(napi_env env, napi_status, void* data) {
  auto* w = static_cast<StepWork*>(data);
  w->engine->busy = false;
  if (w->status == 0) {
    napi_resolve_deferred(env, w->deferred, int32_array(env, w->sampled.data(), w->sampled.size()));
  } else {
    napi_value msg, err;
    std::string text = w->status == 1 ? "the KV cache is full: no room for this batch" : "llama_decode failed with status " + std::to_string(w->status);
    napi_create_string_utf8(env, text.data(), text.size(), &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  }
  napi_delete_async_work(env, w->work);
  delete w;
}

// step(engine, tokens, positions, seqs, wantLogits: Int8Array, sampling: Float64Array [temp, topP, topK, uniform] per output)
//   → Promise<Int32Array> (one sampled token per row that wanted logits)
napi_value step(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = unwrap(env, argv[0]);
  int32_t *tokens, *positions, *seqs;
  int8_t* want;
  double* sampling;
  size_t n, np, ns, nw, nsampling;
  if (!e || argc < 6 || !typed(env, argv[1], &tokens, &n, napi_int32_array) || !typed(env, argv[2], &positions, &np, napi_int32_array) ||
      !typed(env, argv[3], &seqs, &ns, napi_int32_array) || !typed(env, argv[4], &want, &nw, napi_int8_array) || !typed(env, argv[5], &sampling, &nsampling, napi_float64_array) || np != n || ns != n || nw != n)
    return fail(env, "step(engine, tokens, positions, seqs, wantLogits, sampling): arrays of one length");
  if (n == 0 || n > static_cast<size_t>(e->batch_capacity)) return fail(env, "step: 1 to " + std::to_string(e->batch_capacity) + " tokens per batch");
  if (e->busy) return fail(env, "step: a step is already running");
  size_t outputs = std::count_if(want, want + n, [](int8_t x) { return x != 0; });
  if (nsampling != outputs * 4) return fail(env, "step: sampling needs 4 numbers per output row");
  auto* w = new StepWork();
  w->engine = e;
  w->tokens.assign(tokens, tokens + n);
  w->positions.assign(positions, positions + n);
  w->seqs.assign(seqs, seqs + n);
  w->want_logits.assign(want, want + n);
  for (size_t i = 0; i < outputs; i++)
    w->sampling.push_back({static_cast<float>(sampling[i * 4]), static_cast<float>(sampling[i * 4 + 1]), static_cast<int32_t>(sampling[i * 4 + 2]), sampling[i * 4 + 3]});
  napi_value promise, name;
  CALL(napi_create_promise(env, &w->deferred, &promise));
  CALL(napi_create_string_utf8(env, "dynamo_llama.step", NAPI_AUTO_LENGTH, &name));
  CALL(napi_create_async_work(env, nullptr, name, step_execute, step_complete, w, &w->work));
  e->busy = true;
  CALL(napi_queue_async_work(env, w->work));
  return promise;
}

// The per-sequence calls below run on the JS thread between steps.
Engine* idle_engine(napi_env env, napi_value v) {
  Engine* e = unwrap(env, v);
  if (!e) fail(env, "the model is closed");
  else if (e->busy) fail(env, "the KV cache is in use by a running step");
  return e && !e->busy ? e : nullptr;
}

int32_t int_arg(napi_env env, napi_value v) {
  int32_t out = -1;
  napi_get_value_int32(env, v, &out);
  return out;
}

// seqRemove(engine, seq, p0, p1) → bool   (p1 < 0: to the end; seq < 0: every sequence)
napi_value seq_remove(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = idle_engine(env, argv[0]);
  if (!e) return nullptr;
  bool ok = llama_memory_seq_rm(llama_get_memory(e->ctx), int_arg(env, argv[1]), int_arg(env, argv[2]), int_arg(env, argv[3]));
  napi_value out;
  CALL(napi_get_boolean(env, ok, &out));
  return out;
}

// seqCopy(engine, from, to, p0, p1): `to` shares `from`'s cells for positions [p0, p1)
napi_value seq_copy(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = idle_engine(env, argv[0]);
  if (!e) return nullptr;
  llama_memory_seq_cp(llama_get_memory(e->ctx), int_arg(env, argv[1]), int_arg(env, argv[2]), int_arg(env, argv[3]), int_arg(env, argv[4]));
  return nullptr;
}

// seqPosMax(engine, seq) → the last position the sequence holds, -1 when empty
napi_value seq_pos_max(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = idle_engine(env, argv[0]);
  if (!e) return nullptr;
  napi_value out;
  CALL(napi_create_int32(env, llama_memory_seq_pos_max(llama_get_memory(e->ctx), int_arg(env, argv[1])), &out));
  return out;
}

// seqStateGet(engine, seq) → Buffer: the sequence's KV cells, portable to another context of the same model
napi_value seq_state_get(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = idle_engine(env, argv[0]);
  if (!e) return nullptr;
  llama_seq_id seq = int_arg(env, argv[1]);
  size_t size = llama_state_seq_get_size(e->ctx, seq);
  void* raw;
  napi_value out;
  CALL(napi_create_buffer(env, size, &raw, &out));
  size_t wrote = llama_state_seq_get_data(e->ctx, static_cast<uint8_t*>(raw), size, seq);
  if (wrote != size) return fail(env, "llama_state_seq_get_data wrote " + std::to_string(wrote) + " of " + std::to_string(size) + " bytes");
  return out;
}

// seqStateSet(engine, seq, bytes) → bytes read (0: the state did not fit or does not match this model)
napi_value seq_state_set(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Engine* e = idle_engine(env, argv[0]);
  uint8_t* data;
  size_t n;
  if (!e) return nullptr;
  if (!typed(env, argv[2], &data, &n, napi_uint8_array)) return fail(env, "seqStateSet(engine, seq, Uint8Array)");
  size_t read = llama_state_seq_set_data(e->ctx, data, n, int_arg(env, argv[1]));
  napi_value out;
  CALL(napi_create_double(env, static_cast<double>(read), &out));
  return out;
}

napi_value init(napi_env env, napi_value exports) {
  struct Entry {
    const char* name;
    napi_callback fn;
  } entries[] = {{"open", open_model},        {"close", close_model},     {"info", model_info},          {"tokenize", tokenize},
                 {"piece", piece},            {"step", step},             {"seqRemove", seq_remove},     {"seqCopy", seq_copy},
                 {"seqPosMax", seq_pos_max},  {"seqStateGet", seq_state_get}, {"seqStateSet", seq_state_set}};
  for (auto& entry : entries) {
    napi_value fn;
    CALL(napi_create_function(env, entry.name, NAPI_AUTO_LENGTH, entry.fn, nullptr, &fn));
    CALL(napi_set_named_property(env, exports, entry.name, fn));
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
