#include "core/train/optimizer.h"

#include <cmath>
#include <cstring>

#include "core/base/error.h"
#include "core/ops/tensor_util.h"
#include "core/tensor/params_io.h"
#include "core/train/train_util.h"

namespace mxn::train {
namespace {

// Parameters every optimizer takes (MXNet's Optimizer.__init__), with its own default lr.
ConfigDef& optimizer_def(const char* name, const char* class_name, double default_lr,
                         const char* doc) {
  return ConfigRegistry::get()
      .add("optimizer", name)
      .alias(class_name)
      .describe(doc)
      .param("learning_rate", ParamType::kFloat, ParamValue::of_float(default_lr),
             "Learning rate (the scheduler's base_lr when a scheduler is set).")
      .param("wd", ParamType::kFloat, ParamValue::of_float(0.0),
             "Weight decay; multiplied by the parameter's wd_mult.")
      .param("rescale_grad", ParamType::kFloat, ParamValue::of_float(1.0),
             "Multiplies the gradient before anything else (Module sets 1/batch_size).")
      .nullable("clip_gradient", ParamType::kFloat,
                "Clip the rescaled gradient to [-clip_gradient, clip_gradient]; None (or 0): "
                "no clipping.")
      .param("multi_precision", ParamType::kBool, ParamValue::of_bool(false),
             "Keep a float32 master copy of float16 weights and update it.")
      .param("begin_num_update", ParamType::kInt, ParamValue::of_int(0),
             "The update count a parameter starts from.");
}

MXN_CONFIG_REGISTRATION =
    optimizer_def("sgd", "SGD", 0.01,
                  "SGD with optional momentum (sgd_update / sgd_mom_update; mp_sgd_* for "
                  "multi_precision float16).")
        .param("momentum", ParamType::kFloat, ParamValue::of_float(0.0), "Momentum.")
        .param("lazy_update", ParamType::kBool, ParamValue::of_bool(true),
               "Accepted for compatibility (dense arrays only).");
MXN_CONFIG_REGISTRATION =
    optimizer_def("nag", "NAG", 0.01, "Nesterov accelerated gradient (nag_mom_update).")
        .param("momentum", ParamType::kFloat, ParamValue::of_float(0.0), "Momentum.");
MXN_CONFIG_REGISTRATION =
    optimizer_def("adam", "Adam", 0.001,
                  "Adam (adam_update) with MXNet's bias correction folded into the learning "
                  "rate: lr * sqrt(1 - beta2^t) / (1 - beta1^t), t the parameter's update "
                  "count.")
        .param("beta1", ParamType::kFloat, ParamValue::of_float(0.9), "Decay of the first moment.")
        .param("beta2", ParamType::kFloat, ParamValue::of_float(0.999),
               "Decay of the second moment.")
        .param("epsilon", ParamType::kFloat, ParamValue::of_float(1e-8), "Stability constant.")
        .param("lazy_update", ParamType::kBool, ParamValue::of_bool(true),
               "Accepted for compatibility (dense arrays only).");
MXN_CONFIG_REGISTRATION =
    optimizer_def("rmsprop", "RMSProp", 0.001,
                  "RMSProp (rmsprop_update), or centered (rmspropalex_update).")
        .param("gamma1", ParamType::kFloat, ParamValue::of_float(0.9), "Decay of the mean square.")
        .param("gamma2", ParamType::kFloat, ParamValue::of_float(0.9),
               "Momentum of the centered variant.")
        .param("epsilon", ParamType::kFloat, ParamValue::of_float(1e-8), "Stability constant.")
        .param("centered", ParamType::kBool, ParamValue::of_bool(false),
               "Graves' centered variant.")
        .nullable("clip_weights", ParamType::kFloat, "Clip weights to [-c, c]; None: off.");
MXN_CONFIG_REGISTRATION =
    optimizer_def("adagrad", "AdaGrad", 0.01, "AdaGrad (_sparse_adagrad_update on dense arrays).")
        .param("eps", ParamType::kFloat, ParamValue::of_float(1e-7), "Stability constant.");
MXN_CONFIG_REGISTRATION =
    optimizer_def("adadelta", "AdaDelta", 0.01,
                  "AdaDelta (Zeiler 2012) with MXNet's arithmetic: acc_g = rho*acc_g + "
                  "(1-rho)*g*g; delta = sqrt(acc_delta + eps)/sqrt(acc_g + eps)*g; acc_delta = "
                  "rho*acc_delta + (1-rho)*delta*delta; weight -= delta + wd*weight (no "
                  "learning rate, as in MXNet).")
        .param("rho", ParamType::kFloat, ParamValue::of_float(0.9), "Decay rate.")
        .param("epsilon", ParamType::kFloat, ParamValue::of_float(1e-5), "Stability constant.");
MXN_CONFIG_REGISTRATION =
    optimizer_def("ftrl", "Ftrl", 0.1, "FTRL-Proximal (ftrl_update).")
        .param("lamda1", ParamType::kFloat, ParamValue::of_float(0.01), "L1 coefficient.")
        .param("beta", ParamType::kFloat, ParamValue::of_float(1.0), "Per-coordinate beta.");
MXN_CONFIG_REGISTRATION =
    optimizer_def("signum", "Signum", 0.01,
                  "Signum (signum_update), or signSGD (signsgd_update) when momentum is 0.")
        .param("momentum", ParamType::kFloat, ParamValue::of_float(0.9), "Momentum.")
        .param("wd_lh", ParamType::kFloat, ParamValue::of_float(0.0),
               "Decoupled weight decay.");

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

ParamValue F(double v) { return ParamValue::of_float(v); }

}  // namespace

Optimizer::Optimizer(const ConfigDef& def, OpParams params)
    : def_(&def), params_(std::move(params)) {}

std::unique_ptr<Optimizer> Optimizer::create(const std::string& name, int num,
                                             const char* const* keys, const ParamValue* values) {
  const ConfigDef& def = ConfigRegistry::get().find("optimizer", name);
  return std::make_unique<Optimizer>(def, parse_config(def, num, keys, values));
}

void Optimizer::set_param(const std::string& key, const ParamValue& value) {
  const char* k = key.c_str();
  ParamValue v = value;
  OpParams parsed = parse_config(*def_, 1, &k, &v);  // coerces and names unknown keys
  params_.set(k, parsed.get(k));
  if (key == "learning_rate" && scheduler_) scheduler_->set_base_lr(params_.get_float(k));
}

ParamValue Optimizer::get_param(const std::string& key) const {
  if (key == "learning_rate" && scheduler_) return F((*scheduler_)(num_update_));
  MXN_CHECK(def_->has_param(key), ErrorCode::kInvalidArg, "optimizer ", def_->name,
            " has no parameter '", key, "'");
  return params_.get(key.c_str());
}

void Optimizer::set_scheduler(std::shared_ptr<LRScheduler> s) {
  scheduler_ = std::move(s);
  if (scheduler_) scheduler_->set_base_lr(params_.get_float("learning_rate"));
}

void Optimizer::set_param_name(int64_t index, const std::string& name) {
  idx2name_[index] = name;
  known_names_[name] = true;
}

void Optimizer::set_mult(int which, const ParamKey& key, double value) {
  MXN_CHECK(which == 0 || which == 1, ErrorCode::kInvalidArg,
            "which must be 0 (lr_mult) or 1 (wd_mult), got ", which);
  mults_[which][key.code()] = value;
}

void Optimizer::clear_mults(int which) {
  MXN_CHECK(which == 0 || which == 1, ErrorCode::kInvalidArg,
            "which must be 0 (lr_mult) or 1 (wd_mult), got ", which);
  mults_[which].clear();
}

double Optimizer::mult(int which, const ParamKey& key) const {
  const auto& m = mults_[which];
  auto it = m.find(key.code());
  if (it != m.end()) return it->second;
  const std::string* name = nullptr;
  if (key.named) {
    name = &key.name;
  } else {
    auto n = idx2name_.find(key.index);
    if (n != idx2name_.end()) name = &n->second;
  }
  if (name == nullptr) return 1.0;
  it = m.find("s:" + *name);
  if (it != m.end()) return it->second;
  if (which == 1 && known_names_.count(*name) != 0 &&
      !(ends_with(*name, "_weight") || ends_with(*name, "_gamma"))) {
    return 0.0;
  }
  return 1.0;
}

double Optimizer::lr_base() const {
  return scheduler_ ? (*scheduler_)(num_update_) : params_.get_float("learning_rate");
}

double Optimizer::learning_rate(const ParamKey& key) const { return lr_base() * mult(0, key); }
double Optimizer::weight_decay(const ParamKey& key) const {
  return params_.get_float("wd") * mult(1, key);
}

int64_t Optimizer::update_count(const ParamKey& key) const {
  auto it = entries_.find(key.code());
  return it == entries_.end() ? 0 : it->second.count;
}

std::vector<NDArray> Optimizer::states(const ParamKey& key) const {
  auto it = entries_.find(key.code());
  return it == entries_.end() ? std::vector<NDArray>{} : it->second.states;
}

void Optimizer::create_state(Entry& e, const NDArray& weight) {
  const std::string& n = def_->name;
  const bool mp = params_.get_bool("multi_precision") && weight.dtype() == DType::kFloat16;
  const DType dt = mp ? DType::kFloat32 : weight.dtype();
  const Shape& s = weight.shape();
  const Device d = weight.device();
  auto z = [&] { return zeros(s, dt, d); };
  std::vector<NDArray> st;
  if (n == "sgd" || n == "nag") {
    if (params_.get_float("momentum") != 0.0) st.push_back(z());
  } else if (n == "adam" || n == "ftrl" || n == "adadelta") {
    st.push_back(z());
    st.push_back(z());
  } else if (n == "rmsprop") {
    st.push_back(z());
    if (params_.get_bool("centered")) {
      st.push_back(z());
      st.push_back(z());
    }
  } else if (n == "adagrad") {
    st.push_back(z());
  } else if (n == "signum") {
    if (params_.get_float("momentum") != 0.0) st.push_back(z());
  }
  if (mp) {
    NDArray w32 = NDArray::empty(s, DType::kFloat32, d);
    copy_array(weight, w32);
    st.push_back(w32);
  }
  e.states = std::move(st);
  e.created = true;
}

void Optimizer::update(const ParamKey& key, const NDArray& weight, const NDArray& grad) {
  MXN_CHECK(!weight.is_none() && !grad.is_none(), ErrorCode::kInvalidArg,
            "update needs a weight and a gradient");
  if (weight.shape() != grad.shape()) {
    throw_error(ErrorCode::kShape, cat("optimizer ", def_->name, ": parameter ", key.str(),
                                       ": gradient shape ", grad.shape().str(),
                                       " differs from weight shape ", weight.shape().str()));
  }
  const std::string code = key.code();
  auto it = entries_.find(code);
  if (it == entries_.end()) {
    Entry e;
    e.key = key;
    e.count = params_.get_int("begin_num_update");
    it = entries_.emplace(code, std::move(e)).first;
  }
  Entry& e = it->second;
  if (!e.created) create_state(e, weight);
  for (NDArray& st : e.states) {  // states loaded from a file live on cpu(0)
    if (st.device() != weight.device()) {
      NDArray moved = NDArray::empty(st.shape(), st.dtype(), weight.device());
      copy_array(st, moved);
      st = moved;
    }
  }
  // MXNet: _update_count, then _get_lr / _get_wd.
  e.count += 1;
  if (e.count > num_update_) num_update_ = e.count;
  const double lr = learning_rate(key);
  const double wd = weight_decay(key);
  const bool mp = params_.get_bool("multi_precision") && weight.dtype() == DType::kFloat16;
  if (!mp) {
    apply(e.states, e.states.size(), weight, grad, lr, wd, e.count);
    return;
  }
  MXN_CHECK(!e.states.empty() && e.states.back().dtype() == DType::kFloat32, ErrorCode::kInvalidArg,
            "optimizer ", def_->name, ": parameter ", key.str(),
            " has no float32 master copy (states loaded for another dtype?)");
  const NDArray& w32 = e.states.back();
  const std::string& n = def_->name;
  const double clip = param_or(params_, "clip_gradient", 0.0);
  if (n == "sgd" || n == "nag") {
    std::vector<NamedValue> p = {{"lr", F(lr)}, {"wd", F(wd)},
                                 {"rescale_grad", F(params_.get_float("rescale_grad"))}};
    if (clip != 0.0) p.push_back({"clip_gradient", F(clip)});
    if (e.states.size() == 2) {
      p.push_back({"momentum", F(params_.get_float("momentum"))});
      run_op(n == "sgd" ? "mp_sgd_mom_update" : "mp_nag_mom_update",
             {weight, grad, e.states[0], w32}, weight, p);
    } else {
      run_op("mp_sgd_update", {weight, grad, w32}, weight, p);
    }
    return;
  }
  // Generic multi-precision (MXNet's Optimizer.update_multi_precision): update the float32
  // master copy from a float32 gradient, then cast it back into the weight.
  NDArray g32 = NDArray::empty(grad.shape(), DType::kFloat32, grad.device());
  copy_array(grad, g32);
  apply(e.states, e.states.size() - 1, w32, g32, lr, wd, e.count);
  copy_array(w32, weight);
}

void Optimizer::apply(const std::vector<NDArray>& st, size_t ns, const NDArray& w,
                      const NDArray& g, double lr, double wd, int64_t t) {
  const std::string& n = def_->name;
  const double rescale = params_.get_float("rescale_grad");
  const double clip = param_or(params_, "clip_gradient", 0.0);
  std::vector<NamedValue> p = {{"lr", F(lr)}, {"wd", F(wd)}, {"rescale_grad", F(rescale)}};
  if (clip != 0.0) p.push_back({"clip_gradient", F(clip)});
  if (n == "sgd" || n == "nag") {
    if (ns >= 1) {
      p.push_back({"momentum", F(params_.get_float("momentum"))});
      run_op(n == "sgd" ? "sgd_mom_update" : "nag_mom_update", {w, g, st[0]}, w, p);
    } else {
      run_op("sgd_update", {w, g}, w, p);
    }
  } else if (n == "adam") {
    const double b1 = params_.get_float("beta1"), b2 = params_.get_float("beta2");
    const double td = static_cast<double>(t);
    const double coef1 = 1.0 - std::pow(b1, td), coef2 = 1.0 - std::pow(b2, td);
    p[0].second = F(lr * std::sqrt(coef2) / coef1);
    p.push_back({"beta1", F(b1)});
    p.push_back({"beta2", F(b2)});
    p.push_back({"epsilon", F(params_.get_float("epsilon"))});
    run_op("adam_update", {w, g, st[0], st[1]}, w, p);
  } else if (n == "rmsprop") {
    p.push_back({"gamma1", F(params_.get_float("gamma1"))});
    p.push_back({"epsilon", F(params_.get_float("epsilon"))});
    const double cw = param_or(params_, "clip_weights", 0.0);
    if (cw != 0.0) p.push_back({"clip_weights", F(cw)});
    if (params_.get_bool("centered")) {
      p.push_back({"gamma2", F(params_.get_float("gamma2"))});
      run_op("rmspropalex_update", {w, g, st[0], st[1], st[2]}, w, p);
    } else {
      run_op("rmsprop_update", {w, g, st[0]}, w, p);
    }
  } else if (n == "adagrad") {
    p.push_back({"epsilon", F(params_.get_float("eps"))});
    run_op("_sparse_adagrad_update", {w, g, st[0]}, w, p);
  } else if (n == "ftrl") {
    p.push_back({"lamda1", F(params_.get_float("lamda1"))});
    p.push_back({"beta", F(params_.get_float("beta"))});
    run_op("ftrl_update", {w, g, st[0], st[1]}, w, p);
  } else if (n == "signum") {
    const double wd_lh = params_.get_float("wd_lh");
    if (ns >= 1) {
      p.push_back({"momentum", F(params_.get_float("momentum"))});
      p.push_back({"wd_lh", F(wd_lh)});
      run_op("signum_update", {w, g, st[0]}, w, p);
    } else {
      run_op("signsgd_update", {w, g}, w, p);
    }
  } else if (n == "adadelta") {
    const double rho = params_.get_float("rho"), eps = params_.get_float("epsilon");
    NDArray acc_g = st[0], acc_d = st[1];
    MXN_CHECK(dtype_is_float(w.dtype()) && g.dtype() == w.dtype() && acc_g.dtype() == w.dtype(),
              ErrorCode::kDType, "adadelta: weight, gradient and states need one float dtype");
    push_fn("adadelta_update", {g}, {w, acc_g, acc_d},
            [w, g, acc_g, acc_d, rho, eps, rescale, clip, wd] {
              MXN_FLOAT_SWITCH(w.dtype(), T, {
                using A = ops::acc_t<T>;
                T* pw = static_cast<T*>(w.data());
                const T* pg = static_cast<const T*>(g.data());
                T* ag = static_cast<T*>(acc_g.data());
                T* ad = static_cast<T*>(acc_d.data());
                const A r = A(rho), e = A(eps), c = A(clip), wdv = A(wd);
                for (int64_t i = 0, m = w.size(); i < m; ++i) {
                  A gi = A(pg[i]) * A(rescale);
                  if (clip != 0.0) gi = gi > c ? c : (gi < -c ? -c : gi);
                  const A agi = r * A(ag[i]) + (A(1) - r) * gi * gi;
                  ag[i] = T(agi);
                  const A delta = std::sqrt(A(ad[i]) + e) / std::sqrt(agi + e) * gi;
                  ad[i] = T(r * A(ad[i]) + (A(1) - r) * delta * delta);
                  const A wi = A(pw[i]);
                  pw[i] = T(wi - (delta + wdv * wi));
                }
              });
            });
  } else {
    throw_error(ErrorCode::kInternal, cat("optimizer ", n, " has no update rule"));
  }
}

// ---- state files ---------------------------------------------------------------------------
namespace {
constexpr char kStateMagic[8] = {'M', 'X', 'N', 'O', 'P', 'T', 'S', '1'};

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void put_str(std::string& out, const std::string& s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out += s;
}

struct Reader {
  const char* p;
  size_t left;
  size_t off = 0;
  void need(size_t n, const char* what) {
    if (n > left) {
      throw_error(ErrorCode::kFormat, cat("optimizer states: truncated at byte ", off,
                                          " (reading ", what, ": ", n, " bytes needed, ", left,
                                          " left)"));
    }
  }
  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    left -= sizeof(T);
    off += sizeof(T);
    return v;
  }
  std::string str(const char* what) {
    const uint32_t n = get<uint32_t>(what);
    need(n, what);
    std::string s(p, n);
    p += n;
    left -= n;
    off += n;
    return s;
  }
};
}  // namespace

// ---- configuration bytes (dist_async) ------------------------------------------------------
namespace {
constexpr char kConfigMagic[8] = {'M', 'X', 'N', 'O', 'P', 'T', 'C', '1'};

void put_value(std::string& out, const ParamValue& v) {
  put<uint8_t>(out, static_cast<uint8_t>(v.kind));
  switch (v.kind) {
    case ParamType::kNone: break;
    case ParamType::kInt:
    case ParamType::kBool: put<int64_t>(out, v.i); break;
    case ParamType::kFloat: put<double>(out, v.f); break;
    case ParamType::kString: put_str(out, v.s); break;
    case ParamType::kShape:
      put<uint32_t>(out, static_cast<uint32_t>(v.shape.ndim()));
      for (int d = 0; d < v.shape.ndim(); ++d) put<int64_t>(out, v.shape[d]);
      break;
    default:
      throw_error(ErrorCode::kInvalidArg,
                  cat("optimizer configuration: a parameter of type ",
                      param_type_name(v.kind), " cannot be sent"));
  }
}

ParamValue get_value(Reader& r) {
  const auto kind = static_cast<ParamType>(r.get<uint8_t>("value type"));
  switch (kind) {
    case ParamType::kNone: return ParamValue::none();
    case ParamType::kInt: return ParamValue::of_int(r.get<int64_t>("int"));
    case ParamType::kBool: return ParamValue::of_bool(r.get<int64_t>("bool") != 0);
    case ParamType::kFloat: return ParamValue::of_float(r.get<double>("float"));
    case ParamType::kString: return ParamValue::of_string(r.str("string"));
    case ParamType::kShape: {
      const uint32_t nd = r.get<uint32_t>("ndim");
      MXN_CHECK(nd <= 16, ErrorCode::kFormat, "optimizer configuration: shape of ", nd,
                " dimensions");
      Shape sh;
      for (uint32_t d = 0; d < nd; ++d) sh.push_back(r.get<int64_t>("dim"));
      return ParamValue::of_shape(sh);
    }
    default:
      throw_error(ErrorCode::kFormat, cat("optimizer configuration: unknown value type ",
                                          static_cast<int>(kind)));
  }
}

void put_params(std::string& out, const ConfigDef& def, const OpParams& p) {
  put<uint32_t>(out, static_cast<uint32_t>(def.params.size()));
  for (const ParamSpec& spec : def.params) {
    put_str(out, spec.name);
    put_value(out, p.get(spec.name.c_str()));
  }
}

// The (key, value) pairs of a parameter list; keys point into `names`.
void get_params(Reader& r, std::vector<std::string>* names, std::vector<ParamValue>* values) {
  const uint32_t n = r.get<uint32_t>("parameter count");
  MXN_CHECK(n <= 256, ErrorCode::kFormat, "optimizer configuration: ", n, " parameters");
  for (uint32_t i = 0; i < n; ++i) {
    names->push_back(r.str("parameter name"));
    ParamValue v = get_value(r);
    values->push_back(std::move(v));
  }
}

std::vector<const char*> c_strs(const std::vector<std::string>& names) {
  std::vector<const char*> out;
  for (const auto& n : names) out.push_back(n.c_str());
  return out;
}
}  // namespace

std::string Optimizer::config() const {
  std::string out(kConfigMagic, 8);
  put_str(out, def_->name);
  put_params(out, *def_, params_);
  put<uint32_t>(out, static_cast<uint32_t>(idx2name_.size()));
  for (const auto& [i, n] : idx2name_) {
    put<int64_t>(out, i);
    put_str(out, n);
  }
  put<uint32_t>(out, static_cast<uint32_t>(known_names_.size()));
  for (const auto& kv : known_names_) put_str(out, kv.first);
  for (const auto& m : mults_) {
    put<uint32_t>(out, static_cast<uint32_t>(m.size()));
    for (const auto& [code, v] : m) {
      put_str(out, code);
      put<double>(out, v);
    }
  }
  put<uint8_t>(out, scheduler_ ? 1 : 0);
  if (scheduler_) {
    put_str(out, scheduler_->name());
    put_params(out, scheduler_->def(), scheduler_->params());
    put<double>(out, scheduler_->base_lr());
  }
  return out;
}

std::unique_ptr<Optimizer> Optimizer::from_config(const void* data, size_t size) {
  MXN_CHECK(data != nullptr || size == 0, ErrorCode::kInvalidArg, "configuration data is NULL");
  Reader r{static_cast<const char*>(data), size};
  r.need(8, "magic");
  MXN_CHECK(std::memcmp(r.p, kConfigMagic, 8) == 0, ErrorCode::kFormat,
            "not an optimizer configuration (bad magic)");
  r.p += 8;
  r.left -= 8;
  r.off += 8;
  const std::string name = r.str("optimizer name");
  std::vector<std::string> keys;
  std::vector<ParamValue> values;
  get_params(r, &keys, &values);
  auto keys_c = c_strs(keys);
  std::unique_ptr<Optimizer> opt =
      create(name, static_cast<int>(keys.size()), keys_c.data(), values.data());
  const uint32_t n_idx = r.get<uint32_t>("name count");
  for (uint32_t i = 0; i < n_idx; ++i) {
    const int64_t index = r.get<int64_t>("index");
    opt->idx2name_[index] = r.str("parameter name");
  }
  const uint32_t n_known = r.get<uint32_t>("known name count");
  for (uint32_t i = 0; i < n_known; ++i) opt->known_names_[r.str("known name")] = true;
  for (auto& m : opt->mults_) {
    const uint32_t n = r.get<uint32_t>("multiplier count");
    for (uint32_t i = 0; i < n; ++i) {
      std::string code = r.str("multiplier key");
      m[code] = r.get<double>("multiplier");
    }
  }
  if (r.get<uint8_t>("scheduler flag") != 0) {
    const std::string sname = r.str("scheduler name");
    std::vector<std::string> sk;
    std::vector<ParamValue> sv;
    get_params(r, &sk, &sv);
    auto sk_c = c_strs(sk);
    const ConfigDef& sdef = ConfigRegistry::get().find("lr_scheduler", sname);
    auto sched = std::make_shared<LRScheduler>(
        sdef, parse_config(sdef, static_cast<int>(sk.size()), sk_c.data(), sv.data()));
    sched->set_base_lr(r.get<double>("base_lr"));
    opt->scheduler_ = std::move(sched);
  }
  MXN_CHECK(r.left == 0, ErrorCode::kFormat, "optimizer configuration: ", r.left,
            " trailing bytes");
  return opt;
}

std::string Optimizer::save_states() const {
  std::string out(kStateMagic, 8);
  put<uint32_t>(out, 1);  // version
  put<uint32_t>(out, 0);  // reserved
  put_str(out, def_->name);
  put<int64_t>(out, num_update_);
  put<uint64_t>(out, entries_.size());
  std::vector<NDArray> arrays;
  for (const auto& kv : entries_) {
    const Entry& e = kv.second;
    put<uint8_t>(out, e.key.named ? 1 : 0);
    put<int64_t>(out, e.key.index);
    put_str(out, e.key.name);
    put<int64_t>(out, e.count);
    put<uint32_t>(out, static_cast<uint32_t>(e.states.size()));
    for (const auto& a : e.states) arrays.push_back(a);
  }
  const std::string blob = save_params_to_buffer(arrays, {});
  put<uint64_t>(out, blob.size());
  out += blob;
  return out;
}

void Optimizer::load_states(const void* data, size_t size) {
  MXN_CHECK(data != nullptr || size == 0, ErrorCode::kInvalidArg, "states data is NULL");
  Reader r{static_cast<const char*>(data), size};
  r.need(8, "magic");
  if (std::memcmp(r.p, kStateMagic, 8) != 0) {
    throw_error(ErrorCode::kFormat,
                "optimizer states: bad magic (not an mxnext optimizer state file; MXNet's "
                "pickled states cannot be read)");
  }
  r.p += 8;
  r.left -= 8;
  r.off += 8;
  const uint32_t version = r.get<uint32_t>("version");
  MXN_CHECK(version == 1, ErrorCode::kFormat, "optimizer states: unknown version ", version);
  r.get<uint32_t>("reserved");
  const std::string name = r.str("optimizer name");
  MXN_CHECK(name == def_->name, ErrorCode::kInvalidArg, "optimizer states were saved by '", name,
            "', not '", def_->name, "'");
  const int64_t num_update = r.get<int64_t>("num_update");
  const uint64_t n = r.get<uint64_t>("entry count");
  MXN_CHECK(n <= r.left / 25, ErrorCode::kFormat, "optimizer states: ", n,
            " entries cannot fit in ", r.left, " bytes");
  std::vector<Entry> entries;
  std::vector<uint32_t> nstates;
  uint64_t total = 0;
  for (uint64_t i = 0; i < n; ++i) {
    Entry e;
    e.key.named = r.get<uint8_t>("key kind") != 0;
    e.key.index = r.get<int64_t>("key index");
    e.key.name = r.str("key name");
    e.count = r.get<int64_t>("update count");
    const uint32_t k = r.get<uint32_t>("state count");
    MXN_CHECK(k <= 16, ErrorCode::kFormat, "optimizer states: entry ", i, " claims ", k,
              " states");
    nstates.push_back(k);
    total += k;
    entries.push_back(std::move(e));
  }
  const uint64_t blob = r.get<uint64_t>("array bytes");
  r.need(blob, "arrays");
  MXN_CHECK(r.left == blob, ErrorCode::kFormat, "optimizer states: ", r.left - blob,
            " trailing bytes");
  NamedArrays arrays = load_params_from_buffer(r.p, blob);
  MXN_CHECK(arrays.arrays.size() == total, ErrorCode::kFormat, "optimizer states: ",
            arrays.arrays.size(), " arrays for ", total, " states");
  std::map<std::string, Entry> fresh;
  size_t at = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& e = entries[i];
    for (uint32_t k = 0; k < nstates[i]; ++k) e.states.push_back(arrays.arrays[at++]);
    e.created = true;
    fresh[e.key.code()] = std::move(e);
  }
  entries_ = std::move(fresh);
  num_update_ = num_update;
}

}  // namespace mxn::train
