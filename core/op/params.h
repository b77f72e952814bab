// Typed operator parameters: what a parameter may hold, how values are coerced to its declared
// type, and the parsed set an operator's kernels read.
#pragma once
#include <string>
#include <vector>

#include "core/base/device.h"
#include "core/base/dtype.h"
#include "core/base/shape.h"

namespace mxn {

struct OpDef;

// MXNet spells missing entries of tuple parameters as None ("(None, 2)", slice begin/end). A
// shape value cannot hold None, so such an entry travels as this value, from every front end
// and from the symbol JSON reader.
constexpr int64_t kNoneIndex = INT64_MIN;

// Declared types; values match the MXN_VALUE_* tags of the C ABI.
enum class ParamType : int32_t {
  kNone = 0,  // only as a value: "not given" / Python None
  kInt = 1,
  kFloat = 2,
  kBool = 3,
  kString = 4,  // with choices: an enumeration (act_type='relu')
  kShape = 5,   // a tuple of ints (axes, kernels, shapes)
  kDType = 6,
  kDevice = 7,
};
const char* param_type_name(ParamType t);

struct ParamValue {
  ParamType kind = ParamType::kNone;
  int64_t i = 0;  // kInt, kBool
  double f = 0;   // kFloat
  std::string s;  // kString
  Shape shape;    // kShape
  DType dtype = DType::kFloat32;
  Device device;

  static ParamValue none() { return {}; }
  static ParamValue of_int(int64_t v);
  static ParamValue of_float(double v);
  static ParamValue of_bool(bool v);
  static ParamValue of_string(std::string v);
  static ParamValue of_shape(const Shape& v);
  static ParamValue of_dtype(DType v);
  static ParamValue of_device(Device v);
  std::string str() const;  // as MXNet writes it in symbol JSON ("(2,3)", "True", "float32")
  bool operator==(const ParamValue& o) const;
  bool operator!=(const ParamValue& o) const { return !(*this == o); }
};

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kInt;
  std::string doc;
  bool required = false;
  bool nullable = false;  // None is a meaningful value (axis=None: all axes)
  ParamValue default_value;
  std::vector<std::string> choices;  // kString enumerations
};

// Appends specs as the JSON array every schema uses (operators, iterators, optimizers):
// name, type, type_code, required, nullable, default, choices, doc.
void write_param_specs_json(std::string& out, const std::vector<ParamSpec>& specs);

// Coerces `v` to the declared type (int -> float, int -> 1-tuple shape, 0/1 -> bool, ...);
// throws kInvalidArg naming the operator and the parameter.
ParamValue coerce_param(const OpDef& op, const ParamSpec& spec, const ParamValue& v);
// The same for any owner of typed parameters (operators, data iterators): `owner` is the name
// the error message and its op_name field carry.
ParamValue coerce_param(const std::string& owner, const ParamSpec& spec, const ParamValue& v);
// Parses the string form MXNet stores in symbol JSON attributes.
ParamValue parse_param_string(const OpDef& op, const ParamSpec& spec, const std::string& text);

class OpParams {
 public:
  OpParams() = default;
  // Defaults first, then each given key (unknown keys and missing required ones are errors).
  static OpParams parse(const OpDef& op, int num, const char* const* keys,
                        const ParamValue* values);
  static OpParams defaults(const OpDef& op) { return parse(op, 0, nullptr, nullptr); }
  // The same for a parameter list owned by something else (a data iterator); `owner` and
  // `specs` must outlive the result. op() must not be called on it.
  static OpParams parse(const std::string& owner, const std::vector<ParamSpec>& specs, int num,
                        const char* const* keys, const ParamValue* values);

  const ParamValue& get(const char* name) const;
  bool is_none(const char* name) const { return get(name).kind == ParamType::kNone; }
  int64_t get_int(const char* name) const { return get(name).i; }
  double get_float(const char* name) const { return get(name).f; }
  bool get_bool(const char* name) const { return get(name).i != 0; }
  const std::string& get_string(const char* name) const { return get(name).s; }
  const Shape& get_shape(const char* name) const { return get(name).shape; }
  DType get_dtype(const char* name) const { return get(name).dtype; }
  Device get_device(const char* name) const { return get(name).device; }
  void set(const char* name, const ParamValue& v);
  const OpDef& op() const { return *op_; }
  const std::vector<ParamValue>& values() const { return values_; }
  // Which parameters were given explicitly (symbol JSON writes only those).
  const std::vector<bool>& given() const { return given_; }

 private:
  int index_of(const char* name) const;
  const OpDef* op_ = nullptr;
  const std::string* owner_ = nullptr;            // op_->name or the iterator's name
  const std::vector<ParamSpec>* specs_ = nullptr;  // op_->params or the iterator's specs
  std::vector<ParamValue> values_;
  std::vector<bool> given_;
};

}  // namespace mxn
