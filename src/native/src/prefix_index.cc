#include "prefix_index.h"

#include <algorithm>
#include <vector>

namespace dynamo {

PrefixIndex::~PrefixIndex() {
  for (Node* chunk : chunks_) {
    for (size_t i = 0; i < kChunk; i++) {
      delete chunk[i].many;
      delete chunk[i].more;
    }
    delete[] chunk;
  }
  delete root_.many;
}

Node* PrefixIndex::alloc(uint64_t local, Node* parent) {
  if (free_.empty()) {
    // Nodes come in chunks: one allocation per kChunk blocks, and freed nodes are reused.
    Node* chunk = new Node[kChunk];
    chunks_.push_back(chunk);
    for (size_t i = kChunk; i-- > 0;) free_.push_back(&chunk[i]);
  }
  Node* n = free_.back();
  free_.pop_back();
  n->local = local;
  n->parent = parent;
  return n;
}

void PrefixIndex::release(Node* n) {
  delete n->many;
  delete n->more;
  uint32_t gen = n->gen + 1;
  *n = Node();
  n->gen = gen;
  free_.push_back(n);
}

Node* PrefixIndex::resolve(FlatMap<NodeRef>& own, uint64_t external) {
  NodeRef* r = own.find(external);
  if (!r) return nullptr;
  if (r->node->gen != r->gen) {
    own.erase(external);
    return nullptr;
  }
  return r->node;
}

Node* PrefixIndex::child(const Node* n, uint64_t local) const {
  if (n->one && n->one->local == local) return n->one;
  if (!n->many) return nullptr;
  Node* const* c = n->many->find(local);
  return c ? *c : nullptr;
}

void PrefixIndex::add_child(Node* n, Node* c) {
  if (!n->one && (!n->many || n->many->size() == 0)) {
    n->one = c;
    return;
  }
  if (!n->many) n->many = new FlatMap<Node*>();
  n->many->set(c->local, c);
}

void PrefixIndex::remove_child(Node* n, Node* c) {
  if (n->one == c)
    n->one = nullptr;
  else if (n->many)
    n->many->erase(c->local);
}

bool PrefixIndex::holds(const Node* n, uint32_t w) {
  if (w < 64) return (n->bits >> w) & 1;
  return n->more && std::find(n->more->begin(), n->more->end(), w) != n->more->end();
}

void PrefixIndex::add_worker(Node* n, uint32_t w) {
  if (w < 64) {
    n->bits |= uint64_t{1} << w;
    return;
  }
  if (!n->more) n->more = new std::vector<uint32_t>();
  if (std::find(n->more->begin(), n->more->end(), w) == n->more->end()) n->more->push_back(w);
}

void PrefixIndex::drop_worker(Node* n, uint32_t w) {
  if (w < 64) {
    n->bits &= ~(uint64_t{1} << w);
    return;
  }
  if (!n->more) return;
  auto it = std::find(n->more->begin(), n->more->end(), w);
  if (it != n->more->end()) n->more->erase(it);
}

void PrefixIndex::prune(Node* n) {
  // A released node has no parent: pruning stops there.
  while (n && n != &root_ && n->parent && empty(n) && !n->one && (!n->many || n->many->size() == 0)) {
    Node* p = n->parent;
    remove_child(p, n);
    release(n);
    n = p;
  }
}

Status PrefixIndex::store(uint32_t worker, bool has_parent, uint64_t parent, const uint64_t* locals, const uint64_t* externals, size_t n) {
  if (worker >= lookup_.size()) lookup_.resize(worker + 1);
  FlatMap<NodeRef>& own = lookup_[worker];
  Node* node = &root_;
  if (has_parent) {
    node = resolve(own, parent);
    if (!node) return Status::ParentNotFound;
  }
  for (size_t i = 0; i < n; i++) {
    Node* c = child(node, locals[i]);
    if (!c) {
      c = alloc(locals[i], node);
      add_child(node, c);
    }
    add_worker(c, worker);
    own.set(externals[i], NodeRef{c, c->gen});
    node = c;
  }
  return Status::Ok;
}

Status PrefixIndex::remove(uint32_t worker, const uint64_t* externals, size_t n) {
  if (worker >= lookup_.size()) return Status::BlockNotFound;
  FlatMap<NodeRef>& own = lookup_[worker];
  Status status = Status::Ok;
  for (size_t i = 0; i < n; i++) {
    Node* node = resolve(own, externals[i]);
    if (!node) {
      status = Status::BlockNotFound;
      continue;
    }
    own.erase(externals[i]);
    drop_worker(node, worker);
    prune(node);
  }
  return status;
}

void PrefixIndex::clear(uint32_t worker) {
  if (worker >= lookup_.size()) return;
  std::vector<Node*> nodes;
  nodes.reserve(lookup_[worker].size());
  lookup_[worker].for_each([&](uint64_t, const NodeRef& r) {
    if (r.node->gen == r.gen) nodes.push_back(r.node);
  });
  lookup_[worker].clear();
  // Any order: pruning walks upwards, and a node released on the way has no parent left.
  for (Node* n : nodes) drop_worker(n, worker);
  for (Node* n : nodes) prune(n);
}

void PrefixIndex::find_matches(const uint64_t* locals, size_t n, uint32_t* scores, uint32_t* sizes) const {
  std::fill(scores, scores + lookup_.size(), 0);
  for (size_t w = 0; w < lookup_.size(); w++) sizes[w] = static_cast<uint32_t>(lookup_[w].size());
  if (n == 0) return;
  const Node* node = child(&root_, locals[0]);
  if (!node) return;
  uint64_t bits = node->bits;
  std::vector<uint32_t> more;
  if (node->more) more = *node->more;
  size_t depth = 1;
  for (; depth < n && (bits || !more.empty()); depth++) {
    const Node* next = child(node, locals[depth]);
    if (!next) break;
    // Workers that hold the parent but not this block drop out at this depth.
    for (uint64_t gone = bits & ~next->bits; gone; gone &= gone - 1) scores[__builtin_ctzll(gone)] = static_cast<uint32_t>(depth);
    bits &= next->bits;
    for (size_t k = 0; k < more.size();) {
      if (!holds(next, more[k])) {
        scores[more[k]] = static_cast<uint32_t>(depth);
        more[k] = more.back();
        more.pop_back();
      } else {
        k++;
      }
    }
    node = next;
  }
  for (uint64_t left = bits; left; left &= left - 1) scores[__builtin_ctzll(left)] = static_cast<uint32_t>(depth);
  for (uint32_t w : more) scores[w] = static_cast<uint32_t>(depth);
}

}  // namespace dynamo
