// The naive engine: every operation runs at once on the pushing thread, one at a time
// (MXNEXT_ENGINE=naive, for debugging). Poisoning follows the same rules as the threaded
// engine, so both give the same results and the same errors.
#include <algorithm>
#include <mutex>

#include "core/base/error.h"
#include "core/engine/engine_var.h"

namespace mxn {

namespace {

class NaiveEngine final : public Engine {
 public:
  EngineVar* new_var() override { return new EngineVar(); }
  void delete_var(EngineVar* var) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    delete var;
  }

  void push(Fn fn, EngineVar* const* reads, int num_reads, EngineVar* const* writes,
            int num_writes, const PushOptions&) override {
    std::vector<Dep> deps;
    collect_deps(reads, num_reads, writes, num_writes, &deps);
    // Recursive: an operation may push further operations while it runs.
    std::lock_guard<std::recursive_mutex> lock(mu_);
    std::exception_ptr skip;
    for (const Dep& d : deps) {
      if ((!d.write || d.reads_too) && d.var->error) {
        skip = d.var->error;
        break;
      }
    }
    std::exception_ptr err = skip;
    if (!err && fn) {
      try {
        ParallelTeamLead lead;  // the one thread that runs operations here
        fn();
      } catch (...) {
        err = std::current_exception();
      }
    }
    for (const Dep& d : deps) {
      if (d.write) {
        d.var->error = err;
        d.var->renew_version();
      }
    }
    if (err && err != skip) unreported_.push_back(err);
  }

  void wait_for_var(EngineVar* var, bool for_write) override {
    MXN_CHECK(var != nullptr, ErrorCode::kInvalidArg, "engine: wait on a NULL variable");
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (for_write) var->renew_version();  // the caller writes next
    if (var->error) {
      unreported_.erase(std::remove(unreported_.begin(), unreported_.end(), var->error),
                        unreported_.end());
      std::rethrow_exception(var->error);
    }
  }

  void wait_all() override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (unreported_.empty()) return;
    std::exception_ptr first = unreported_.front();
    unreported_.clear();
    std::rethrow_exception(first);
  }

  const char* name() const override { return "naive"; }
  int num_workers() const override { return 0; }

 private:
  std::recursive_mutex mu_;
  std::vector<std::exception_ptr> unreported_;
};

}  // namespace

std::unique_ptr<Engine> make_naive_engine() { return std::make_unique<NaiveEngine>(); }

}  // namespace mxn
