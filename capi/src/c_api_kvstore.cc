// KVStore local / device (core/kvstore/).
#include "capi/src/train_handles.h"
#include "core/kvstore/kvstore.h"

using namespace mxn;
using mxn::capi::check_out;
using mxn::capi::checked;

struct mxn_kvstore {
  uint32_t magic = kKVStoreMagic;
  std::unique_ptr<kv::KVStore> store;
};

namespace {

mxn_kvstore* kv_of(const mxn_kvstore* h) {
  return checked(const_cast<mxn_kvstore*>(h), kKVStoreMagic, "kv", "a kvstore");
}

std::vector<kv::Key> keys_of(int32_t n, const mxn_value* keys) {
  MXN_CHECK(n >= 0 && (n == 0 || keys != nullptr), ErrorCode::kInvalidArg,
            "keys is NULL or num_keys negative");
  std::vector<kv::Key> out;
  for (int32_t i = 0; i < n; ++i) {
    kv::Key k;
    if (keys[i].type == MXN_VALUE_INT) {
      k.is_int = true;
      k.index = keys[i].u.i;
      k.name = std::to_string(keys[i].u.i);
    } else if (keys[i].type == MXN_VALUE_STRING && keys[i].u.s != nullptr) {
      k.name = keys[i].u.s;
    } else {
      throw Error(ErrorCode::kInvalidArg,
                  cat("key ", i, " must be an int (MXN_VALUE_INT) or a string "
                                 "(MXN_VALUE_STRING), got value type ", keys[i].type))
          .with_arg(i);
    }
    out.push_back(std::move(k));
  }
  return out;
}

// counts[i] arrays per key taken in turn from hs.
std::vector<std::vector<NDArray>> groups_of(int32_t n, const int32_t* counts,
                                            mxn_ndarray* const* hs, const char* what) {
  MXN_CHECK(n == 0 || (counts != nullptr && hs != nullptr), ErrorCode::kInvalidArg, what,
            " or its counts is NULL");
  std::vector<std::vector<NDArray>> out;
  int64_t at = 0;
  for (int32_t i = 0; i < n; ++i) {
    MXN_CHECK(counts[i] >= 1 && counts[i] <= 4096, ErrorCode::kInvalidArg, "count ", i, " of ",
              what, " is ", counts[i], " (1 to 4096)");
    std::vector<NDArray> g;
    for (int32_t k = 0; k < counts[i]; ++k, ++at) g.push_back(capi::ndarray_of(hs[at], what));
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

extern "C" {

int mxn_kvstore_create(const char* type, mxn_kvstore** out) {
  MXN_API_BEGIN();
  MXN_CHECK(type != nullptr, ErrorCode::kInvalidArg, "type is NULL");
  check_out(out, "out");
  auto h = std::make_unique<mxn_kvstore>();
  h->store = std::make_unique<kv::KVStore>(type);
  *out = h.release();
  MXN_API_END();
}

void mxn_kvstore_free(mxn_kvstore* kv) {
  if (kv == nullptr || kv->magic != kKVStoreMagic) return;
  kv->magic = 0;
  delete kv;
}

int mxn_kvstore_info(const mxn_kvstore* kv, const char** type, int32_t* rank,
                     int32_t* num_workers) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  if (type) *type = h->store->type().c_str();
  if (rank) *rank = h->store->rank();
  if (num_workers) *num_workers = h->store->num_workers();
  MXN_API_END();
}

int mxn_kvstore_init(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                     mxn_ndarray* const* values) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  auto ks = keys_of(num_keys, keys);
  MXN_CHECK(num_keys == 0 || values != nullptr, ErrorCode::kInvalidArg, "values is NULL");
  std::vector<NDArray> vs;
  for (int32_t i = 0; i < num_keys; ++i) vs.push_back(capi::ndarray_of(values[i], "value"));
  for (size_t i = 0; i < ks.size(); ++i) h->store->init(ks[i], vs[i]);
  MXN_API_END();
}

int mxn_kvstore_push(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                     const int32_t* counts, mxn_ndarray* const* values, int32_t priority) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  auto ks = keys_of(num_keys, keys);
  auto gs = groups_of(num_keys, counts, values, "values");
  for (size_t i = 0; i < ks.size(); ++i) h->store->push(ks[i], gs[i], priority);
  MXN_API_END();
}

int mxn_kvstore_pull(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                     const int32_t* counts, mxn_ndarray* const* outs, int32_t priority) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  auto ks = keys_of(num_keys, keys);
  auto gs = groups_of(num_keys, counts, outs, "outs");
  for (size_t i = 0; i < ks.size(); ++i) h->store->pull(ks[i], gs[i], priority);
  MXN_API_END();
}

int mxn_kvstore_pushpull(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                         const int32_t* counts, mxn_ndarray* const* values,
                         const int32_t* out_counts, mxn_ndarray* const* outs, int32_t priority) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  auto ks = keys_of(num_keys, keys);
  auto vs = groups_of(num_keys, counts, values, "values");
  std::vector<std::vector<NDArray>> os;
  if (out_counts != nullptr || outs != nullptr) {
    os = groups_of(num_keys, out_counts, outs, "outs");
  } else {
    os = vs;
  }
  for (size_t i = 0; i < ks.size(); ++i) h->store->pushpull(ks[i], vs[i], os[i], priority);
  MXN_API_END();
}

int mxn_kvstore_broadcast(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                          mxn_ndarray* const* values, const int32_t* out_counts,
                          mxn_ndarray* const* outs, int32_t priority) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  auto ks = keys_of(num_keys, keys);
  MXN_CHECK(num_keys == 0 || values != nullptr, ErrorCode::kInvalidArg, "values is NULL");
  std::vector<NDArray> vs;
  for (int32_t i = 0; i < num_keys; ++i) vs.push_back(capi::ndarray_of(values[i], "value"));
  auto os = groups_of(num_keys, out_counts, outs, "outs");
  for (size_t i = 0; i < ks.size(); ++i) h->store->broadcast(ks[i], vs[i], os[i], priority);
  MXN_API_END();
}

int mxn_kvstore_set_updater(mxn_kvstore* kv, mxn_kvstore_updater fn, void* user_data) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  if (fn == nullptr) {
    h->store->set_updater(nullptr);
    return MXN_OK;
  }
  h->store->set_updater([fn, user_data](const kv::Key& key, const NDArray& grad,
                                        const NDArray& weight) {
    mxn_value k{};
    if (key.is_int) {
      k.type = MXN_VALUE_INT;
      k.u.i = key.index;
    } else {
      k.type = MXN_VALUE_STRING;
      k.u.s = key.name.c_str();
    }
    mxn_ndarray g, w;
    g.array = grad;
    w.array = weight;
    const int rc = fn(&k, &g, &w, user_data);
    g.magic = 0;
    w.magic = 0;
    if (rc != 0) {
      throw_error(ErrorCode::kInvalidArg, cat("updater failed for key '", key.name,
                                              "' (it returned ", rc, ")"));
    }
  });
  MXN_API_END();
}

int mxn_kvstore_set_optimizer(mxn_kvstore* kv, mxn_optimizer* optimizer) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  auto* o = checked(optimizer, kOptimizerMagic, "optimizer", "an optimizer");
  h->store->set_optimizer(o->opt);
  MXN_API_END();
}

int mxn_kvstore_save_optimizer_states(const mxn_kvstore* kv, mxn_ndarray** out) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  check_out(out, "out");
  const std::string bytes = h->store->save_optimizer_states();
  NDArray buf = NDArray::empty(Shape{static_cast<int64_t>(bytes.size())}, DType::kUint8,
                               Device::cpu());
  copy_from_host(buf, bytes.data(), bytes.size());
  *out = capi::new_handle(std::move(buf));
  MXN_API_END();
}

int mxn_kvstore_load_optimizer_states(mxn_kvstore* kv, const void* data, size_t size) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  MXN_CHECK(data != nullptr, ErrorCode::kInvalidArg, "data is NULL");
  h->store->load_optimizer_states(data, size);
  MXN_API_END();
}

int mxn_kvstore_barrier(mxn_kvstore* kv) {
  MXN_API_BEGIN();
  kv_of(kv)->store->barrier();
  MXN_API_END();
}

int mxn_kvstore_allreduce_int64(mxn_kvstore* kv, int64_t* values, int32_t n, int32_t op) {
  MXN_API_BEGIN();
  kv_of(kv)->store->allreduce_int64(values, n, op);
  MXN_API_END();
}

int mxn_kvstore_bench_transport(mxn_kvstore* kv, int64_t count, int32_t iters, double* seconds) {
  MXN_API_BEGIN();
  auto* h = kv_of(kv);
  check_out(seconds, "seconds");
  *seconds = h->store->bench_transport_allreduce(count, iters);
  MXN_API_END();
}

}  // extern "C"
