#include "core/graph/executor.h"

#include <algorithm>
#include <unordered_set>

#include "core/base/env.h"
#include "core/base/json.h"
#include "core/graph/gradient_pass.h"
#include "core/op/workspace.h"
#include "core/ops/nn_conv_chain.h"

namespace mxn {

namespace {

std::string value_name(const Node& n, size_t index) {
  return n.name + "_output" + std::to_string(index);
}

}  // namespace

Executor::Executor(Symbol symbol, std::vector<NDArray> args, std::vector<NDArray> grads,
                   std::vector<GradReq> reqs, std::vector<NDArray> aux, ExecutorOptions options)
    : symbol_(std::move(symbol)),
      args_(std::move(args)),
      aux_(std::move(aux)),
      grads_(std::move(grads)),
      reqs_(std::move(reqs)) {
  arg_names_ = symbol_.list_arguments();
  const auto aux_names = symbol_.list_auxiliary_states();
  MXN_CHECK(args_.size() == arg_names_.size(), ErrorCode::kInvalidArg, "bind: the symbol has ",
            arg_names_.size(), " arguments, got ", args_.size(), " arrays");
  MXN_CHECK(aux_.size() == aux_names.size(), ErrorCode::kInvalidArg, "bind: the symbol has ",
            aux_names.size(), " auxiliary states, got ", aux_.size(), " arrays");
  MXN_CHECK(grads_.size() == args_.size() && reqs_.size() == args_.size(), ErrorCode::kInvalidArg,
            "bind: ", args_.size(), " arguments, ", grads_.size(), " gradient arrays and ",
            reqs_.size(), " grad_reqs");
  std::map<std::string, Shape> shapes;
  for (size_t i = 0; i < args_.size(); ++i) {
    if (args_[i].is_none()) {
      throw Error(ErrorCode::kInvalidArg, cat("bind: no array for argument '", arg_names_[i], "'"))
          .with_arg(static_cast<int>(i));
    }
    shapes[arg_names_[i]] = args_[i].shape();
    if (!grads_[i].is_none() && reqs_[i] != GradReq::kNull &&
        (grads_[i].shape() != args_[i].shape() || grads_[i].dtype() != args_[i].dtype())) {
      throw Error(ErrorCode::kShape, cat("bind: the gradient of '", arg_names_[i], "' has shape ",
                                         grads_[i].shape().str(), " but the argument has ",
                                         args_[i].shape().str()))
          .with_arg(static_cast<int>(i));
    }
  }
  std::vector<Shape> arg_shapes, out_shapes, aux_shapes;
  symbol_.infer_shape(shapes, &arg_shapes, &out_shapes, &aux_shapes, false);
  for (size_t i = 0; i < aux_.size(); ++i) {
    if (aux_[i].is_none() || aux_[i].shape() != aux_shapes[i]) {
      throw Error(ErrorCode::kShape,
                  cat("bind: auxiliary state '", aux_names[i], "' needs shape ",
                      aux_shapes[i].str(), ", got ",
                      aux_[i].is_none() ? std::string("no array") : aux_[i].shape().str()));
    }
  }
  // Variables: arguments and auxiliary states, in list order.
  const std::vector<NodePtr> order = symbol_.topo();
  std::unordered_set<const Node*> aux_nodes;
  for (const NodePtr& n : order) {
    if (n->is_variable()) continue;
    for (size_t j = 0; j < n->inputs.size(); ++j) {
      if (n->op->is_aux_input(static_cast<int>(j))) aux_nodes.insert(n->inputs[j].node.get());
    }
  }
  std::vector<const Node*> arg_nodes;
  size_t next_arg = 0, next_aux = 0;
  for (const NodePtr& n : order) {
    if (!n->is_variable()) continue;
    if (aux_nodes.count(n.get())) {
      bound_[n.get()] = aux_[next_aux++];
    } else {
      arg_nodes.push_back(n.get());
      bound_[n.get()] = args_[next_arg++];
    }
  }
  // The schedule: forward nodes, then the gradient graph's nodes.
  for (const NodePtr& n : order) {
    if (!n->is_variable()) steps_.push_back(Step{n, false, {}});
  }
  num_forward_ = steps_.size();
  std::vector<const Node*> wanted;
  for (size_t i = 0; i < arg_nodes.size(); ++i) {
    if (reqs_[i] != GradReq::kNull && !grads_[i].is_none()) {
      wanted.push_back(arg_nodes[i]);
      grad_args_.push_back(i);
    }
  }
  const Device dev = args_.empty() ? Device::cpu(0) : args_[0].device();
  std::vector<DType> arg_types, out_types, aux_types;
  std::map<std::string, DType> known_types;
  for (size_t i = 0; i < args_.size(); ++i) known_types[arg_names_[i]] = args_[i].dtype();
  symbol_.infer_type(known_types, &arg_types, &out_types, &aux_types);
  if (!wanted.empty()) {
    std::vector<NodeEntry> head_grad_entries;
    for (size_t i = 0; i < symbol_.outputs.size(); ++i) {
      head_grad_vars_.push_back(Node::variable("head_grad" + std::to_string(i)));
      head_grad_entries.push_back(NodeEntry{head_grad_vars_.back(), 0});
      bound_[head_grad_vars_.back().get()] = NDArray::empty(out_shapes[i], out_types[i], dev);
    }
    grad_entries_ = build_gradients(symbol_.outputs, head_grad_entries, wanted);
    std::vector<NodeEntry> reached;
    for (const NodeEntry& e : grad_entries_) {
      if (e) reached.push_back(e);
    }
    std::unordered_set<const Node*> forward_nodes;
    for (const NodePtr& n : order) forward_nodes.insert(n.get());
    for (const NodePtr& n : topo_order(reached)) {
      if (!n->is_variable() && !forward_nodes.count(n.get())) steps_.push_back(Step{n, true, {}});
    }
  }
  for (size_t s = 0; s < steps_.size(); ++s) step_of_[steps_[s].node.get()] = s;

  // Shapes and dtypes of every value, then their lifetimes.
  std::vector<PlannedValue> values;
  std::vector<std::vector<int>> value_index(steps_.size());
  auto shape_of = [&](const NodeEntry& e) -> std::pair<Shape, DType> {
    if (e.node->is_variable()) {
      const NDArray& a = bound_.at(e.node.get());
      return {a.shape(), a.dtype()};
    }
    const PlannedValue& v = values[value_index[step_of_.at(e.node.get())][e.index]];
    return {v.shape, v.dtype};
  };
  for (size_t s = 0; s < steps_.size(); ++s) {
    const Node& n = *steps_[s].node;
    std::vector<Shape> in_shapes;
    std::vector<DType> in_types;
    for (const NodeEntry& e : n.inputs) {
      auto [sh, dt] = shape_of(e);
      in_shapes.push_back(sh);
      in_types.push_back(dt);
    }
    const size_t num_out = static_cast<size_t>(n.num_outputs());
    std::vector<Shape> outs(num_out);
    std::vector<DType> types(num_out);
    try {
      n.op->infer_shape(n.params, in_shapes, &outs);
      infer_node_types(*n.op, n.params, in_types, &types);
    } catch (Error& e) {
      if (e.message().rfind("node '", 0) != 0) e.prefix(cat("node '", n.name, "'"));
      throw;
    }
    for (size_t k = 0; k < num_out; ++k) {
      PlannedValue v;
      v.name = value_name(n, k);
      v.shape = outs[k];
      v.dtype = types[k];
      v.step = s;
      v.last_use = s;
      if (k == 0 && n.op->inplace_input >= 0 &&
          static_cast<size_t>(n.op->inplace_input) < n.inputs.size()) {
        const NodeEntry& src = n.inputs[static_cast<size_t>(n.op->inplace_input)];
        if (!src.node->is_variable()) {
          const int vi = value_index[step_of_.at(src.node.get())][src.index];
          if (values[static_cast<size_t>(vi)].shape == outs[k] &&
              values[static_cast<size_t>(vi)].dtype == types[k]) {
            v.inplace_of = vi;
          }
        }
      }
      value_index[s].push_back(static_cast<int>(values.size()));
      values.push_back(v);
    }
    for (const NodeEntry& e : n.inputs) {
      if (e.node->is_variable()) continue;
      PlannedValue& src = values[static_cast<size_t>(value_index[step_of_.at(e.node.get())][e.index])];
      src.last_use = std::max(src.last_use, s);
    }
  }
  const size_t end = steps_.size() + 1;
  auto keep_to = [&](const NodeEntry& e, size_t until) {
    if (!e || e.node->is_variable()) return;
    PlannedValue& v = values[static_cast<size_t>(value_index[step_of_.at(e.node.get())][e.index])];
    v.last_use = std::max(v.last_use, until);
  };
  for (const NodeEntry& h : symbol_.outputs) keep_to(h, num_forward_);  // copied out after forward
  for (const NodeEntry& g : grad_entries_) keep_to(g, end);             // written out after backward
  // A gradient with grad_req write that nothing else reads is computed straight into the
  // bound gradient array (no planned buffer, no copy).
  std::vector<int> consumers(values.size(), 0);
  for (const Step& st : steps_) {
    for (const NodeEntry& e : st.node->inputs) {
      if (!e.node->is_variable()) ++consumers[static_cast<size_t>(value_index[step_of_.at(e.node.get())][e.index])];
    }
  }
  for (const NodeEntry& h : symbol_.outputs) {
    if (!h.node->is_variable()) ++consumers[static_cast<size_t>(value_index[step_of_.at(h.node.get())][h.index])];
  }
  std::unordered_map<int, size_t> external_grad;  // value -> argument
  for (size_t k = 0; k < grad_args_.size(); ++k) {
    const NodeEntry& g = grad_entries_[k];
    const size_t i = grad_args_[k];
    if (!g || g.node->is_variable() || reqs_[i] != GradReq::kWrite) continue;
    const int vi = value_index[step_of_.at(g.node.get())][g.index];
    PlannedValue& v = values[static_cast<size_t>(vi)];
    if (consumers[static_cast<size_t>(vi)] != 0 || external_grad.count(vi) ||
        v.shape != grads_[i].shape() || v.dtype != grads_[i].dtype()) {
      continue;
    }
    v.external = true;
    external_grad[vi] = i;
    direct_grads_.push_back(k);
  }

  // Values handed out as gradients: read after the pass even when no step reads them.
  std::unordered_set<int> read_by_gradients;
  for (const NodeEntry& g : grad_entries_) {
    if (g && !g.node->is_variable()) {
      read_by_gradients.insert(value_index[step_of_.at(g.node.get())][g.index]);
    }
  }
  // Hidden forward outputs nothing reads (LRN's normaliser when no backward pass needs it):
  // kernels that can leave them unwritten get no storage for them.
  for (size_t s = 0; s < num_forward_; ++s) {
    const Node& n = *steps_[s].node;
    if (!n.op->skips_unused_hidden_outputs) continue;
    const size_t visible = n.op->num_visible_fn
                               ? static_cast<size_t>(n.op->num_visible_fn(n.params))
                               : value_index[s].size();
    for (size_t k = visible; k < value_index[s].size() && k < 32; ++k) {
      const int vi = value_index[s][k];
      if (consumers[static_cast<size_t>(vi)] == 0 && !read_by_gradients.count(vi)) {
        values[static_cast<size_t>(vi)].skipped = true;
        steps_[s].unused |= 1u << k;
      }
    }
  }

  if (env_int("MXNEXT_MEMORY_PLAN", 1) == 0) options.plan_memory = false;
  if (env_int("MXNEXT_FUSE", 1) == 0) options.fuse_elementwise = options.fuse_conv_chains = false;
  if (env_int("MXNEXT_TRAIN_LAYOUTS", 1) == 0) options.train_layouts = false;
  if (env_int("MXNEXT_EXEC_BULK_INFERENCE", 1) == 0) options.bulk_inference = false;
  bulk_inference_ = options.bulk_inference;
  // A replayed forward would draw the same random numbers each time.
  replayable_ = std::none_of(steps_.begin(), steps_.begin() + static_cast<std::ptrdiff_t>(num_forward_),
                             [](const Step& st) { return st.node->op->draws_random(st.node->params, false); });
  if (options.train_layouts) find_train_layouts(values, value_index);
  if (options.fuse_conv_chains) {
    find_conv_chains(&values, value_index);
    find_layout_readers();
  }
  plan_ = plan_memory(values, options.plan_memory);
  // One arena; each block is a view of it with its own engine variable.
  std::shared_ptr<Chunk> arena = Chunk::allocate(plan_.arena_bytes, dev);
  std::vector<std::shared_ptr<Chunk>> blocks;
  for (size_t b = 0; b < plan_.block_bytes.size(); ++b) {
    blocks.push_back(Chunk::wrap(static_cast<char*>(arena->data) + plan_.block_offset[b],
                                 plan_.block_bytes[b], dev, [arena] {}));
  }
  for (size_t s = 0; s < steps_.size(); ++s) {
    for (int vi : value_index[s]) {
      const PlannedValue& v = values[static_cast<size_t>(vi)];
      auto ext = external_grad.find(vi);
      if (ext != external_grad.end()) {
        steps_[s].outputs.push_back(grads_[ext->second]);
        continue;
      }
      const size_t b = static_cast<size_t>(plan_.block_of[static_cast<size_t>(vi)]);
      steps_[s].outputs.push_back(NDArray::from_chunk(blocks[b], v.shape, v.dtype));
      // The block's first writer waits for every block that used its memory before (and,
      // in the next pass, lets those wait for this one's readers).
      if (!plan_.in_place[static_cast<size_t>(vi)]) {
        for (int o : plan_.overlaps[b]) steps_[s].after.push_back(blocks[static_cast<size_t>(o)]->var);
      }
    }
  }
  for (const PlannedValue& v : values) {
    value_names_.push_back(v.name);
    value_bytes_.push_back(static_cast<size_t>(v.shape.size()) * dtype_size(v.dtype));
  }
  // Each chain's memory-plan constraints, once: its members' lists overlap a great deal (the
  // same blocks shared the memory of the convolution's, the BatchNorm's and the ReLU's
  // outputs), and the engine compares every dependency of an operation with every other.
  for (ConvChain& c : chains_) {
    for (size_t m : c.steps) c.after.insert(c.after.end(), steps_[m].after.begin(), steps_[m].after.end());
    std::sort(c.after.begin(), c.after.end());
    c.after.erase(std::unique(c.after.begin(), c.after.end()), c.after.end());
  }
  if (options.fuse_elementwise) find_fusable_runs(consumers, value_index);
  // Backward outputs nothing reads (the gradient of an argument with grad_req null, of the
  // data): their kernels may skip the work.
  for (size_t s = num_forward_; s < steps_.size(); ++s) {
    for (size_t k = 0; k < value_index[s].size() && k < 32; ++k) {
      const int vi = value_index[s][k];
      if (consumers[static_cast<size_t>(vi)] == 0 && !read_by_gradients.count(vi)) {
        steps_[s].unused |= 1u << k;
      }
    }
  }
  for (size_t i = 0; i < out_shapes.size(); ++i) {
    outputs_.push_back(NDArray::empty(out_shapes[i], out_types[i], dev));
  }
}

const NDArray& Executor::value_of(const NodeEntry& e) const {
  if (e.node->is_variable()) return bound_.at(e.node.get());
  return steps_[step_of_.at(e.node.get())].outputs.at(e.index);
}

void Executor::run(Step& step, bool is_train) {
  const Node& n = *step.node;
  std::vector<NDArray> in;
  in.reserve(n.inputs.size());
  for (const NodeEntry& e : n.inputs) in.push_back(value_of(e));
  try {
    invoke_op(*n.op, in, n.params, &step.outputs, is_train, step.unused, &step.after,
              is_train ? step.blocked : BlockedIO{});
  } catch (Error& e) {
    if (e.message().rfind("node '", 0) != 0) e.prefix(cat("node '", n.name, "'"));
    throw;
  }
}

void Executor::find_fusable_runs(const std::vector<int>& consumers,
                                 const std::vector<std::vector<int>>& value_index) {
  // Element-wise steps (they declare in-place use of an input): one output, no randomness,
  // every input of the output's shape.
  auto elementwise = [&](size_t s) {
    const Step& st = steps_[s];
    const OpDef& op = *st.node->op;
    if (st.backward || op.inplace_input < 0 || op.uses_random || st.outputs.size() != 1) {
      return false;
    }
    for (const NodeEntry& e : st.node->inputs) {
      const NDArray& in = value_of(e);
      if (in.shape() != st.outputs[0].shape() || in.dtype() != st.outputs[0].dtype()) return false;
    }
    return true;
  };
  std::vector<size_t> run;
  auto close_run = [&] {
    if (run.size() >= 2) {
      for (size_t s : run) steps_[s].group = static_cast<int>(groups_.size());
      groups_.push_back(run);
    }
    run.clear();
  };
  for (size_t s = 0; s < num_forward_; ++s) {
    if (!elementwise(s)) {
      close_run();
      continue;
    }
    if (!run.empty()) {
      // Chain only if this step reads the previous one's output, which nothing else reads.
      const size_t prev = run.back();
      const int vi = value_index[prev][0];
      bool reads_prev = false;
      for (const NodeEntry& e : steps_[s].node->inputs) {
        reads_prev = reads_prev || (e.node.get() == steps_[prev].node.get() && e.index == 0);
      }
      if (prev + 1 != s || !reads_prev || consumers[static_cast<size_t>(vi)] != 1) close_run();
    }
    run.push_back(s);
  }
  close_run();
}

void Executor::run_fused(const std::vector<size_t>& group, bool is_train) {
  struct Member {
    const OpDef* op;
    OpParams params;
    std::vector<TBlob> in, out;
  };
  std::vector<Member> members;
  std::vector<EngineVar*> reads, writes;
  std::vector<std::shared_ptr<Chunk>> keep;
  int64_t n = 0;
  DType dtype = DType::kFloat32;
  Device dev;
  for (size_t s : group) {
    const Step& st = steps_[s];
    Member m{st.node->op, st.node->params, {}, {}};
    for (const NodeEntry& e : st.node->inputs) {
      const NDArray& a = value_of(e);
      m.in.push_back(a.blob());
      reads.push_back(a.var());
      keep.push_back(a.chunk());
    }
    writes.insert(writes.end(), st.after.begin(), st.after.end());
    for (const NDArray& o : st.outputs) {
      m.out.push_back(o.blob());
      writes.push_back(o.var());
      keep.push_back(o.chunk());
      n = o.size();
      dtype = o.dtype();
      dev = o.device();
    }
    members.push_back(std::move(m));
  }
  OpContext ctx;
  ctx.dev = dev;
  ctx.is_train = is_train;
  const size_t esize = dtype_size(dtype);
  PushOptions opt;
  opt.name = "fused_elementwise";
  Engine::get().push(
      [members = std::move(members), keep = std::move(keep), ctx, n, esize] {
        // Tile by tile: every member's kernel on the same slice while it is in cache.
        constexpr int64_t kTile = 8192;
        std::vector<TBlob> in, out;
        for (int64_t begin = 0; begin < n; begin += kTile) {
          const int64_t len = std::min(kTile, n - begin);
          const size_t off = static_cast<size_t>(begin) * esize;
          for (const Member& m : members) {
            in = m.in;
            out = m.out;
            for (TBlob& b : in) {
              b.dptr = static_cast<char*>(b.dptr) + off;
              b.shape = Shape{len};
            }
            for (TBlob& b : out) {
              b.dptr = static_cast<char*>(b.dptr) + off;
              b.shape = Shape{len};
            }
            try {
              m.op->compute_cpu(ctx, m.params, in, out);
            } catch (Error& e) {
              if (e.op_name().empty()) e.with_op(m.op->name);
              throw;
            }
          }
        }
      },
      reads.data(), static_cast<int>(reads.size()), writes.data(),
      static_cast<int>(writes.size()), opt);
}

void Executor::forward(bool is_train) {
  // The chains running as one kernel this time.
  const std::string settings = ops::nn::conv_chain_settings();
  const std::vector<char> fused =
      is_train ? std::vector<char>(chains_.size(), 0) : fusable_chains(settings);
  const KeptLayouts& kept = kept_layouts(fused, settings);
  kept_outputs_ = std::count_if(kept.out.begin(), kept.out.end(), [](const auto& l) { return l != nullptr; });
  // Inference: one engine operation for the whole forward, as MXNet bulks it. The worker runs
  // the steps back to back, and the pushing thread, which shares the cores with the kernels,
  // makes one dependency update instead of one per step. The operations are kept and pushed
  // again while the same chains run fused in the same layouts, so later forwards skip building
  // them (their kernels still decide what to do when they run).
  const bool bulk = !is_train && bulk_inference_;
  Engine& engine = Engine::get();
  if (bulk && replay_ && replay_generation_ == kept.generation) {
    engine.push_replay(replay_);
    ++replayed_forwards_;
    trained_ = false;
    return;
  }
  if (bulk) {
    replay_ = nullptr;
    engine.begin_bulk();
  }
  try {
    push_forward(is_train, fused, kept);
  } catch (...) {
    if (bulk) engine.end_bulk();  // what was pushed runs, as without the bulk
    throw;
  }
  if (bulk && replayable_) {
    replay_ = engine.end_bulk_for_replay();
    replay_generation_ = kept.generation;
  } else if (bulk) {
    engine.end_bulk();
  }
  trained_ = is_train;
}

void Executor::push_forward(bool is_train, const std::vector<char>& fused,
                            const KeptLayouts& kept) {
  auto in_fused_chain = [&](size_t s) { return steps_[s].chain >= 0 && fused[static_cast<size_t>(steps_[s].chain)]; };
  for (size_t s = 0; s < num_forward_; ++s) {
    if (in_fused_chain(s)) {
      const ConvChain& c = chains_[static_cast<size_t>(steps_[s].chain)];
      if (c.steps.back() == s) run_conv_chain(c, kept);
      continue;
    }
    if (run_kept_step(s, kept)) continue;
    const int g = steps_[s].group;
    if (g < 0) {
      run(steps_[s], is_train);
      continue;
    }
    // An element-wise run sharing steps with a fused chain runs its other steps one by one.
    const std::vector<size_t>& group = groups_[static_cast<size_t>(g)];
    if (std::any_of(group.begin(), group.end(), in_fused_chain)) {
      run(steps_[s], is_train);
    } else if (group.front() == s) {
      run_fused(group, is_train);
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i) copy_array(value_of(symbol_.outputs[i]), outputs_[i]);
}

void Executor::backward(const std::vector<NDArray>& head_grads) {
  MXN_CHECK(trained_, ErrorCode::kInvalidArg, "backward needs a forward(is_train=True) first");
  MXN_CHECK(head_grads.empty() || head_grads.size() == outputs_.size(), ErrorCode::kInvalidArg,
            "backward: ", outputs_.size(), " outputs but ", head_grads.size(),
            " head gradients");
  if (grad_args_.empty()) return;
  const OpDef& ones = *OpRegistry::get().find("ones_like");
  for (size_t i = 0; i < outputs_.size(); ++i) {
    NDArray& target = bound_.at(head_grad_vars_[i].get());
    if (!head_grads.empty() && !head_grads[i].is_none()) {
      MXN_CHECK(head_grads[i].shape() == outputs_[i].shape(), ErrorCode::kShape,
                "head gradient ", i, " has shape ", head_grads[i].shape().str(), " but output ",
                i, " has shape ", outputs_[i].shape().str());
      copy_array(head_grads[i], target);
    } else {
      std::vector<NDArray> into{target};
      invoke_op(ones, {target}, OpParams::defaults(ones), &into);
    }
  }
  for (size_t s = num_forward_; s < steps_.size(); ++s) run(steps_[s], true);
  const OpDef& zeros = *OpRegistry::get().find("zeros_like");
  const OpDef& add = *OpRegistry::get().find("elemwise_add");
  for (size_t k = 0; k < grad_args_.size(); ++k) {
    const size_t i = grad_args_[k];
    NDArray& target = grads_[i];
    std::vector<NDArray> into{target};
    if (!grad_entries_[k]) {  // no output depends on it
      if (reqs_[i] == GradReq::kWrite) invoke_op(zeros, {target}, OpParams::defaults(zeros), &into);
      continue;
    }
    if (std::find(direct_grads_.begin(), direct_grads_.end(), k) != direct_grads_.end()) {
      continue;  // already computed into the gradient array
    }
    const NDArray& g = value_of(grad_entries_[k]);
    if (reqs_[i] == GradReq::kAdd) {
      invoke_op(add, {target, g}, OpParams::defaults(add), &into);
    } else {
      copy_array(g, target);
    }
  }
}

std::string Executor::memory_report() const {
  auto total = [](const std::vector<NDArray>& arrays) {
    size_t n = 0;
    for (const NDArray& a : arrays) n += a.is_none() ? 0 : a.nbytes();
    return n;
  };
  std::vector<std::vector<size_t>> members(plan_.block_bytes.size());
  for (size_t v = 0; v < plan_.block_of.size(); ++v) {
    if (plan_.block_of[v] >= 0) members[static_cast<size_t>(plan_.block_of[v])].push_back(v);
  }
  std::string out = "{\"blocks\": [";
  for (size_t b = 0; b < members.size(); ++b) {
    out += cat(b ? ", " : "", "{\"id\": ", b, ", \"bytes\": ", plan_.block_bytes[b],
               ", \"offset\": ", plan_.block_offset[b], ", \"steps\": [",
               plan_.block_steps[b].first, ", ", plan_.block_steps[b].second, "], \"values\": [");
    for (size_t k = 0; k < members[b].size(); ++k) {
      const size_t v = members[b][k];
      out += k ? ", " : "";
      out += "{\"name\": ";
      json_quote(out, value_names_[v]);
      out += cat(", \"bytes\": ", value_bytes_[v], ", \"in_place\": ",
                 plan_.in_place[v] ? "true" : "false", "}");
    }
    out += "]}";
  }
  const size_t planned = plan_.planned_bytes();
  const size_t params = total(args_), grads = total(grads_), aux = total(aux_),
               outs = total(outputs_);
  out += cat("], \"fused_runs\": ", groups_.size(), ", \"conv_chains\": ", chains_.size(),
             ", \"conv_chain_builds\": ", conv_chain_builds(),
             ", \"kept_layouts\": ", kept_outputs_, ", \"replayed_forwards\": ", replayed_forwards_,
             ", \"train_blocked_values\": ", train_blocked_values_, ", \"num_values\": ", value_names_.size(),
             ", \"unplanned_bytes\": ",
             plan_.unplanned_bytes, ", \"planned_bytes\": ", planned,
             ", \"inplace_saved_bytes\": ", plan_.inplace_saved_bytes,
             ", \"coshare_saved_bytes\": ", plan_.coshare_saved_bytes,
             ", \"arguments_bytes\": ", params, ", \"gradients_bytes\": ", grads,
             ", \"aux_bytes\": ", aux, ", \"outputs_bytes\": ", outs,
             ", \"peak_bytes\": ", planned + params + grads + aux + outs,
             ", \"workspace_peak_bytes\": ", workspace_stats().peak_bytes, "}");
  return out;
}

}  // namespace mxn
