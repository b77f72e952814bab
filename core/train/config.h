// Configurable training objects (optimizers, learning-rate schedulers, initializers, metrics):
// each kind has a registry of named definitions with typed parameters, like operators and data
// iterators, so every front end creates them by name with typed values and generates its
// classes from mxn_train_schema_json() (DESIGN §1: the rules live here, written once).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/op/params.h"

namespace mxn::train {

struct ConfigDef {
  std::string kind;  // "optimizer", "lr_scheduler", "initializer", "metric"
  std::string name;  // canonical (MXNet's registered name, lower case)
  std::vector<std::string> aliases;
  std::string doc;
  std::vector<ParamSpec> params;

  ConfigDef& describe(std::string text);
  ConfigDef& alias(std::string a);
  ConfigDef& param(std::string name, ParamType type, ParamValue default_value, std::string doc);
  ConfigDef& nullable(std::string name, ParamType type, std::string doc);
  ConfigDef& required(std::string name, ParamType type, std::string doc);
  ConfigDef& choice(std::string name, std::vector<std::string> choices, std::string default_value,
                    std::string doc);
  bool has_param(const std::string& n) const;
};

class ConfigRegistry {
 public:
  static ConfigRegistry& get();
  ConfigDef& add(const std::string& kind, const std::string& name);
  // By name or alias, case-insensitively (MXNet lower-cases registry names); throws
  // kInvalidArg listing the known names when there is none.
  const ConfigDef& find(const std::string& kind, const std::string& name) const;
  const ConfigDef* try_find(const std::string& kind, const std::string& name) const;
  std::vector<const ConfigDef*> list(const std::string& kind) const;
  // {"schema_version":1,"optimizer":[...],"lr_scheduler":[...],"initializer":[...],
  //  "metric":[...]}; each entry {name, aliases, doc, params:[{name,type,type_code,required,
  //  nullable,default,choices,doc}]}. Built once.
  const std::string& schema_json();

 private:
  ConfigRegistry() = default;
  std::vector<std::unique_ptr<ConfigDef>> defs_;
  std::string schema_;
};

// Defaults, then the given typed values coerced to the declared types.
OpParams parse_config(const ConfigDef& def, int num, const char* const* keys,
                      const ParamValue* values);

// The parameter as a double (int, float, bool); None -> fallback.
double param_or(const OpParams& p, const char* name, double fallback);

}  // namespace mxn::train

#define MXN_TRAIN_CONCAT_(a, b) a##b
#define MXN_TRAIN_CONCAT(a, b) MXN_TRAIN_CONCAT_(a, b)
#define MXN_REGISTER_CONFIG(kind, name)                                                   \
  static ::mxn::train::ConfigDef& MXN_TRAIN_CONCAT(mxn_config_registration_, __COUNTER__) \
      [[maybe_unused]] = ::mxn::train::ConfigRegistry::get().add(kind, name)
// For registrations that wrap the builder in a helper: MXN_CONFIG_REGISTRATION = helper(...);
#define MXN_CONFIG_REGISTRATION \
  static ::mxn::train::ConfigDef& MXN_TRAIN_CONCAT(mxn_config_registration_, __COUNTER__) [[maybe_unused]]
