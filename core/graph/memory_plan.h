// Static memory planning at bind time (DESIGN §5): every value the executor computes gets a
// storage block; a value whose last reader has run gives its block back, so later values
// co-share it, and an element-wise operator may write over an input that dies at that step
// (in place). Sizes use the real dtype sizes. Planning off gives every value its own block.
#pragma once
#include <string>
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
};

struct MemoryPlan {
  std::vector<size_t> block_bytes;   // one entry per storage block
  std::vector<int> block_of;         // per value: its block (-1: external)
  std::vector<bool> in_place;        // per value: it reuses its input's block
  size_t unplanned_bytes = 0;        // every value in its own block
  size_t inplace_saved_bytes = 0;
  size_t coshare_saved_bytes = 0;
  size_t planned_bytes() const;
};

// Plans `values` (in schedule order of `step`). With `enabled` false, one block per value.
MemoryPlan plan_memory(const std::vector<PlannedValue>& values, bool enabled);

}  // namespace mxn
