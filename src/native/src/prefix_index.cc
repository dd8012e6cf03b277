#include "prefix_index.h"

#include <algorithm>
#include <iterator>
#include <new>

namespace dynamo {

PrefixIndex::~PrefixIndex() {
  for (Edge* e : edges_) e->~Edge();
}

Edge* PrefixIndex::new_edge(Edge* parent, uint64_t key) {
  Edge* e;
  if (free_edges_.empty()) {
    e = new (arena_.alloc(sizeof(Edge))) Edge(&arena_);
    edges_.push_back(e);
  } else {
    e = free_edges_.back();
    free_edges_.pop_back();
  }
  e->key = key;
  e->parent = parent;
  return e;
}

void PrefixIndex::free_edge(Edge* e) {
  delete e->more;
  e->more = nullptr;
  delete e->many;
  e->many = nullptr;
  e->one = nullptr;
  e->parent = nullptr;
  e->slots.clear();
  e->ids.clear();
  // Pooled edges keep small arrays for reuse, not long ones.
  if (e->slots.capacity() > 64) {
    e->slots.shrink_to_fit();
    e->ids.shrink_to_fit();
  }
  free_edges_.push_back(e);
}

uint32_t PrefixIndex::new_block(Edge* e, uint32_t off) {
  if (free_blocks_.empty()) {
    blocks_.push_back(BlockLoc{e, off, 0});
    return static_cast<uint32_t>(blocks_.size() - 1);
  }
  uint32_t id = free_blocks_.back();
  free_blocks_.pop_back();
  blocks_[id].edge = e;
  blocks_[id].off = off;
  return id;
}

void PrefixIndex::free_block(uint32_t id) {
  blocks_[id].edge = nullptr;
  blocks_[id].gen++;
  free_blocks_.push_back(id);
}

const BlockLoc* PrefixIndex::resolve(Lookup& own, uint64_t external) {
  Ref* r = own.find(external);
  if (!r) return nullptr;
  const BlockLoc* b = &blocks_[r->id];
  if (b->gen != r->gen) {
    own.erase(external);
    return nullptr;
  }
  return b;
}

Edge* PrefixIndex::child(const Edge* e, uint64_t local) {
  if (e->one && e->one->key == local) return e->one;
  if (!e->many) return nullptr;
  Edge* const* c = e->many->find(local);
  return c ? *c : nullptr;
}

void PrefixIndex::add_child(Edge* e, Edge* c) {
  if (!e->one && (!e->many || e->many->size() == 0)) {
    e->one = c;
    return;
  }
  if (!e->many) e->many = new FlatMap<Edge*, EdgePtrTraits>(&arena_);
  e->many->set(c->key, c);
}

void PrefixIndex::remove_child(Edge* e, Edge* c) {
  if (e->one == c)
    e->one = nullptr;
  else if (e->many)
    e->many->erase(c->key);
}

void PrefixIndex::add_worker(Edge* e, size_t off, uint32_t w) {
  if (w < 64) {
    e->slots[off].bits |= uint64_t{1} << w;
    return;
  }
  if (!e->more) e->more = new std::vector<std::vector<uint32_t>>(e->slots.size());
  std::vector<uint32_t>& v = (*e->more)[off];
  if (std::find(v.begin(), v.end(), w) == v.end()) v.push_back(w);
}

void PrefixIndex::drop_worker(Edge* e, size_t off, uint32_t w) {
  if (w < 64) {
    e->slots[off].bits &= ~(uint64_t{1} << w);
    return;
  }
  if (!e->more) return;
  std::vector<uint32_t>& v = (*e->more)[off];
  auto it = std::find(v.begin(), v.end(), w);
  if (it != v.end()) v.erase(it);
}

void PrefixIndex::append(Edge* e, uint64_t local) {
  uint32_t off = static_cast<uint32_t>(e->slots.size());
  e->slots.push_back(Slot{local, 0});
  e->ids.push_back(new_block(e, off));
  if (e->more) e->more->emplace_back();
}

// Splits `e` before block `at` (0 < at < size): the blocks from `at` on, and e's children, move
// to a new edge that becomes e's only child.
void PrefixIndex::split(Edge* e, size_t at) {
  Edge* t = new_edge(e, e->slots[at].local);
  t->slots.assign(e->slots.begin() + at, e->slots.end());
  t->ids.assign(e->ids.begin() + at, e->ids.end());
  e->slots.resize(at);
  e->ids.resize(at);
  if (e->more) {
    t->more = new std::vector<std::vector<uint32_t>>(std::make_move_iterator(e->more->begin() + at), std::make_move_iterator(e->more->end()));
    e->more->resize(at);
  }
  for (size_t j = 0; j < t->ids.size(); j++) {
    blocks_[t->ids[j]].edge = t;
    blocks_[t->ids[j]].off = static_cast<uint32_t>(j);
  }
  t->one = e->one;
  t->many = e->many;
  if (t->one) t->one->parent = t;
  if (t->many) t->many->for_each([t](uint64_t, Edge* c) { c->parent = t; });
  e->one = t;
  e->many = nullptr;
}

// Drops blocks nobody holds that lead nowhere, upwards from the end of `e` (a block with a
// successor or children stays, as in Dynamo's tree).
void PrefixIndex::prune(Edge* e) {
  while (e != &root_ && !e->has_children()) {
    while (!e->slots.empty() && empty(e, e->slots.size() - 1)) {
      free_block(e->ids.back());
      e->slots.pop_back();
      e->ids.pop_back();
      if (e->more) e->more->pop_back();
    }
    if (!e->slots.empty()) return;
    Edge* p = e->parent;
    remove_child(p, e);
    free_edge(e);
    e = p;
  }
}

Status PrefixIndex::store(uint32_t worker, bool has_parent, uint64_t parent, const uint64_t* locals, const uint64_t* externals, size_t n) {
  while (worker >= lookup_.size()) lookup_.emplace_back(&arena_);
  Lookup& own = lookup_[worker];
  // The position: the next block goes at e->slots[next] (the root has no blocks of its own).
  Edge* e = &root_;
  size_t next = 0;
  if (has_parent) {
    const BlockLoc* p = resolve(own, parent);
    if (!p) return Status::ParentNotFound;
    e = p->edge;
    next = p->off + 1;
  }
  // The lookup slots the blocks' ids go to, ahead (their cache misses overlap).
  for (size_t i = 0; i < n && i < kAhead; i++) own.prefetch(externals[i]);
  for (size_t i = 0; i < n; i++) {
    if (i + kAhead < n) own.prefetch(externals[i + kAhead]);
    uint64_t local = locals[i];
    // Inside an edge: follow it, or branch off (split) where the new block differs.
    if (next < e->slots.size() && e->slots[next].local != local) split(e, next);
    if (next == e->slots.size()) {
      Edge* c = child(e, local);
      if (c) {
        e = c;
        next = 0;
      } else if (e != &root_ && !e->has_children()) {
        append(e, local);  // the chain grows in place
      } else {
        c = new_edge(e, local);
        append(c, local);
        add_child(e, c);
        e = c;
        next = 0;
      }
    }
    add_worker(e, next, worker);
    uint32_t id = e->ids[next];
    own.set(externals[i], Ref{id, blocks_[id].gen});
    next++;
  }
  return Status::Ok;
}

Status PrefixIndex::remove(uint32_t worker, const uint64_t* externals, size_t n) {
  if (worker >= lookup_.size()) return Status::BlockNotFound;
  Lookup& own = lookup_[worker];
  Status status = Status::Ok;
  for (size_t i = 0; i < n && i < kAhead; i++) own.prefetch(externals[i]);
  for (size_t i = 0; i < n; i++) {
    if (i + kAhead < n) own.prefetch(externals[i + kAhead]);
    const BlockLoc* b = resolve(own, externals[i]);
    if (!b) {
      status = Status::BlockNotFound;
      continue;
    }
    Edge* e = b->edge;
    uint32_t off = b->off;
    own.erase(externals[i]);
    drop_worker(e, off, worker);
    if (off + 1 == e->slots.size()) prune(e);
  }
  return status;
}

void PrefixIndex::clear(uint32_t worker) {
  if (worker >= lookup_.size()) return;
  std::vector<Ref> held;
  held.reserve(lookup_[worker].size());
  lookup_[worker].for_each([&](uint64_t, const Ref& r) {
    if (blocks_[r.id].gen == r.gen) held.push_back(r);
  });
  lookup_[worker].clear();
  for (const Ref& r : held) drop_worker(blocks_[r.id].edge, blocks_[r.id].off, worker);
  // Pruning frees blocks and edges: a block already freed on the way is skipped (generation).
  for (const Ref& r : held)
    if (blocks_[r.id].gen == r.gen) prune(blocks_[r.id].edge);
}

void PrefixIndex::find_matches(const uint64_t* locals, size_t n, uint32_t* scores, uint32_t* sizes) const {
  size_t workers = lookup_.size();
  std::fill(scores, scores + workers, 0);
  for (size_t w = 0; w < workers; w++) sizes[w] = static_cast<uint32_t>(lookup_[w].size());
  if (n == 0) return;
  const Edge* e = child(&root_, locals[0]);
  if (!e) return;
  uint64_t bits = e->slots[0].bits;
  std::vector<uint32_t> more;
  if (e->more) more = (*e->more)[0];
  size_t depth = 1;  // blocks matched
  size_t i = 1;      // the next block of e
  while (depth < n && (bits || !more.empty())) {
    if (i == e->slots.size()) {
      const Edge* c = child(e, locals[depth]);
      if (!c) break;
      e = c;
      i = 0;
    } else if (e->slots[i].local != locals[depth]) {
      break;
    }
    uint64_t next = e->slots[i].bits;
    // Workers that hold the parent but not this block drop out at this depth.
    for (uint64_t gone = bits & ~next; gone; gone &= gone - 1) scores[__builtin_ctzll(gone)] = static_cast<uint32_t>(depth);
    bits &= next;
    if (!more.empty()) {
      static const std::vector<uint32_t> none;
      const std::vector<uint32_t>& here = e->more ? (*e->more)[i] : none;
      for (size_t k = 0; k < more.size();) {
        if (std::find(here.begin(), here.end(), more[k]) == here.end()) {
          scores[more[k]] = static_cast<uint32_t>(depth);
          more[k] = more.back();
          more.pop_back();
        } else {
          k++;
        }
      }
    }
    depth++;
    i++;
  }
  for (uint64_t left = bits; left; left &= left - 1) scores[__builtin_ctzll(left)] = static_cast<uint32_t>(depth);
  for (uint32_t w : more) scores[w] = static_cast<uint32_t>(depth);
}

}  // namespace dynamo
