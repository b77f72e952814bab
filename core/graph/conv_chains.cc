// The executor's inference fusion of Convolution -> BatchNorm -> add -> ReLU chains (see
// core/ops/nn_conv_chain.h for the kernel). The steps stay scheduled and planned as they are:
// a training forward (and a forward oneDNN declines) runs them one by one; an inference
// forward runs the whole chain as one engine operation at its last step, writing only the
// chain's output (the intermediate values nothing else reads are never written).
#include <algorithm>
#include <map>

#include "core/base/env.h"
#include "core/graph/executor.h"
#include "core/ops/nn_conv_chain.h"

namespace mxn {

namespace {

bool is_op(const Node& n, const char* name) { return !n.is_variable() && n.op->name == name; }

bool is_relu(const Node& n) {
  if (is_op(n, "relu")) return true;
  return is_op(n, "Activation") && n.params.get_string("act_type") == "relu";
}

bool is_add(const Node& n) {
  return (is_op(n, "elemwise_add") || is_op(n, "broadcast_add")) && n.inputs.size() == 2;
}

}  // namespace

void Executor::find_conv_chains(std::vector<PlannedValue>* values,
                                const std::vector<std::vector<int>>& value_index) {
  // Forward readers of each value (steps, and the graph's outputs as kHead). Backward steps
  // read these values too, but run only after a training forward, which runs the chain's steps
  // one by one.
  constexpr size_t kHead = static_cast<size_t>(-1);
  std::map<std::pair<const Node*, uint32_t>, std::vector<size_t>> readers;
  for (size_t s = 0; s < num_forward_; ++s) {
    for (const NodeEntry& e : steps_[s].node->inputs) {
      if (!e.node->is_variable()) readers[{e.node.get(), e.index}].push_back(s);
    }
  }
  for (const NodeEntry& h : symbol_.outputs) readers[{h.node.get(), h.index}].push_back(kHead);
  auto read_by = [&](size_t s, uint32_t k) -> const std::vector<size_t>& {
    static const std::vector<size_t> none;
    auto it = readers.find({steps_[s].node.get(), k});
    return it == readers.end() ? none : it->second;
  };
  // The one step reading output 0 of step s (and nothing else reading it) when no chain has
  // it yet, else kHead.
  auto only_reader = [&](size_t s) {
    const std::vector<size_t>& r = read_by(s, 0);
    return r.size() == 1 && r[0] != kHead && steps_[r[0]].chain < 0 ? r[0] : kHead;
  };
  auto reads_only = [&](size_t t, size_t s, int input) {
    const NodeEntry& e = steps_[t].node->inputs[static_cast<size_t>(input)];
    return e.node.get() == steps_[s].node.get() && e.index == 0;
  };
  auto value_of_step = [&](size_t s) -> PlannedValue& {
    return (*values)[static_cast<size_t>(value_index[s].at(0))];
  };
  for (size_t s = 0; s < num_forward_; ++s) {
    const Node& conv = *steps_[s].node;
    if (!is_op(conv, "Convolution") || steps_[s].chain >= 0) continue;
    if (value_of_step(s).dtype != DType::kFloat32) continue;
    ops::nn::ConvChainSpec spec;
    spec.conv = conv.params;
    ConvChain c;
    c.steps.push_back(s);
    c.inputs = conv.inputs;  // data, weight, bias
    NodeEntry addend;
    size_t cur = s;
    size_t t = only_reader(cur);
    if (t != kHead && is_op(*steps_[t].node, "BatchNorm") && reads_only(t, cur, 0) &&
        value_index[t].size() == 3 && read_by(t, 1).empty() && read_by(t, 2).empty()) {
      const Node& bn = *steps_[t].node;
      spec.bn = true;
      spec.bn_params = bn.params;
      for (size_t i = 1; i < 5; ++i) c.inputs.push_back(bn.inputs[i]);
      c.steps.push_back(t);
      cur = t;
      t = only_reader(cur);
    }
    if (t != kHead && is_add(*steps_[t].node) &&
        value_of_step(t).shape == value_of_step(cur).shape) {
      const Node& add = *steps_[t].node;
      const bool first = reads_only(t, cur, 0), second = reads_only(t, cur, 1);
      if (first != second) {  // x + x is not a chain
        spec.add = true;
        addend = add.inputs[first ? 1 : 0];
        c.steps.push_back(t);
        cur = t;
        t = only_reader(cur);
      }
    }
    if (t != kHead && is_relu(*steps_[t].node) && reads_only(t, cur, 0)) {
      spec.relu = true;
      c.steps.push_back(t);
    }
    if (c.steps.size() < 2) continue;
    if (spec.add) c.inputs.push_back(addend);
    // The chain reads its data and addend at its last step: they must stay unshared until
    // then (the planner would otherwise let the steps in between reuse their memory). When
    // the addend is the data (x + conv(x)), one step longer: the add may be planned in place of
    // its addend, and the output, written while the data is read, must not be the data.
    auto keep = [&](const NodeEntry& e, size_t until) {
      if (!e || e.node->is_variable()) return;
      PlannedValue& v =
          (*values)[static_cast<size_t>(value_index[step_of_.at(e.node.get())][e.index])];
      v.last_use = std::max(v.last_use, until);
    };
    const bool addend_is_data = addend && addend.node == c.inputs[0].node &&
                                addend.index == c.inputs[0].index;
    keep(addend, c.steps.back());
    keep(c.inputs[0], c.steps.back() + (addend_is_data ? 1 : 0));
    c.kernel = std::make_shared<ops::nn::ConvChainKernel>(std::move(spec));
    for (size_t m : c.steps) steps_[m].chain = static_cast<int>(chains_.size());
    chains_.push_back(std::move(c));
  }
}

bool Executor::chain_fusable(const ConvChain& c) const {
  const NDArray& data = value_of(c.inputs[0]);
  return ops::nn::conv_chain_fusable(c.kernel->spec(), data.shape(), value_of(c.inputs[1]).shape(),
                                     data.dtype());
}

const std::vector<char>& Executor::fusable_chains(const std::string& settings) {
  if (fusable_.size() != chains_.size() || settings != fusable_settings_) {
    fusable_.assign(chains_.size(), 0);
    for (size_t c = 0; c < chains_.size(); ++c) fusable_[c] = chain_fusable(chains_[c]);
    fusable_settings_ = settings;
  }
  return fusable_;
}

int64_t Executor::conv_chain_builds() const {
  int64_t n = 0;
  for (const ConvChain& c : chains_) n += c.kernel->builds();
  return n;
}

void Executor::run_conv_chain(const ConvChain& c, const KeptLayouts& kept) {
  using Layout = std::shared_ptr<const ops::nn::onednn::ActLayout>;
  const Layout x_layout = kept.of(*this, c.inputs[0]);
  const Layout addend_layout = c.kernel->spec().add ? kept.of(*this, c.inputs.back()) : nullptr;
  const Layout y_layout = kept.out[c.steps.back()];
  std::vector<NDArray> in;
  std::vector<EngineVar*> reads, writes;
  for (const NodeEntry& e : c.inputs) {
    in.push_back(value_of(e));
    reads.push_back(in.back().var());
  }
  const Step& last = steps_[c.steps.back()];
  const NDArray out = last.outputs.at(0);
  writes.push_back(out.var());
  // Every member's memory-plan constraints: the chain's output may be planned in place of a
  // member's (whose step would otherwise have waited for the block's earlier users).
  writes.insert(writes.end(), c.after.begin(), c.after.end());
  PushOptions opt;
  opt.name = "conv_chain";
  Engine::get().push(
      [kernel = c.kernel, in, out, x_layout, addend_layout, y_layout,
       settings = kept.chain_settings] {
        std::vector<TBlob> blobs;
        std::vector<uint64_t> versions;
        for (const NDArray& a : in) {
          blobs.push_back(a.blob());
          // Read while this operation holds the input: it names the contents now.
          versions.push_back(a.chunk()->versioned() ? var_version(a.var()) : 0);
        }
        try {
          kernel->run(blobs, versions, out.blob(),
                      {x_layout.get(), addend_layout.get(), y_layout.get()}, settings);
        } catch (Error& e) {
          if (e.op_name().empty()) e.with_op("Convolution");
          throw;
        }
      },
      reads.data(), static_cast<int>(reads.size()), writes.data(),
      static_cast<int>(writes.size()), opt);
}

}  // namespace mxn
