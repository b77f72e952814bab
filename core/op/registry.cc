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
  std::call_once(impl_->schema_once, [this] {
    std::vector<const OpDef*> visible;  // _backward_ operators are internal to the core
    for (const OpDef* op : ops_) {
      if (op->backward_of.empty()) visible.push_back(op);
    }
    impl_->schema = op_schema_to_json(visible);
  });
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
OpDef& OpDef::aux_input(std::string n, std::string d) {
  inputs.push_back({std::move(n), std::move(d), true});
  return *this;
}
OpDef& OpDef::optional_input(std::string n, std::string d) {
  inputs.push_back({std::move(n), std::move(d), false, true});
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
OpDef& OpDef::random(std::function<bool(const OpParams&)> draws_at_inference_fn) {
  uses_random = true;
  draws_at_inference = std::move(draws_at_inference_fn);
  return *this;
}

bool OpDef::draws_random(const OpParams& params, bool is_train) const {
  return uses_random && (is_train || !draws_at_inference || draws_at_inference(params));
}

OpDef& OpDef::grad(GradientFn fn) {
  gradient = std::move(fn);
  return *this;
}
OpDef& OpDef::inputs_used(std::function<std::vector<std::string>(const OpParams&)> names) {
  input_names_fn = std::move(names);
  return *this;
}
OpDef& OpDef::input_shapes_fn(std::function<void(const OpParams&, std::vector<Shape>* in)> fn) {
  infer_input_shapes = std::move(fn);
  return *this;
}
OpDef& OpDef::dynamic_outputs(std::function<int(const OpParams&)> count) {
  num_outputs_fn = std::move(count);
  return *this;
}
OpDef& OpDef::visible_outputs(std::function<int(const OpParams&)> count) {
  num_visible_fn = std::move(count);
  return *this;
}
OpDef& OpDef::inplace(int input_index) {
  inplace_input = input_index;
  return *this;
}
OpDef& OpDef::skips_unused_hidden_outputs_flag() {
  skips_unused_hidden_outputs = true;
  return *this;
}
OpDef& OpDef::backward_for(std::string forward_op) {
  backward_of = std::move(forward_op);
  return *this;
}

int OpDef::num_outputs(const OpParams& p) const {
  if (num_outputs_fn) return num_outputs_fn(p);
  return static_cast<int>(outputs.size());
}

int OpDef::num_visible_outputs(const OpParams& p) const {
  if (num_visible_fn) return num_visible_fn(p);
  return num_outputs(p);
}

bool OpDef::is_aux_input(int index) const {
  if (!variadic_count.empty()) return false;
  return index >= 0 && static_cast<size_t>(index) < inputs.size() && inputs[index].aux;
}

const ParamSpec* OpDef::find_param(const std::string& n) const {
  for (const auto& p : params) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

int OpDef::num_inputs(const OpParams& p) const {
  if (!variadic_count.empty()) return static_cast<int>(p.get_int(variadic_count.c_str()));
  if (input_names_fn) return static_cast<int>(input_names_fn(p).size());
  return static_cast<int>(inputs.size());
}

std::vector<std::string> OpDef::input_names(const OpParams& p) const {
  std::vector<std::string> names;
  if (!variadic_count.empty()) {
    const int n = num_inputs(p);
    for (int i = 0; i < n; ++i) names.push_back("arg" + std::to_string(i));
    return names;
  }
  if (input_names_fn) return input_names_fn(p);
  for (const auto& in : inputs) names.push_back(in.name);
  return names;
}

}  // namespace mxn
