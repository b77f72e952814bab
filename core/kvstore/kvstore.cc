#include "core/kvstore/kvstore.h"

#include <cstring>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/kvstore/dist_async.h"
#include "core/kvstore/dist_comm.h"
#include "core/kvstore/transport.h"
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
  if (type_ == "dist" || type_ == "dist_sync_device") type_ = type_ == "dist" ? "dist_sync" : "dist_device_sync";
  dist_ = type_ == "dist_sync" || type_ == "dist_device_sync" || type_ == "dist_async";
  MXN_CHECK(type_ == "local" || type_ == "device" || dist_, ErrorCode::kNotImplemented,
            "kvstore type '", type_,
            "' is not available (local, device, dist_sync, dist_device_sync, dist_async are)");
  if (!dist_) return;
  DistComm& comm = DistComm::get();
  rank_ = comm.rank();
  num_workers_ = comm.size();
  // A launcher other than mpirun (torchrun-style, DMLC-style) must agree with MPI's view.
  const int64_t ws = env_int("WORLD_SIZE", -1), dn = env_int("DMLC_NUM_WORKER", -1);
  const int64_t rk = env_int("RANK", -1);
  MXN_CHECK(ws < 0 || ws == num_workers_, ErrorCode::kInvalidArg, "WORLD_SIZE=", ws,
            " but the MPI job has ", num_workers_, " processes (start with python -m mxnext.launch)");
  MXN_CHECK(dn < 0 || dn == num_workers_, ErrorCode::kInvalidArg, "DMLC_NUM_WORKER=", dn,
            " but the MPI job has ", num_workers_, " processes (start with python -m mxnext.launch)");
  MXN_CHECK(rk < 0 || ws < 0 || rk == rank_, ErrorCode::kInvalidArg, "RANK=", rk,
            " but this process is MPI rank ", rank_);
  control_channel_ = comm.new_channel();
  if (type_ == "dist_async") {
    // Collective, like every channel: ranks create their stores in the same order.
    static int finish_channel = -1;  // the barrier every rank waits in at exit, serving
    if (finish_channel < 0) {
      finish_channel = comm.new_channel();
      comm.serve_until_all_done(finish_channel);
    }
    async_ = std::make_unique<AsyncStore>(comm.new_channel(), rank_, num_workers_);
  }
}

KVStore::~KVStore() = default;

std::string KVStore::save_optimizer_states() const {
  MXN_CHECK(optimizer_ != nullptr, ErrorCode::kInvalidArg,
            "the kvstore has no optimizer (call set_optimizer first)");
  MXN_CHECK(!is_async(), ErrorCode::kInvalidArg,
            "dist_async keeps the optimizer states on the servers; they cannot be saved from "
            "a worker (as in MXNet)");
  return optimizer_->save_states();
}

void KVStore::load_optimizer_states(const void* data, size_t size) {
  MXN_CHECK(optimizer_ != nullptr, ErrorCode::kInvalidArg,
            "the kvstore has no optimizer (call set_optimizer first)");
  MXN_CHECK(!is_async(), ErrorCode::kInvalidArg,
            "dist_async keeps the optimizer states on the servers; they cannot be loaded "
            "from a worker (as in MXNet)");
  optimizer_->load_states(data, size);
}

void KVStore::barrier() {
  if (!dist_) return;
  if (async_) {
    // My pushes end when their servers acknowledge them: wait for them first. A push only
    // reads its buffer, so waiting to read it would not wait for the push: wait to write it.
    for (auto& kv : store_) {
      if (!kv.second.merged.is_none()) kv.second.merged.wait_to_write();
    }
  }
  DistComm::get().barrier(control_channel_);
}

void KVStore::allreduce_int64(int64_t* values, int n, int op) {
  MXN_CHECK(n >= 0 && (n == 0 || values != nullptr), ErrorCode::kInvalidArg,
            "allreduce_int64: values is NULL or n negative");
  MXN_CHECK(op >= 0 && op <= 2, ErrorCode::kInvalidArg, "allreduce_int64: op ", op,
            " is not 0 (sum), 1 (min) or 2 (max)");
  if (!dist_ || n == 0) return;
  DistComm::get().allreduce_sync(control_channel_, {DistBuffer{values, n, MXN_TDTYPE_I64}}, op);
}

double KVStore::bench_transport_allreduce(int64_t count, int iters) {
  MXN_CHECK(dist_, ErrorCode::kInvalidArg, "bench_transport_allreduce needs a dist kvstore");
  MXN_CHECK(count >= 0 && iters >= 1, ErrorCode::kInvalidArg, "count < 0 or iters < 1");
  return DistComm::get().bench_allreduce(count, iters);
}

void KVStore::dist_allreduce(const Slot& s, int priority, const NDArray* source) {
  if (num_workers_ == 1) return;
  const NDArray m = s.merged;
  const NDArray src = source != nullptr ? *source : NDArray();
  const int dtype = m.dtype() == DType::kFloat32 ? MXN_TDTYPE_F32 : MXN_TDTYPE_F64;
  const int64_t bound = bigarray_bound();
  const int ch = s.channel;
  EngineVar* var = m.var();
  EngineVar* read = src.is_none() ? var : src.var();
  PushOptions opts;
  opts.priority = priority;
  opts.name = "kvstore_allreduce";
  Engine::get().push_async(
      [m, src, dtype, ch, bound](Engine::Done done) {
        std::vector<DistBuffer> bufs;
        const size_t esz = m.dtype() == DType::kFloat32 ? 4 : 8;
        char* base = static_cast<char*>(m.data());
        const char* from = src.is_none() ? nullptr : static_cast<const char*>(src.data());
        for (int64_t at = 0; at < m.size(); at += bound) {
          const int64_t n = std::min(bound, m.size() - at);
          const size_t off = static_cast<size_t>(at) * esz;
          bufs.push_back(DistBuffer{base + off, n, dtype, from ? from + off : nullptr});
        }
        // The arrays live until the allreduce ends (the pushed value may be a temporary).
        DistComm::get().allreduce(ch, std::move(bufs), MXN_TOP_SUM,
                                  [m, src, done = std::move(done)](std::exception_ptr e) {
                                    done(std::move(e));
                                  });
      },
      &read, 1, &var, 1, opts);
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
  const bool on_device = type_ == "device" || type_ == "dist_device_sync";
  const Device dev = on_device ? value.device() : Device::cpu(0);
  if (dist_) {
    MXN_CHECK(value.dtype() == DType::kFloat32 || value.dtype() == DType::kFloat64,
              ErrorCode::kDType, "init: key '", key.name, "': the dist kvstores hold float32 "
              "and float64 arrays, got ", dtype_name(value.dtype()));
    MXN_CHECK(dev.type != DeviceType::kGPU, ErrorCode::kNotImplemented, "init: key '", key.name,
              "': dist_device_sync needs host-visible arrays in this build (no NCCL)");
  }
  Slot s;
  s.value = NDArray::empty(value.shape(), value.dtype(), dev);
  copy_array(value, s.value);
  if (async_) {
    // Rank 0's value goes to the key's servers; the barrier makes it visible to every pull.
    s.key_id = next_key_id_++;
    s.shards = place_key(key_hash(key), s.value.size(), num_workers_, bigarray_bound());
    s.merged = NDArray::empty(s.value.shape(), s.value.dtype(), dev);
    if (rank_ == 0) async_->init(s.key_id, key, s.value, s.shards);
    store_.emplace(key.name, std::move(s));
    DistComm::get().barrier(control_channel_);
    return;
  }
  if (dist_) {
    // Every worker starts from rank 0's value; the key gets its own channel (collective:
    // workers init the same keys in the same order, as MXNet requires).
    s.channel = DistComm::get().new_channel();
    s.value.wait_to_read();
    DistComm::get().bcast_sync(s.channel, s.value.data(), static_cast<int64_t>(s.value.nbytes()), 0);
  }
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
  if (dist_ && !async_ && num_workers_ > 1 && srcs.size() == 1 &&
      srcs[0].dtype() == s.merged.dtype() && srcs[0].chunk() != s.merged.chunk()) {
    // One value: the allreduce reads it and writes the sum into the buffer itself, saving
    // the local copy (a pass over every gradient).
    dist_allreduce(s, priority, &srcs[0]);
  } else {
    reduce_into(srcs, s.merged, priority);
    if (dist_ && !async_) dist_allreduce(s, priority, nullptr);
  }
  if (async_) {
    // The servers apply it; nothing is updated here.
    async_->push(s.key_id, s.merged, s.shards, priority);
    return;
  }
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
  if (async_) {
    // Into the push buffer: the engine starts this pull after this worker's last push of the
    // key was acknowledged, so the answer includes it.
    async_->pull(s.key_id, s.merged, s.shards, priority);
    for (const NDArray& o : outs) copy_prio(s.merged, o, priority);
    return;
  }
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
  MXN_CHECK(!async_ || fn == nullptr, ErrorCode::kInvalidArg,
            "dist_async updates on the servers with the optimizer given to set_optimizer; an "
            "updater function cannot run there");
  updater_ = std::move(fn);
  optimizer_.reset();
}

void KVStore::set_optimizer(std::shared_ptr<train::Optimizer> opt) {
  MXN_CHECK(opt != nullptr, ErrorCode::kInvalidArg, "set_optimizer: optimizer is NULL");
  if (async_) {
    // Collective: rank 0 configures every server with the optimizer's typed configuration
    // (each builds its own from the registry), then every worker waits for it.
    if (rank_ == 0) async_->set_optimizer(opt->config());
    DistComm::get().barrier(control_channel_);
  }
  optimizer_ = std::move(opt);
  updater_ = nullptr;
}

}  // namespace mxn::kv
