// Evaluation metrics with Apache MXNet 1.x's arithmetic (python/mxnet/metric.py), computed
// here so every front end reports the same numbers. Each keeps a local (since reset_local) and
// a global (since reset) sum and count, as MXNet's EvalMetric does.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/ndarray.h"
#include "core/train/config.h"

namespace mxn::train {

class Metric {
 public:
  Metric(const ConfigDef* def, OpParams params);
  static std::shared_ptr<Metric> create(const std::string& name, int num, const char* const* keys,
                                        const ParamValue* values);
  static std::shared_ptr<Metric> composite(std::vector<std::shared_ptr<Metric>> children);

  // One batch: labels[i] goes with preds[i] (waits for them).
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds);
  void reset();        // local and global
  void reset_local();  // local only
  // (name, value) pairs: one for a metric, one per child for a composite; NaN before data.
  void get(bool global, std::vector<std::string>* names, std::vector<double>* values) const;
  const std::string& kind() const { return kind_; }
  const std::string& display_name() const { return display_; }
  void add_child(std::shared_ptr<Metric> child);
  size_t num_children() const { return children_.size(); }

 private:
  struct Binary {
    double tp = 0, fp = 0, fn = 0, tn = 0;
    double total() const { return tp + fp + fn + tn; }
    double fscore() const;
    double mcc() const;
  };
  void update_pair(const NDArray& label, const NDArray& pred);
  void add(double sum, double num) {
    sum_ += sum;
    num_ += num;
    gsum_ += sum;
    gnum_ += num;
  }

  const ConfigDef* def_;
  OpParams params_;
  std::string kind_, display_;
  double sum_ = 0, num_ = 0, gsum_ = 0, gnum_ = 0;
  Binary local_, global_;
  // Pearson micro: running sums (local, global).
  double ps_[2][6] = {};
  std::vector<std::shared_ptr<Metric>> children_;
};

}  // namespace mxn::train
