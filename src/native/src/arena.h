// Memory for one prefix index: 2 MiB-aligned chunks the kernel may back with huge pages
// (MADV_HUGEPAGE where transparent huge pages are on "madvise"), prefaulted in one call
// (MADV_POPULATE_WRITE, Linux 5.14+; elsewhere pages fault in as usual). An index of a million
// blocks touches ~100 MB at random: with 4 KiB pages every block costs a TLB miss, and filling it
// costs a page fault per 4 KiB (13 µs each on some VMs). Pieces are powers of two (what vectors
// and hash tables ask for as they double) from per-size free lists; pieces of 1 MiB and more are
// mappings of their own. Everything is returned when the arena (the index) goes. One thread.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <vector>

namespace dynamo {

class Arena {
 public:
  static constexpr size_t kChunk = size_t{2} << 20;
  static constexpr size_t kBig = size_t{1} << 20;

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() {
    for (const Mapping& m : maps_) munmap(m.at, m.bytes);
  }

  void* alloc(size_t bytes) {
    size_t c = size_class(bytes);
    size_t size = size_t{1} << c;
    if (size >= kBig) return map(size);
    if (FreePiece* p = free_[c]) {
      free_[c] = p->next;
      return p;
    }
    size_t align = size < 64 ? size : 64;
    size_t skip = (align - reinterpret_cast<uintptr_t>(cur_) % align) % align;
    if (left_ < skip + size) {
      shelve(cur_, left_);
      cur_ = static_cast<char*>(map(kChunk));
      left_ = kChunk;
      skip = 0;
    }
    shelve(cur_, skip);
    void* out = cur_ + skip;
    cur_ += skip + size;
    left_ -= skip + size;
    return out;
  }

  // Bytes mapped (what the index holds, in use or on free lists).
  size_t mapped() const { return mapped_; }

  void free(void* at, size_t bytes) {
    if (!at) return;
    size_t c = size_class(bytes);
    if ((size_t{1} << c) >= kBig) {
      unmap(at);
      return;
    }
    auto* p = static_cast<FreePiece*>(at);
    p->next = free_[c];
    free_[c] = p;
  }

 private:
  struct FreePiece {
    FreePiece* next;
  };
  struct Mapping {
    void* at;
    size_t bytes;
  };

  static size_t size_class(size_t bytes) {
    size_t c = 4;  // 16 bytes at least: room for a free-list link
    while ((size_t{1} << c) < bytes) c++;
    return c;
  }

  // The rest of a chunk (or an alignment gap) goes to the free lists in power-of-two pieces.
  void shelve(char* at, size_t bytes) {
    for (size_t c = 19; c >= 4 && bytes >= 16; c--) {
      size_t size = size_t{1} << c;
      while (bytes >= size) {
        auto* p = reinterpret_cast<FreePiece*>(at);
        p->next = free_[c];
        free_[c] = p;
        at += size;
        bytes -= size;
      }
    }
  }

  void* map(size_t bytes) {
    bytes = (bytes + kChunk - 1) / kChunk * kChunk;
    // Over-map by a chunk to align to 2 MiB (huge pages need it), then trim both ends.
    void* raw = mmap(nullptr, bytes + kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw_bad_alloc();
    uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    uintptr_t aligned = (start + kChunk - 1) & ~(uintptr_t{kChunk} - 1);
    if (aligned > start) munmap(raw, aligned - start);
    munmap(reinterpret_cast<void*>(aligned + bytes), start + kChunk - aligned);
    void* at = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
    madvise(at, bytes, MADV_HUGEPAGE);
#endif
    madvise(at, bytes, 23 /* MADV_POPULATE_WRITE; fails harmlessly before Linux 5.14 */);
    maps_.push_back(Mapping{at, bytes});
    mapped_ += bytes;
    return at;
  }

  void unmap(void* at) {
    for (size_t i = 0; i < maps_.size(); i++) {
      if (maps_[i].at != at) continue;
      munmap(at, maps_[i].bytes);
      mapped_ -= maps_[i].bytes;
      maps_[i] = maps_.back();
      maps_.pop_back();
      return;
    }
  }

  [[noreturn]] static void throw_bad_alloc() {
#if defined(__cpp_exceptions)
    throw std::bad_alloc();
#else
    __builtin_trap();
#endif
  }

  FreePiece* free_[64] = {};
  char* cur_ = nullptr;
  size_t left_ = 0;
  std::vector<Mapping> maps_;
  size_t mapped_ = 0;
};

// A std allocator drawing on an Arena (containers of one index share its arena).
template <typename T>
struct ArenaAllocator {
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  Arena* arena;
  explicit ArenaAllocator(Arena* a) : arena(a) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& o) : arena(o.arena) {}

  T* allocate(size_t n) { return static_cast<T*>(arena->alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { arena->free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const ArenaAllocator<U>& o) const { return arena == o.arena; }
  template <typename U>
  bool operator!=(const ArenaAllocator<U>& o) const { return arena != o.arena; }
};

template <typename T>
using ArenaVector = std::vector<T, ArenaAllocator<T>>;

}  // namespace dynamo
