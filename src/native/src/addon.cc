// dynamo_native: the router's hot paths for Node and Bun (Node-API, synchronous calls only, so it
// runs inside the Bun binary too; the KV transfer agent works on its own threads and is polled). Block hashing is Dynamo's scheme on Debian's xxHash; the prefix
// index is prefix_index.h; the GPU probe (NVML and the CUDA driver, opened with dlopen) is gpu.h. Batches cross in typed arrays: one call per request or event, not per block.
#define XXH_INLINE_ALL
#include <node_api.h>
#include <xxhash.h>

#include <cstring>
#include <vector>

#include "gpu.h"
#include "napi_util.h"
#include "prefix_index.h"
#include "predictions.h"
#include "transfer_napi.h"

namespace {

constexpr uint64_t kSeed = 1337;


using dynamo::Args;

template <typename T>
bool typed(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* length) {
  napi_typedarray_type type;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok || type != want) return false;
  *data = static_cast<T*>(raw);
  return true;
}

napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, nullptr, msg);
  return nullptr;
}

uint64_t chain(uint64_t parent, uint64_t local) {
  uint64_t pair[2] = {parent, local};  // little-endian hosts: the bytes Dynamo hashes
  return XXH3_64bits_withSeed(pair, sizeof pair, kSeed);
}

// hashBlocks(tokens: Uint32Array, blockSize: number, seed: bigint, parent?: bigint): BigUint64Array
// → [local hashes of every full block…, sequence hashes…]; with `parent` the first block chains
// to that sequence hash (a continuation of an earlier prefix).
napi_value HashBlocks(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  uint32_t* tokens;
  size_t n;
  uint32_t block_size;
  uint64_t seed;
  bool lossless;
  if (!typed(env, a.argv[0], napi_uint32_array, &tokens, &n)) return throw_type(env, "tokens must be a Uint32Array");
  if (napi_get_value_uint32(env, a.argv[1], &block_size) != napi_ok || block_size == 0) return throw_type(env, "blockSize must be a positive integer");
  if (napi_get_value_bigint_uint64(env, a.argv[2], &seed, &lossless) != napi_ok) return throw_type(env, "seed must be a bigint");
  uint64_t parent = 0;
  bool has_parent = a.argc > 3 && napi_get_value_bigint_uint64(env, a.argv[3], &parent, &lossless) == napi_ok;
  size_t blocks = n / block_size;
  napi_value buffer, out;
  void* raw;
  NAPI_CALL(napi_create_arraybuffer(env, blocks * 2 * sizeof(uint64_t), &raw, &buffer));
  auto* h = static_cast<uint64_t*>(raw);
  for (size_t b = 0; b < blocks; b++) {
    h[b] = XXH3_64bits_withSeed(tokens + b * block_size, block_size * sizeof(uint32_t), seed);
    h[blocks + b] = b ? chain(h[blocks + b - 1], h[b]) : has_parent ? chain(parent, h[b]) : h[b];
  }
  NAPI_CALL(napi_create_typedarray(env, napi_biguint64_array, blocks * 2, buffer, 0, &out));
  return out;
}

// The tokens `dynamo replay` gives a Mooncake hash id (src/replay/trace-prompts.ts idTokens, bit
// for bit): a cheap integer mix of id and position, scaled to the vocabulary.
uint32_t trace_mix(uint32_t seed, size_t j) {
  uint32_t h = seed ^ (static_cast<uint32_t>(j + 1) * 0xc2b2ae35u);
  h ^= h >> 15;
  h *= 0x2c1b3c6du;
  return h ^ (h >> 12);
}

void trace_id_tokens(uint32_t id, uint32_t* out, size_t n, double vocab) {
  uint32_t seed = (id ^ 0x9e3779b9u) * 0x85ebca6bu;
  if (vocab == static_cast<double>(static_cast<uint32_t>(vocab)) && vocab < 2097152.0) {
    // ⌊h / 2³² · vocab⌋ in integers: exact, as h · vocab < 2⁵³ is exact in doubles too (and this vectorizes).
    uint64_t v = static_cast<uint64_t>(vocab);
    for (size_t j = 0; j < n; j++) out[j] = static_cast<uint32_t>((static_cast<uint64_t>(trace_mix(seed, j)) * v) >> 32);
    return;
  }
  for (size_t j = 0; j < n; j++) out[j] = static_cast<uint32_t>(static_cast<double>(trace_mix(seed, j)) / 4294967296.0 * vocab);
}

// hashTraceIds(ids: Uint32Array, idTokens: number, vocab: number, blockSize: number, seed: bigint,
// parent?: bigint): BigUint64Array → hashBlocks of the ids' tokens (trace_id_tokens, one id after
// another): a prompt's new trace ids in one call, without its tokens crossing into JavaScript.
napi_value HashTraceIds(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  uint32_t* ids;
  size_t count;
  uint32_t id_tokens, block_size;
  double vocab;
  uint64_t seed;
  bool lossless;
  if (!typed(env, a.argv[0], napi_uint32_array, &ids, &count)) return throw_type(env, "ids must be a Uint32Array");
  if (napi_get_value_uint32(env, a.argv[1], &id_tokens) != napi_ok || id_tokens == 0) return throw_type(env, "idTokens must be a positive integer");
  if (napi_get_value_double(env, a.argv[2], &vocab) != napi_ok || !(vocab >= 1)) return throw_type(env, "vocab must be a positive number");
  if (napi_get_value_uint32(env, a.argv[3], &block_size) != napi_ok || block_size == 0) return throw_type(env, "blockSize must be a positive integer");
  if (napi_get_value_bigint_uint64(env, a.argv[4], &seed, &lossless) != napi_ok) return throw_type(env, "seed must be a bigint");
  uint64_t parent = 0;
  bool has_parent = a.argc > 5 && napi_get_value_bigint_uint64(env, a.argv[5], &parent, &lossless) == napi_ok;
  std::vector<uint32_t> tokens(count * id_tokens);
  for (size_t i = 0; i < count; i++) trace_id_tokens(ids[i], tokens.data() + i * id_tokens, id_tokens, vocab);
  size_t blocks = tokens.size() / block_size;
  napi_value buffer, out;
  void* raw;
  NAPI_CALL(napi_create_arraybuffer(env, blocks * 2 * sizeof(uint64_t), &raw, &buffer));
  auto* h = static_cast<uint64_t*>(raw);
  for (size_t b = 0; b < blocks; b++) {
    h[b] = XXH3_64bits_withSeed(tokens.data() + b * block_size, block_size * sizeof(uint32_t), seed);
    h[blocks + b] = b ? chain(h[blocks + b - 1], h[b]) : has_parent ? chain(parent, h[b]) : h[b];
  }
  NAPI_CALL(napi_create_typedarray(env, napi_biguint64_array, blocks * 2, buffer, 0, &out));
  return out;
}

// xxh3(bytes: Uint8Array, seed: bigint): bigint — plain XXH3-64, for LoRA seeds and tests.
napi_value Xxh3(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  uint8_t* data;
  size_t n;
  uint64_t seed;
  bool lossless;
  if (!typed(env, a.argv[0], napi_uint8_array, &data, &n)) return throw_type(env, "bytes must be a Uint8Array");
  if (napi_get_value_bigint_uint64(env, a.argv[1], &seed, &lossless) != napi_ok) return throw_type(env, "seed must be a bigint");
  napi_value out;
  NAPI_CALL(napi_create_bigint_uint64(env, XXH3_64bits_withSeed(data, n, seed), &out));
  return out;
}

// An index as JS holds it: freed by indexFree or by the garbage collector, whichever comes first.
// Its memory is reported to the engine (napi_adjust_external_memory), so that the collector knows
// what an unreachable index costs.
struct IndexHandle {
  dynamo::PrefixIndex* ix = nullptr;
  int64_t reported = 0;
  dynamo::Predictions* pred = nullptr;  // approximate routing's, made by the first indexPredict
};

void free_index(IndexHandle* h) {
  delete h->ix;
  h->ix = nullptr;
  delete h->pred;
  h->pred = nullptr;
}

IndexHandle* handle_of(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok) return nullptr;
  return static_cast<IndexHandle*>(p);
}

dynamo::PrefixIndex* index_of(napi_env env, napi_value v) {
  IndexHandle* h = handle_of(env, v);
  return h ? h->ix : nullptr;
}

void report_memory(napi_env env, IndexHandle* h) {
  int64_t now = h->ix ? static_cast<int64_t>(h->ix->memory_bytes()) : 0;
  if (now == h->reported) return;
  int64_t total;
  napi_adjust_external_memory(env, now - h->reported, &total);
  h->reported = now;
}

// Most index calls start with (index, worker).
bool index_and_worker(napi_env env, const Args& a, IndexHandle** h, uint32_t* worker) {
  *h = handle_of(env, a.argv[0]);
  return *h && (*h)->ix && napi_get_value_uint32(env, a.argv[1], worker) == napi_ok;
}

napi_value IndexNew(napi_env env, napi_callback_info) {
  auto* h = new IndexHandle{new dynamo::PrefixIndex(), 0};
  napi_value out;
  NAPI_CALL(napi_create_external(
      env, h,
      [](napi_env env, void* p, void*) {
        auto* h = static_cast<IndexHandle*>(p);
        free_index(h);
        report_memory(env, h);
        delete h;
      },
      nullptr, &out));
  report_memory(env, h);
  return out;
}

// indexFree(index): releases the index's memory now; later calls with it throw.
napi_value IndexFree(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h = handle_of(env, a.argv[0]);
  if (!h) return throw_type(env, "bad index");
  free_index(h);
  report_memory(env, h);
  return nullptr;
}

// Optional trailing `count`: use only the first `count` entries (callers reuse scratch arrays, as
// allocating a typed array per event costs more than applying it).
// False when a count is given that is not an integer within `*length`.
bool count_arg(napi_env env, const Args& a, size_t at, size_t* length) {
  napi_valuetype t;
  if (a.argc <= at || napi_typeof(env, a.argv[at], &t) != napi_ok || t == napi_undefined) return true;
  uint32_t count;
  if (napi_get_value_uint32(env, a.argv[at], &count) != napi_ok || count > *length) return false;
  *length = count;
  return true;
}

// indexStore(index, worker, parent: bigint | null, locals: BigUint64Array, externals: BigUint64Array, count?): status
napi_value IndexStore(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h;
  uint32_t worker;
  uint64_t *locals, *externals;
  size_t nl, ne;
  if (!index_and_worker(env, a, &h, &worker)) return throw_type(env, "bad index or worker");
  if (!typed(env, a.argv[3], napi_biguint64_array, &locals, &nl) || !typed(env, a.argv[4], napi_biguint64_array, &externals, &ne))
    return throw_type(env, "locals and externals must be BigUint64Arrays");
  // With a count, only that many entries of each are read (scratch arrays may differ in size).
  bool counted = a.argc > 5;
  if (!counted && nl != ne) return throw_type(env, "locals and externals must be of one length");
  if (nl > ne) nl = ne;
  if (!count_arg(env, a, 5, &nl)) return throw_type(env, "count must be an integer no larger than the arrays");
  napi_valuetype t;
  NAPI_CALL(napi_typeof(env, a.argv[2], &t));
  uint64_t parent = 0;
  bool lossless;
  bool has_parent = t == napi_bigint;
  if (has_parent) NAPI_CALL(napi_get_value_bigint_uint64(env, a.argv[2], &parent, &lossless));
  napi_value out;
  NAPI_CALL(napi_create_int32(env, static_cast<int32_t>(h->ix->store(worker, has_parent, parent, locals, externals, nl)), &out));
  report_memory(env, h);
  return out;
}

// indexRemove(index, worker, externals: BigUint64Array, count?): status
napi_value IndexRemove(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h;
  uint32_t worker;
  uint64_t* externals;
  size_t n;
  if (!index_and_worker(env, a, &h, &worker)) return throw_type(env, "bad index or worker");
  if (!typed(env, a.argv[2], napi_biguint64_array, &externals, &n)) return throw_type(env, "externals must be a BigUint64Array");
  if (!count_arg(env, a, 3, &n)) return throw_type(env, "count must be an integer no larger than the array");
  napi_value out;
  NAPI_CALL(napi_create_int32(env, static_cast<int32_t>(h->ix->remove(worker, externals, n)), &out));
  return out;
}

// indexApply(index, ops: Uint32Array, nOps, hashes: BigUint64Array): stored and removed events
// in order, in one call (a replay feeds millions; a call per event costs more than applying it).
// ops holds (kind, worker, count) per event: kind 0 = stored at the root, 1 = stored under a
// parent, 2 = removed. hashes holds, event after event: the parent (kind 1), then `count` locals
// and `count` externals (stored), or `count` externals (removed).
napi_value IndexApply(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h = handle_of(env, a.argv[0]);
  uint32_t *ops, n_ops;
  uint64_t* hashes;
  size_t ops_len, n_hashes;
  if (!h || !h->ix) return throw_type(env, "bad index");
  if (!typed(env, a.argv[1], napi_uint32_array, &ops, &ops_len) || napi_get_value_uint32(env, a.argv[2], &n_ops) != napi_ok || n_ops * size_t{3} > ops_len)
    return throw_type(env, "ops must be a Uint32Array of (kind, worker, count) for nOps events");
  if (!typed(env, a.argv[3], napi_biguint64_array, &hashes, &n_hashes)) return throw_type(env, "hashes must be a BigUint64Array");
  size_t at = 0;
  for (uint32_t i = 0; i < n_ops; i++) {
    uint32_t kind = ops[3 * i], worker = ops[3 * i + 1];
    size_t n = ops[3 * i + 2];
    size_t need = kind == 2 ? n : 2 * n + (kind == 1);
    if (kind > 2 || at + need > n_hashes) return throw_type(env, "ops name more hashes than given, or a bad kind");
    if (kind == 2) {
      h->ix->remove(worker, hashes + at, n);
    } else {
      const uint64_t* p = hashes + at + (kind == 1);
      h->ix->store(worker, kind == 1, kind == 1 ? hashes[at] : 0, p, p + n, n);
    }
    at += need;
  }
  report_memory(env, h);
  return nullptr;
}

napi_value IndexClear(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h;
  uint32_t worker;
  if (!index_and_worker(env, a, &h, &worker)) return throw_type(env, "bad index or worker");
  h->ix->clear(worker);
  report_memory(env, h);
  return nullptr;
}

napi_value IndexTreeSize(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h;
  uint32_t worker;
  if (!index_and_worker(env, a, &h, &worker)) return throw_type(env, "bad index or worker");
  napi_value out;
  NAPI_CALL(napi_create_double(env, static_cast<double>(h->ix->tree_size(worker)), &out));
  return out;
}

// indexFindMatches(index, locals: BigUint64Array, scores: Uint32Array, sizes: Uint32Array): number
// of workers known (scores[w] = leading blocks worker w holds, sizes[w] = its blocks in all; both
// must have room for every worker).
napi_value IndexFindMatches(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  auto* ix = index_of(env, a.argv[0]);
  uint64_t* locals;
  uint32_t *scores, *sizes;
  size_t n, room, room2;
  if (!ix) return throw_type(env, "bad index");
  if (!typed(env, a.argv[1], napi_biguint64_array, &locals, &n)) return throw_type(env, "locals must be a BigUint64Array");
  if (!typed(env, a.argv[2], napi_uint32_array, &scores, &room) || !typed(env, a.argv[3], napi_uint32_array, &sizes, &room2))
    return throw_type(env, "scores and sizes must be Uint32Arrays");
  size_t workers = ix->workers();
  if (room < workers || room2 < workers) return throw_type(env, "scores or sizes is smaller than the number of workers");
  ix->find_matches(locals, n, scores, sizes);
  napi_value out;
  NAPI_CALL(napi_create_uint32(env, static_cast<uint32_t>(workers), &out));
  return out;
}

// indexPredict(index, worker, locals: BigUint64Array, seqs: BigUint64Array, expiry: number, held?):
// approximate routing's guess that the worker now holds the chain until `expiry` (predictions.h).
// The chain is stored from the root, after its first `held` blocks when the caller knows the
// worker holds those already (its overlap score: storing them again changes nothing).
napi_value IndexPredict(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h;
  uint32_t worker;
  uint64_t *locals, *seqs;
  size_t nl, ns;
  double expiry;
  if (!index_and_worker(env, a, &h, &worker)) return throw_type(env, "bad index or worker");
  if (!typed(env, a.argv[2], napi_biguint64_array, &locals, &nl) || !typed(env, a.argv[3], napi_biguint64_array, &seqs, &ns) || nl != ns)
    return throw_type(env, "locals and seqs must be BigUint64Arrays of one length");
  if (napi_get_value_double(env, a.argv[4], &expiry) != napi_ok) return throw_type(env, "expiry must be a number");
  uint32_t held = 0;  // absent or not a whole number: none
  if (a.argc > 5 && napi_get_value_uint32(env, a.argv[5], &held) != napi_ok) held = 0;
  if (held > nl) held = static_cast<uint32_t>(nl);
  if (!h->pred) h->pred = new dynamo::Predictions();
  // Stored under the last held block; should the index not know it, from the root after all.
  if (!held || h->ix->store(worker, true, seqs[held - 1], locals + held, seqs + held, nl - held) == dynamo::Status::ParentNotFound)
    h->ix->store(worker, false, 0, locals, seqs, nl);
  h->pred->add(worker, seqs, ns, expiry);
  report_memory(env, h);
  return nullptr;
}

// The prediction calls of the form (index, number) → a count: 0 before any prediction.
template <typename F>
napi_value predictions_count(napi_env env, napi_callback_info info, const char* bad_number, F f) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h = handle_of(env, a.argv[0]);
  double x;
  if (!h || !h->ix) return throw_type(env, "bad index");
  if (napi_get_value_double(env, a.argv[1], &x) != napi_ok || x != x) return throw_type(env, bad_number);
  napi_value out;
  NAPI_CALL(napi_create_double(env, h->pred ? static_cast<double>(f(*h->pred, *h->ix, x)) : 0, &out));
  return out;
}

// indexExpire(index, now): takes lapsed predictions out of the index; how many.
napi_value IndexExpire(napi_env env, napi_callback_info info) {
  return predictions_count(env, info, "now must be a number", [](dynamo::Predictions& p, dynamo::PrefixIndex& ix, double now) { return p.expire(ix, now); });
}

// indexPruneOldest(index, keep): all but `keep` predictions out of the index, oldest first; how many.
napi_value IndexPruneOldest(napi_env env, napi_callback_info info) {
  return predictions_count(env, info, "keep must be a number", [](dynamo::Predictions& p, dynamo::PrefixIndex& ix, double keep) {
    return p.prune_oldest(ix, keep < 0 ? 0 : static_cast<size_t>(keep));
  });
}

// indexPredicted(index, worker): that worker's predictions, or every worker's with worker -1.
napi_value IndexPredicted(napi_env env, napi_callback_info info) {
  return predictions_count(env, info, "worker must be a number", [](dynamo::Predictions& p, dynamo::PrefixIndex&, double worker) {
    return worker < 0 ? p.count() : p.size(static_cast<uint32_t>(worker));
  });
}

// indexForgetPredictions(index, worker): the worker left.
napi_value IndexForgetPredictions(napi_env env, napi_callback_info info) {
  Args a;
  NAPI_CALL(napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr));
  IndexHandle* h;
  uint32_t worker;
  if (!index_and_worker(env, a, &h, &worker)) return throw_type(env, "bad index or worker");
  if (h->pred) h->pred->remove_worker(worker);
  return nullptr;
}

// What was built, for `DYNAMO_NATIVE_DEBUG=1` (is the addon in the binary, and which one).
#define DYNAMO_NATIVE_VERSION 6  // bump when the addon's behaviour or API changes
#define STR2(x) #x
#define STR(x) STR2(x)

napi_value Init(napi_env env, napi_value exports) {
  napi_value version;
  const char* text = "dynamo_native " STR(DYNAMO_NATIVE_VERSION) " (xxHash " STR(XXH_VERSION_MAJOR) "." STR(XXH_VERSION_MINOR) "." STR(XXH_VERSION_RELEASE) ", N-API " STR(NAPI_VERSION) ")";
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &version) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "version", version) != napi_ok) return nullptr;
  const napi_property_descriptor props[] = {
      {"hashBlocks", nullptr, HashBlocks, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hashTraceIds", nullptr, HashTraceIds, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xxh3", nullptr, Xxh3, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexNew", nullptr, IndexNew, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexFree", nullptr, IndexFree, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexStore", nullptr, IndexStore, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexRemove", nullptr, IndexRemove, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexApply", nullptr, IndexApply, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexClear", nullptr, IndexClear, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexTreeSize", nullptr, IndexTreeSize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexFindMatches", nullptr, IndexFindMatches, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexPredict", nullptr, IndexPredict, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexExpire", nullptr, IndexExpire, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexPruneOldest", nullptr, IndexPruneOldest, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexPredicted", nullptr, IndexPredicted, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"indexForgetPredictions", nullptr, IndexForgetPredictions, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gpuProbe", nullptr, dynamo::GpuProbe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gpuBandwidth", nullptr, dynamo::GpuBandwidth, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  dynamo::register_transfer(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
