// Internal to core/engine: the state behind an EngineVar, shared by both engines.
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <vector>

#include "core/engine/engine.h"

namespace mxn {

struct OpBlock;

// `count` fresh contents versions, unique in the process: the returned one and those after it.
uint64_t new_var_versions(uint64_t count);
inline uint64_t new_var_version() { return new_var_versions(1); }

// One (operation, variable) dependency; queued on the variable until granted.
struct Dep {
  OpBlock* op = nullptr;
  EngineVar* var = nullptr;
  bool write = false;
  bool reads_too = false;  // a write whose operation also reads the variable
  Dep* next = nullptr;
};

struct EngineVar {
  Dep* head = nullptr;  // FIFO of dependencies waiting for this variable
  Dep* tail = nullptr;
  int readers = 0;      // granted reads now running or ready
  bool writer = false;  // a granted write now running or ready
  bool deleted = false;
  std::exception_ptr error;  // the poison, if the last write failed
  std::atomic<uint64_t> version{new_var_version()};  // see var_version (engine.h)
  // The last bulk (BulkOps) that listed it as a read / a write: each variable once per list.
  std::atomic<uint64_t> bulk_read{0}, bulk_write{0};
  void renew_version() { version.store(new_var_version(), std::memory_order_relaxed); }
};

// Throws kInvalidArg for a negative count or a null variable.
void check_vars(EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                int num_writes);

// Builds the dependency list: duplicates merged, a variable both read and written kept once as
// a write that reads too.
void collect_deps(EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                  int num_writes, std::vector<Dep>* deps);

}  // namespace mxn
