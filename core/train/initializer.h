// Initializers with Apache MXNet 1.x's rules (python/mxnet/initializer.py): a parameter is
// initialised by its `__init__` attribute when it has one (JSON '["xavier", {"magnitude": 2}]'
// or a bare name), else by its name's suffix: *weight -> the initializer's weight rule,
// *bias, *beta, *min, *moving_mean, *running_mean, *moving_inv_var -> 0, *gamma, *max,
// *moving_var, *running_var -> 1 (the moving statistics get MXNet's BatchNorm variable
// attributes "zero"/"one" as rules here); anything else is an error. Random draws go through
// the core's counter-based random operators, so results depend only on the seed and the order
// of calls.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/ndarray.h"
#include "core/train/config.h"

namespace mxn::train {

class Initializer {
 public:
  Initializer(const ConfigDef* def, OpParams params);
  // By registry name ("uniform", "normal", "constant", "zero", "one", "xavier", "msraprelu",
  // "orthogonal", "bilinear") with typed parameters.
  static std::shared_ptr<Initializer> create(const std::string& name, int num,
                                             const char* const* keys, const ParamValue* values);
  // From an `__init__` attribute: '["name", {kwargs}]' or "name".
  static std::shared_ptr<Initializer> from_json(const std::string& text);
  // MXNet's Mixed: the first pattern (a regular expression matched at the start of the name,
  // like Python's re.match) whose initializer applies.
  static std::shared_ptr<Initializer> mixed(std::vector<std::string> patterns,
                                            std::vector<std::shared_ptr<Initializer>> inits);
  // MXNet's Load: arrays by name ("arg:"/"aux:" prefixes dropped), else default_init (may be
  // null: then a name that is not there is an error).
  static std::shared_ptr<Initializer> load(const std::vector<std::string>& names,
                                           const std::vector<NDArray>& arrays,
                                           std::shared_ptr<Initializer> default_init);

  // Initialises `arr` for the parameter `name` whose __init__ attribute is `init_attr` ("" for
  // none), in place.
  void operator()(const std::string& name, const std::string& init_attr, const NDArray& arr) const;
  // The weight rule alone (what a Variable's init= applies whatever the name).
  void init_weight(const std::string& name, const NDArray& arr) const;
  const std::string& name() const { return kind_; }

 private:
  const ConfigDef* def_ = nullptr;
  OpParams params_;
  std::string kind_;
  std::vector<std::string> patterns_;
  std::vector<std::shared_ptr<Initializer>> children_;  // mixed; load: [default]
  std::vector<std::string> load_names_;
  std::vector<NDArray> load_arrays_;
};

}  // namespace mxn::train
