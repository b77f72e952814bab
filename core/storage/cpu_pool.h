// The pooled, aligned host allocator. Freed blocks are kept in size-class free lists and handed
// out again, so steady-state training never returns memory to the OS (DESIGN §11).
#pragma once
#include <cstddef>
#include <cstdint>

namespace mxn {

constexpr size_t kCpuAlignment = 64;

struct MemoryStats {
  int64_t live_bytes = 0;    // handed out and not yet freed (size-class rounded)
  int64_t peak_bytes = 0;    // highest live_bytes since start (or since reset_peak)
  int64_t cached_bytes = 0;  // freed blocks kept for reuse
  int64_t alloc_count = 0;   // allocations served (fresh or from the pool)
  int64_t limit_bytes = 0;   // live + cached may not exceed this (0 = no limit)
};

class CpuPool {
 public:
  static CpuPool& get();  // process-wide; never destroyed, so late frees at exit stay safe

  // Returns a kCpuAlignment-aligned block of at least `bytes`; its size class in *block_bytes.
  // Zero bytes gives a valid, non-null pointer. Throws kOutOfMemory (naming the request and
  // the device) when the limit or the OS refuses; the pool stays usable.
  void* alloc(size_t bytes, size_t* block_bytes);
  void free(void* ptr, size_t block_bytes);
  MemoryStats stats();
  void release_cached();      // hands cached blocks back to the OS
  void set_limit(int64_t bytes);  // 0 = none; MXNEXT_CPU_MEMORY_LIMIT sets it at start
  void reset_peak();

  static size_t size_class(size_t bytes);

 private:
  CpuPool();
  struct Impl;
  Impl* impl_;
};

}  // namespace mxn
