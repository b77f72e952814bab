// Helpers shared by the engine tests (engine_test.cc, engine_bulk_test.cc).
#pragma once
#include <chrono>
#include <cstdint>
#include <exception>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/engine.h"

namespace mxn::engine_test {

using Clock = std::chrono::steady_clock;
using Vars = std::vector<EngineVar*>;

inline void push(Engine& e, Engine::Fn fn, Vars reads, Vars writes, PushOptions opt = {}) {
  e.push(std::move(fn), reads.data(), static_cast<int>(reads.size()), writes.data(),
         static_cast<int>(writes.size()), opt);
}

// The message of the error wait_for_var rethrows, or "" when it returns normally.
inline std::string wait_error(Engine& e, EngineVar* v, bool for_write = false) {
  try {
    e.wait_for_var(v, for_write);
  } catch (const std::exception& ex) {
    return ex.what();
  }
  return "";
}

inline std::string wait_all_error(Engine& e) {
  try {
    e.wait_all();
  } catch (const std::exception& ex) {
    return ex.what();
  }
  return "";
}

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

inline uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

// A random program of operations on num_vars variables.
struct DagOp {
  std::vector<int> reads;
  std::vector<int> writes;
  int priority;
  bool run_inline;
};

inline std::vector<DagOp> make_dag(int64_t n, int num_vars, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<DagOp> ops(static_cast<size_t>(n));
  for (auto& op : ops) {
    const int nr = static_cast<int>(rng() % 4);      // 0..3 reads
    const int nw = 1 + static_cast<int>(rng() % 2);  // 1..2 writes
    for (int i = 0; i < nr; ++i) op.reads.push_back(static_cast<int>(rng() % num_vars));
    for (int i = 0; i < nw; ++i) op.writes.push_back(static_cast<int>(rng() % num_vars));
    op.priority = static_cast<int>(rng() % 3) - 1;
    op.run_inline = rng() % 4 == 0;
  }
  return ops;
}

// The operation body shared by the serial reference and the engines. Duplicate writes of one
// variable apply in list order, as a serial program would.
inline void apply_dag_op(const DagOp& op, int64_t id, int64_t* v) {
  uint64_t h = static_cast<uint64_t>(id);
  for (int r : op.reads) h = mix(h, static_cast<uint64_t>(v[r]));
  for (size_t k = 0; k < op.writes.size(); ++k) {
    const int w = op.writes[k];
    v[w] = static_cast<int64_t>(mix(h, static_cast<uint64_t>(v[w]) + k));
  }
}

}  // namespace mxn::engine_test
