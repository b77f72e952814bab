// Temporary memory of one kernel call, from the pooled allocator: released when the kernel
// returns, so the pool hands the same blocks to the next call on any thread. Memory is kept
// (never returned to the OS, DESIGN §11) without one copy per thread. Process-wide counters
// say how much kernels hold at once (the executor's memory report shows the peak).
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace mxn {

class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();
  void* alloc_bytes(size_t bytes);
  template <typename T>
  T* alloc(int64_t count) {
    return static_cast<T*>(alloc_bytes(static_cast<size_t>(count) * sizeof(T)));
  }

 private:
  std::vector<std::pair<void*, size_t>> blocks_;
};

struct WorkspaceStats {
  int64_t live_bytes = 0;  // held by running kernels now
  int64_t peak_bytes = 0;  // most held at once since the process started
};
WorkspaceStats workspace_stats();

}  // namespace mxn
