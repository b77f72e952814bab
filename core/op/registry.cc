#include <map>
#include <memory>
#include <mutex>

#include "core/op/op.h"

namespace mxn {

struct OpRegistry::Impl {
  std::vector<std::unique_ptr<OpDef>> owned;
  std::map<std::string, const OpDef*> by_name;
  std::once_flag schema_once;
  std::string schema;
};

OpRegistry& OpRegistry::get() {
  static OpRegistry* reg = [] {
    auto* r = new OpRegistry();  // leaked on purpose: ops are looked up until exit
    r->impl_ = new Impl();
    return r;
  }();
  return *reg;
}

OpDef& OpRegistry::add(const std::string& name) {
  MXN_CHECK(!impl_->by_name.count(name), ErrorCode::kInternal, "operator ", name,
            " registered twice");
  impl_->owned.push_back(std::make_unique<OpDef>());
  OpDef* op = impl_->owned.back().get();
  op->name = name;
  impl_->by_name[name] = op;
  ops_.push_back(op);
  return *op;
}

const std::string& OpRegistry::schema_json() {
  std::call_once(impl_->schema_once, [this] { impl_->schema = op_schema_to_json(ops_); });
  return impl_->schema;
}

const OpDef* OpRegistry::find(const std::string& name) const {
  auto it = impl_->by_name.find(name);
  if (it != impl_->by_name.end()) return it->second;
  for (const OpDef* op : ops_) {
    for (const auto& a : op->aliases) {
      if (a == name) return op;
    }
  }
  return nullptr;
}

OpDef& OpDef::describe(std::string text) {
  doc = std::move(text);
  return *this;
}
OpDef& OpDef::alias(std::string a) {
  aliases.push_back(std::move(a));
  return *this;
}
OpDef& OpDef::input(std::string n, std::string d) {
  inputs.push_back({std::move(n), std::move(d)});
  return *this;
}
OpDef& OpDef::variadic(std::string count_param) {
  variadic_count = count_param;
  ParamSpec spec;
  spec.name = std::move(count_param);
  spec.type = ParamType::kInt;
  spec.nullable = true;
  spec.doc = "Number of inputs (set from the inputs when not given).";
  params.push_back(std::move(spec));
  return *this;
}
OpDef& OpDef::output_names(std::vector<std::string> names) {
  outputs = std::move(names);
  return *this;
}
OpDef& OpDef::param(std::string n, ParamType type, ParamValue def, std::string d) {
  ParamSpec spec;
  spec.name = std::move(n);
  spec.type = type;
  spec.doc = std::move(d);
  spec.default_value = std::move(def);
  params.push_back(std::move(spec));
  return *this;
}
OpDef& OpDef::required(std::string n, ParamType type, std::string d) {
  param(std::move(n), type, ParamValue::none(), std::move(d));
  params.back().required = true;
  return *this;
}
OpDef& OpDef::nullable(std::string n, ParamType type, std::string d) {
  param(std::move(n), type, ParamValue::none(), std::move(d));
  params.back().nullable = true;
  return *this;
}
OpDef& OpDef::choice(std::string n, std::vector<std::string> options, std::string def,
                     std::string d) {
  param(std::move(n), ParamType::kString, ParamValue::of_string(std::move(def)), std::move(d));
  params.back().choices = std::move(options);
  return *this;
}
OpDef& OpDef::ctx_param() {
  param("ctx", ParamType::kDevice, ParamValue::of_device(Device::cpu(0)),
        "Device of the output.");
  has_ctx_param = true;
  return *this;
}
OpDef& OpDef::creation_params(std::string dtype_doc) {
  param("shape", ParamType::kShape, ParamValue::of_shape(Shape()),
        "Shape of the output (() is a 0-d array).");
  ctx_param();
  param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kFloat32), std::move(dtype_doc));
  return shape_fn([](const OpParams& p, const std::vector<Shape>&, std::vector<Shape>* out) {
    const Shape& s = p.get_shape("shape");
    (*out)[0] = Shape::from_dims(s.data(), s.ndim(), "shape");
  });
}

OpDef& OpDef::shape_fn(InferShapeFn fn) {
  infer_shape = std::move(fn);
  return *this;
}
OpDef& OpDef::type_fn(InferTypeFn fn) {
  infer_type = std::move(fn);
  return *this;
}
OpDef& OpDef::cpu(ComputeFn fn) {
  compute_cpu = std::move(fn);
  return *this;
}
OpDef& OpDef::random() {
  uses_random = true;
  return *this;
}

const ParamSpec* OpDef::find_param(const std::string& n) const {
  for (const auto& p : params) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

int OpDef::num_inputs(const OpParams& p) const {
  if (variadic_count.empty()) return static_cast<int>(inputs.size());
  return static_cast<int>(p.get_int(variadic_count.c_str()));
}

}  // namespace mxn
