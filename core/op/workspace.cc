#include "core/op/workspace.h"

#include <atomic>

#include "core/storage/cpu_pool.h"

namespace mxn {

namespace {
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};
}  // namespace

Workspace::~Workspace() {
  for (const auto& [p, bytes] : blocks_) {
    CpuPool::get().free(p, bytes);
    g_live.fetch_sub(static_cast<int64_t>(bytes));
  }
}

void* Workspace::alloc_bytes(size_t bytes) {
  size_t block = 0;
  void* p = CpuPool::get().alloc(bytes, &block);
  blocks_.push_back({p, block});
  const int64_t now = g_live.fetch_add(static_cast<int64_t>(block)) + static_cast<int64_t>(block);
  int64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return p;
}

WorkspaceStats workspace_stats() { return WorkspaceStats{g_live.load(), g_peak.load()}; }

}  // namespace mxn
