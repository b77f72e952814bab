#include "core/train/metric.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/base/error.h"
#include "core/train/train_util.h"

namespace mxn::train {
namespace {

ConfigDef& metric_def(const char* name, const char* cls, const char* doc) {
  return ConfigRegistry::get()
      .add("metric", name)
      .alias(cls)
      .describe(doc)
      .nullable("name", ParamType::kString, "Name shown with the value (default: the metric's).");
}

MXN_CONFIG_REGISTRATION =
    metric_def("accuracy", "Accuracy",
               "Fraction of predictions equal to the labels; predictions of another shape than "
               "the labels are class scores reduced by argmax over axis.")
        .alias("acc")
        .param("axis", ParamType::kInt, ParamValue::of_int(1), "Axis of the class scores.");
MXN_CONFIG_REGISTRATION =
    metric_def("top_k_accuracy", "TopKAccuracy",
               "Fraction of samples whose label is among the top_k scores (2-d predictions).")
        .alias("top_k_acc")
        .param("top_k", ParamType::kInt, ParamValue::of_int(1), "k.");
MXN_CONFIG_REGISTRATION =
    metric_def("f1", "F1", "F1 score of binary classification (class 1 positive).")
        .choice("average", {"macro", "micro"}, "macro",
                "macro: mean of per-batch scores; micro: over all samples.");
MXN_CONFIG_REGISTRATION =
    metric_def("mcc", "MCC", "Matthews correlation coefficient of binary classification.")
        .choice("average", {"macro", "micro"}, "macro",
                "macro: mean of per-batch scores; micro: over all samples.");
MXN_CONFIG_REGISTRATION =
    metric_def("perplexity", "Perplexity",
               "exp(-mean log p(label)), p clipped below at 1e-10; labels equal to "
               "ignore_label are left out.")
        .nullable("ignore_label", ParamType::kInt, "Label to ignore.")
        .param("axis", ParamType::kInt, ParamValue::of_int(-1), "Axis of the class scores.");
MXN_CONFIG_REGISTRATION = metric_def("mae", "MAE", "Mean absolute error (mean of batch means).");
MXN_CONFIG_REGISTRATION = metric_def("mse", "MSE", "Mean squared error (mean of batch means).");
MXN_CONFIG_REGISTRATION =
    metric_def("rmse", "RMSE", "Root mean squared error (mean of per-batch roots).");
MXN_CONFIG_REGISTRATION =
    metric_def("ce", "CrossEntropy", "Mean of -log(p(label) + eps) over samples.")
        .alias("crossentropy")
        .alias("cross-entropy")
        .param("eps", ParamType::kFloat, ParamValue::of_float(1e-12), "Stability constant.");
MXN_CONFIG_REGISTRATION =
    metric_def("nll_loss", "NegativeLogLikelihood", "Mean of -log(p(label) + eps) over samples.")
        .alias("negativeloglikelihood")
        .param("eps", ParamType::kFloat, ParamValue::of_float(1e-12), "Stability constant.");
MXN_CONFIG_REGISTRATION =
    metric_def("pearsonr", "PearsonCorrelation", "Pearson correlation of predictions and labels.")
        .alias("pearsoncorrelation")
        .choice("average", {"macro", "micro"}, "macro",
                "macro: mean of per-batch coefficients; micro: over all samples.");
MXN_CONFIG_REGISTRATION =
    metric_def("loss", "Loss", "Mean of the predictions (outputs that are losses); labels unused.");

const char* default_display(const std::string& k) {
  if (k == "ce") return "cross-entropy";
  if (k == "nll_loss") return "nll-loss";
  return nullptr;
}

[[noreturn]] void shape_mismatch(const Shape& l, const Shape& p) {
  throw_error(ErrorCode::kShape, cat("Shape of labels ", l.str(),
                                     " does not match shape of predictions ", p.str()));
}

// Indices of the maximum along `axis` (first maximum, as NumPy).
std::vector<double> argmax(const std::vector<double>& v, const Shape& s, int axis) {
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < s.ndim(); ++i) inner *= s[i];
  const int64_t c = s[axis];
  std::vector<double> out(static_cast<size_t>(outer * inner));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      double bv = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < c; ++k) {
        const double x = v[static_cast<size_t>((o * c + k) * inner + i)];
        if (x > bv || (k == 0)) {
          if (k == 0 || x > bv) {
            bv = x;
            best = k;
          }
        }
      }
      out[static_cast<size_t>(o * inner + i)] = static_cast<double>(best);
    }
  }
  return out;
}

int norm_axis(int64_t axis, int ndim) {
  const int64_t a = axis < 0 ? axis + ndim : axis;
  MXN_CHECK(a >= 0 && a < ndim, ErrorCode::kInvalidArg, "axis ", axis,
            " is out of range for predictions of ", ndim, " dims");
  return static_cast<int>(a);
}

}  // namespace

double Metric::Binary::fscore() const {
  const double precision = tp + fp > 0 ? tp / (tp + fp) : 0.0;
  const double recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

double Metric::Binary::mcc() const {
  if (total() == 0) return 0.0;
  double denom = 1;
  for (double t : {tp + fp, tp + fn, tn + fp, tn + fn}) {
    if (t != 0.0) denom *= t;
  }
  return (tp * tn - fp * fn) / std::sqrt(denom);
}

Metric::Metric(const ConfigDef* def, OpParams params)
    : def_(def), params_(std::move(params)), kind_(def ? def->name : "composite") {
  if (def_ == nullptr) {
    display_ = "composite";
    return;
  }
  if (!params_.is_none("name")) {
    display_ = params_.get_string("name");
  } else if (kind_ == "top_k_accuracy") {
    display_ = cat("top_k_accuracy_", params_.get_int("top_k"));
  } else if (const char* d = default_display(kind_)) {
    display_ = d;
  } else {
    display_ = kind_;
  }
  if (kind_ == "top_k_accuracy") {
    MXN_CHECK(params_.get_int("top_k") > 1 || params_.get_int("top_k") == 1,
              ErrorCode::kInvalidArg, "top_k must be >= 1");
  }
}

std::shared_ptr<Metric> Metric::create(const std::string& name, int num, const char* const* keys,
                                       const ParamValue* values) {
  if (name == "composite" || name == "Composite" || name == "CompositeEvalMetric") {
    MXN_CHECK(num == 0, ErrorCode::kInvalidArg, "a composite metric takes no parameters");
    return composite({});
  }
  const ConfigDef& def = ConfigRegistry::get().find("metric", name);
  return std::make_shared<Metric>(&def, parse_config(def, num, keys, values));
}

std::shared_ptr<Metric> Metric::composite(std::vector<std::shared_ptr<Metric>> children) {
  auto m = std::make_shared<Metric>(nullptr, OpParams());
  for (auto& c : children) m->add_child(std::move(c));
  return m;
}

void Metric::add_child(std::shared_ptr<Metric> child) {
  MXN_CHECK(def_ == nullptr, ErrorCode::kInvalidArg, "only a composite metric takes children");
  MXN_CHECK(child != nullptr, ErrorCode::kInvalidArg, "child metric is NULL");
  MXN_CHECK(child.get() != this, ErrorCode::kInvalidArg, "a composite cannot contain itself");
  children_.push_back(std::move(child));
}

void Metric::reset() {
  for (auto& c : children_) c->reset();
  sum_ = num_ = gsum_ = gnum_ = 0;
  local_ = Binary();
  global_ = Binary();
  for (auto& row : ps_) std::fill(std::begin(row), std::end(row), 0.0);
}

void Metric::reset_local() {
  for (auto& c : children_) c->reset_local();
  sum_ = num_ = 0;
  local_ = Binary();
  std::fill(std::begin(ps_[0]), std::end(ps_[0]), 0.0);
}

void Metric::update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  if (def_ == nullptr) {
    for (auto& c : children_) c->update(labels, preds);
    return;
  }
  if (kind_ == "loss") {
    for (const NDArray& p : preds) {
      const std::vector<double> v = to_host(p);
      double s = 0;
      for (double x : v) s += x;
      add(s, static_cast<double>(v.size()));
    }
    return;
  }
  if (labels.size() != preds.size()) {
    throw_error(ErrorCode::kShape, cat("Shape of labels ", labels.size(),
                                       " does not match shape of predictions ", preds.size()));
  }
  for (size_t i = 0; i < labels.size(); ++i) update_pair(labels[i], preds[i]);
  const std::string& k = kind_;
  if ((k == "f1" || k == "mcc")) {
    const bool macro = params_.get_string("average") == "macro";
    const bool f1 = k == "f1";
    if (macro) {
      const double v = f1 ? local_.fscore() : local_.mcc();
      const double gv = f1 ? global_.fscore() : global_.mcc();
      sum_ += v;
      gsum_ += gv;
      num_ += 1;
      gnum_ += 1;
      local_ = Binary();
      global_ = Binary();
    } else {
      sum_ = (f1 ? local_.fscore() : local_.mcc()) * local_.total();
      num_ = local_.total();
      gsum_ = (f1 ? global_.fscore() : global_.mcc()) * global_.total();
      gnum_ = global_.total();
    }
  }
}

void Metric::update_pair(const NDArray& label_arr, const NDArray& pred_arr) {
  const std::string& k = kind_;
  const Shape& ls = label_arr.shape();
  const Shape& ps = pred_arr.shape();
  std::vector<double> label = to_host(label_arr);
  std::vector<double> pred = to_host(pred_arr);
  if (k == "accuracy") {
    if (ps != ls) pred = argmax(pred, ps, norm_axis(params_.get_int("axis"), ps.ndim()));
    if (pred.size() != label.size()) shape_mismatch(ls, ps);
    double correct = 0;
    for (size_t i = 0; i < label.size(); ++i) {
      correct += static_cast<int32_t>(pred[i]) == static_cast<int32_t>(label[i]) ? 1 : 0;
    }
    add(correct, static_cast<double>(pred.size()));
  } else if (k == "top_k_accuracy") {
    MXN_CHECK(ps.ndim() == 2, ErrorCode::kShape, "TopKAccuracy needs 2-d predictions, got ",
              ps.str());
    const int64_t n = ps[0], c = ps[1];
    if (static_cast<int64_t>(label.size()) != n) shape_mismatch(ls, ps);
    const int64_t top_k = std::min<int64_t>(c, params_.get_int("top_k"));
    double correct = 0;
    for (int64_t r = 0; r < n; ++r) {
      const int64_t l = static_cast<int32_t>(label[static_cast<size_t>(r)]);
      if (l < 0 || l >= c) continue;
      const double v = static_cast<float>(pred[static_cast<size_t>(r * c + l)]);
      int64_t greater = 0;
      for (int64_t j = 0; j < c; ++j) {
        if (static_cast<float>(pred[static_cast<size_t>(r * c + j)]) > v) ++greater;
      }
      if (greater < top_k) correct += 1;
    }
    add(correct, static_cast<double>(n));
  } else if (k == "f1" || k == "mcc") {
    MXN_CHECK(ps.ndim() == 2, ErrorCode::kShape, "binary classification needs (batch, classes) "
              "predictions, got ", ps.str());
    if (static_cast<int64_t>(label.size()) != ps[0]) shape_mismatch(ls, ps);
    std::set<int32_t> uniq;
    for (double l : label) uniq.insert(static_cast<int32_t>(l));
    MXN_CHECK(uniq.size() <= 2, ErrorCode::kInvalidArg, k == "f1" ? "F1" : "MCC",
              " currently only supports binary classification.");
    const std::vector<double> pl = argmax(pred, ps, 1);
    for (size_t i = 0; i < label.size(); ++i) {
      const bool pt = pl[i] == 1.0, lt = static_cast<int32_t>(label[i]) == 1;
      double* l = pt ? (lt ? &local_.tp : &local_.fp) : (lt ? &local_.fn : &local_.tn);
      double* g = pt ? (lt ? &global_.tp : &global_.fp) : (lt ? &global_.fn : &global_.tn);
      *l += 1;
      *g += 1;
    }
  } else if (k == "perplexity") {
    const int axis = norm_axis(params_.get_int("axis"), ps.ndim());
    const int64_t c = ps[axis];
    MXN_CHECK(c > 0 && static_cast<int64_t>(label.size()) * c == ps.size(), ErrorCode::kShape,
              "Perplexity: labels ", ls.str(), " do not match predictions ", ps.str());
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= ps[i];
    for (int i = axis + 1; i < ps.ndim(); ++i) inner *= ps[i];
    const bool has_ignore = !params_.is_none("ignore_label");
    const double ignore = has_ignore ? static_cast<double>(params_.get_int("ignore_label")) : 0;
    double loss = 0, num = 0;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const size_t li = static_cast<size_t>(o * inner + i);
        int64_t l = static_cast<int32_t>(label[li]);
        l = std::min<int64_t>(std::max<int64_t>(l, 0), c - 1);  // pick clips
        double p = pred[static_cast<size_t>((o * c + l) * inner + i)];
        num += 1;
        if (has_ignore && label[li] == ignore) {
          num -= 1;
          p = 1.0;
        }
        loss -= std::log(std::max(1e-10, p));
      }
    }
    add(loss, num);
  } else if (k == "mae" || k == "mse" || k == "rmse") {
    const int64_t ln = ls.ndim() == 0 ? 1 : ls[0], pn = ps.ndim() == 0 ? 1 : ps[0];
    const int64_t lc = ln ? static_cast<int64_t>(label.size()) / ln : 0;
    const int64_t pc = pn ? static_cast<int64_t>(pred.size()) / pn : 0;
    if (ln != pn || (lc != pc && lc != 1 && pc != 1)) shape_mismatch(ls, ps);
    const int64_t cols = std::max(lc, pc);
    double acc = 0;
    for (int64_t r = 0; r < ln; ++r) {
      for (int64_t j = 0; j < cols; ++j) {
        const double d = label[static_cast<size_t>(r * lc + (lc == 1 ? 0 : j))] -
                         pred[static_cast<size_t>(r * pc + (pc == 1 ? 0 : j))];
        acc += k == "mae" ? std::fabs(d) : d * d;
      }
    }
    const double cnt = static_cast<double>(ln * cols);
    double v = cnt > 0 ? acc / cnt : std::numeric_limits<double>::quiet_NaN();
    if (k == "rmse") v = std::sqrt(v);
    add(v, 1);
  } else if (k == "ce" || k == "nll_loss") {
    MXN_CHECK(ps.ndim() == 2, ErrorCode::kShape, "needs (batch, classes) predictions, got ",
              ps.str());
    const int64_t n = ps[0], c = ps[1];
    if (static_cast<int64_t>(label.size()) != n) shape_mismatch(ls, ps);
    const double eps = params_.get_float("eps");
    double s = 0;
    for (int64_t r = 0; r < n; ++r) {
      const int64_t l = static_cast<int64_t>(label[static_cast<size_t>(r)]);
      MXN_CHECK(l >= 0 && l < c, ErrorCode::kInvalidArg, "label ", l, " is out of range [0, ", c,
                ")");
      s += -std::log(pred[static_cast<size_t>(r * c + l)] + eps);
    }
    add(s, static_cast<double>(n));
  } else if (k == "pearsonr") {
    if (label.size() != pred.size()) shape_mismatch(ls, ps);
    if (params_.get_string("average") == "macro") {
      const double n = static_cast<double>(label.size());
      double mx = 0, my = 0;
      for (size_t i = 0; i < label.size(); ++i) {
        mx += pred[i];
        my += label[i];
      }
      mx /= n;
      my /= n;
      double sxy = 0, sxx = 0, syy = 0;
      for (size_t i = 0; i < label.size(); ++i) {
        sxy += (pred[i] - mx) * (label[i] - my);
        sxx += (pred[i] - mx) * (pred[i] - mx);
        syy += (label[i] - my) * (label[i] - my);
      }
      add(sxy / std::sqrt(sxx * syy), 1);
    } else {
      for (auto& row : ps_) {
        for (size_t i = 0; i < label.size(); ++i) {
          row[0] += 1;
          row[1] += pred[i];
          row[2] += label[i];
          row[3] += pred[i] * pred[i];
          row[4] += label[i] * label[i];
          row[5] += pred[i] * label[i];
        }
      }
      num_ += 1;
      gnum_ += 1;
    }
  } else {
    throw_error(ErrorCode::kInternal, cat("metric ", k, " has no update rule"));
  }
}

void Metric::get(bool global, std::vector<std::string>* names, std::vector<double>* values) const {
  if (def_ == nullptr) {
    for (const auto& c : children_) c->get(global, names, values);
    return;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double s = global ? gsum_ : sum_, n = global ? gnum_ : num_;
  double v;
  if (n == 0) {
    v = nan;
  } else if (kind_ == "perplexity") {
    v = std::exp(s / n);
  } else if (kind_ == "pearsonr" && params_.get_string("average") == "micro") {
    const double* r = ps_[global ? 1 : 0];
    const double cnt = r[0];
    const double cov = r[5] - r[1] * r[2] / cnt;
    const double vx = r[3] - r[1] * r[1] / cnt, vy = r[4] - r[2] * r[2] / cnt;
    v = cov / std::sqrt(vx * vy);
  } else {
    v = s / n;
  }
  names->push_back(display_);
  values->push_back(v);
}

}  // namespace mxn::train
