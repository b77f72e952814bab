#include "core/train/config.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "core/base/error.h"
#include "core/base/json.h"

namespace mxn::train {

ConfigDef& ConfigDef::describe(std::string text) {
  doc = std::move(text);
  return *this;
}
ConfigDef& ConfigDef::alias(std::string a) {
  aliases.push_back(std::move(a));
  return *this;
}
ConfigDef& ConfigDef::param(std::string n, ParamType type, ParamValue dv, std::string d) {
  ParamSpec s;
  s.name = std::move(n);
  s.type = type;
  s.doc = std::move(d);
  s.default_value = std::move(dv);
  params.push_back(std::move(s));
  return *this;
}
ConfigDef& ConfigDef::nullable(std::string n, ParamType type, std::string d) {
  param(std::move(n), type, ParamValue::none(), std::move(d));
  params.back().nullable = true;
  return *this;
}
ConfigDef& ConfigDef::required(std::string n, ParamType type, std::string d) {
  param(std::move(n), type, ParamValue::none(), std::move(d));
  params.back().required = true;
  return *this;
}
ConfigDef& ConfigDef::choice(std::string n, std::vector<std::string> choices, std::string dv,
                             std::string d) {
  param(std::move(n), ParamType::kString, ParamValue::of_string(std::move(dv)), std::move(d));
  params.back().choices = std::move(choices);
  return *this;
}
bool ConfigDef::has_param(const std::string& n) const {
  for (const auto& p : params) {
    if (p.name == n) return true;
  }
  return false;
}

ConfigRegistry& ConfigRegistry::get() {
  static ConfigRegistry* r = new ConfigRegistry();  // never destroyed (static registrations)
  return *r;
}

ConfigDef& ConfigRegistry::add(const std::string& kind, const std::string& name) {
  auto d = std::make_unique<ConfigDef>();
  d->kind = kind;
  d->name = name;
  defs_.push_back(std::move(d));
  return *defs_.back();
}

namespace {
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

const ConfigDef* ConfigRegistry::try_find(const std::string& kind, const std::string& name) const {
  const std::string n = lower(name);
  for (const auto& d : defs_) {
    if (d->kind != kind) continue;
    if (lower(d->name) == n) return d.get();
    for (const auto& a : d->aliases) {
      if (lower(a) == n) return d.get();
    }
  }
  return nullptr;
}

const ConfigDef& ConfigRegistry::find(const std::string& kind, const std::string& name) const {
  const ConfigDef* d = try_find(kind, name);
  if (d == nullptr) {
    std::string names;
    for (const ConfigDef* x : list(kind)) names += (names.empty() ? "" : ", ") + x->name;
    throw_error(ErrorCode::kInvalidArg,
                cat("unknown ", kind, " '", name, "' (registered: ", names, ")"));
  }
  return *d;
}

std::vector<const ConfigDef*> ConfigRegistry::list(const std::string& kind) const {
  std::vector<const ConfigDef*> v;
  for (const auto& d : defs_) {
    if (d->kind == kind) v.push_back(d.get());
  }
  std::sort(v.begin(), v.end(),
            [](const ConfigDef* a, const ConfigDef* b) { return a->name < b->name; });
  return v;
}

namespace {
}  // namespace

const std::string& ConfigRegistry::schema_json() {
  static std::once_flag once;
  std::call_once(once, [this] {
    std::string out = "{\"schema_version\":1";
    for (const char* kind : {"optimizer", "lr_scheduler", "initializer", "metric"}) {
      out += ",\n\"";
      out += kind;
      out += "\":[";
      bool first = true;
      for (const ConfigDef* d : list(kind)) {
        if (!first) out += ",\n";
        first = false;
        out += "{\"name\":";
        json_quote(out, d->name);
        out += ",\"aliases\":[";
        for (size_t i = 0; i < d->aliases.size(); ++i) {
          if (i) out += ',';
          json_quote(out, d->aliases[i]);
        }
        out += "],\"doc\":";
        json_quote(out, d->doc);
        out += ",\"params\":";
        write_param_specs_json(out, d->params);
        out += "}";
      }
      out += "]";
    }
    out += "}";
    schema_ = std::move(out);
  });
  return schema_;
}

OpParams parse_config(const ConfigDef& def, int num, const char* const* keys,
                      const ParamValue* values) {
  return OpParams::parse(def.name, def.params, num, keys, values);
}

double param_or(const OpParams& p, const char* name, double fallback) {
  const ParamValue& v = p.get(name);
  switch (v.kind) {
    case ParamType::kFloat: return v.f;
    case ParamType::kInt:
    case ParamType::kBool: return static_cast<double>(v.i);
    default: return fallback;
  }
}

}  // namespace mxn::train
