#include "core/storage/cpu_pool.h"

#include <cstdlib>
#include <mutex>
#include <map>
#include <vector>

#include "core/base/env.h"
#include "core/base/error.h"

namespace mxn {

struct CpuPool::Impl {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_lists;  // size class -> cached blocks
  MemoryStats stats;
};

namespace {
alignas(kCpuAlignment) unsigned char g_empty_block[kCpuAlignment];
}

CpuPool::CpuPool() : impl_(new Impl) {
  impl_->stats.limit_bytes = env_int("MXNEXT_CPU_MEMORY_LIMIT", 0);
}

CpuPool& CpuPool::get() {
  static CpuPool* pool = new CpuPool();  // intentionally leaked: see header
  return *pool;
}

// Four size classes per power of two above 256 bytes, so rounding wastes at most 25%.
size_t CpuPool::size_class(size_t bytes) {
  if (bytes <= 256) return (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  int top = 63 - __builtin_clzll(static_cast<unsigned long long>(bytes - 1));
  size_t step = size_t{1} << (top - 2);
  return (bytes + step - 1) / step * step;
}

void* CpuPool::alloc(size_t bytes, size_t* block_bytes) {
  if (bytes == 0) {
    *block_bytes = 0;
    return g_empty_block;
  }
  MXN_CHECK(uint64_t{bytes} <= (uint64_t{1} << 60), ErrorCode::kOutOfMemory,
            "out of memory on cpu(0): ", "requested ", bytes, " bytes");
  const size_t cls = size_class(bytes);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    MemoryStats& st = impl_->stats;
    // The exact class, else the smallest cached block up to twice the request: kernels ask
    // for many slightly different workspace sizes, and each would otherwise stay cached.
    auto it = impl_->free_lists.lower_bound(cls);
    while (it != impl_->free_lists.end() && it->second.empty() && it->first <= 2 * cls) ++it;
    if (it != impl_->free_lists.end() && !it->second.empty() && it->first <= 2 * cls) {
      const size_t got = it->first;
      void* p = it->second.back();
      it->second.pop_back();
      st.cached_bytes -= static_cast<int64_t>(got);
      st.live_bytes += static_cast<int64_t>(got);
      if (st.live_bytes > st.peak_bytes) st.peak_bytes = st.live_bytes;
      ++st.alloc_count;
      *block_bytes = got;
      return p;
    }
    if (st.limit_bytes > 0 &&
        st.live_bytes + st.cached_bytes + static_cast<int64_t>(cls) > st.limit_bytes) {
      // Give cached blocks back before refusing.
      for (auto& kv : impl_->free_lists) {
        for (void* p : kv.second) std::free(p);
        st.cached_bytes -= static_cast<int64_t>(kv.first * kv.second.size());
        kv.second.clear();
      }
      if (st.live_bytes + static_cast<int64_t>(cls) > st.limit_bytes) {
        throw_error(ErrorCode::kOutOfMemory,
                    cat("out of memory on cpu(0): requested ", bytes, " bytes with ",
                        st.live_bytes, " bytes live and a limit of ", st.limit_bytes,
                        " bytes (MXNEXT_CPU_MEMORY_LIMIT)"));
      }
    }
    // Reserve the block under the lock, so that concurrent allocations cannot all pass the
    // limit check before any of them is counted; rolled back if the OS refuses (the peak is
    // only raised once the block exists).
    st.live_bytes += static_cast<int64_t>(cls);
  }
  void* p = std::aligned_alloc(kCpuAlignment, cls);
  if (p == nullptr) {
    release_cached();
    p = std::aligned_alloc(kCpuAlignment, cls);
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  MemoryStats& st = impl_->stats;
  if (p == nullptr) {
    st.live_bytes -= static_cast<int64_t>(cls);
    throw_error(ErrorCode::kOutOfMemory, cat("out of memory on cpu(0): requested ", bytes,
                                             " bytes and the operating system refused"));
  }
  if (st.live_bytes > st.peak_bytes) st.peak_bytes = st.live_bytes;
  ++st.alloc_count;
  *block_bytes = cls;
  return p;
}

void CpuPool::free(void* ptr, size_t block_bytes) {
  if (ptr == nullptr || ptr == g_empty_block) return;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->free_lists[block_bytes].push_back(ptr);
  impl_->stats.live_bytes -= static_cast<int64_t>(block_bytes);
  impl_->stats.cached_bytes += static_cast<int64_t>(block_bytes);
}

MemoryStats CpuPool::stats() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

void CpuPool::release_cached() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& kv : impl_->free_lists) {
    for (void* p : kv.second) std::free(p);
    kv.second.clear();
  }
  impl_->stats.cached_bytes = 0;
}

void CpuPool::set_limit(int64_t bytes) {
  MXN_CHECK(bytes >= 0, ErrorCode::kInvalidArg, "memory limit must be >= 0, got ", bytes);
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stats.limit_bytes = bytes;
}

void CpuPool::reset_peak() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stats.peak_bytes = impl_->stats.live_bytes;
}

}  // namespace mxn
