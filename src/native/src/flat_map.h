// Open-addressing hash map from 64-bit keys (already well mixed: they are hashes) to values, with
// linear probing and backward-shift deletion (no tombstones). One flag array marks used slots so
// every 64-bit key, 0 included, is valid.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dynamo {

template <typename V>
class FlatMap {
 public:
  FlatMap() { resize(16); }

  size_t size() const { return size_; }

  V* find(uint64_t key) {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      if (!used_[i]) return nullptr;
      if (keys_[i] == key) return &vals_[i];
    }
  }
  const V* find(uint64_t key) const { return const_cast<FlatMap*>(this)->find(key); }

  // Inserts or replaces.
  void set(uint64_t key, V value) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    size_t i = home(key);
    while (used_[i] && keys_[i] != key) i = (i + 1) & mask_;
    if (!used_[i]) {
      used_[i] = 1;
      keys_[i] = key;
      size_++;
    }
    vals_[i] = value;
  }

  bool erase(uint64_t key) {
    size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (!used_[i]) return false;
      if (keys_[i] == key) break;
    }
    // Backward shift: pull later entries of the probe run into the hole.
    for (size_t j = (i + 1) & mask_; used_[j]; j = (j + 1) & mask_) {
      size_t h = home(keys_[j]);
      bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        keys_[i] = keys_[j];
        vals_[i] = vals_[j];
        i = j;
      }
    }
    used_[i] = 0;
    size_--;
    return true;
  }

  template <typename F>
  void for_each(F f) const {
    for (size_t i = 0; i < keys_.size(); i++)
      if (used_[i]) f(keys_[i], vals_[i]);
  }

  void clear() {
    resize(16);
    size_ = 0;
  }

 private:
  size_t home(uint64_t key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<size_t>(key) & mask_;
  }
  void resize(size_t n) {
    keys_.assign(n, 0);
    vals_.assign(n, V{});
    used_.assign(n, 0);
    mask_ = n - 1;
  }
  void grow() {
    std::vector<uint64_t> keys = std::move(keys_);
    std::vector<V> vals = std::move(vals_);
    std::vector<uint8_t> used = std::move(used_);
    resize(keys.size() * 2);
    size_ = 0;
    for (size_t i = 0; i < keys.size(); i++)
      if (used[i]) set(keys[i], vals[i]);
  }

  std::vector<uint64_t> keys_;
  std::vector<V> vals_;
  std::vector<uint8_t> used_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace dynamo
