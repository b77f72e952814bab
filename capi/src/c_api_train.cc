// Optimizers, learning-rate schedulers, initializers, metrics (core/train/).
#include <cmath>

#include "capi/src/train_handles.h"
#include "core/base/error.h"

using namespace mxn;
using mxn::capi::check_out;
using mxn::capi::checked;

namespace mxn::capi {


std::vector<ParamValue> values_of(int32_t num, const char* const* keys, const mxn_value* values) {
  MXN_CHECK(num >= 0, ErrorCode::kInvalidArg, "num_params is negative");
  MXN_CHECK(num == 0 || (keys != nullptr && values != nullptr), ErrorCode::kInvalidArg,
            "keys or values is NULL");
  std::vector<ParamValue> out;
  for (int32_t i = 0; i < num; ++i) {
    MXN_CHECK(keys[i] != nullptr, ErrorCode::kInvalidArg, "parameter name ", i, " is NULL");
    out.push_back(param_value(values[i], keys[i]));
  }
  return out;
}

}  // namespace mxn::capi

namespace {

mxn_optimizer* opt_of(const mxn_optimizer* h) {
  return checked(const_cast<mxn_optimizer*>(h), kOptimizerMagic, "optimizer", "an optimizer");
}
mxn_lr_scheduler* sched_of(const mxn_lr_scheduler* h) {
  return checked(const_cast<mxn_lr_scheduler*>(h), kSchedulerMagic, "scheduler",
                 "a learning-rate scheduler");
}
mxn_initializer* init_of(const mxn_initializer* h) {
  return checked(const_cast<mxn_initializer*>(h), kInitializerMagic, "initializer",
                 "an initializer");
}
mxn_metric* metric_of(const mxn_metric* h, const char* what = "metric") {
  return checked(const_cast<mxn_metric*>(h), kMetricMagic, what, "a metric");
}
train::ParamKey key_of(int64_t index, const char* name) {
  return name ? train::ParamKey::of_name(name) : train::ParamKey::of_index(index);
}
std::string name_of(const char* name, const char* what) {
  MXN_CHECK(name != nullptr, ErrorCode::kInvalidArg, what, " is NULL");
  return name;
}
std::vector<NDArray> arrays_of(int32_t n, mxn_ndarray* const* hs, const char* what) {
  MXN_CHECK(n >= 0 && (n == 0 || hs != nullptr), ErrorCode::kInvalidArg, what,
            " is NULL or its count negative");
  std::vector<NDArray> out;
  for (int32_t i = 0; i < n; ++i) {
    try {
      out.push_back(capi::ndarray_of(hs[i], what));
    } catch (Error& e) {
      throw e.with_arg(i);
    }
  }
  return out;
}

}  // namespace

extern "C" {

const char* mxn_train_schema_json(void) {
  try {
    return train::ConfigRegistry::get().schema_json().c_str();
  } catch (...) {
    return "{}";
  }
}

// ---- schedulers ------------------------------------------------------------------------------
int mxn_lr_scheduler_create(const char* name, int32_t num_params, const char* const* keys,
                            const mxn_value* values, mxn_lr_scheduler** out) {
  MXN_API_BEGIN();
  const std::string n = name_of(name, "name");
  check_out(out, "out");
  std::vector<ParamValue> vals = capi::values_of(num_params, keys, values);
  const train::ConfigDef& def = train::ConfigRegistry::get().find("lr_scheduler", n);
  auto h = std::make_unique<mxn_lr_scheduler>();
  h->sched = std::make_shared<train::LRScheduler>(
      def, train::parse_config(def, num_params, keys, vals.data()));
  *out = h.release();
  MXN_API_END();
}

void mxn_lr_scheduler_free(mxn_lr_scheduler* s) {
  if (s == nullptr || s->magic != kSchedulerMagic) return;
  s->magic = 0;
  delete s;
}

int mxn_lr_scheduler_get(mxn_lr_scheduler* s, int64_t num_update, double* out) {
  MXN_API_BEGIN();
  auto* h = sched_of(s);
  check_out(out, "out");
  MXN_CHECK(num_update >= 0, ErrorCode::kInvalidArg, "num_update must be >= 0, got ", num_update);
  *out = (*h->sched)(num_update);
  MXN_API_END();
}

int mxn_lr_scheduler_base_lr(const mxn_lr_scheduler* s, double* out) {
  MXN_API_BEGIN();
  auto* h = sched_of(s);
  check_out(out, "out");
  *out = h->sched->base_lr();
  MXN_API_END();
}

int mxn_lr_scheduler_set_base_lr(mxn_lr_scheduler* s, double base_lr) {
  MXN_API_BEGIN();
  sched_of(s)->sched->set_base_lr(base_lr);
  MXN_API_END();
}

// ---- optimizers ------------------------------------------------------------------------------
int mxn_optimizer_create(const char* name, int32_t num_params, const char* const* keys,
                         const mxn_value* values, mxn_optimizer** out) {
  MXN_API_BEGIN();
  const std::string n = name_of(name, "name");
  check_out(out, "out");
  std::vector<ParamValue> vals = capi::values_of(num_params, keys, values);
  auto h = std::make_unique<mxn_optimizer>();
  h->opt = train::Optimizer::create(n, num_params, keys, vals.data());
  *out = h.release();
  MXN_API_END();
}

void mxn_optimizer_free(mxn_optimizer* o) {
  if (o == nullptr || o->magic != kOptimizerMagic) return;
  o->magic = 0;
  delete o;
}

int mxn_optimizer_set_param(mxn_optimizer* o, const char* key, const mxn_value* value) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  const std::string k = name_of(key, "key");
  MXN_CHECK(value != nullptr, ErrorCode::kInvalidArg, "value is NULL");
  h->opt->set_param(k, capi::param_value(*value, key));
  MXN_API_END();
}

int mxn_optimizer_get_param(const mxn_optimizer* o, const char* key, mxn_value* out) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  const std::string k = name_of(key, "key");
  check_out(out, "out");
  const ParamValue v = h->opt->get_param(k);
  mxn_value r{};
  switch (v.kind) {
    case ParamType::kNone: r.type = MXN_VALUE_NONE; break;
    case ParamType::kFloat: r.type = MXN_VALUE_FLOAT; r.u.f = v.f; break;
    case ParamType::kInt: r.type = MXN_VALUE_INT; r.u.i = v.i; break;
    case ParamType::kBool: r.type = MXN_VALUE_BOOL; r.u.i = v.i; break;
    case ParamType::kString:
      h->string_value = v.s;
      r.type = MXN_VALUE_STRING;
      r.u.s = h->string_value.c_str();
      break;
    default:
      throw_error(ErrorCode::kNotImplemented, cat("parameter '", k, "' is not a scalar"));
  }
  *out = r;
  MXN_API_END();
}

int mxn_optimizer_set_lr_scheduler(mxn_optimizer* o, mxn_lr_scheduler* s) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  h->opt->set_scheduler(s == nullptr ? nullptr : sched_of(s)->sched);
  MXN_API_END();
}

int mxn_optimizer_set_param_name(mxn_optimizer* o, int64_t index, const char* name) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  h->opt->set_param_name(index, name_of(name, "name"));
  MXN_API_END();
}

int mxn_optimizer_set_mult(mxn_optimizer* o, int32_t which, int64_t index, const char* name,
                           double value) {
  MXN_API_BEGIN();
  opt_of(o)->opt->set_mult(which, key_of(index, name), value);
  MXN_API_END();
}

int mxn_optimizer_clear_mults(mxn_optimizer* o, int32_t which) {
  MXN_API_BEGIN();
  opt_of(o)->opt->clear_mults(which);
  MXN_API_END();
}

int mxn_optimizer_update(mxn_optimizer* o, int64_t index, const char* name, mxn_ndarray* weight,
                         const mxn_ndarray* grad) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  const NDArray& w = capi::ndarray_of(weight, "weight");
  const NDArray& g = capi::ndarray_of(grad, "grad");
  h->opt->update(key_of(index, name), w, g);
  MXN_API_END();
}

int mxn_optimizer_rates(const mxn_optimizer* o, int64_t index, const char* name, double* lr,
                        double* wd) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  const auto key = key_of(index, name);
  const double l = h->opt->learning_rate(key), w = h->opt->weight_decay(key);
  if (lr) *lr = l;
  if (wd) *wd = w;
  MXN_API_END();
}

int mxn_optimizer_num_update(const mxn_optimizer* o, int64_t* out) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  check_out(out, "out");
  *out = h->opt->num_update();
  MXN_API_END();
}

int mxn_optimizer_update_count(const mxn_optimizer* o, int64_t index, const char* name,
                               int64_t* out) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  check_out(out, "out");
  *out = h->opt->update_count(key_of(index, name));
  MXN_API_END();
}

int mxn_optimizer_num_states(const mxn_optimizer* o, int64_t index, const char* name,
                             int32_t* num) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  check_out(num, "num");
  *num = static_cast<int32_t>(h->opt->states(key_of(index, name)).size());
  MXN_API_END();
}

int mxn_optimizer_state(const mxn_optimizer* o, int64_t index, const char* name, int32_t k,
                        mxn_ndarray** out) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  check_out(out, "out");
  const auto st = h->opt->states(key_of(index, name));
  MXN_CHECK(k >= 0 && static_cast<size_t>(k) < st.size(), ErrorCode::kInvalidArg, "state ", k,
            " is out of range [0, ", st.size(), ")");
  *out = capi::new_handle(st[static_cast<size_t>(k)]);
  MXN_API_END();
}

int mxn_optimizer_save_states(const mxn_optimizer* o, mxn_ndarray** out) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  check_out(out, "out");
  const std::string bytes = h->opt->save_states();
  NDArray buf = NDArray::empty(Shape{static_cast<int64_t>(bytes.size())}, DType::kUint8,
                               Device::cpu());
  copy_from_host(buf, bytes.data(), bytes.size());
  *out = capi::new_handle(std::move(buf));
  MXN_API_END();
}

int mxn_optimizer_load_states(mxn_optimizer* o, const void* data, size_t size) {
  MXN_API_BEGIN();
  auto* h = opt_of(o);
  MXN_CHECK(data != nullptr, ErrorCode::kInvalidArg, "data is NULL");
  h->opt->load_states(data, size);
  MXN_API_END();
}

// ---- initializers ----------------------------------------------------------------------------
int mxn_initializer_create(const char* name, int32_t num_params, const char* const* keys,
                           const mxn_value* values, mxn_initializer** out) {
  MXN_API_BEGIN();
  const std::string n = name_of(name, "name");
  check_out(out, "out");
  std::vector<ParamValue> vals = capi::values_of(num_params, keys, values);
  auto h = std::make_unique<mxn_initializer>();
  h->init = train::Initializer::create(n, num_params, keys, vals.data());
  *out = h.release();
  MXN_API_END();
}

int mxn_initializer_from_json(const char* json, mxn_initializer** out) {
  MXN_API_BEGIN();
  const std::string text = name_of(json, "json");
  check_out(out, "out");
  auto h = std::make_unique<mxn_initializer>();
  h->init = train::Initializer::from_json(text);
  *out = h.release();
  MXN_API_END();
}

int mxn_initializer_mixed(int32_t num, const char* const* patterns, mxn_initializer* const* inits,
                          mxn_initializer** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(num >= 0 && (num == 0 || (patterns != nullptr && inits != nullptr)),
            ErrorCode::kInvalidArg, "patterns or inits is NULL, or num negative");
  std::vector<std::string> ps;
  std::vector<std::shared_ptr<train::Initializer>> is;
  for (int32_t i = 0; i < num; ++i) {
    MXN_CHECK(patterns[i] != nullptr, ErrorCode::kInvalidArg, "pattern ", i, " is NULL");
    ps.push_back(patterns[i]);
    is.push_back(init_of(inits[i])->init);
  }
  auto h = std::make_unique<mxn_initializer>();
  h->init = train::Initializer::mixed(std::move(ps), std::move(is));
  *out = h.release();
  MXN_API_END();
}

int mxn_initializer_load(int32_t num, const char* const* names, mxn_ndarray* const* arrays,
                         const mxn_initializer* default_init, mxn_initializer** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(num >= 0 && (num == 0 || names != nullptr), ErrorCode::kInvalidArg,
            "names is NULL or num negative");
  std::vector<NDArray> as = arrays_of(num, arrays, "arrays");
  std::vector<std::string> ns;
  for (int32_t i = 0; i < num; ++i) {
    MXN_CHECK(names[i] != nullptr, ErrorCode::kInvalidArg, "name ", i, " is NULL");
    ns.push_back(names[i]);
  }
  std::shared_ptr<train::Initializer> def;
  if (default_init != nullptr) def = init_of(default_init)->init;
  auto h = std::make_unique<mxn_initializer>();
  h->init = train::Initializer::load(ns, as, def);
  *out = h.release();
  MXN_API_END();
}

void mxn_initializer_free(mxn_initializer* i) {
  if (i == nullptr || i->magic != kInitializerMagic) return;
  i->magic = 0;
  delete i;
}

int mxn_initializer_apply(const mxn_initializer* init, const char* name, const char* init_attr,
                          mxn_ndarray* array) {
  MXN_API_BEGIN();
  auto* h = init_of(init);
  const std::string n = name_of(name, "name");
  const NDArray& a = capi::ndarray_of(array, "array");
  (*h->init)(n, init_attr ? init_attr : "", a);
  MXN_API_END();
}

int mxn_initializer_init_weight(const mxn_initializer* init, const char* name,
                                mxn_ndarray* array) {
  MXN_API_BEGIN();
  auto* h = init_of(init);
  const std::string n = name_of(name, "name");
  const NDArray& a = capi::ndarray_of(array, "array");
  h->init->init_weight(n, a);
  MXN_API_END();
}

// ---- metrics ---------------------------------------------------------------------------------
int mxn_metric_create(const char* name, int32_t num_params, const char* const* keys,
                      const mxn_value* values, mxn_metric** out) {
  MXN_API_BEGIN();
  const std::string n = name_of(name, "name");
  check_out(out, "out");
  std::vector<ParamValue> vals = capi::values_of(num_params, keys, values);
  auto h = std::make_unique<mxn_metric>();
  h->metric = train::Metric::create(n, num_params, keys, vals.data());
  *out = h.release();
  MXN_API_END();
}

void mxn_metric_free(mxn_metric* m) {
  if (m == nullptr || m->magic != kMetricMagic) return;
  m->magic = 0;
  delete m;
}

int mxn_metric_add_child(mxn_metric* composite, mxn_metric* child) {
  MXN_API_BEGIN();
  auto* c = metric_of(composite, "composite");
  auto* ch = metric_of(child, "child");
  c->metric->add_child(ch->metric);
  MXN_API_END();
}

int mxn_metric_update(mxn_metric* m, int32_t num_labels, mxn_ndarray* const* labels,
                      int32_t num_preds, mxn_ndarray* const* preds) {
  MXN_API_BEGIN();
  auto* h = metric_of(m);
  std::vector<NDArray> ls = arrays_of(num_labels, labels, "labels");
  std::vector<NDArray> ps = arrays_of(num_preds, preds, "preds");
  h->metric->update(ls, ps);
  MXN_API_END();
}

int mxn_metric_reset(mxn_metric* m, int32_t local_only) {
  MXN_API_BEGIN();
  auto* h = metric_of(m);
  if (local_only) {
    h->metric->reset_local();
  } else {
    h->metric->reset();
  }
  MXN_API_END();
}

int mxn_metric_get(const mxn_metric* m, int32_t global, int32_t capacity, double* values,
                   int32_t* num) {
  MXN_API_BEGIN();
  auto* h = metric_of(m);
  check_out(num, "num");
  std::vector<std::string> names;
  std::vector<double> vals;
  h->metric->get(global != 0, &names, &vals);
  MXN_CHECK(capacity >= static_cast<int32_t>(vals.size()) && (vals.empty() || values != nullptr),
            ErrorCode::kInvalidArg, "the metric has ", vals.size(),
            " values but capacity is ", capacity);
  for (size_t i = 0; i < vals.size(); ++i) values[i] = vals[i];
  *num = static_cast<int32_t>(vals.size());
  MXN_API_END();
}

int mxn_metric_name(const mxn_metric* m, int32_t index, const char** out) {
  MXN_API_BEGIN();
  auto* h = metric_of(m);
  check_out(out, "out");
  std::vector<std::string> names;
  std::vector<double> vals;
  h->metric->get(false, &names, &vals);
  MXN_CHECK(index >= 0 && static_cast<size_t>(index) < names.size(), ErrorCode::kInvalidArg,
            "index ", index, " is out of range [0, ", names.size(), ")");
  const std::string& n = names[static_cast<size_t>(index)];
  for (const std::string& s : h->names) {
    if (s == n) {
      *out = s.c_str();
      return MXN_OK;
    }
  }
  h->names.push_back(n);
  *out = h->names.back().c_str();
  MXN_API_END();
}

}  // extern "C"
