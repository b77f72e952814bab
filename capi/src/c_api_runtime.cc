// Randomness, engine information, allocator statistics.
#include "capi/src/handles.h"
#include "core/storage/cpu_pool.h"

using namespace mxn;
using mxn::capi::check_out;

namespace {
void check_host_device(int32_t device_type, int32_t device_id) {
  device_checked(device_type, device_id);  // GPU without CUDA: kDevice
}
}  // namespace

extern "C" {

int mxn_random_seed(uint64_t seed) {
  MXN_API_BEGIN();
  random_seed(seed);
  MXN_API_END();
}

int mxn_engine_info(const char** name, int32_t* num_workers) {
  MXN_API_BEGIN();
  check_out(name, "name");
  check_out(num_workers, "num_workers");
  Engine& e = Engine::get();
  *name = e.name();
  *num_workers = e.num_workers();
  MXN_API_END();
}

int mxn_memory_stats_get(int32_t device_type, int32_t device_id, mxn_memory_stats* out) {
  MXN_API_BEGIN();
  MXN_CHECK(out != nullptr && out->struct_size >= sizeof(mxn_memory_stats),
            ErrorCode::kInvalidArg, "out is NULL or its struct_size is too small");
  check_host_device(device_type, device_id);
  MemoryStats s = CpuPool::get().stats();
  out->live_bytes = s.live_bytes;
  out->peak_bytes = s.peak_bytes;
  out->cached_bytes = s.cached_bytes;
  out->alloc_count = s.alloc_count;
  out->limit_bytes = s.limit_bytes;
  MXN_API_END();
}

int mxn_memory_release_cached(int32_t device_type, int32_t device_id) {
  MXN_API_BEGIN();
  check_host_device(device_type, device_id);
  CpuPool::get().release_cached();
  MXN_API_END();
}

int mxn_memory_set_limit(int32_t device_type, int32_t device_id, int64_t limit_bytes) {
  MXN_API_BEGIN();
  check_host_device(device_type, device_id);
  CpuPool::get().set_limit(limit_bytes);
  MXN_API_END();
}

}  // extern "C"
