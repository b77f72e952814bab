#include "core/graph/node.h"

#include "core/graph/gradient.h"

namespace mxn {

NodePtr Node::variable(std::string name) {
  auto n = std::make_shared<Node>();
  n->name = std::move(name);
  return n;
}

NodePtr Node::create(const OpDef& op, std::string name, std::vector<NodeEntry> inputs,
                     OpParams params) {
  auto n = std::make_shared<Node>();
  n->op = &op;
  n->name = std::move(name);
  n->inputs = std::move(inputs);
  n->params = std::move(params);
  return n;
}

namespace {
const OpDef& find_op(const std::string& name) {
  const OpDef* op = OpRegistry::get().find(name);
  MXN_CHECK(op != nullptr, ErrorCode::kInternal, "gradient uses unknown operator ", name);
  return *op;
}
}  // namespace

NodePtr make_node(const std::string& op_name, const std::string& name,
                  std::vector<NodeEntry> inputs,
                  std::initializer_list<std::pair<const char*, ParamValue>> params) {
  const OpDef& op = find_op(op_name);
  std::vector<const char*> keys;
  std::vector<ParamValue> values;
  for (const auto& kv : params) {
    keys.push_back(kv.first);
    values.push_back(kv.second);
  }
  OpParams p = OpParams::parse(op, static_cast<int>(keys.size()), keys.data(), values.data());
  return Node::create(op, name, std::move(inputs), std::move(p));
}

NodePtr make_backward_node(const std::string& op_name, const NodePtr& forward,
                           std::vector<NodeEntry> inputs) {
  const OpDef& op = find_op(op_name);
  MXN_CHECK(op.backward_of == forward->op->name, ErrorCode::kInternal, op_name,
            " is not the backward operator of ", forward->op->name);
  return Node::create(op, forward->name + "_backward", std::move(inputs), forward->params);
}

std::vector<NodeEntry> outputs_of(const NodePtr& node) {
  std::vector<NodeEntry> out;
  const int n = node->num_outputs();
  for (int i = 0; i < n; ++i) out.push_back(NodeEntry{node, static_cast<uint32_t>(i)});
  return out;
}

NodeEntry sum_entries(const std::vector<NodeEntry>& parts, const std::string& name) {
  MXN_CHECK(!parts.empty(), ErrorCode::kInternal, "sum of no gradients");
  NodeEntry acc = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    acc = NodeEntry{make_node("elemwise_add", name + "_sum" + std::to_string(i), {acc, parts[i]}), 0};
  }
  return acc;
}

GradientFn grad_by_backward_op(std::string backward_op, bool use_inputs, bool use_outputs) {
  return [backward_op, use_inputs, use_outputs](const NodePtr& node,
                                                const std::vector<NodeEntry>& out_grads) {
    std::vector<NodeEntry> in = out_grads;
    if (use_inputs) in.insert(in.end(), node->inputs.begin(), node->inputs.end());
    if (use_outputs) {
      auto outs = outputs_of(node);
      in.insert(in.end(), outs.begin(), outs.end());
    }
    NodePtr b = make_backward_node(backward_op, node, std::move(in));
    std::vector<NodeEntry> grads;
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      grads.push_back(NodeEntry{b, static_cast<uint32_t>(i)});
    }
    return grads;
  };
}

GradientFn grad_pass_through() {
  return [](const NodePtr& node, const std::vector<NodeEntry>& out_grads) {
    return std::vector<NodeEntry>(node->inputs.size(), out_grads.at(0));
  };
}

GradientFn grad_zero() {
  return [](const NodePtr& node, const std::vector<NodeEntry>&) {
    return std::vector<NodeEntry>(node->inputs.size());
  };
}

}  // namespace mxn
