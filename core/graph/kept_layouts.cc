// Values kept in oneDNN's layouts between the steps of an inference forward (see
// Executor::KeptLayouts). A fused convolution chain writes its output in its primitive's
// layout, Pooling and LRN keep their input's format, and Concat along channels of values in
// one format moves the bytes it moves in NCHW (blocked formats, onednn::block_channels) or
// copies pixel by pixel (channels-last), so a value passed only between such steps need not be
// reordered to NCHW and back. A value stays NCHW where anything else reads it (another
// operator, the graph's outputs), where a chain needs it as its addend in another layout, or
// where more than one reader would have to reorder it.
#include <algorithm>

#include "core/base/env.h"
#include "core/graph/executor.h"
#include "core/ops/nn_conv_chain.h"
#include "core/ops/nn_kept_layouts.h"

namespace mxn {

namespace {

using Layout = std::shared_ptr<const ops::nn::onednn::ActLayout>;

bool is_op(const Node& n, const char* name) { return !n.is_variable() && n.op->name == name; }

#if MXN_USE_ONEDNN
bool same(const NodeEntry& a, const NodeEntry& b) {
  return a.node.get() == b.node.get() && a.index == b.index;
}
#endif

}  // namespace

Layout Executor::KeptLayouts::of(const Executor& ex, const NodeEntry& e) const {
  if (out.empty() || e.node->is_variable() || e.index != 0) return nullptr;
  return out[ex.step_of_.at(e.node.get())];
}

void Executor::find_layout_readers() {
  for (size_t s = 0; s < num_forward_; ++s) {
    for (const NodeEntry& e : steps_[s].node->inputs) {
      if (e.node->is_variable() || e.index != 0) continue;
      std::vector<size_t>& r = steps_[step_of_.at(e.node.get())].readers;
      if (r.empty() || r.back() != s) r.push_back(s);
    }
  }
  for (const NodeEntry& h : symbol_.outputs) {
    if (!h.node->is_variable() && h.index == 0) steps_[step_of_.at(h.node.get())].head = true;
  }
}

const Executor::KeptLayouts& Executor::kept_layouts(const std::vector<char>& fused,
                                                    const std::string& settings) {
  const bool on = env_int("MXNEXT_CHAIN_LAYOUTS", 1) != 0;
  const std::string key = cat(on, ",", settings);
  if (!kept_.out.empty() && fused == kept_fused_ && key == kept_key_) return kept_;
  kept_fused_ = fused;
  kept_key_ = key;
  kept_.chain_settings = settings;
  ++kept_.generation;
  kept_.out.assign(num_forward_, nullptr);
#if MXN_USE_ONEDNN  // (the layouts' functions exist only in builds with oneDNN)
  if (!on || std::none_of(fused.begin(), fused.end(), [](char f) { return f != 0; })) {
    return kept_;
  }
  auto fused_chain = [&](size_t s) -> const ConvChain* {
    const int c = steps_[s].chain;
    return c >= 0 && fused[static_cast<size_t>(c)] ? &chains_[static_cast<size_t>(c)] : nullptr;
  };
  auto shapes = [&](const ConvChain& c) {
    return std::make_pair(value_of(c.inputs[0]).shape(), value_of(c.inputs[1]).shape());
  };
  std::vector<char> rejected(num_forward_, 0);  // steps whose output must be NCHW
  std::vector<char> reads_kept(num_forward_, 0);  // Pooling, LRN steps able to read input kept
  for (bool changed = true; changed;) {
    // Each step's layout given its inputs' (steps in order, so inputs come first).
    KeptLayouts& k = kept_;
    k.out.assign(num_forward_, nullptr);
    for (size_t s = 0; s < num_forward_; ++s) {
      const Node& n = *steps_[s].node;
      Layout l;
      if (const ConvChain* c = fused_chain(s); c != nullptr && c->steps.back() == s) {
        const auto [data, weight] = shapes(*c);
        l = c->kernel->output_layout(data, weight);
      } else if (is_op(n, "Pooling") || (is_op(n, "LRN") && (steps_[s].unused & 2u) != 0)) {
        // (LRN only where nothing needs its normaliser, which oneDNN does not write)
        const Layout in = k.of(*this, n.inputs[0]);
        const NDArray& x = value_of(n.inputs[0]);
        if (in) {
          l = is_op(n, "LRN") ? ops::nn::lrn_kept_output(n.params, x.shape(), x.dtype(), *in)
                              : ops::nn::pooling_kept_output(n.params, x.shape(), x.dtype(), *in);
        }
        reads_kept[s] = l != nullptr;
      } else if (is_op(n, "Concat") && steps_[s].outputs[0].shape().ndim() == 4 &&
                 (n.params.get_int("dim") == 1 || n.params.get_int("dim") == -3)) {
        const Shape& o = steps_[s].outputs[0].shape();
        const Layout first = k.of(*this, n.inputs[0]);
        l = first ? ops::nn::onednn::same_format(*first, o[0], o[1], o[2], o[3]) : nullptr;
        for (const NodeEntry& e : n.inputs) {
          const Layout in = k.of(*this, e);
          const Shape& d = value_of(e).shape();
          const Layout want =
              first ? ops::nn::onednn::same_format(*first, d[0], d[1], d[2], d[3]) : nullptr;
          if (!in || !want || !ops::nn::onednn::same_layout(*in, *want)) l = nullptr;
        }
      }
      k.out[s] = rejected[s] ? nullptr : l;
    }
    // Keep a value only where every reader takes it as it is (at most one reordering it).
    changed = false;
    for (size_t s = 0; s < num_forward_; ++s) {
      const Layout& l = k.out[s];
      if (!l) continue;
      const NodeEntry v{steps_[s].node, 0};
      bool ok = !steps_[s].head;
      int reorders = 0;
      for (size_t t : steps_[s].readers) {
        if (const ConvChain* d = fused_chain(t)) {
          const auto [data, weight] = shapes(*d);
          const size_t addend = d->kernel->spec().add ? d->inputs.size() - 1 : 0;
          for (size_t i = 0; i < d->inputs.size(); ++i) {
            if (!same(d->inputs[i], v)) continue;
            if (i == 0) {
              const Layout want = d->kernel->data_layout(data, weight);
              if (!want || !ops::nn::onednn::same_layout(*want, *l)) ++reorders;
            } else if (i == addend) {  // the sum reads it in the chain's output layout
              const Layout want = d->kernel->output_layout(data, weight);
              ok = ok && want && ops::nn::onednn::same_layout(*want, *l);
            } else {
              ok = false;  // a weight, say
            }
          }
        } else if (reads_kept[t]) {  // a Pooling or LRN, which writes NCHW where it must
        } else if (is_op(*steps_[t].node, "Concat")) {
          ok = ok && k.out[t] != nullptr;
        } else {
          ok = false;
        }
      }
      if (!ok || reorders > 1) {
        rejected[s] = 1;
        changed = true;
      }
    }
  }
#endif
  return kept_;
}

bool Executor::run_kept_step(size_t s, const KeptLayouts& kept) {
#if MXN_USE_ONEDNN
  const Node& n = *steps_[s].node;
  if (kept.out.empty() || n.inputs.empty() || !kept.of(*this, n.inputs[0])) return false;
  if (is_op(n, "Pooling") || is_op(n, "LRN")) {
    run_kept_unary(s, kept);
    return true;
  }
  if (is_op(n, "Concat") && kept.out[s] && ops::nn::onednn::block_channels(*kept.out[s]) == 0) {
    run_kept_concat(s);
    return true;
  }
#else
  (void)s, (void)kept;
#endif
  return false;
}

void Executor::run_kept_concat(size_t s) {
  const Step& st = steps_[s];
  std::vector<NDArray> in;
  std::vector<EngineVar*> reads, writes{st.outputs.at(0).var()};
  for (const NodeEntry& e : st.node->inputs) {
    in.push_back(value_of(e));
    reads.push_back(in.back().var());
  }
  writes.insert(writes.end(), st.after.begin(), st.after.end());
  PushOptions opt;
  opt.name = "Concat";
  Engine::get().push(
      [in, out = st.outputs.at(0)] {
        std::vector<TBlob> blobs;
        for (const NDArray& a : in) blobs.push_back(a.blob());
        ops::nn::concat_channels_last(blobs, out.blob());
      },
      reads.data(), static_cast<int>(reads.size()), writes.data(),
      static_cast<int>(writes.size()), opt);
}

void Executor::run_kept_unary(size_t s, const KeptLayouts& kept) {
  const Step& st = steps_[s];
  const Node& n = *st.node;
  const NDArray x = value_of(n.inputs[0]);
  const NDArray y = st.outputs.at(0);
  const Layout in = kept.of(*this, n.inputs[0]);
  const Layout out = kept.out[s];
  std::vector<EngineVar*> reads{x.var()}, writes{y.var()};
  writes.insert(writes.end(), st.after.begin(), st.after.end());
  PushOptions opt;
  opt.name = n.op->name.c_str();
  const bool lrn = is_op(n, "LRN");
  Engine::get().push(
      [params = n.params, x, y, in, out, lrn] {
        try {
          if (lrn) {
            ops::nn::lrn_kept(params, x.blob(), *in, y.blob(), out.get());
          } else {
            ops::nn::pooling_kept(params, x.blob(), *in, y.blob(), out.get());
          }
        } catch (Error& e) {
          if (e.op_name().empty()) e.with_op(lrn ? "LRN" : "Pooling");
          throw;
        }
      },
      reads.data(), static_cast<int>(reads.size()), writes.data(),
      static_cast<int>(writes.size()), opt);
}

}  // namespace mxn
