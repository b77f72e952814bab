// Internal to core/engine: the operations a thread gathers inside a bulk (Engine::begin_bulk),
// and the one operation that runs them.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/engine/engine_var.h"

namespace mxn {

// Gathered operations, run in the order they were pushed.
struct BulkReplay {
  std::vector<Engine::Fn> fns;
  std::vector<EngineVar*> op_writes;  // each operation's writes, in turn ...
  std::vector<size_t> op_writes_end;  // ... ending here
  std::vector<EngineVar*> reads, writes;  // all of them, each variable once per list
  int priority = 0;                       // the highest
  // Runs them; `keep`: keeps each closure for another run, else releases it once it has run
  // (its storage goes then, as it would have unbulked).
  void run(bool keep);
};

class BulkOps {
 public:
  BulkOps();
  bool empty() const { return ops_->fns.empty(); }
  // Gathers an operation; the variables are checked as Engine::push checks them.
  void add(Engine::Fn fn, EngineVar* const* reads, int num_reads, EngineVar* const* writes,
           int num_writes, const PushOptions& options);
  // Whether a gathered operation reads or writes `var`.
  bool uses(const EngineVar* var) const;
  // The gathered operations; starts a new, empty bulk.
  std::shared_ptr<BulkReplay> take();

 private:
  uint64_t stamp_;  // marks this bulk's variables (EngineVar::bulk_read, bulk_write)
  std::shared_ptr<BulkReplay> ops_;
};

}  // namespace mxn
