// mxn_op_schema_json(): the registry as JSON, the single input of every binding generator.
#include <algorithm>

#include "core/base/json.h"
#include "core/op/op.h"

namespace mxn {

namespace {

void write_value(std::string& out, const ParamValue& v) {
  switch (v.kind) {
    case ParamType::kNone: out += "null"; break;
    case ParamType::kInt: out += std::to_string(v.i); break;
    case ParamType::kFloat: {
      std::string num = cat(v.f);
      if (num == "inf") num = "1e999";
      if (num == "-inf") num = "-1e999";
      out += num;
      break;
    }
    case ParamType::kBool: out += v.i ? "true" : "false"; break;
    case ParamType::kString: json_quote(out, v.s); break;
    case ParamType::kShape: {
      out += '[';
      for (int i = 0; i < v.shape.ndim(); ++i) out += (i ? "," : "") + std::to_string(v.shape[i]);
      out += ']';
      break;
    }
    case ParamType::kDType: json_quote(out, dtype_name(v.dtype)); break;
    case ParamType::kDevice: json_quote(out, v.device.str()); break;
  }
}

void write_strings(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    json_quote(out, items[i]);
  }
  out += ']';
}

void write_op(std::string& out, const OpDef& op) {
  out += "{\"name\":";
  json_quote(out, op.name);
  out += ",\"aliases\":";
  write_strings(out, op.aliases);
  out += ",\"doc\":";
  json_quote(out, op.doc);
  out += ",\"inputs\":[";
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    if (i) out += ',';
    out += "{\"name\":";
    json_quote(out, op.inputs[i].name);
    out += ",\"doc\":";
    json_quote(out, op.inputs[i].doc);
    out += ",\"optional\":";
    out += op.inputs[i].optional ? "true" : "false";
    out += '}';
  }
  out += "],\"variadic\":";
  if (op.variadic_count.empty()) {
    out += "null";
  } else {
    json_quote(out, op.variadic_count);
  }
  out += ",\"params\":";
  write_param_specs_json(out, op.params);
  out += ",\"outputs\":";
  write_strings(out, op.outputs);
  out += ",\"differentiable\":";
  out += op.gradient ? "true" : "false";
  out += ",\"uses_random\":";
  out += op.uses_random ? "true" : "false";
  out += '}';
}

}  // namespace

void write_param_specs_json(std::string& out, const std::vector<ParamSpec>& specs) {
  out += '[';
  for (size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec& p = specs[i];
    if (i) out += ',';
    out += "{\"name\":";
    json_quote(out, p.name);
    out += ",\"type\":";
    json_quote(out, param_type_name(p.type));
    out += ",\"type_code\":" + std::to_string(static_cast<int>(p.type));
    out += ",\"required\":";
    out += p.required ? "true" : "false";
    out += ",\"nullable\":";
    out += p.nullable ? "true" : "false";
    out += ",\"default\":";
    write_value(out, p.default_value);
    out += ",\"choices\":";
    write_strings(out, p.choices);
    out += ",\"doc\":";
    json_quote(out, p.doc);
    out += '}';
  }
  out += ']';
}

std::string op_schema_to_json(std::vector<const OpDef*> ops) {
  std::sort(ops.begin(), ops.end(), [](const OpDef* a, const OpDef* b) { return a->name < b->name; });
  std::string out = "{\"schema_version\":1,\"ops\":[";
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i) out += ",\n";
    write_op(out, *ops[i]);
  }
  out += "]}";
  return out;
}

}  // namespace mxn
