// Learning-rate schedulers with Apache MXNet 1.x's arithmetic (python/mxnet/lr_scheduler.py):
// factor, multifactor, poly, cosine, each with linear or constant warm-up. A scheduler is
// stateful exactly as MXNet's is (Factor and MultiFactor advance base_lr as num_update grows).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/train/config.h"

namespace mxn::train {

class LRScheduler {
 public:
  // name: "factor", "multifactor", "poly", "cosine"; params per the registry.
  LRScheduler(const ConfigDef& def, const OpParams& params);
  // The learning rate for the given number of updates.
  double operator()(int64_t num_update);
  double base_lr() const { return base_lr_; }
  // What an optimizer does with its learning_rate (MXNet sets scheduler.base_lr).
  void set_base_lr(double lr) { base_lr_ = lr; }
  const std::string& name() const { return def_->name; }
  // The parameters it was created with (dist_async sends them to the servers).
  const OpParams& params() const { return params_; }
  const ConfigDef& def() const { return *def_; }

 private:
  double warmup_lr(int64_t num_update) const;
  const ConfigDef* def_;
  OpParams params_;
  std::string kind_;
  double base_lr_, warmup_final_lr_, warmup_begin_lr_;
  int64_t warmup_steps_;
  bool warmup_linear_;
  // factor / multifactor
  int64_t step_ = 1;
  std::vector<int64_t> steps_;
  double factor_ = 1, stop_factor_lr_ = 1e-8;
  int64_t count_ = 0;
  size_t cur_step_ind_ = 0;
  // poly / cosine
  int64_t max_update_ = 0, max_steps_ = 0;
  double base_lr_orig_ = 0, final_lr_ = 0, pwr_ = 2;
};

}  // namespace mxn::train
