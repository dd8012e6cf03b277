#include "predictions.h"

#include <algorithm>

namespace dynamo {

Predictions::Worker& Predictions::worker(uint32_t w) {
  if (w >= workers_.size()) workers_.resize(w + 1);
  Worker& out = workers_[w];
  if (!out.table) out.table = new (arena_.alloc(sizeof(FlatMap<uint32_t, RecordTraits>))) FlatMap<uint32_t, RecordTraits>(&arena_);
  if (!out.ordered) {
    out.order = next_order_++;
    out.ordered = true;
  }
  return out;
}

uint32_t Predictions::take_record() {
  if (free_ != UINT32_MAX) {
    uint32_t r = free_;
    free_ = records_[r].next_free;
    return r;
  }
  records_.push_back(Record{0, 0, 0, 0, 0, UINT32_MAX});
  return static_cast<uint32_t>(records_.size() - 1);
}

void Predictions::free_record(uint32_t r) {
  records_[r].gen++;
  records_[r].next_free = free_;
  free_ = r;
}

void Predictions::add(uint32_t w, const uint64_t* seqs, size_t n, double expiry) {
  if (!n) return;
  Worker& wk = worker(w);
  size_t at = queued_.size();
  // The table slots of the blocks ahead, fetched early (their cache misses overlap).
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < n && i < kAhead; i++) wk.table->prefetch(seqs[i]);
  for (size_t i = 0; i < n; i++) {
    if (i + kAhead < n) wk.table->prefetch(seqs[i + kAhead]);
    uint32_t* found = wk.table->find(seqs[i]);
    uint32_t r;
    if (found) {
      r = *found;
      records_[r].expiry = expiry;
      records_[r].depth = static_cast<uint32_t>(i);
    } else {
      r = take_record();
      Record& rec = records_[r];
      rec.expiry = expiry;
      rec.seq = seqs[i];
      rec.order = next_order_++;
      rec.depth = static_cast<uint32_t>(i);
      wk.table->set(seqs[i], r);
      count_++;
    }
    queued_.push_back(Ref{r, records_[r].gen});
  }
  queue_.push_back(Entry{w, wk.gen, expiry, at, static_cast<uint32_t>(n)});
}

size_t Predictions::expire(PrefixIndex& index, double now) {
  if (removals_.size() < workers_.size()) removals_.resize(workers_.size());
  size_t taken = 0;
  while (head_ < queue_.size() && queue_[head_].expiry <= now) {
    const Entry& e = queue_[head_++];
    Worker& wk = workers_[e.worker];
    if (wk.gen != e.worker_gen) continue;
    std::vector<uint64_t>& out = removals_[e.worker];
    // Deepest first: a block goes after its descendants.
    for (size_t i = e.at + e.n; i-- > e.at;) {
      if (i >= e.at + 8) __builtin_prefetch(&records_[queued_[i - 8].rec]);
      Ref ref = queued_[i];
      Record& rec = records_[ref.rec];
      // Skipped: taken already (the record was freed) or refreshed since (a later entry stands for it).
      if (rec.gen != ref.gen || rec.expiry != e.expiry) continue;
      wk.table->erase(rec.seq);
      out.push_back(rec.seq);
      free_record(ref.rec);
      count_--;
      taken++;
    }
  }
  compact();
  for (uint32_t w = 0; w < removals_.size(); w++) {
    if (removals_[w].empty()) continue;
    index.remove(w, removals_[w].data(), removals_[w].size());
    removals_[w].clear();
  }
  return taken;
}

size_t Predictions::prune_oldest(PrefixIndex& index, size_t keep) {
  if (count_ <= keep) return 0;
  struct Held {
    uint32_t worker;
    uint32_t rec;
  };
  std::vector<Held> all;
  all.reserve(count_);
  for (uint32_t w = 0; w < workers_.size(); w++)
    if (workers_[w].table) workers_[w].table->for_each([&](uint64_t, uint32_t r) { all.push_back(Held{w, r}); });
  std::sort(all.begin(), all.end(), [&](const Held& a, const Held& b) {
    const Record &x = records_[a.rec], &y = records_[b.rec];
    if (x.expiry != y.expiry) return x.expiry < y.expiry;
    if (x.depth != y.depth) return x.depth > y.depth;
    if (a.worker != b.worker) return workers_[a.worker].order < workers_[b.worker].order;
    return x.order < y.order;
  });
  size_t n = all.size() - keep;
  if (removals_.size() < workers_.size()) removals_.resize(workers_.size());
  for (size_t i = 0; i < n; i++) {
    Record& rec = records_[all[i].rec];
    workers_[all[i].worker].table->erase(rec.seq);
    removals_[all[i].worker].push_back(rec.seq);
    free_record(all[i].rec);
    count_--;
  }
  for (uint32_t w = 0; w < removals_.size(); w++) {
    if (removals_[w].empty()) continue;
    index.remove(w, removals_[w].data(), removals_[w].size());
    removals_[w].clear();
  }
  return n;
}

void Predictions::remove_worker(uint32_t w) {
  if (w >= workers_.size() || !workers_[w].table) return;
  Worker& wk = workers_[w];
  wk.table->for_each([&](uint64_t, uint32_t r) { free_record(r); });
  count_ -= wk.table->size();
  wk.table->clear();
  wk.gen++;
  wk.ordered = false;
}

void Predictions::compact() {
  // Drops the queue's consumed front once it is most of the queue.
  if (head_ < 1024 || head_ * 2 < queue_.size()) return;
  size_t from = head_ < queue_.size() ? queue_[head_].at : queued_.size();
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
  head_ = 0;
  queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(from));
  for (Entry& e : queue_) e.at -= from;
}

}  // namespace dynamo
