#include "core/graph/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace mxn {

namespace {
size_t bytes_of(const PlannedValue& v) {
  return static_cast<size_t>(v.shape.size()) * dtype_size(v.dtype);
}
constexpr size_t kAlign = 64;  // every block starts on a cache line (the pool's alignment)
size_t aligned(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

struct Span {  // a block's lifetime, in steps, both ends included
  size_t start = 0, end = 0;
  bool meets(const Span& o) const { return !(end < o.start || o.end < start); }
};
}  // namespace

MemoryPlan plan_memory(const std::vector<PlannedValue>& values, bool enabled) {
  MemoryPlan plan;
  plan.block_of.assign(values.size(), -1);
  plan.in_place.assign(values.size(), false);
  for (const PlannedValue& v : values) {
    if (!v.external) plan.unplanned_bytes += bytes_of(v);
  }
  // 1. Blocks: a value, and the values written in place over it while it dies.
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a].step < values[b].step; });
  std::vector<Span> span;
  std::vector<int> tail;  // per block: the value written last
  for (size_t idx : order) {
    const PlannedValue& v = values[idx];
    if (v.external) continue;
    const size_t need = enabled && v.skipped ? 0 : bytes_of(v);
    if (enabled && v.inplace_of >= 0) {
      const int src = v.inplace_of;
      const int b = plan.block_of[static_cast<size_t>(src)];
      if (b >= 0 && tail[static_cast<size_t>(b)] == src &&
          values[static_cast<size_t>(src)].last_use == v.step &&
          plan.block_bytes[static_cast<size_t>(b)] >= need) {
        plan.block_of[idx] = b;
        plan.in_place[idx] = true;
        plan.inplace_saved_bytes += need;
        tail[static_cast<size_t>(b)] = static_cast<int>(idx);
        span[static_cast<size_t>(b)].end = std::max(span[static_cast<size_t>(b)].end, v.last_use);
        continue;
      }
    }
    plan.block_of[idx] = static_cast<int>(plan.block_bytes.size());
    plan.block_bytes.push_back(need);
    span.push_back({v.step, std::max(v.step, v.last_use)});
    tail.push_back(static_cast<int>(idx));
  }
  const size_t nb = plan.block_bytes.size();
  for (const Span& sp : span) plan.block_steps.push_back({sp.start, sp.end});
  plan.block_offset.assign(nb, 0);
  plan.overlaps.assign(nb, {});
  if (!enabled) {
    for (size_t b = 0; b < nb; ++b) {
      plan.block_offset[b] = plan.arena_bytes;
      plan.arena_bytes += aligned(plan.block_bytes[b]);
    }
    return plan;
  }
  // 2. Placement, largest first: the lowest offset free of every placed block alive at the
  // same time.
  std::vector<size_t> by_size(nb);
  std::iota(by_size.begin(), by_size.end(), 0);
  std::stable_sort(by_size.begin(), by_size.end(), [&](size_t a, size_t b) {
    return plan.block_bytes[a] > plan.block_bytes[b];
  });
  std::vector<size_t> placed;
  std::vector<std::pair<size_t, size_t>> busy;  // (offset, end) of the conflicting blocks
  for (size_t b : by_size) {
    const size_t size = aligned(plan.block_bytes[b]);
    busy.clear();
    for (size_t p : placed) {
      if (span[p].meets(span[b]) && plan.block_bytes[p] > 0) {
        busy.push_back({plan.block_offset[p], plan.block_offset[p] + aligned(plan.block_bytes[p])});
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    plan.block_offset[b] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    placed.push_back(b);
  }
  // 3. Blocks sharing memory (necessarily at different times) are ordered by the executor.
  for (size_t a = 0; a < nb; ++a) {
    if (plan.block_bytes[a] == 0) continue;
    const size_t a0 = plan.block_offset[a], a1 = a0 + plan.block_bytes[a];
    for (size_t b = a + 1; b < nb; ++b) {
      if (plan.block_bytes[b] == 0) continue;
      const size_t b0 = plan.block_offset[b], b1 = b0 + plan.block_bytes[b];
      if (a0 < b1 && b0 < a1) {
        plan.overlaps[a].push_back(static_cast<int>(b));
        plan.overlaps[b].push_back(static_cast<int>(a));
      }
    }
  }
  const size_t kept = plan.inplace_saved_bytes + plan.arena_bytes;
  plan.coshare_saved_bytes = plan.unplanned_bytes > kept ? plan.unplanned_bytes - kept : 0;
  return plan;
}

}  // namespace mxn
