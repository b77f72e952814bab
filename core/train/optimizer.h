// Optimizers with Apache MXNet 1.x's rules (python/mxnet/optimizer/optimizer.py), their
// per-parameter state kept here in the core (DESIGN §6: never pickled), updates run by the
// fused update operators (sgd_mom_update, adam_update, ...) through invoke_op, so the engine
// orders them with everything else touching the weights.
//
// A parameter is identified by an integer index or by a name (KVStore string keys): MXNet's
// optimizer accepts both. lr_mult / wd_mult may be given per index or per name; names come
// from set_param_name (MXNet's idx2name). As in MXNet, a parameter whose name is known and does
// not end in "_weight" or "_gamma" gets wd_mult 0 unless a wd_mult is given for it.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/ndarray.h"
#include "core/train/config.h"
#include "core/train/lr_scheduler.h"

namespace mxn::train {

struct ParamKey {
  bool named = false;
  int64_t index = 0;
  std::string name;
  static ParamKey of_index(int64_t i) { return ParamKey{false, i, {}}; }
  static ParamKey of_name(std::string n) { return ParamKey{true, 0, std::move(n)}; }
  std::string code() const { return named ? "s:" + name : "i:" + std::to_string(index); }
  std::string str() const { return named ? "'" + name + "'" : std::to_string(index); }
};

class Optimizer {
 public:
  // def: an "optimizer" registry entry; params parsed by parse_config.
  Optimizer(const ConfigDef& def, OpParams params);
  static std::unique_ptr<Optimizer> create(const std::string& name, int num,
                                           const char* const* keys, const ParamValue* values);

  const std::string& name() const { return def_->name; }
  // Hyper-parameters by their registry name (learning_rate, wd, rescale_grad, momentum, ...);
  // learning_rate with a scheduler sets the scheduler's base_lr (as MXNet does).
  void set_param(const std::string& key, const ParamValue& value);
  ParamValue get_param(const std::string& key) const;
  void set_scheduler(std::shared_ptr<LRScheduler> s);
  const std::shared_ptr<LRScheduler>& scheduler() const { return scheduler_; }
  void set_param_name(int64_t index, const std::string& name);
  // which: 0 lr_mult, 1 wd_mult.
  void set_mult(int which, const ParamKey& key, double value);
  void clear_mults(int which);

  // One MXNet update step: counts the update, computes lr and wd, creates the state on first
  // use (zeros; float32 master copy for float16 weights with multi_precision), and updates
  // `weight` in place from `grad`.
  void update(const ParamKey& key, const NDArray& weight, const NDArray& grad);
  // The learning rate / weight decay the next update of `key` would use (without counting it).
  double learning_rate(const ParamKey& key) const;
  double weight_decay(const ParamKey& key) const;
  int64_t num_update() const { return num_update_; }
  int64_t update_count(const ParamKey& key) const;
  // The state arrays of a parameter (empty when it has none yet). Multi-precision puts the
  // float32 master weight last.
  std::vector<NDArray> states(const ParamKey& key) const;

  // The optimizer's configuration as bytes, not its state: name, every parameter's typed
  // value, the parameter names (set_param_name), the lr/wd multipliers, and the scheduler's
  // name, parameters and base_lr. dist_async sends it to the servers, which make their own
  // optimizer with from_config (the registry coerces every value again: a server only ever
  // builds registered optimizers from typed values, never runs received code). Format
  // (little-endian): "MXNOPTC1", uint32 n + name, uint32 count, per parameter uint32 n + key
  // and a typed value (uint8 MXN_VALUE_* tag; int/bool int64, float float64 bits, string
  // uint32 n + bytes, shape uint32 ndim + int64s, none nothing); uint32 count of (int64
  // index, name); uint32 count of names known; two lists (lr, wd) of (uint32 n + key code,
  // float64); uint8 has scheduler, then its name, parameters as above, float64 base_lr.
  std::string config() const;
  static std::unique_ptr<Optimizer> from_config(const void* data, size_t size);

  // The states as bytes (format in docs/architecture.md, "Optimizer state files") and back.
  // Loading replaces every state and update count; arrays load on the CPU.
  std::string save_states() const;
  void load_states(const void* data, size_t size);

 private:
  struct Entry {
    ParamKey key;
    int64_t count = 0;
    std::vector<NDArray> states;
    bool created = false;
  };
  void create_state(Entry& e, const NDArray& weight);
  void apply(const std::vector<NDArray>& states, size_t n_states, const NDArray& weight,
             const NDArray& grad, double lr, double wd, int64_t t);
  double mult(int which, const ParamKey& key) const;
  double lr_base() const;

  const ConfigDef* def_;
  OpParams params_;
  std::shared_ptr<LRScheduler> scheduler_;
  std::map<int64_t, std::string> idx2name_;
  std::map<std::string, bool> known_names_;
  std::map<std::string, double> mults_[2];  // by ParamKey::code()
  std::map<std::string, Entry> entries_;
  int64_t num_update_ = 0;
};

}  // namespace mxn::train
