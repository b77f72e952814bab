#include "core/train/initializer.h"

#include <cmath>
#include <cstring>
#include <regex>

#include "core/base/error.h"
#include "core/base/json_value.h"
#include "core/train/train_util.h"

namespace mxn::train {
namespace {

ConfigDef& init_def(const char* name, const char* cls, const char* doc) {
  return ConfigRegistry::get().add("initializer", name).alias(cls).describe(doc);
}

MXN_CONFIG_REGISTRATION = init_def("uniform", "Uniform", "Weights from U(-scale, scale).")
                              .param("scale", ParamType::kFloat, ParamValue::of_float(0.07),
                                     "Bound of the interval.");
MXN_CONFIG_REGISTRATION = init_def("normal", "Normal", "Weights from N(0, sigma^2).")
                              .param("sigma", ParamType::kFloat, ParamValue::of_float(0.01),
                                     "Standard deviation.");
MXN_CONFIG_REGISTRATION = init_def("constant", "Constant", "Weights set to value.")
                              .required("value", ParamType::kFloat, "The value.");
MXN_CONFIG_REGISTRATION = init_def("zero", "Zero", "Weights set to 0.").alias("zeros");
MXN_CONFIG_REGISTRATION = init_def("one", "One", "Weights set to 1.").alias("ones");
MXN_CONFIG_REGISTRATION =
    init_def("xavier", "Xavier",
             "Glorot & Bengio: scale = sqrt(magnitude / factor), factor = fan_in, fan_out or "
             "their mean (fans multiply the dims after the second); U(-scale, scale) or "
             "N(0, scale^2). Needs at least 2-d weights.")
        .choice("rnd_type", {"uniform", "gaussian"}, "uniform", "Distribution.")
        .choice("factor_type", {"avg", "in", "out"}, "avg", "Which fan.")
        .param("magnitude", ParamType::kFloat, ParamValue::of_float(3.0), "Scale of the variance.");
MXN_CONFIG_REGISTRATION =
    init_def("msraprelu", "MSRAPrelu",
             "He et al.: Xavier with rnd_type gaussian and magnitude 2 / (1 + slope^2).")
        .choice("factor_type", {"avg", "in", "out"}, "avg", "Which fan.")
        .param("slope", ParamType::kFloat, ParamValue::of_float(0.25),
               "Negative slope of the PReLU.");
MXN_CONFIG_REGISTRATION =
    init_def("orthogonal", "Orthogonal",
             "Saxe et al.: scale times an orthonormal basis (of the rows or the columns, "
             "whichever fit) of a random (shape[0], prod(shape[1:])) matrix.")
        .param("scale", ParamType::kFloat, ParamValue::of_float(1.414), "Scale.")
        .choice("rand_type", {"uniform", "normal"}, "uniform", "Distribution of the matrix.");
MXN_CONFIG_REGISTRATION =
    init_def("bilinear", "Bilinear", "Bilinear upsampling kernels (4-d weights).");

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

void random_into(const char* op, const NDArray& arr, double a, double b) {
  const bool uniform = std::strcmp(op, "_random_uniform") == 0;
  run_op(op, {}, arr,
         {{uniform ? "low" : "loc", ParamValue::of_float(a)},
          {uniform ? "high" : "scale", ParamValue::of_float(b)},
          {"shape", ParamValue::of_shape(arr.shape())},
          {"dtype", ParamValue::of_dtype(arr.dtype())},
          {"ctx", ParamValue::of_device(arr.device())}});
}

// Orthonormalises the columns (rows = false) or rows of an m x n row-major matrix in place
// (modified Gram-Schmidt, twice for accuracy).
void orthonormalize(std::vector<double>& a, int64_t m, int64_t n, bool rows) {
  const int64_t count = rows ? m : n, len = rows ? n : m;
  auto at = [&](int64_t v, int64_t i) -> double& { return rows ? a[v * n + i] : a[i * n + v]; };
  for (int64_t v = 0; v < count; ++v) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t u = 0; u < v; ++u) {
        double dot = 0;
        for (int64_t i = 0; i < len; ++i) dot += at(u, i) * at(v, i);
        for (int64_t i = 0; i < len; ++i) at(v, i) -= dot * at(u, i);
      }
    }
    double norm = 0;
    for (int64_t i = 0; i < len; ++i) norm += at(v, i) * at(v, i);
    norm = std::sqrt(norm);
    if (norm < 1e-12) norm = 1;
    for (int64_t i = 0; i < len; ++i) at(v, i) /= norm;
  }
}

}  // namespace

Initializer::Initializer(const ConfigDef* def, OpParams params)
    : def_(def), params_(std::move(params)), kind_(def ? def->name : "") {}

std::shared_ptr<Initializer> Initializer::create(const std::string& name, int num,
                                                 const char* const* keys,
                                                 const ParamValue* values) {
  const ConfigDef& def = ConfigRegistry::get().find("initializer", name);
  return std::make_shared<Initializer>(&def, parse_config(def, num, keys, values));
}

std::shared_ptr<Initializer> Initializer::from_json(const std::string& text) {
  size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos || text[b] != '[') {
    std::string name = text;
    if (!name.empty() && name.front() == '"') name = JsonValue::parse(text).as_string("__init__");
    return create(name, 0, nullptr, nullptr);
  }
  const JsonValue v = JsonValue::parse(text);
  const auto& arr = v.as_array("__init__ attribute");
  MXN_CHECK(!arr.empty() && arr.size() <= 2, ErrorCode::kInvalidArg,
            "__init__ attribute must be [name, {kwargs}], got ", text);
  const std::string name = arr[0].as_string("__init__ name");
  const ConfigDef& def = ConfigRegistry::get().find("initializer", name);
  std::vector<std::string> keys;
  std::vector<ParamValue> vals;
  if (arr.size() == 2 && !arr[1].is_null()) {
    for (const auto& kv : arr[1].as_object("__init__ kwargs")) {
      keys.push_back(kv.first);
      const JsonValue& x = kv.second;
      ParamType declared = ParamType::kFloat;
      for (const auto& p : def.params) {
        if (p.name == kv.first) declared = p.type;
      }
      if (x.is_string()) {
        vals.push_back(ParamValue::of_string(x.as_string("value")));
      } else if (x.is_number()) {
        const double d = x.as_number("value");
        vals.push_back(declared == ParamType::kInt && d == std::floor(d)
                           ? ParamValue::of_int(static_cast<int64_t>(d))
                           : ParamValue::of_float(d));
      } else if (x.is_null()) {
        vals.push_back(ParamValue::none());
      } else {
        throw_error(ErrorCode::kNotImplemented,
                    cat("__init__ attribute ", text, ": parameter '", kv.first,
                        "' must be a number or a string"));
      }
    }
  }
  std::vector<const char*> kp;
  for (const auto& k : keys) kp.push_back(k.c_str());
  return std::make_shared<Initializer>(
      &def, parse_config(def, static_cast<int>(kp.size()), kp.data(), vals.data()));
}

std::shared_ptr<Initializer> Initializer::mixed(std::vector<std::string> patterns,
                                                std::vector<std::shared_ptr<Initializer>> inits) {
  MXN_CHECK(patterns.size() == inits.size(), ErrorCode::kInvalidArg, "Mixed: ", patterns.size(),
            " patterns for ", inits.size(), " initializers");
  for (size_t i = 0; i < patterns.size(); ++i) {
    MXN_CHECK(inits[i] != nullptr, ErrorCode::kInvalidArg, "Mixed: initializer ", i, " is NULL");
    try {
      std::regex check(patterns[i]);
    } catch (const std::regex_error& e) {
      throw_error(ErrorCode::kInvalidArg,
                  cat("Mixed: pattern ", i, " '", patterns[i], "' is not a regular expression: ",
                      e.what()));
    }
  }
  auto m = std::make_shared<Initializer>(nullptr, OpParams());
  m->kind_ = "mixed";
  m->patterns_ = std::move(patterns);
  m->children_ = std::move(inits);
  return m;
}

std::shared_ptr<Initializer> Initializer::load(const std::vector<std::string>& names,
                                               const std::vector<NDArray>& arrays,
                                               std::shared_ptr<Initializer> default_init) {
  MXN_CHECK(names.size() == arrays.size(), ErrorCode::kInvalidArg, "Load: ", names.size(),
            " names for ", arrays.size(), " arrays");
  auto l = std::make_shared<Initializer>(nullptr, OpParams());
  l->kind_ = "load";
  for (size_t i = 0; i < names.size(); ++i) {
    std::string n = names[i];
    if (n.rfind("arg:", 0) == 0 || n.rfind("aux:", 0) == 0) n = n.substr(4);
    l->load_names_.push_back(n);
    l->load_arrays_.push_back(arrays[i]);
  }
  l->children_.push_back(std::move(default_init));
  return l;
}

void Initializer::operator()(const std::string& name, const std::string& init_attr,
                             const NDArray& arr) const {
  MXN_CHECK(!arr.is_none(), ErrorCode::kInvalidArg, "initializer: no array for ", name);
  if (kind_ == "mixed") {
    for (size_t i = 0; i < patterns_.size(); ++i) {
      if (std::regex_search(name, std::regex(patterns_[i]), std::regex_constants::match_continuous)) {
        (*children_[i])(name, init_attr, arr);
        return;
      }
    }
    throw_error(ErrorCode::kInvalidArg,
                cat("Parameter name ", name, " did not match any pattern. Consider add a "
                    "\".*\" pattern at the and with default Initializer."));
  }
  if (kind_ == "load") {
    for (size_t i = 0; i < load_names_.size(); ++i) {
      if (load_names_[i] != name) continue;
      const NDArray& src = load_arrays_[i];
      if (src.shape() != arr.shape()) {
        throw_error(ErrorCode::kShape,
                    cat("Parameter ", name, " cannot be initialized from loading. Shape "
                        "mismatch, target ", arr.shape().str(), " vs loaded ", src.shape().str()));
      }
      copy_array(src, arr);
      return;
    }
    MXN_CHECK(children_[0] != nullptr, ErrorCode::kInvalidArg, "Cannot Initialize ", name,
              ". Not found in loaded param and no default Initializer is provided.");
    (*children_[0])(name, init_attr, arr);
    return;
  }
  if (!init_attr.empty()) {
    from_json(init_attr)->init_weight(name, arr);
    return;
  }
  if (ends_with(name, "weight")) {
    init_weight(name, arr);
  } else if (ends_with(name, "bias") || ends_with(name, "beta") || ends_with(name, "min") ||
             ends_with(name, "moving_mean") || ends_with(name, "running_mean") ||
             ends_with(name, "moving_inv_var") || ends_with(name, "moving_avg")) {
    fill(arr, 0.0);
  } else if (ends_with(name, "gamma") || ends_with(name, "max") || ends_with(name, "moving_var") ||
             ends_with(name, "running_var")) {
    fill(arr, 1.0);
  } else {
    throw_error(ErrorCode::kInvalidArg,
                cat("Unknown initialization pattern for ", name,
                    ". Default initialization is now limited to \"weight\", \"bias\", "
                    "\"gamma\" (1.0), and \"beta\" (0.0). Please use "
                    "mx.sym.Variable(init=mx.init.*) to set initialization pattern"));
  }
}

void Initializer::init_weight(const std::string& name, const NDArray& arr) const {
  const std::string& k = kind_;
  if (k == "mixed" || k == "load") {
    (*this)(name, "", arr);
  } else if (k == "uniform") {
    const double s = params_.get_float("scale");
    random_into("_random_uniform", arr, -s, s);
  } else if (k == "normal") {
    random_into("_random_normal", arr, 0.0, params_.get_float("sigma"));
  } else if (k == "constant") {
    fill(arr, params_.get_float("value"));
  } else if (k == "zero") {
    fill(arr, 0.0);
  } else if (k == "one") {
    fill(arr, 1.0);
  } else if (k == "xavier" || k == "msraprelu") {
    const Shape& s = arr.shape();
    if (s.ndim() < 2) {
      throw_error(ErrorCode::kShape,
                  cat("Xavier initializer cannot be applied to vector ", name,
                      ". It requires at least 2D."));
    }
    double hw = 1;
    for (int i = 2; i < s.ndim(); ++i) hw *= static_cast<double>(s[i]);
    const double fan_in = static_cast<double>(s[1]) * hw, fan_out = static_cast<double>(s[0]) * hw;
    const std::string& ft = params_.get_string("factor_type");
    const double factor = ft == "avg" ? (fan_in + fan_out) / 2.0 : ft == "in" ? fan_in : fan_out;
    double magnitude;
    bool gaussian;
    if (k == "xavier") {
      magnitude = params_.get_float("magnitude");
      gaussian = params_.get_string("rnd_type") == "gaussian";
    } else {
      const double slope = params_.get_float("slope");
      magnitude = 2.0 / (1.0 + slope * slope);
      gaussian = true;
    }
    const double scale = std::sqrt(magnitude / factor);
    if (gaussian) {
      random_into("_random_normal", arr, 0.0, scale);
    } else {
      random_into("_random_uniform", arr, -scale, scale);
    }
  } else if (k == "orthogonal") {
    const Shape& s = arr.shape();
    MXN_CHECK(s.ndim() >= 1, ErrorCode::kShape, "Orthogonal initializer needs at least 1-d ",
              name);
    const int64_t nout = s[0], nin = nout == 0 ? 0 : s.size() / nout;
    NDArray tmp = NDArray::empty(Shape({nout, nin}), DType::kFloat32, arr.device());
    if (params_.get_string("rand_type") == "uniform") {
      random_into("_random_uniform", tmp, -1.0, 1.0);
    } else {
      random_into("_random_normal", tmp, 0.0, 1.0);
    }
    std::vector<double> a = to_host(tmp);
    orthonormalize(a, nout, nin, /*rows=*/nout < nin);
    const double scale = params_.get_float("scale");
    for (double& x : a) x *= scale;
    from_host(arr, a);
  } else if (k == "bilinear") {
    const Shape& s = arr.shape();
    MXN_CHECK(s.ndim() == 4, ErrorCode::kShape, "Bilinear initializer needs a 4-d weight, ",
              name, " has shape ", s.str());
    const int64_t total = s.size();
    std::vector<double> w(static_cast<size_t>(total));
    const double f = std::ceil(static_cast<double>(s[3]) / 2.0);
    const double c = (2 * f - 1 - std::fmod(f, 2.0)) / (2.0 * f);
    for (int64_t i = 0; i < total; ++i) {
      const double x = static_cast<double>(i % s[3]);
      const double y = static_cast<double>((i / s[3]) % s[2]);
      w[static_cast<size_t>(i)] =
          static_cast<float>((1 - std::fabs(x / f - c)) * (1 - std::fabs(y / f - c)));
    }
    from_host(arr, w);
  } else {
    throw_error(ErrorCode::kInternal, cat("initializer ", k, " has no weight rule"));
  }
}

}  // namespace mxn::train
