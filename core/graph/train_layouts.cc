// Values kept channel-blocked through training (see Executor::find_train_layouts). oneDNN's
// convolutions run fastest on their own blocked layout (nChw16c with AVX-512); on NCHW each
// call reorders its data in and its output out, and 1x1 kernels on large maps fall back to a
// slower GEMM path. So in a training forward and the backward, a value passed between
// convolutions through BatchNorm, ReLU, residual adds and pooling, and the gradients passed
// back the same way, stay in the blocked layout from end to end, as MXNet's oneDNN build does.
//
// The operators that read or write blocked values: Convolution, BatchNorm, Pooling and their
// backwards (ctx.blocked tells them which arrays are blocked; they run oneDNN in that layout,
// or their NCHW kernels on copies where oneDNN declines); element-wise ones (Activation, its
// backward, elemwise_add), which need not know, as long as all their arrays share one layout;
// and Concat along channels and its backward, which move the same bytes in both layouts.
// A value may be blocked only where its writer and every reader are among these; values an
// element-wise step, BatchNorm, Concat or a backward ties together must share a layout; a tied
// set is blocked when every value in it may be and a convolution reads or writes one of them.
// Graph outputs, gradients handed out and arguments stay NCHW.
#include <algorithm>
#include <numeric>

#include "core/base/env.h"
#include "core/graph/executor.h"
#include "core/ops/nn_onednn.h"

namespace mxn {

#if MXN_USE_ONEDNN  // (the block comes from oneDNN: without it, nothing is kept blocked)
namespace {

// Tied values: a union-find over value indices.
struct Ties {
  std::vector<int> parent;
  explicit Ties(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int root(int v) {
    while (parent[static_cast<size_t>(v)] != v) {
      parent[static_cast<size_t>(v)] = parent[static_cast<size_t>(parent[static_cast<size_t>(v)])];
      v = parent[static_cast<size_t>(v)];
    }
    return v;
  }
  void tie(int a, int b) {
    if (a >= 0 && b >= 0) parent[static_cast<size_t>(root(a))] = root(b);
  }
};

// How an operator treats each of its arrays: a slot (input i, or output i as -1 - i) may hold a
// blocked value independently (free), only in the layout of the others of its tie set, or not at
// all (any slot not named).
struct SlotRule {
  std::vector<int> free;
  std::vector<std::vector<int>> ties;
  bool convolution = false;  // the slots are a convolution's: blocking them pays
};

constexpr int out(int i) { return -1 - i; }

bool batchnorm_on_channels(const Node& n, const Shape& data) {
  if (data.ndim() != 4 || n.params.get_bool("use_global_stats")) return false;
  const int64_t axis = n.params.get_int("axis");
  return axis == 1 || axis == -3;
}

SlotRule rule_of(const Node& n, const Shape& data) {
  const std::string& op = n.op->name;
  if (op == "Convolution" && data.ndim() == 4) return {{0, out(0)}, {}, true};
  if (op == "_backward_Convolution" && data.ndim() == 4) return {{0}, {{1, out(0)}}, true};
  if (op == "BatchNorm" && batchnorm_on_channels(n, data)) return {{}, {{0, out(0)}}, false};
  if (op == "_backward_BatchNorm" && batchnorm_on_channels(n, data)) {
    return {{}, {{0, 1, out(0)}}, false};
  }
  if (op == "Pooling" && data.ndim() == 4) return {{0, out(0)}, {}, false};
  if (op == "_backward_Pooling" && data.ndim() == 4) return {{}, {{1, out(0)}, {0, 2}}, false};
  if ((op == "Concat" || op == "_backward_Concat") && data.ndim() == 4 &&
      (n.params.get_int("dim") == 1 || n.params.get_int("dim") == -3)) {
    // Along channels (multiples of the block each) one image's blocks are contiguous, so both
    // move the bytes they move in NCHW. The backward reads its forward inputs for their shapes.
    const int num =
        static_cast<int>(op == "Concat" ? n.inputs.size() : n.params.get_int("num_args"));
    SlotRule r;
    r.ties.emplace_back();
    if (op == "Concat") {
      for (int i = 0; i < num; ++i) r.ties[0].push_back(i);
      r.ties[0].push_back(out(0));
    } else {
      r.ties[0].push_back(0);
      for (int i = 0; i < num; ++i) r.ties[0].push_back(out(i));
      for (int i = 1; i < num; ++i) r.free.push_back(i);
    }
    return r;
  }
  if (op == "Activation") return {{}, {{0, out(0)}}, false};
  if (op == "_backward_Activation") return {{}, {{0, 1, 2, out(0)}}, false};
  if (op == "elemwise_add") return {{}, {{0, 1, out(0)}}, false};
  return {};
}

}  // namespace
#endif

void Executor::find_train_layouts(const std::vector<PlannedValue>& values,
                                  const std::vector<std::vector<int>>& value_index) {
  train_blocked_values_ = 0;
#if MXN_USE_ONEDNN
  const int64_t block = ops::nn::onednn::train_block();
  if (block == 0 || num_forward_ == steps_.size()) return;  // no backward: nothing to win
  const size_t nv = values.size();
  std::vector<char> may(nv, 0), pays(nv, 0);
  for (size_t v = 0; v < nv; ++v) {
    const PlannedValue& p = values[v];
    may[v] = p.shape.ndim() == 4 && p.dtype == DType::kFloat32 && p.shape.size() > 0 &&
             p.shape[1] % block == 0 && !p.external && !p.skipped;
  }
  auto value_of_entry = [&](const NodeEntry& e) {
    if (!e || e.node->is_variable()) return -1;
    return value_index[step_of_.at(e.node.get())][e.index];
  };
  for (const NodeEntry& h : symbol_.outputs) {  // copied out as NCHW
    if (const int v = value_of_entry(h); v >= 0) may[static_cast<size_t>(v)] = 0;
  }
  for (const NodeEntry& g : grad_entries_) {  // handed out as NCHW
    if (const int v = value_of_entry(g); v >= 0) may[static_cast<size_t>(v)] = 0;
  }
  Ties ties(nv);
  for (size_t s = 0; s < steps_.size(); ++s) {
    const Node& n = *steps_[s].node;
    auto slot_value = [&](int slot) {
      if (slot >= 0) {
        const size_t i = static_cast<size_t>(slot);
        return i < n.inputs.size() ? value_of_entry(n.inputs[i]) : -1;
      }
      const size_t k = static_cast<size_t>(-1 - slot);
      return k < value_index[s].size() ? value_index[s][k] : -1;
    };
    // The data: the forward's input 0, or a backward's forward data (input 1).
    const bool is_backward = n.op->name.rfind("_backward_", 0) == 0;
    const size_t data_slot = is_backward ? 1 : 0;
    Shape data;
    if (data_slot < n.inputs.size()) {
      const NodeEntry& d = n.inputs[data_slot];
      const int v = value_of_entry(d);
      data = v >= 0 ? values[static_cast<size_t>(v)].shape : bound_.at(d.node.get()).shape();
    }
    const SlotRule rule = rule_of(n, data);
    std::vector<int> allowed = rule.free;
    for (const std::vector<int>& t : rule.ties) {
      // A variable (NCHW) in a tie set holds the whole set to NCHW.
      const bool has_variable = std::any_of(t.begin(), t.end(), [&](int slot) {
        return slot >= 0 && static_cast<size_t>(slot) < n.inputs.size() &&
               n.inputs[static_cast<size_t>(slot)].node->is_variable();
      });
      if (!has_variable) allowed.insert(allowed.end(), t.begin(), t.end());
      for (size_t i = 1; i < t.size(); ++i) ties.tie(slot_value(t[0]), slot_value(t[i]));
    }
    const int num_slots_in = static_cast<int>(n.inputs.size());
    const int num_slots_out = static_cast<int>(value_index[s].size());
    for (int slot = -num_slots_out; slot < num_slots_in; ++slot) {
      const int v = slot_value(slot);
      if (v < 0) continue;
      if (std::find(allowed.begin(), allowed.end(), slot) == allowed.end()) {
        may[static_cast<size_t>(v)] = 0;
      } else if (rule.convolution) {
        pays[static_cast<size_t>(v)] = 1;
      }
    }
  }
  for (size_t v = 0; v < nv; ++v) {  // a value written over another's storage shares its layout
    if (values[v].inplace_of >= 0) ties.tie(static_cast<int>(v), values[v].inplace_of);
  }
  // A tied set is blocked where every member may be and one pays.
  std::vector<char> set_may(nv, 1), set_pays(nv, 0);
  for (size_t v = 0; v < nv; ++v) {
    const size_t r = static_cast<size_t>(ties.root(static_cast<int>(v)));
    set_may[r] = set_may[r] && may[v];
    set_pays[r] = set_pays[r] || pays[v];
  }
  std::vector<char> blocked(nv, 0);
  for (size_t v = 0; v < nv; ++v) {
    const size_t r = static_cast<size_t>(ties.root(static_cast<int>(v)));
    blocked[v] = set_may[r] && set_pays[r];
    train_blocked_values_ += blocked[v];
  }
  for (size_t s = 0; s < steps_.size(); ++s) {
    BlockedIO io;
    io.block = block;
    const Node& n = *steps_[s].node;
    for (size_t i = 0; i < n.inputs.size() && i < 32; ++i) {
      const int v = value_of_entry(n.inputs[i]);
      if (v >= 0 && blocked[static_cast<size_t>(v)]) io.inputs |= 1u << i;
    }
    for (size_t k = 0; k < value_index[s].size() && k < 32; ++k) {
      if (blocked[static_cast<size_t>(value_index[s][k])]) io.outputs |= 1u << k;
    }
    steps_[s].blocked = io.any() ? io : BlockedIO{};
  }
#else
  (void)values, (void)value_index;
#endif
}

}  // namespace mxn
