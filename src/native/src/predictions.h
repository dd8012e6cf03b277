// Approximate routing's predictions (the native twin of src/router/predictions.ts): which blocks
// the router assumes each worker holds, and until when, applied to a PrefixIndex. A prediction
// covers a whole chain from the root (every block of a routed request), so a parent never lapses
// before its child, and removing each lapsed entry's blocks deepest first leaves whole chains.
// Lapsed predictions come off a queue in expiry order (expiry = now + ttl on a clock that does not
// run backwards); an entry names its records by generation, so a record taken or refreshed since
// is skipped without a lookup. One thread.
#pragma once
#include <cstdint>
#include <vector>

#include "arena.h"
#include "flat_map.h"
#include "prefix_index.h"

namespace dynamo {

struct RecordTraits {
  static bool empty(uint32_t r) { return r == UINT32_MAX; }
  static uint32_t none() { return UINT32_MAX; }
};

class Predictions {
 public:
  Predictions() = default;
  Predictions(const Predictions&) = delete;
  Predictions& operator=(const Predictions&) = delete;

  // Every block of the chain `seqs[0..n)` (engine ids, depth = position) is held by `worker`
  // until `expiry`.
  void add(uint32_t worker, const uint64_t* seqs, size_t n, double expiry);
  // Takes every prediction whose expiry is at or before `now` out of `index`; returns how many.
  size_t expire(PrefixIndex& index, double now);
  // Takes all but `keep` predictions out of `index`: earliest expiry first, deeper blocks first on
  // ties (then the worker predicted first, then the oldest prediction); returns how many.
  size_t prune_oldest(PrefixIndex& index, size_t keep);
  // Forgets the worker's predictions (it left; its index entries are cleared apart).
  void remove_worker(uint32_t worker);
  size_t size(uint32_t worker) const { return worker < workers_.size() && workers_[worker].table ? workers_[worker].table->size() : 0; }
  size_t count() const { return count_; }

 private:
  struct Record {
    double expiry;
    uint64_t seq;
    uint64_t order;  // when first predicted (a refresh keeps it)
    uint32_t depth;
    uint32_t gen;    // bumped when freed: a queued reference to an older generation is stale
    uint32_t next_free;
  };
  struct Ref {
    uint32_t rec;
    uint32_t gen;
  };
  struct Entry {
    uint32_t worker;
    uint32_t worker_gen;
    double expiry;
    size_t at;  // its records: queued_[at .. at + n)
    uint32_t n;
  };
  struct Worker {
    FlatMap<uint32_t, RecordTraits>* table = nullptr;  // engine id → record
    uint64_t order = 0;  // when first predicted for (again after remove_worker)
    bool ordered = false;
    uint32_t gen = 0;  // bumped by remove_worker: its queued entries go stale
  };

  Worker& worker(uint32_t w);
  uint32_t take_record();
  void free_record(uint32_t r);
  void compact();

  Arena arena_;
  std::vector<Worker> workers_;
  std::vector<Record> records_;
  uint32_t free_ = UINT32_MAX;
  std::vector<Entry> queue_;
  size_t head_ = 0;
  std::vector<Ref> queued_;
  uint64_t next_order_ = 0;
  size_t count_ = 0;
  std::vector<std::vector<uint64_t>> removals_;  // per worker, reused by expire()
};

}  // namespace dynamo
