// Building blocks for the gradient functions operators register (OpDef::grad). A gradient
// function returns graph entries; autograd and the executor evaluate them.
#pragma once
#include <initializer_list>
#include <utility>

#include "core/graph/node.h"

namespace mxn {

// A node applying the operator registered as `op_name` to `inputs`. Parameters are the given
// (name, value) pairs, or, for a _backward_ operator, `forward_params`.
NodePtr make_node(const std::string& op_name, const std::string& name,
                  std::vector<NodeEntry> inputs,
                  std::initializer_list<std::pair<const char*, ParamValue>> params = {});
NodePtr make_backward_node(const std::string& op_name, const NodePtr& forward,
                           std::vector<NodeEntry> inputs);
// All outputs of a node as entries.
std::vector<NodeEntry> outputs_of(const NodePtr& node);
// Sum of entries (one entry is returned as is).
NodeEntry sum_entries(const std::vector<NodeEntry>& parts, const std::string& name);

// The common gradient: one node `backward_op` reading, in order, the output gradients, then
// (if use_inputs) the forward inputs, then (if use_outputs) the forward outputs; its outputs
// are the gradients of the forward inputs, in order.
GradientFn grad_by_backward_op(std::string backward_op, bool use_inputs, bool use_outputs);
// Every input gets the output gradient unchanged (identity, copies, reshapes of the same size
// use grad_by_backward_op with a reshape instead).
GradientFn grad_pass_through();
// No input is differentiable (the op's gradient is zero everywhere: floor, argmax, ...).
GradientFn grad_zero();

}  // namespace mxn
