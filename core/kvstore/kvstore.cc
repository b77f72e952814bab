#include "core/kvstore/kvstore.h"

#include <cstring>

#include "core/base/error.h"
#include "core/ops/tensor_util.h"
#include "core/train/train_util.h"

namespace mxn::kv {
namespace {

// dst = sum of srcs (same shape; any float dtype, converted through float64 when they differ).
void reduce_into(const std::vector<NDArray>& srcs, const NDArray& dst, int priority) {
  std::vector<NDArray> reads = srcs;
  train::push_fn("kvstore_reduce", reads, {dst}, [srcs, dst] {
    const int64_t n = dst.size();
    bool same = true;
    for (const auto& s : srcs) same = same && s.dtype() == dst.dtype();
    if (same && dst.dtype() == DType::kFloat32) {
      float* o = static_cast<float*>(dst.data());
      const float* a = static_cast<const float*>(srcs[0].data());
      size_t k = 1;
      if (srcs.size() >= 2) {  // one pass for the common two-device case
        const float* b = static_cast<const float*>(srcs[1].data());
        for (int64_t i = 0; i < n; ++i) o[i] = a[i] + b[i];
        k = 2;
      } else if (o != a) {
        std::memcpy(o, a, static_cast<size_t>(n) * sizeof(float));
      }
      for (; k < srcs.size(); ++k) {
        const float* b = static_cast<const float*>(srcs[k].data());
        for (int64_t i = 0; i < n; ++i) o[i] += b[i];
      }
      return;
    }
    std::vector<double> acc(static_cast<size_t>(n), 0.0), tmp(static_cast<size_t>(n));
    for (const auto& s : srcs) {
      convert_elements(s.data(), s.dtype(), tmp.data(), DType::kFloat64, n);
      for (int64_t i = 0; i < n; ++i) acc[static_cast<size_t>(i)] += tmp[static_cast<size_t>(i)];
    }
    convert_elements(acc.data(), DType::kFloat64, dst.data(), dst.dtype(), n);
  }, priority);
}

void copy_prio(const NDArray& src, const NDArray& dst, int priority) {
  if (src.chunk() == dst.chunk() && src.offset() == dst.offset()) return;
  train::push_fn("kvstore_copy", {src}, {dst}, [src, dst] {
    if (src.dtype() == dst.dtype()) {
      std::memcpy(dst.data(), src.data(), src.nbytes());
    } else {
      convert_elements(src.data(), src.dtype(), dst.data(), dst.dtype(), src.size());
    }
  }, priority);
}

}  // namespace

KVStore::KVStore(std::string type) : type_(std::move(type)) {
  MXN_CHECK(type_ == "local" || type_ == "device", ErrorCode::kNotImplemented, "kvstore type '",
            type_, "' is not available (local and device are; dist_* need the MPI build)");
}

KVStore::Slot& KVStore::slot(const Key& key, const char* what) {
  auto it = store_.find(key.name);
  MXN_CHECK(it != store_.end(), ErrorCode::kInvalidArg, what, ": key '", key.name,
            "' has not been initialized (call init first)");
  return it->second;
}

NDArray KVStore::stored(const Key& key) const {
  auto it = store_.find(key.name);
  MXN_CHECK(it != store_.end(), ErrorCode::kInvalidArg, "key '", key.name,
            "' has not been initialized");
  return it->second.value;
}

void KVStore::check_values(const Key& key, const Slot& s, const std::vector<NDArray>& v,
                           const char* what) const {
  MXN_CHECK(!v.empty(), ErrorCode::kInvalidArg, what, ": no arrays for key '", key.name, "'");
  for (size_t i = 0; i < v.size(); ++i) {
    MXN_CHECK(!v[i].is_none(), ErrorCode::kInvalidArg, what, ": array ", i, " is none");
    if (v[i].shape() != s.value.shape()) {
      throw Error(ErrorCode::kShape, cat(what, ": key '", key.name, "': array ", i, " has shape ",
                                         v[i].shape().str(), ", the stored value ",
                                         s.value.shape().str()))
          .with_arg(static_cast<int>(i));
    }
  }
}

void KVStore::init(const Key& key, const NDArray& value) {
  MXN_CHECK(!value.is_none(), ErrorCode::kInvalidArg, "init: no value for key '", key.name, "'");
  MXN_CHECK(store_.count(key.name) == 0, ErrorCode::kInvalidArg, "init: duplicate init of key '",
            key.name, "'");
  const Device dev = type_ == "device" ? value.device() : Device::cpu(0);
  Slot s;
  s.value = NDArray::empty(value.shape(), value.dtype(), dev);
  copy_array(value, s.value);
  store_.emplace(key.name, std::move(s));
}

void KVStore::push(const Key& key, const std::vector<NDArray>& values, int priority) {
  Slot& s = slot(key, "push");
  check_values(key, s, values, "push");
  if (s.merged.is_none()) s.merged = NDArray::empty(s.value.shape(), s.value.dtype(), s.value.device());
  // Values on another device are copied next to the store first (one engine op each).
  std::vector<NDArray> srcs;
  for (const NDArray& v : values) {
    if (v.device() == s.value.device()) {
      srcs.push_back(v);
    } else {
      NDArray c = NDArray::empty(v.shape(), v.dtype(), s.value.device());
      copy_prio(v, c, priority);
      srcs.push_back(c);
    }
  }
  reduce_into(srcs, s.merged, priority);
  if (updater_) {
    updater_(key, s.merged, s.value);
  } else if (optimizer_) {
    optimizer_->update(key.is_int ? train::ParamKey::of_index(key.index)
                                  : train::ParamKey::of_name(key.name),
                       s.value, s.merged);
  } else {
    // No updater: the merged buffer becomes the stored value (MXNet's `local = merged`), so
    // no copy; the next push reduces into a fresh buffer.
    s.value = s.merged;
    s.merged = NDArray();
  }
}

void KVStore::pull(const Key& key, const std::vector<NDArray>& outs, int priority) {
  Slot& s = slot(key, "pull");
  check_values(key, s, outs, "pull");
  for (const NDArray& o : outs) copy_prio(s.value, o, priority);
}

void KVStore::pushpull(const Key& key, const std::vector<NDArray>& values,
                       const std::vector<NDArray>& outs, int priority) {
  push(key, values, priority);
  pull(key, outs.empty() ? values : outs, priority);
}

void KVStore::broadcast(const Key& key, const NDArray& value, const std::vector<NDArray>& outs,
                        int priority) {
  init(key, value);
  pull(key, outs, priority);
}

void KVStore::set_updater(Updater fn) {
  updater_ = std::move(fn);
  optimizer_.reset();
}

void KVStore::set_optimizer(std::shared_ptr<train::Optimizer> opt) {
  MXN_CHECK(opt != nullptr, ErrorCode::kInvalidArg, "set_optimizer: optimizer is NULL");
  optimizer_ = std::move(opt);
  updater_ = nullptr;
}

}  // namespace mxn::kv
