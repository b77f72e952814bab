#include "core/engine/engine.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/engine/engine_var.h"

namespace mxn {

uint64_t new_var_versions(uint64_t count) {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(count, std::memory_order_relaxed);
}

uint64_t var_version(const EngineVar* var) { return var->version.load(std::memory_order_relaxed); }

void check_vars(EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                int num_writes) {
  MXN_CHECK(num_reads >= 0 && num_writes >= 0, ErrorCode::kInvalidArg,
            "engine: negative variable count");
  for (int i = 0; i < num_writes; ++i) {
    MXN_CHECK(writes[i] != nullptr, ErrorCode::kInvalidArg, "engine: NULL write variable");
  }
  for (int i = 0; i < num_reads; ++i) {
    MXN_CHECK(reads[i] != nullptr, ErrorCode::kInvalidArg, "engine: NULL read variable");
  }
}

void collect_deps(EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                  int num_writes, std::vector<Dep>* deps) {
  check_vars(reads, num_reads, writes, num_writes);
  deps->clear();
  deps->reserve(static_cast<size_t>(num_reads + num_writes));
  if (num_reads + num_writes > 16) {
    // Sorted, not compared pairwise: an executor step that takes over arena memory also writes
    // every block it overlaps (hundreds, core/graph/memory_plan.h), and the pairwise scan was a
    // third of the pushing thread's time in batch-1 inference.
    for (int i = 0; i < num_writes; ++i) deps->push_back(Dep{nullptr, writes[i], true});
    for (int i = 0; i < num_reads; ++i) deps->push_back(Dep{nullptr, reads[i], false});
    std::sort(deps->begin(), deps->end(), [](const Dep& a, const Dep& b) {
      return std::less<EngineVar*>()(a.var, b.var);
    });
    size_t out = 0;
    for (size_t i = 0; i < deps->size();) {
      Dep d = (*deps)[i];
      bool read = !d.write;
      for (++i; i < deps->size() && (*deps)[i].var == d.var; ++i) {
        read = read || !(*deps)[i].write;
        d.write = d.write || (*deps)[i].write;
      }
      d.reads_too = d.write && read;
      (*deps)[out++] = d;
    }
    deps->resize(out);
    return;
  }
  for (int i = 0; i < num_writes; ++i) {
    bool seen = false;
    for (const Dep& d : *deps) seen = seen || d.var == writes[i];
    if (!seen) {
      Dep d;
      d.var = writes[i];
      d.write = true;
      deps->push_back(d);
    }
  }
  for (int i = 0; i < num_reads; ++i) {
    bool seen = false;
    for (Dep& d : *deps) {
      if (d.var == reads[i]) {
        seen = true;
        if (d.write) d.reads_too = true;
      }
    }
    if (!seen) {
      Dep d;
      d.var = reads[i];
      deps->push_back(d);
    }
  }
}

void Engine::push_async(AsyncFn fn, EngineVar* const* reads, int num_reads,
                        EngineVar* const* writes, int num_writes, const PushOptions& options) {
  push([fn = std::move(fn)] {
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      std::exception_ptr err;
    };
    auto st = std::make_shared<State>();
    fn([st](std::exception_ptr e) {
      std::lock_guard<std::mutex> lock(st->mu);
      st->err = std::move(e);
      st->done = true;
      st->cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(st->mu);
    st->cv.wait(lock, [&] { return st->done; });
    if (st->err) std::rethrow_exception(st->err);
  }, reads, num_reads, writes, num_writes, options);
}

namespace {
thread_local bool t_leads_teams = false;
}  // namespace

bool leads_parallel_teams() { return t_leads_teams; }
ParallelTeamLead::ParallelTeamLead() : before_(t_leads_teams) { t_leads_teams = true; }
ParallelTeamLead::~ParallelTeamLead() { t_leads_teams = before_; }

Engine& Engine::get() {
  static Engine* engine = [] {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    // WebAssembly without threads (MXN_BUILD_WASM): the naive engine is the run-to-completion
    // engine there: every operation runs to completion at push, on the one thread.
    const std::string kind = env_str("MXNEXT_ENGINE", "naive");
    MXN_CHECK(kind == "naive" || kind == "NaiveEngine", ErrorCode::kNotImplemented,
              "MXNEXT_ENGINE='", kind, "': this WebAssembly build has no threads (use naive)");
#else
    const std::string kind = env_str("MXNEXT_ENGINE", "threaded");
#endif
    if (kind == "naive" || kind == "NaiveEngine") return make_naive_engine().release();
    MXN_CHECK(kind == "threaded" || kind == "ThreadedEngine" || kind == "ThreadedEnginePerDevice",
              ErrorCode::kInvalidArg, "MXNEXT_ENGINE='", kind,
              "' is not an engine (use threaded or naive)");
    // One worker by default, as MXNet's MXNET_CPU_WORKER_NTHREADS: the kernels use every
    // core themselves (OpenBLAS, oneDNN, parallel_for), and a second worker mostly competes
    // with them (MLP training step 1,060 -> 1,130 us; the Python test suite runs in half the
    // time with one). MXNEXT_CPU_WORKERS=N runs N at once (independent branches overlap).
    int64_t workers = env_int("MXNEXT_CPU_WORKERS", 0);
    if (workers <= 0) workers = 1;
    return make_threaded_engine(static_cast<int>(workers)).release();  // leaked: see header
  }();
  return *engine;
}

}  // namespace mxn
