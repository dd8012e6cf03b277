// The router's prefix index (Dynamo's RadixTree semantics), in C++ for throughput: nodes keyed by
// the block's content hash under their parent, each carrying the workers that hold it; per worker,
// engine block ids → nodes (how `stored` finds its parent and `removed` its block). Same behaviour
// as src/router/prefix-index.ts, with full 64-bit keys.
#pragma once
#include <cstdint>
#include <vector>

#include "flat_map.h"

namespace dynamo {

enum class Status : int32_t { Ok = 0, ParentNotFound = 1, BlockNotFound = 2 };

struct Node {
  uint64_t local = 0;
  Node* parent = nullptr;
  // Most nodes have one child; a map only where chains branch.
  Node* one = nullptr;
  FlatMap<Node*>* many = nullptr;
  // Workers 0–63 as bits; more workers in `more`.
  uint64_t bits = 0;
  std::vector<uint32_t>* more = nullptr;
  // Bumped each time the node is released to the pool: a lookup entry made for an earlier life
  // of the node (the same block named by two ids, one removed) is recognised as stale.
  uint32_t gen = 0;
};

struct NodeRef {
  Node* node = nullptr;
  uint32_t gen = 0;
};

class PrefixIndex {
 public:
  ~PrefixIndex();
  Status store(uint32_t worker, bool has_parent, uint64_t parent, const uint64_t* locals, const uint64_t* externals, size_t n);
  Status remove(uint32_t worker, const uint64_t* externals, size_t n);
  void clear(uint32_t worker);
  size_t tree_size(uint32_t worker) const { return worker < lookup_.size() ? lookup_[worker].size() : 0; }
  size_t workers() const { return lookup_.size(); }
  // scores[w] = leading blocks of `locals` worker w holds, sizes[w] = blocks it holds in all (both
  // must have workers() entries).
  void find_matches(const uint64_t* locals, size_t n, uint32_t* scores, uint32_t* sizes) const;

 private:
  Node* child(const Node* n, uint64_t local) const;
  void add_child(Node* n, Node* c);
  void remove_child(Node* n, Node* c);
  static bool holds(const Node* n, uint32_t w);
  static void add_worker(Node* n, uint32_t w);
  static void drop_worker(Node* n, uint32_t w);
  static bool empty(const Node* n) { return n->bits == 0 && (!n->more || n->more->empty()); }
  void prune(Node* n);
  Node* alloc(uint64_t local, Node* parent);
  void release(Node* n);

  Node root_;
  Node* resolve(FlatMap<NodeRef>& own, uint64_t external);

  std::vector<FlatMap<NodeRef>> lookup_;
  static constexpr size_t kChunk = 1024;
  std::vector<Node*> free_;
  std::vector<Node*> chunks_;
};

}  // namespace dynamo
