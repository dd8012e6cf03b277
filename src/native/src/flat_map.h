// Open-addressing hash map from 64-bit keys to small values: linear probing, backward-shift
// deletion (no tombstones), key and value side by side so a probe touches one cache line. Free
// slots are marked in the value (`Traits::empty`), so every 64-bit key, 0 included, is valid.
// Keys are mixed before use: engines' block ids are not always hashes (tests use small integers).
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "arena.h"

namespace dynamo {

inline uint64_t mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}

template <typename V, typename Traits>
class FlatMap {
 public:
  struct Entry {
    uint64_t key;
    V val;
  };

  explicit FlatMap(Arena* arena) : slots_(ArenaAllocator<Entry>(arena)) { resize(8); }

  size_t size() const { return size_; }

  // Brings the key's home slot into cache ahead of a find/set/erase (store and remove events
  // look up many unrelated keys in a row: their cache misses overlap this way).
  void prefetch(uint64_t key) const { __builtin_prefetch(&slots_[home(key)]); }

  V* find(uint64_t key) {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      Entry& e = slots_[i];
      if (Traits::empty(e.val)) return nullptr;
      if (e.key == key) return &e.val;
    }
  }

  // Inserts or replaces (`value` must not be the empty marker).
  void set(uint64_t key, V value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    size_t i = home(key);
    while (!Traits::empty(slots_[i].val) && slots_[i].key != key) i = (i + 1) & mask_;
    if (Traits::empty(slots_[i].val)) {
      slots_[i].key = key;
      size_++;
    }
    slots_[i].val = value;
  }

  bool erase(uint64_t key) {
    size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (Traits::empty(slots_[i].val)) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: pull later entries of the probe run into the hole.
    for (size_t j = (i + 1) & mask_; !Traits::empty(slots_[j].val); j = (j + 1) & mask_) {
      size_t h = home(slots_[j].key);
      bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].val = Traits::none();
    size_--;
    return true;
  }

  template <typename F>
  void for_each(F f) const {
    for (const Entry& e : slots_)
      if (!Traits::empty(e.val)) f(e.key, e.val);
  }

  void clear() {
    ArenaVector<Entry>(slots_.get_allocator()).swap(slots_);
    resize(8);
    size_ = 0;
  }

 private:
  size_t home(uint64_t key) const { return static_cast<size_t>(mix64(key)) & mask_; }
  void resize(size_t n) {
    slots_.assign(n, Entry{0, Traits::none()});
    mask_ = n - 1;
  }
  void grow() {
    ArenaVector<Entry> old(slots_.get_allocator());
    old.swap(slots_);
    resize(old.size() * 2);
    size_ = 0;
    for (const Entry& e : old)
      if (!Traits::empty(e.val)) set(e.key, e.val);
  }

  ArenaVector<Entry> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace dynamo
