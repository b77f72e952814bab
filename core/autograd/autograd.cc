#include "core/autograd/autograd.h"

#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "core/graph/gradient.h"
#include "core/graph/gradient_pass.h"

namespace mxn::autograd {

namespace {

thread_local bool t_recording = false;
thread_local bool t_training = false;

const OpDef& op_named(const char* name) {
  const OpDef* op = OpRegistry::get().find(name);
  MXN_CHECK(op != nullptr, ErrorCode::kInternal, "autograd needs operator ", name);
  return *op;
}

// A variable node holding a fixed value (an input that needs no gradient, a head gradient).
NodeEntry constant_entry(const NDArray& value, const std::string& name) {
  NodePtr n = Node::variable(name);
  n->values = std::make_shared<NodeValues>();
  n->values->outputs.push_back(value);
  return NodeEntry{n, 0};
}

bool needs_record(const std::vector<NDArray>& inputs) {
  for (const NDArray& a : inputs) {
    if (a.autograd() && a.autograd()->entry) return true;
  }
  return false;
}

void record(const OpDef& op, const OpParams& params, const std::vector<NDArray>& inputs,
            std::vector<NDArray>& outputs) {
  std::vector<NodeEntry> entries;
  entries.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& slot = inputs[i].autograd();
    if (slot && slot->entry) {
      entries.push_back(slot->entry);
    } else {
      entries.push_back(constant_entry(inputs[i], op.name + "_in" + std::to_string(i)));
    }
  }
  NodePtr node = Node::create(op, op.name, std::move(entries), params);
  node->values = std::make_shared<NodeValues>();
  node->values->outputs = outputs;  // copied before the slots: no node -> array -> node cycle
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto slot = std::make_shared<AutogradSlot>();
    slot->entry = NodeEntry{node, static_cast<uint32_t>(i)};
    outputs[i].set_autograd(slot);  // the caller's handle shares this slot
  }
}

}  // namespace

bool is_recording() { return t_recording; }
bool set_recording(bool on) {
  bool prev = t_recording;
  t_recording = on;
  return prev;
}
bool is_training() { return t_training; }
bool set_training(bool on) {
  bool prev = t_training;
  t_training = on;
  return prev;
}

void mark_variables(std::vector<NDArray*> variables, const std::vector<GradReq>& reqs,
                    const std::vector<NDArray>& grads) {
  MXN_CHECK(variables.size() == reqs.size() && variables.size() == grads.size(),
            ErrorCode::kInvalidArg, "mark_variables: ", variables.size(), " variables, ",
            reqs.size(), " grad_reqs and ", grads.size(), " gradient arrays");
  for (size_t i = 0; i < variables.size(); ++i) {
    NDArray& v = *variables[i];
    const NDArray& g = grads[i];
    if (g.shape() != v.shape() || g.dtype() != v.dtype()) {
      throw Error(ErrorCode::kShape,
                  cat("mark_variables: gradient ", i, " has shape ", g.shape().str(), " and dtype ",
                      dtype_name(g.dtype()), " but the variable has ", v.shape().str(), " and ",
                      dtype_name(v.dtype())))
          .with_arg(static_cast<int>(i));
    }
    auto slot = std::make_shared<AutogradSlot>();
    slot->is_variable = true;
    slot->req = reqs[i];
    slot->grad = g;
    NodePtr n = Node::variable("var" + std::to_string(i));
    n->values = std::make_shared<NodeValues>();
    n->values->outputs.push_back(v.detach());
    n->values->variable = slot;
    slot->entry = NodeEntry{n, 0};
    v.set_autograd(slot);
  }
}

std::vector<NDArray> invoke(const OpDef& op, const std::vector<NDArray>& inputs,
                            const OpParams& given, const std::vector<NDArray>* outputs) {
  // The recorded node keeps the parameters as run, the variadic count filled in.
  OpParams params = given;
  if (!op.variadic_count.empty() && params.is_none(op.variadic_count.c_str())) {
    params.set(op.variadic_count.c_str(), ParamValue::of_int(static_cast<int64_t>(inputs.size())));
  }
  std::vector<NDArray> out = invoke_op(op, inputs, params, outputs, t_training);
  if (t_recording && needs_record(inputs)) record(op, params, inputs, out);
  out.resize(static_cast<size_t>(op.num_visible_outputs(params)));
  if (outputs != nullptr) {
    // The caller's out= arrays now stand for the recorded outputs.
    for (size_t i = 0; i < outputs->size() && i < out.size(); ++i) {
      const_cast<NDArray&>((*outputs)[i]).set_autograd(out[i].autograd());
    }
  }
  return out;
}

std::vector<NDArray> backward(const std::vector<NDArray>& heads,
                              const std::vector<NDArray>& head_grads,
                              const std::vector<NDArray>& variables, bool retain_graph,
                              bool train_mode) {
  MXN_CHECK(!heads.empty(), ErrorCode::kInvalidArg, "backward needs at least one head");
  MXN_CHECK(head_grads.empty() || head_grads.size() == heads.size(), ErrorCode::kInvalidArg,
            "backward: ", heads.size(), " heads but ", head_grads.size(), " head gradients");
  std::vector<NodeEntry> head_entries, head_grad_entries;
  for (size_t i = 0; i < heads.size(); ++i) {
    const auto& slot = heads[i].autograd();
    if (!slot || !slot->entry) {
      throw Error(ErrorCode::kInvalidArg,
                  cat("cannot differentiate head ", i, ": it was not computed inside "
                      "autograd.record() from arrays marked with attach_grad()"))
          .with_arg(static_cast<int>(i));
    }
    head_entries.push_back(slot->entry);
    if (!head_grads.empty() && !head_grads[i].is_none()) {
      MXN_CHECK(head_grads[i].shape() == heads[i].shape(), ErrorCode::kShape, "head gradient ",
                i, " has shape ", head_grads[i].shape().str(), " but the head has shape ",
                heads[i].shape().str());
      head_grad_entries.push_back(constant_entry(head_grads[i], "head_grad" + std::to_string(i)));
    } else {
      head_grad_entries.push_back(NodeEntry{
          make_node("ones_like", "head_grad" + std::to_string(i), {slot->entry}), 0});
    }
  }
  // The variables to differentiate: the given ones, or every marked one the heads reach.
  std::vector<const Node*> wanted;
  std::vector<std::shared_ptr<AutogradSlot>> write_to;  // when writing into .grad
  for (size_t i = 0; i < variables.size(); ++i) {
    const auto& slot = variables[i].autograd();
    if (!slot || !slot->is_variable) {
      throw Error(ErrorCode::kInvalidArg,
                  cat("variable ", i, " was not marked with attach_grad()/mark_variables"))
          .with_arg(static_cast<int>(i));
    }
    wanted.push_back(slot->entry.node.get());
  }
  const std::vector<NodePtr> order = topo_order(head_entries);
  if (variables.empty()) {
    for (const NodePtr& n : order) {
      if (!n->values) continue;
      if (auto slot = n->values->variable.lock(); slot && slot->req != GradReq::kNull) {
        wanted.push_back(n.get());
        write_to.push_back(slot);
      }
    }
  }
  const std::vector<NodeEntry> grads = build_gradients(head_entries, head_grad_entries, wanted);
  GraphEvaluator eval(
      [](const Node* n) -> const std::vector<NDArray>* {
        if (!n->values) return nullptr;
        MXN_CHECK(!n->values->freed, ErrorCode::kInvalidArg,
                  "the recorded graph was freed by an earlier backward; pass retain_graph=True "
                  "to the first backward to differentiate twice");
        return &n->values->outputs;
      },
      train_mode);
  const OpDef& zeros = op_named("zeros_like");
  std::vector<NDArray> results;
  for (size_t i = 0; i < wanted.size(); ++i) {
    NDArray g = grads[i] ? eval.value(grads[i])
                         : invoke_op(zeros, {wanted[i]->values->outputs[0]},
                                     OpParams::defaults(zeros), nullptr)[0];
    if (variables.empty()) {
      const auto& slot = write_to[i];
      if (slot->req == GradReq::kAdd) {
        const OpDef& add_op = op_named("elemwise_add");
        std::vector<NDArray> into{slot->grad};
        invoke_op(add_op, {slot->grad, g}, OpParams::defaults(add_op), &into);
      } else {
        copy_array(g, slot->grad);
      }
    } else {
      results.push_back(g);
    }
  }
  if (!retain_graph) {
    for (const NodePtr& n : order) {
      if (!n->is_variable() && n->values) {
        n->values->outputs.clear();
        n->values->freed = true;
      }
    }
  }
  return results;
}

}  // namespace mxn::autograd
