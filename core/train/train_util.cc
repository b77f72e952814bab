#include "core/train/train_util.h"

#include <cstring>

#include "core/base/error.h"
#include "core/engine/engine.h"

namespace mxn::train {

void run_op(const char* name, const std::vector<NDArray>& inputs, const NDArray& out,
            const std::vector<NamedValue>& params) {
  const OpDef* op = OpRegistry::get().find(name);
  MXN_CHECK(op != nullptr, ErrorCode::kInternal, "operator ", name, " is not registered");
  std::vector<const char*> keys;
  std::vector<ParamValue> vals;
  keys.reserve(params.size());
  vals.reserve(params.size());
  for (const auto& kv : params) {
    keys.push_back(kv.first);
    vals.push_back(kv.second);
  }
  OpParams p = OpParams::parse(*op, static_cast<int>(keys.size()), keys.data(), vals.data());
  std::vector<NDArray> outs{out};
  invoke_op(*op, inputs, p, &outs);
}

void push_fn(const char* name, std::vector<NDArray> reads, std::vector<NDArray> writes,
             std::function<void()> fn, int priority) {
  std::vector<EngineVar*> r, w;
  for (const auto& a : reads) r.push_back(a.var());
  for (const auto& a : writes) w.push_back(a.var());
  PushOptions opts;
  opts.priority = priority;
  opts.name = name;
  Engine::get().push(
      [fn = std::move(fn), reads = std::move(reads), writes = std::move(writes)]() { fn(); },
      r.data(), static_cast<int>(r.size()), w.data(), static_cast<int>(w.size()), opts);
}

// No host-side staging: a state array can be the size of the largest weight (VGG's fc6 is
// 411 MB), and a temporary of that size would set the training step's peak memory.
void fill(const NDArray& a, double value) {
  if (value == 0.0) {
    push_fn("fill", {}, {a}, [a] { std::memset(a.data(), 0, a.nbytes()); });
    return;
  }
  push_fn("fill", {}, {a}, [a, value] {
    char one[16];
    convert_elements(&value, DType::kFloat64, one, a.dtype(), 1);
    const size_t es = dtype_size(a.dtype());
    char* p = static_cast<char*>(a.data());
    for (int64_t i = 0; i < a.size(); ++i) std::memcpy(p + i * es, one, es);
  });
}

NDArray zeros(const Shape& shape, DType dtype, Device dev) {
  NDArray a = NDArray::empty(shape, dtype, dev);
  fill(a, 0.0);
  return a;
}

std::vector<double> to_host(const NDArray& a) {
  std::vector<char> raw(a.nbytes());
  copy_to_host(a, raw.data(), raw.size());
  std::vector<double> out(static_cast<size_t>(a.size()));
  convert_elements(raw.data(), a.dtype(), out.data(), DType::kFloat64, a.size());
  return out;
}

void from_host(const NDArray& a, const std::vector<double>& values) {
  MXN_CHECK(static_cast<int64_t>(values.size()) == a.size(), ErrorCode::kInternal,
            "from_host: size mismatch");
  std::vector<char> raw(a.nbytes());
  convert_elements(values.data(), DType::kFloat64, raw.data(), a.dtype(), a.size());
  copy_from_host(a, raw.data(), raw.size());
}

}  // namespace mxn::train
