// The graph IR shared by Symbol, the executor, gradient definitions and autograd: nodes that
// apply an operator (or are variables) and entries naming one output of a node.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/op/op.h"

namespace mxn {

struct Node;
using NodePtr = std::shared_ptr<Node>;

struct NodeEntry {
  NodePtr node;        // null: "no value" (a zero gradient)
  uint32_t index = 0;  // which output of the node
  explicit operator bool() const { return node != nullptr; }
};

struct NodeValues;  // values attached by autograd (core/autograd)

struct Node {
  const OpDef* op = nullptr;  // null: a variable (an argument, a constant, a head gradient)
  std::string name;
  OpParams params;  // for _backward_ nodes: the forward operator's parameters
  std::vector<NodeEntry> inputs;
  std::map<std::string, std::string> attrs;  // user attributes (__lr_mult__, ...)
  std::shared_ptr<NodeValues> values;

  bool is_variable() const { return op == nullptr; }
  int num_outputs() const { return op ? op->num_outputs(params) : 1; }

  static NodePtr variable(std::string name);
  // A node applying `op` with `params` to `inputs`.
  static NodePtr create(const OpDef& op, std::string name, std::vector<NodeEntry> inputs,
                        OpParams params);
};

}  // namespace mxn
