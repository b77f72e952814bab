#include "core/engine/bulk.h"

#include <algorithm>
#include <atomic>
#include <utility>

namespace mxn {

namespace {
uint64_t new_stamp() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

void BulkReplay::run(bool keep) {
  size_t w = 0;
  for (size_t i = 0; i < fns.size(); ++i) {
    if (fns[i]) fns[i]();
    if (!keep) fns[i] = nullptr;
    // A later operation may key a cache on this one's outputs (var_version). One counter
    // update for all its writes: an executor step lists hundreds (the blocks it overlaps).
    uint64_t version = new_var_versions(op_writes_end[i] - w);
    for (; w < op_writes_end[i]; ++w) {
      op_writes[w]->version.store(version++, std::memory_order_relaxed);
    }
  }
}

BulkOps::BulkOps() : stamp_(new_stamp()), ops_(std::make_shared<BulkReplay>()) {}

void BulkOps::add(Engine::Fn fn, EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                  int num_writes, const PushOptions& options) {
  check_vars(reads, num_reads, writes, num_writes);
  BulkReplay& b = *ops_;
  // Marks, not a sort: an executor step lists every arena block it overlaps (hundreds), and a
  // forward gathers tens of thousands of entries over a few hundred variables. Two threads
  // gathering the same variable at once may both list it twice: Engine::push merges those.
  // A read of what an earlier operation of the bulk wrote is internal to it: the bulk only
  // writes that variable, so a poison it carries is cleared when the bulk succeeds, as the
  // operations would clear it one by one.
  for (int i = 0; i < num_reads; ++i) {
    if (reads[i]->bulk_write.load(std::memory_order_relaxed) != stamp_ &&
        reads[i]->bulk_read.exchange(stamp_, std::memory_order_relaxed) != stamp_) {
      b.reads.push_back(reads[i]);
    }
  }
  for (int i = 0; i < num_writes; ++i) {
    if (writes[i]->bulk_write.exchange(stamp_, std::memory_order_relaxed) != stamp_) {
      b.writes.push_back(writes[i]);
    }
  }
  b.op_writes.insert(b.op_writes.end(), writes, writes + num_writes);
  b.op_writes_end.push_back(b.op_writes.size());
  b.priority = b.fns.empty() ? options.priority : std::max(b.priority, options.priority);
  b.fns.push_back(std::move(fn));
}

bool BulkOps::uses(const EngineVar* var) const {
  return var->bulk_read.load(std::memory_order_relaxed) == stamp_ ||
         var->bulk_write.load(std::memory_order_relaxed) == stamp_;
}

std::shared_ptr<BulkReplay> BulkOps::take() {
  std::shared_ptr<BulkReplay> ops = std::move(ops_);
  *this = BulkOps();
  return ops;
}

}  // namespace mxn
