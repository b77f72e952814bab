#include "core/engine/engine.h"

#include <thread>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/engine/engine_var.h"

namespace mxn {

void collect_deps(EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                  int num_writes, std::vector<Dep>* deps) {
  MXN_CHECK(num_reads >= 0 && num_writes >= 0, ErrorCode::kInvalidArg,
            "engine: negative variable count");
  deps->clear();
  deps->reserve(static_cast<size_t>(num_reads + num_writes));
  for (int i = 0; i < num_writes; ++i) {
    MXN_CHECK(writes[i] != nullptr, ErrorCode::kInvalidArg, "engine: NULL write variable");
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
    MXN_CHECK(reads[i] != nullptr, ErrorCode::kInvalidArg, "engine: NULL read variable");
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

Engine& Engine::get() {
  static Engine* engine = [] {
    const std::string kind = env_str("MXNEXT_ENGINE", "threaded");
    if (kind == "naive" || kind == "NaiveEngine") return make_naive_engine().release();
    MXN_CHECK(kind == "threaded" || kind == "ThreadedEngine" || kind == "ThreadedEnginePerDevice",
              ErrorCode::kInvalidArg, "MXNEXT_ENGINE='", kind,
              "' is not an engine (use threaded or naive)");
    int64_t workers = env_int("MXNEXT_CPU_WORKERS", 0);
    if (workers <= 0) workers = std::max(1u, std::thread::hardware_concurrency());
    return make_threaded_engine(static_cast<int>(workers)).release();  // leaked: see header
  }();
  return *engine;
}

}  // namespace mxn
