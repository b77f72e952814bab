#include "core/graph/memory_plan.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace mxn {

namespace {
size_t bytes_of(const PlannedValue& v) {
  return static_cast<size_t>(v.shape.size()) * dtype_size(v.dtype);
}
}  // namespace

size_t MemoryPlan::planned_bytes() const {
  return std::accumulate(block_bytes.begin(), block_bytes.end(), size_t{0});
}

MemoryPlan plan_memory(const std::vector<PlannedValue>& values, bool enabled) {
  MemoryPlan plan;
  plan.block_of.assign(values.size(), -1);
  plan.in_place.assign(values.size(), false);
  for (const PlannedValue& v : values) {
    if (!v.external) plan.unplanned_bytes += bytes_of(v);
  }
  if (!enabled) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i].external) continue;
      plan.block_of[i] = static_cast<int>(plan.block_bytes.size());
      plan.block_bytes.push_back(bytes_of(values[i]));
    }
    return plan;
  }
  // Values ordered by the step that writes them; blocks are released when their value's last
  // reader has run. A block is handed out to one value at a time.
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a].step < values[b].step; });
  std::vector<int> holder;                  // per block: the value using it, or -1
  std::multimap<size_t, int> free_blocks;   // bytes -> free block
  std::vector<std::pair<size_t, int>> live;  // (last_use, value) of values holding a block
  for (size_t idx : order) {
    const PlannedValue& v = values[idx];
    if (v.external) continue;
    const size_t need = bytes_of(v);
    // Release blocks whose value is no longer read at or after this step.
    for (auto it = live.begin(); it != live.end();) {
      if (it->first < v.step) {
        const int b = plan.block_of[it->second];
        holder[b] = -1;
        free_blocks.emplace(plan.block_bytes[b], b);
        it = live.erase(it);
      } else {
        ++it;
      }
    }
    int block = -1;
    // In place: the input dies at this very step and its block fits.
    if (v.inplace_of >= 0) {
      const int src = v.inplace_of;
      const int b = plan.block_of[src];
      if (b >= 0 && holder[b] == src && values[src].last_use == v.step &&
          plan.block_bytes[b] >= need) {
        block = b;
        plan.in_place[idx] = true;
        plan.inplace_saved_bytes += need;
        live.erase(std::remove_if(live.begin(), live.end(),
                                  [&](const std::pair<size_t, int>& p) { return p.second == src; }),
                   live.end());
      }
    }
    if (block < 0 && !free_blocks.empty()) {
      // Co-share: the smallest free block that fits, else the largest one, grown.
      auto it = free_blocks.lower_bound(need);
      if (it == free_blocks.end()) it = std::prev(free_blocks.end());
      block = it->second;
      free_blocks.erase(it);
      const size_t had = plan.block_bytes[block];
      plan.coshare_saved_bytes += std::min(had, need);
      plan.block_bytes[block] = std::max(had, need);
    }
    if (block < 0) {
      block = static_cast<int>(plan.block_bytes.size());
      plan.block_bytes.push_back(need);
      holder.push_back(-1);
    }
    holder[block] = static_cast<int>(idx);
    plan.block_of[idx] = block;
    live.push_back({v.last_use, static_cast<int>(idx)});
  }
  return plan;
}

}  // namespace mxn
