// The router's prefix index: Dynamo's RadixTree semantics (src/router/prefix-index.ts behaves the
// same, on 53-bit keys), with full 64-bit keys and a compressed layout for throughput:
// - the tree of blocks (keyed by content hash under their parent, each with the workers holding
//   it) is stored as edges: runs of blocks without branches, in arrays. A query walks an edge as a
//   linear scan (content hash + worker bits side by side, 16 bytes a block) instead of chasing a
//   pointer per block; a stored event that extends a chain appends to its edge. An edge is split
//   where a new branch leaves it (as Dynamo's ConcurrentRadixTreeCompressed does; never merged).
// - every block has a stable id (its position can move when an edge splits); per worker, a flat
//   map from the engine's block id (external hash) to that id, checked by generation so that an
//   entry outliving its block (one block stored under two ids, one removed) is seen as stale.
// - workers 0–63 are bits; more workers in a per-block list.
// - memory comes from the index's arena (arena.h: huge pages, prefaulted); edges are pooled.
#pragma once
#include <cstdint>
#include <vector>

#include "flat_map.h"

namespace dynamo {

enum class Status : int32_t { Ok = 0, ParentNotFound = 1, BlockNotFound = 2 };

struct Slot {
  uint64_t local;  // content hash
  uint64_t bits;   // workers 0–63 holding the block
};

struct Edge;

struct EdgePtrTraits {
  static bool empty(Edge* e) { return e == nullptr; }
  static Edge* none() { return nullptr; }
};

struct Edge {
  explicit Edge(Arena* arena) : slots(ArenaAllocator<Slot>(arena)), ids(ArenaAllocator<uint32_t>(arena)) {}
  Edge(const Edge&) = delete;
  Edge& operator=(const Edge&) = delete;

  uint64_t key = 0;  // its first block's content hash (its key under the parent)
  Edge* parent = nullptr;
  ArenaVector<Slot> slots;
  ArenaVector<uint32_t> ids;  // block ids, beside slots
  // Workers 64 and up, per block (beside slots), once any block of the edge has one.
  std::vector<std::vector<uint32_t>>* more = nullptr;
  // Children by their key: the first inline, a map once there are two.
  Edge* one = nullptr;
  FlatMap<Edge*, EdgePtrTraits>* many = nullptr;

  ~Edge() {
    delete more;
    delete many;
  }
  bool has_children() const { return one || (many && many->size()); }
};

// Where a block is now, and its generation (bumped when the block is released).
struct BlockLoc {
  Edge* edge;
  uint32_t off;
  uint32_t gen;
};

struct Ref {
  uint32_t id;
  uint32_t gen;
};

struct RefTraits {
  static bool empty(const Ref& r) { return r.id == UINT32_MAX; }
  static Ref none() { return Ref{UINT32_MAX, 0}; }
};

class PrefixIndex {
 public:
  PrefixIndex() = default;
  PrefixIndex(const PrefixIndex&) = delete;
  PrefixIndex& operator=(const PrefixIndex&) = delete;
  ~PrefixIndex();

  // A stored event: blocks (content hash, engine id) appended after the worker's block `parent`
  // (or from the root).
  Status store(uint32_t worker, bool has_parent, uint64_t parent, const uint64_t* locals, const uint64_t* externals, size_t n);
  // A removed event, by engine ids (BlockNotFound if any was unknown; the others are removed).
  Status remove(uint32_t worker, const uint64_t* externals, size_t n);
  // A cleared event, or the worker left.
  void clear(uint32_t worker);
  size_t tree_size(uint32_t worker) const { return worker < lookup_.size() ? lookup_[worker].size() : 0; }
  size_t workers() const { return lookup_.size(); }
  // scores[w] = leading blocks of `locals` worker w holds, sizes[w] = blocks it holds in all (both
  // must have workers() entries).
  void find_matches(const uint64_t* locals, size_t n, uint32_t* scores, uint32_t* sizes) const;

  // Sizes, for tests and benchmarks: live blocks and edges.
  size_t blocks() const { return blocks_.size() - free_blocks_.size(); }
  size_t edges() const { return edges_.size() - free_edges_.size(); }
  // Memory held: the arena's mappings and the few arrays outside it.
  size_t memory_bytes() const {
    return arena_.mapped() + lookup_.capacity() * sizeof(Lookup) + (edges_.capacity() + free_edges_.capacity()) * sizeof(Edge*) + free_blocks_.capacity() * sizeof(uint32_t);
  }

 private:
  using Lookup = FlatMap<Ref, RefTraits>;

  static Edge* child(const Edge* e, uint64_t local);
  void add_child(Edge* e, Edge* c);
  static void remove_child(Edge* e, Edge* c);
  static void add_worker(Edge* e, size_t off, uint32_t w);
  static void drop_worker(Edge* e, size_t off, uint32_t w);
  static bool empty(const Edge* e, size_t off) { return e->slots[off].bits == 0 && (!e->more || (*e->more)[off].empty()); }

  static constexpr size_t kAhead = 16;
  const BlockLoc* resolve(Lookup& own, uint64_t external);
  void append(Edge* e, uint64_t local);
  void split(Edge* e, size_t at);
  void prune(Edge* e);
  Edge* new_edge(Edge* parent, uint64_t key);
  void free_edge(Edge* e);
  uint32_t new_block(Edge* e, uint32_t off);
  void free_block(uint32_t id);

  Arena arena_;  // first: the last member to go
  Edge root_{&arena_};
  std::vector<Lookup> lookup_;
  ArenaVector<BlockLoc> blocks_{ArenaAllocator<BlockLoc>(&arena_)};
  std::vector<uint32_t> free_blocks_;
  std::vector<Edge*> edges_;  // every edge made (in the arena; destroyed with the index)
  std::vector<Edge*> free_edges_;
};

}  // namespace dynamo
