#include "core/train/lr_scheduler.h"

#include <cmath>

#include "core/base/error.h"

namespace mxn::train {
namespace {

ConfigDef& warmup(ConfigDef& d) {
  return d.param("base_lr", ParamType::kFloat, ParamValue::of_float(0.01), "Initial learning rate.")
      .param("warmup_steps", ParamType::kInt, ParamValue::of_int(0),
             "Updates of warm-up before the schedule starts.")
      .param("warmup_begin_lr", ParamType::kFloat, ParamValue::of_float(0.0),
             "Learning rate at the start of the warm-up.")
      .choice("warmup_mode", {"linear", "constant"}, "linear",
              "linear: from warmup_begin_lr up to base_lr; constant: warmup_begin_lr.");
}

MXN_CONFIG_REGISTRATION =
    warmup(ConfigRegistry::get()
               .add("lr_scheduler", "factor")
               .alias("FactorScheduler")
               .describe("lr = base_lr * factor^floor(num_update / step), not below "
                         "stop_factor_lr.")
               .required("step", ParamType::kInt, "Updates between two decays (>= 1).")
               .param("factor", ParamType::kFloat, ParamValue::of_float(1.0),
                      "Multiplier per step (<= 1).")
               .param("stop_factor_lr", ParamType::kFloat, ParamValue::of_float(1e-8),
                      "Lower bound of the learning rate."));

MXN_CONFIG_REGISTRATION =
    warmup(ConfigRegistry::get()
               .add("lr_scheduler", "multifactor")
               .alias("MultiFactorScheduler")
               .describe("lr = base_lr * factor^(number of steps passed).")
               .required("step", ParamType::kShape, "Increasing update counts at which to decay.")
               .param("factor", ParamType::kFloat, ParamValue::of_float(1.0),
                      "Multiplier per step (<= 1)."));

MXN_CONFIG_REGISTRATION =
    warmup(ConfigRegistry::get()
               .add("lr_scheduler", "poly")
               .alias("PolyScheduler")
               .describe("lr = final_lr + (base_lr - final_lr) * (1 - (num_update - "
                         "warmup_steps) / (max_update - warmup_steps))^pwr.")
               .required("max_update", ParamType::kInt, "Updates after which lr = final_lr.")
               .param("pwr", ParamType::kFloat, ParamValue::of_float(2.0), "Power of the decay.")
               .param("final_lr", ParamType::kFloat, ParamValue::of_float(0.0),
                      "Final learning rate."));

MXN_CONFIG_REGISTRATION =
    warmup(ConfigRegistry::get()
               .add("lr_scheduler", "cosine")
               .alias("CosineScheduler")
               .describe("lr = final_lr + (base_lr - final_lr) * (1 + cos(pi * (num_update - "
                         "warmup_steps) / (max_update - warmup_steps))) / 2.")
               .required("max_update", ParamType::kInt, "Updates after which lr = final_lr.")
               .param("final_lr", ParamType::kFloat, ParamValue::of_float(0.0),
                      "Final learning rate."));

}  // namespace

LRScheduler::LRScheduler(const ConfigDef& def, const OpParams& p)
    : def_(&def), params_(p), kind_(def.name) {
  base_lr_ = p.get_float("base_lr");
  warmup_final_lr_ = base_lr_;
  warmup_begin_lr_ = p.get_float("warmup_begin_lr");
  warmup_steps_ = p.get_int("warmup_steps");
  warmup_linear_ = p.get_string("warmup_mode") == "linear";
  MXN_CHECK(warmup_steps_ >= 0, ErrorCode::kInvalidArg, "warmup_steps must be >= 0");
  MXN_CHECK(warmup_begin_lr_ <= base_lr_, ErrorCode::kInvalidArg,
            "Base lr has to be higher than warmup_begin_lr");
  if (kind_ == "factor") {
    step_ = p.get_int("step");
    factor_ = p.get_float("factor");
    stop_factor_lr_ = p.get_float("stop_factor_lr");
    MXN_CHECK(step_ >= 1, ErrorCode::kInvalidArg, "Schedule step must be greater or equal than 1 round");
    MXN_CHECK(factor_ <= 1.0, ErrorCode::kInvalidArg, "Factor must be no more than 1 to make lr reduce");
  } else if (kind_ == "multifactor") {
    const Shape& s = p.get_shape("step");
    MXN_CHECK(s.ndim() >= 1, ErrorCode::kInvalidArg, "step must hold at least one update count");
    for (int i = 0; i < s.ndim(); ++i) {
      if (i > 0) {
        MXN_CHECK(s[i] > s[i - 1], ErrorCode::kInvalidArg,
                  "Schedule step must be an increasing integer list");
      }
      MXN_CHECK(s[i] >= 1, ErrorCode::kInvalidArg, "Schedule step must be greater or equal than 1 round");
      steps_.push_back(s[i]);
    }
    factor_ = p.get_float("factor");
    MXN_CHECK(factor_ <= 1.0, ErrorCode::kInvalidArg, "Factor must be no more than 1 to make lr reduce");
  } else {
    max_update_ = p.get_int("max_update");
    MXN_CHECK(max_update_ >= 1, ErrorCode::kInvalidArg, "maximum number of updates must be strictly positive");
    final_lr_ = p.get_float("final_lr");
    if (kind_ == "poly") pwr_ = p.get_float("pwr");
    base_lr_orig_ = base_lr_;
    max_steps_ = max_update_ - warmup_steps_;
    MXN_CHECK(max_steps_ > 0, ErrorCode::kInvalidArg, "max_update must be larger than warmup_steps");
  }
}

double LRScheduler::warmup_lr(int64_t n) const {
  if (!warmup_linear_) return warmup_begin_lr_;
  return warmup_begin_lr_ + (warmup_final_lr_ - warmup_begin_lr_) * static_cast<double>(n) /
                                static_cast<double>(warmup_steps_);
}

double LRScheduler::operator()(int64_t n) {
  if (n < warmup_steps_) return warmup_lr(n);
  if (kind_ == "factor") {
    while (n > count_ + step_) {
      count_ += step_;
      base_lr_ *= factor_;
      if (base_lr_ < stop_factor_lr_) base_lr_ = stop_factor_lr_;
    }
    return base_lr_;
  }
  if (kind_ == "multifactor") {
    while (cur_step_ind_ < steps_.size()) {
      if (n > steps_[cur_step_ind_]) {
        count_ = steps_[cur_step_ind_];
        ++cur_step_ind_;
        base_lr_ *= factor_;
      } else {
        return base_lr_;
      }
    }
    return base_lr_;
  }
  if (n <= max_update_) {
    const double frac = static_cast<double>(n - warmup_steps_) / static_cast<double>(max_steps_);
    if (kind_ == "poly") {
      base_lr_ = final_lr_ + (base_lr_orig_ - final_lr_) * std::pow(1.0 - frac, pwr_);
    } else {
      base_lr_ = final_lr_ + (base_lr_orig_ - final_lr_) * (1.0 + std::cos(M_PI * frac)) / 2.0;
    }
  }
  return base_lr_;
}

}  // namespace mxn::train
