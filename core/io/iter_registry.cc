// The iterator registry and its schema JSON (the same shape as the operator schema's params).
#include <algorithm>
#include <mutex>

#include "core/base/json.h"
#include "core/io/data_iter.h"

namespace mxn::io {

IterDef& IterDef::describe(std::string text) {
  doc = std::move(text);
  return *this;
}

IterDef& IterDef::param(std::string pname, ParamType type, ParamValue default_value,
                        std::string pdoc) {
  ParamSpec s;
  s.name = std::move(pname);
  s.type = type;
  s.doc = std::move(pdoc);
  s.default_value = std::move(default_value);
  params.push_back(std::move(s));
  return *this;
}

IterDef& IterDef::required(std::string pname, ParamType type, std::string pdoc) {
  ParamSpec s;
  s.name = std::move(pname);
  s.type = type;
  s.doc = std::move(pdoc);
  s.required = true;
  params.push_back(std::move(s));
  return *this;
}

IterDef& IterDef::factory(IterFactory fn) {
  create = std::move(fn);
  return *this;
}

IterRegistry& IterRegistry::get() {
  static IterRegistry* r = new IterRegistry();  // never destroyed (static registrations)
  return *r;
}

IterDef& IterRegistry::add(const std::string& name) {
  auto d = std::make_unique<IterDef>();
  d->name = name;
  defs_.push_back(std::move(d));
  return *defs_.back();
}

const IterDef* IterRegistry::find(const std::string& name) const {
  for (const auto& d : defs_) {
    if (d->name == name) return d.get();
  }
  return nullptr;
}

std::vector<const IterDef*> IterRegistry::list() const {
  std::vector<const IterDef*> v;
  for (const auto& d : defs_) v.push_back(d.get());
  std::sort(v.begin(), v.end(), [](const IterDef* a, const IterDef* b) { return a->name < b->name; });
  return v;
}

namespace {


}  // namespace

const std::string& IterRegistry::schema_json() {
  static std::once_flag once;
  std::call_once(once, [this] {
    std::string out = "{\"schema_version\":1,\"iterators\":[";
    bool first = true;
    for (const IterDef* d : list()) {
      if (!first) out += ",\n";
      first = false;
      out += "{\"name\":";
      json_quote(out, d->name);
      out += ",\"doc\":";
      json_quote(out, d->doc);
      out += ",\"params\":";
      write_param_specs_json(out, d->params);
      out += "}";
    }
    out += "]}";
    schema_ = std::move(out);
  });
  return schema_;
}

std::unique_ptr<DataIter> create_iter(const std::string& name, int num, const char* const* keys,
                                      const ParamValue* values) {
  const IterDef* def = IterRegistry::get().find(name);
  if (def == nullptr) {
    std::string names;
    for (const IterDef* d : IterRegistry::get().list()) names += (names.empty() ? "" : ", ") + d->name;
    throw Error(ErrorCode::kInvalidArg,
                cat("no data iterator named '", name, "' (iterators: ", names, ")"));
  }
  OpParams params = OpParams::parse(def->name, def->params, num, keys, values);
  try {
    return def->create(params);
  } catch (Error& e) {
    if (e.op_name().empty()) e.with_op(def->name);
    if (e.message().rfind(def->name + ":", 0) != 0) e.prefix(def->name);
    throw;
  }
}

}  // namespace mxn::io
