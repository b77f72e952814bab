#include "core/op/params.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/op/op.h"

namespace mxn {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::kNone: return "none";
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kString: return "string";
    case ParamType::kShape: return "shape";
    case ParamType::kDType: return "dtype";
    case ParamType::kDevice: return "device";
  }
  return "unknown";
}

ParamValue ParamValue::of_int(int64_t v) {
  ParamValue p;
  p.kind = ParamType::kInt;
  p.i = v;
  p.f = static_cast<double>(v);
  return p;
}
ParamValue ParamValue::of_float(double v) {
  ParamValue p;
  p.kind = ParamType::kFloat;
  p.f = v;
  return p;
}
ParamValue ParamValue::of_bool(bool v) {
  ParamValue p;
  p.kind = ParamType::kBool;
  p.i = v ? 1 : 0;
  return p;
}
ParamValue ParamValue::of_string(std::string v) {
  ParamValue p;
  p.kind = ParamType::kString;
  p.s = std::move(v);
  return p;
}
ParamValue ParamValue::of_shape(const Shape& v) {
  ParamValue p;
  p.kind = ParamType::kShape;
  p.shape = v;
  return p;
}
ParamValue ParamValue::of_dtype(DType v) {
  ParamValue p;
  p.kind = ParamType::kDType;
  p.dtype = v;
  return p;
}
ParamValue ParamValue::of_device(Device v) {
  ParamValue p;
  p.kind = ParamType::kDevice;
  p.device = v;
  return p;
}

bool ParamValue::operator==(const ParamValue& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case ParamType::kNone: return true;
    case ParamType::kInt:
    case ParamType::kBool: return i == o.i;
    case ParamType::kFloat: return f == o.f;
    case ParamType::kString: return s == o.s;
    case ParamType::kShape: return shape == o.shape;
    case ParamType::kDType: return dtype == o.dtype;
    case ParamType::kDevice: return device == o.device;
  }
  return false;
}

std::string ParamValue::str() const {
  switch (kind) {
    case ParamType::kNone: return "None";
    case ParamType::kInt: return std::to_string(i);
    case ParamType::kFloat: return cat(f);
    case ParamType::kBool: return i ? "True" : "False";
    case ParamType::kString: return s;
    case ParamType::kShape: return shape.str();
    case ParamType::kDType: return dtype_name(dtype);
    case ParamType::kDevice: return device.str();
  }
  return "";
}

namespace {

[[noreturn]] void bad_value(const std::string& owner, const ParamSpec& spec,
                            const std::string& why) {
  throw Error(ErrorCode::kInvalidArg,
              cat(owner, ": parameter '", spec.name, "' (", param_type_name(spec.type), ") ",
                  why))
      .with_op(owner);
}
[[noreturn]] void bad_value(const OpDef& op, const ParamSpec& spec, const std::string& why) {
  bad_value(op.name, spec, why);
}

}  // namespace

ParamValue coerce_param(const OpDef& op, const ParamSpec& spec, const ParamValue& v) {
  return coerce_param(op.name, spec, v);
}

ParamValue coerce_param(const std::string& op, const ParamSpec& spec, const ParamValue& v) {
  if (v.kind == ParamType::kNone) {
    if (spec.nullable || (!spec.required && spec.default_value.kind == ParamType::kNone)) return v;
    if (!spec.required) return spec.default_value;  // None means "use the default"
    bad_value(op, spec, "is required and cannot be None");
  }
  switch (spec.type) {
    case ParamType::kInt:
      if (v.kind == ParamType::kInt || v.kind == ParamType::kBool) return ParamValue::of_int(v.i);
      if (v.kind == ParamType::kFloat && std::floor(v.f) == v.f && std::fabs(v.f) < 9.0e18)
        return ParamValue::of_int(static_cast<int64_t>(v.f));
      break;
    case ParamType::kFloat:
      if (v.kind == ParamType::kFloat) return v;
      if (v.kind == ParamType::kInt || v.kind == ParamType::kBool)
        return ParamValue::of_float(static_cast<double>(v.i));
      break;
    case ParamType::kBool:
      if (v.kind == ParamType::kBool) return v;
      if (v.kind == ParamType::kInt && (v.i == 0 || v.i == 1)) return ParamValue::of_bool(v.i);
      break;
    case ParamType::kString:
      if (v.kind == ParamType::kString) {
        if (!spec.choices.empty()) {
          bool ok = false;
          std::string list;
          for (const auto& c : spec.choices) {
            ok = ok || c == v.s;
            list += (list.empty() ? "'" : ", '") + c + "'";
          }
          if (!ok) bad_value(op, spec, cat("must be one of ", list, ", got '", v.s, "'"));
        }
        return v;
      }
      break;
    case ParamType::kShape:
      if (v.kind == ParamType::kShape) return v;
      if (v.kind == ParamType::kInt) return ParamValue::of_shape(Shape{v.i});
      break;
    case ParamType::kDType:
      if (v.kind == ParamType::kDType) return v;
      break;
    case ParamType::kDevice:
      if (v.kind == ParamType::kDevice) return v;
      break;
    case ParamType::kNone: break;
  }
  bad_value(op, spec, cat("cannot take a value of type ", param_type_name(v.kind), " (",
                          v.str(), ")"));
}

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool parse_int(const std::string& t, int64_t* out) {
  if (t.empty()) return false;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (*end != '\0') {
    // MXNet writes some ints as floats ("1.0"); accept integral ones.
    double d = std::strtod(t.c_str(), &end);
    if (*end != '\0' || std::floor(d) != d) return false;
    v = static_cast<long long>(d);
  }
  *out = v;
  return true;
}

}  // namespace

ParamValue parse_param_string(const OpDef& op, const ParamSpec& spec, const std::string& text) {
  const std::string t = trim(text);
  if (t == "None" && (spec.type != ParamType::kString || spec.nullable)) {
    return coerce_param(op, spec, ParamValue::none());
  }
  switch (spec.type) {
    case ParamType::kInt: {
      int64_t v;
      if (parse_int(t, &v)) return ParamValue::of_int(v);
      break;
    }
    case ParamType::kFloat: {
      char* end = nullptr;
      double v = std::strtod(t.c_str(), &end);
      if (!t.empty() && *end == '\0') return ParamValue::of_float(v);
      break;
    }
    case ParamType::kBool:
      if (t == "True" || t == "true" || t == "1") return ParamValue::of_bool(true);
      if (t == "False" || t == "false" || t == "0") return ParamValue::of_bool(false);
      break;
    case ParamType::kString: return coerce_param(op, spec, ParamValue::of_string(t));
    case ParamType::kShape: {
      std::string inner = t;
      if (!inner.empty() && (inner.front() == '(' || inner.front() == '[')) {
        if (inner.size() < 2 || (inner.back() != ')' && inner.back() != ']')) break;
        inner = inner.substr(1, inner.size() - 2);
      }
      Shape s;
      bool ok = true;
      size_t pos = 0;
      while (ok && pos <= inner.size()) {
        size_t comma = inner.find(',', pos);
        std::string item = trim(inner.substr(pos, comma == std::string::npos ? std::string::npos
                                                                             : comma - pos));
        if (!item.empty()) {
          int64_t v;
          if (item == "None") {
            v = kNoneIndex;
          } else if (!parse_int(item, &v)) {
            ok = false;
            break;
          }
          if (s.ndim() >= kMaxNdim) {
            ok = false;
            break;
          }
          s.push_back(v);
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      if (ok) return ParamValue::of_shape(s);
      break;
    }
    case ParamType::kDType: {
      DType d;
      if (dtype_from_name(t.c_str(), &d)) return ParamValue::of_dtype(d);
      break;
    }
    case ParamType::kDevice: {
      // "cpu(0)", "gpu(1)"
      int type = t.rfind("gpu", 0) == 0 ? 2 : t.rfind("cpu", 0) == 0 ? 1 : 0;
      size_t open = t.find('('), close = t.find(')');
      int64_t id = 0;
      if (type && open != std::string::npos && close != std::string::npos &&
          parse_int(t.substr(open + 1, close - open - 1), &id)) {
        ParamValue p;
        p.kind = ParamType::kDevice;
        p.device = Device{static_cast<DeviceType>(type), static_cast<int32_t>(id)};
        return p;
      }
      break;
    }
    case ParamType::kNone: break;
  }
  bad_value(op, spec, cat("cannot parse '", text, "'"));
}

OpParams OpParams::parse(const OpDef& op, int num, const char* const* keys,
                         const ParamValue* values) {
  OpParams p = parse(op.name, op.params, num, keys, values);
  p.op_ = &op;
  return p;
}

OpParams OpParams::parse(const std::string& owner, const std::vector<ParamSpec>& specs, int num,
                         const char* const* keys, const ParamValue* values) {
  OpParams p;
  p.owner_ = &owner;
  p.specs_ = &specs;
  p.values_.reserve(specs.size());
  for (const auto& spec : specs) p.values_.push_back(spec.default_value);
  p.given_.assign(specs.size(), false);
  MXN_CHECK(num >= 0, ErrorCode::kInvalidArg, owner, ": negative parameter count");
  MXN_CHECK(num == 0 || (keys != nullptr && values != nullptr), ErrorCode::kInvalidArg, owner,
            ": NULL parameter keys or values");
  for (int k = 0; k < num; ++k) {
    MXN_CHECK(keys[k] != nullptr, ErrorCode::kInvalidArg, owner, ": parameter name ", k,
              " is NULL");
    int idx = p.index_of(keys[k]);
    if (idx < 0) {
      std::string names;
      for (const auto& spec : specs) names += (names.empty() ? "" : ", ") + spec.name;
      throw Error(ErrorCode::kInvalidArg,
                  cat(owner, " has no parameter '", keys[k], "'",
                      names.empty() ? std::string(" (it takes none)")
                                    : cat(" (parameters: ", names, ")")))
          .with_op(owner);
    }
    p.values_[idx] = coerce_param(owner, specs[idx], values[k]);
    p.given_[idx] = true;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].required && p.values_[i].kind == ParamType::kNone) {
      throw Error(ErrorCode::kInvalidArg,
                  cat(owner, ": required parameter '", specs[i].name, "' is missing"))
          .with_op(owner);
    }
  }
  return p;
}

int OpParams::index_of(const char* name) const {
  for (size_t i = 0; i < specs_->size(); ++i) {
    if (std::strcmp((*specs_)[i].name.c_str(), name) == 0) return static_cast<int>(i);
  }
  return -1;
}

const ParamValue& OpParams::get(const char* name) const {
  int idx = index_of(name);
  MXN_CHECK(idx >= 0, ErrorCode::kInternal, *owner_, " reads undeclared parameter '", name, "'");
  return values_[idx];
}

void OpParams::set(const char* name, const ParamValue& v) {
  int idx = index_of(name);
  MXN_CHECK(idx >= 0, ErrorCode::kInternal, *owner_, " sets undeclared parameter '", name, "'");
  values_[idx] = coerce_param(*owner_, (*specs_)[idx], v);
  given_[idx] = true;
}

}  // namespace mxn
