// Static memory planning at bind time (DESIGN §5). Every value the executor computes lives in
// one arena, at an offset chosen at bind time:
//   - in place: an element-wise operator may write over an input that dies at that step; the
//     chain of values written over one another forms a block (one buffer, one engine variable);
//   - co-sharing: blocks whose lifetimes do not overlap may overlap in memory. Blocks are
//     placed largest first at the lowest offset that no block alive at the same time occupies
//     ("greedy by size"), so a large backward buffer can take the place of several small
//     forward values that died before it, which whole-buffer reuse cannot do.
// Blocks that overlap in memory have separate engine variables, so the executor orders them
// explicitly: the first writer of a block also writes the variables of every block it
// overlaps (`overlaps`), which makes it wait for their readers (in this pass and the
// previous one). Sizes use the real dtype sizes. Planning off gives every value its own place.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/base/dtype.h"
#include "core/base/shape.h"

namespace mxn {

struct PlannedValue {
  std::string name;      // "<node>_output0", for the report
  Shape shape;
  DType dtype = DType::kFloat32;
  size_t step = 0;       // when it is written
  size_t last_use = 0;   // the last step that reads it (>= step)
  int inplace_of = -1;   // index of a value it may overwrite in place (same step reads it)
  bool external = false; // written straight into an array the caller owns (a gradient):
                         // not planned, not counted
  bool skipped = false;  // a hidden output nothing reads, which its kernel does not write:
                         // counted as unplanned, given no storage
};

struct MemoryPlan {
  // Per block: its size (the first value's), byte offset in the arena, and the blocks it
  // overlaps in memory (their lifetimes are disjoint from its own).
  std::vector<size_t> block_bytes;
  std::vector<size_t> block_offset;
  std::vector<std::vector<int>> overlaps;
  std::vector<std::pair<size_t, size_t>> block_steps;  // first and last step it is used
  std::vector<int> block_of;         // per value: its block (-1: external)
  std::vector<bool> in_place;        // per value: it reuses its input's block
  size_t arena_bytes = 0;
  size_t unplanned_bytes = 0;        // every value in its own buffer
  size_t inplace_saved_bytes = 0;
  size_t coshare_saved_bytes = 0;
  size_t planned_bytes() const { return arena_bytes; }
};

// Plans `values` (in schedule order of `step`). With `enabled` false, one place per value.
MemoryPlan plan_memory(const std::vector<PlannedValue>& values, bool enabled);

}  // namespace mxn
