// Operator handles and invocation with typed values.
#include <memory>
#include <mutex>

#include "capi/src/handles.h"
#include "core/autograd/autograd.h"

using namespace mxn;
using mxn::capi::check_out;

namespace {

// One handle per registered operator, sorted by name (the schema's order).
const std::vector<mxn_op>& op_handles() {
  static const std::vector<mxn_op>* handles = [] {
    auto* v = new std::vector<mxn_op>();
    std::vector<const OpDef*> ops = OpRegistry::get().list();
    std::sort(ops.begin(), ops.end(),
              [](const OpDef* a, const OpDef* b) { return a->name < b->name; });
    for (const OpDef* d : ops) {
      if (!d->backward_of.empty()) continue;  // internal to the core, as in the schema
      mxn_op h;
      h.def = d;
      v->push_back(h);
    }
    return v;
  }();
  return *handles;
}


std::vector<NDArray> gather_inputs(int32_t num_inputs, mxn_ndarray* const* inputs) {
  MXN_CHECK(num_inputs >= 0, ErrorCode::kInvalidArg, "num_inputs is negative");
  MXN_CHECK(num_inputs == 0 || inputs != nullptr, ErrorCode::kInvalidArg, "inputs is NULL");
  std::vector<NDArray> in;
  in.reserve(static_cast<size_t>(num_inputs));
  for (int32_t i = 0; i < num_inputs; ++i) {
    const mxn_ndarray* h = inputs[i];
    if (h == nullptr || h->magic != kNDArrayMagic) {
      throw Error(ErrorCode::kInvalidArg, cat("input ", i, " is ", h ? "not an array handle" : "NULL"))
          .with_arg(i);
    }
    in.push_back(h->array);
  }
  return in;
}

// Runs f, naming the operator in any error it throws (unless a deeper layer already did), so
// that argument errors found here carry op_name like those found in the core.
template <typename F>
auto naming_op(const OpDef& def, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (Error& e) {
    if (e.op_name().empty()) {
      e.with_op(def.name);
      if (e.message().rfind(def.name + ":", 0) != 0) e.prefix(def.name);
    }
    throw;
  }
}

}  // namespace

namespace mxn::capi {

ParamValue param_value(const mxn_value& v, const char* key) {
  switch (v.type) {
    case MXN_VALUE_NONE: return ParamValue::none();
    case MXN_VALUE_INT: return ParamValue::of_int(v.u.i);
    case MXN_VALUE_FLOAT: return ParamValue::of_float(v.u.f);
    case MXN_VALUE_BOOL: return ParamValue::of_bool(v.u.i != 0);
    case MXN_VALUE_STRING:
      MXN_CHECK(v.u.s != nullptr, ErrorCode::kInvalidArg, "parameter '", key,
                "': NULL string");
      return ParamValue::of_string(v.u.s);
    case MXN_VALUE_SHAPE: {
      MXN_CHECK(v.len >= 0 && v.len <= kMaxNdim, ErrorCode::kInvalidArg, "parameter '", key,
                "': a tuple of ", v.len, " values (at most ", kMaxNdim, ")");
      MXN_CHECK(v.len == 0 || v.u.dims != nullptr, ErrorCode::kInvalidArg, "parameter '", key,
                "': NULL tuple");
      Shape s;
      for (int i = 0; i < v.len; ++i) s.push_back(v.u.dims[i]);
      return ParamValue::of_shape(s);
    }
    case MXN_VALUE_DTYPE: return ParamValue::of_dtype(dtype_checked(static_cast<int32_t>(v.u.i)));
    case MXN_VALUE_DEVICE: {
      MXN_CHECK(v.u.i >= 1 && v.u.i <= 3 && v.len >= 0, ErrorCode::kInvalidArg, "parameter '",
                key, "': bad device (type ", v.u.i, ", id ", v.len, ")");
      Device d{static_cast<DeviceType>(v.u.i), v.len};
      return ParamValue::of_device(d);
    }
    default: break;
  }
  throw_error(ErrorCode::kInvalidArg, cat("parameter '", key, "': unknown value type ", v.type));
}

OpParams params_from_values(const OpDef& op, int32_t num_params, const char* const* keys,
                       const mxn_value* values) {
  MXN_CHECK(num_params >= 0, ErrorCode::kInvalidArg, "num_params is negative");
  MXN_CHECK(num_params == 0 || (keys != nullptr && values != nullptr), ErrorCode::kInvalidArg,
            "keys or values is NULL");
  ParamValue stack_vals[8];
  std::vector<ParamValue> heap_vals;
  ParamValue* vals = stack_vals;
  if (num_params > 8) {
    heap_vals.resize(static_cast<size_t>(num_params));
    vals = heap_vals.data();
  }
  for (int32_t k = 0; k < num_params; ++k) {
    vals[k] = param_value(values[k], keys[k] ? keys[k] : "(null)");
  }
  return OpParams::parse(op, num_params, keys, vals);
}

}  // namespace mxn::capi

extern "C" {

const char* mxn_op_schema_json(void) {
  try {
    return OpRegistry::get().schema_json().c_str();
  } catch (...) {
    return "{}";
  }
}

int mxn_op_count(int32_t* out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  *out = static_cast<int32_t>(op_handles().size());
  MXN_API_END();
}

int mxn_op_at(int32_t index, const mxn_op** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  const auto& ops = op_handles();
  MXN_CHECK(index >= 0 && static_cast<size_t>(index) < ops.size(), ErrorCode::kInvalidArg,
            "operator index ", index, " is out of range [0, ", ops.size(), ")");
  *out = &ops[static_cast<size_t>(index)];
  MXN_API_END();
}

int mxn_op_find(const char* name, const mxn_op** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(name != nullptr, ErrorCode::kInvalidArg, "operator name is NULL");
  const OpDef* def = OpRegistry::get().find(name);
  MXN_CHECK(def != nullptr && def->backward_of.empty(), ErrorCode::kInvalidArg,
            "no operator named '", name, "'");
  const auto& ops = op_handles();
  auto it = std::lower_bound(ops.begin(), ops.end(), def->name,
                             [](const mxn_op& h, const std::string& n) { return h.def->name < n; });
  *out = &*it;
  MXN_API_END();
}

int mxn_op_name(const mxn_op* op, const char** out) {
  MXN_API_BEGIN();
  const OpDef& def = capi::op_of(op, "op");
  check_out(out, "out");
  *out = def.name.c_str();
  MXN_API_END();
}

int mxn_op_invoke(const mxn_op* op, int32_t num_inputs, mxn_ndarray* const* inputs,
                  int32_t num_params, const char* const* keys, const mxn_value* values,
                  int32_t max_outputs, mxn_ndarray** outputs, int32_t* num_outputs) {
  MXN_API_BEGIN();
  const OpDef& def = capi::op_of(op, "op");
  naming_op(def, [&] {
    check_out(outputs, "outputs");
    check_out(num_outputs, "num_outputs");
    std::vector<NDArray> in = gather_inputs(num_inputs, inputs);
    OpParams params = capi::params_from_values(def, num_params, keys, values);
    const int32_t visible = def.num_visible_outputs(params);
    MXN_CHECK(max_outputs >= visible, ErrorCode::kInvalidArg, def.name, " has ", visible,
              " outputs but max_outputs is ", max_outputs);
    std::vector<NDArray> out = autograd::invoke(def, in, params, nullptr);
    // All handles first, so that a failure leaves *outputs untouched and leaks nothing.
    std::vector<std::unique_ptr<mxn_ndarray>> handles;
    handles.reserve(out.size());
    for (NDArray& a : out) handles.emplace_back(capi::new_handle(std::move(a)));
    for (size_t i = 0; i < handles.size(); ++i) outputs[i] = handles[i].release();
    *num_outputs = static_cast<int32_t>(handles.size());
  });
  MXN_API_END();
}

int mxn_op_invoke_into(const mxn_op* op, int32_t num_inputs, mxn_ndarray* const* inputs,
                       int32_t num_params, const char* const* keys, const mxn_value* values,
                       int32_t num_outputs, mxn_ndarray* const* outputs) {
  MXN_API_BEGIN();
  const OpDef& def = capi::op_of(op, "op");
  naming_op(def, [&] {
    std::vector<NDArray> in = gather_inputs(num_inputs, inputs);
    MXN_CHECK(num_outputs >= 0, ErrorCode::kInvalidArg, "num_outputs is negative");
    MXN_CHECK(num_outputs == 0 || outputs != nullptr, ErrorCode::kInvalidArg, "outputs is NULL");
    std::vector<NDArray> out;
    for (int32_t i = 0; i < num_outputs; ++i) {
      const mxn_ndarray* h = outputs[i];
      MXN_CHECK(h != nullptr && h->magic == kNDArrayMagic, ErrorCode::kInvalidArg, "out array ",
                i, h ? " is not an array handle" : " is NULL");
      out.push_back(h->array);
    }
    OpParams params = capi::params_from_values(def, num_params, keys, values);
    autograd::invoke(def, in, params, &out);
  });
  MXN_API_END();
}

}  // extern "C"
