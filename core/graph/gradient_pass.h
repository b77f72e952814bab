// The gradient pass shared by autograd and the executor: from head entries and their
// gradients, build the graph of each wanted variable's gradient out of the operators'
// registered gradient functions (fan-out gradients are summed), then evaluate graph entries.
#pragma once
#include <functional>
#include <unordered_map>

#include "core/graph/node.h"

namespace mxn {

// Post-order of the nodes reachable from `heads`.
std::vector<NodePtr> topo_order(const std::vector<NodeEntry>& heads);

// One entry per wanted variable node: its gradient, or an empty entry when no head depends on
// it. Throws kNotImplemented naming an operator on the path that has no gradient.
std::vector<NodeEntry> build_gradients(const std::vector<NodeEntry>& heads,
                                       const std::vector<NodeEntry>& head_grads,
                                       const std::vector<const Node*>& wanted);

// Evaluates entries by running their nodes' operators, memoised; `known` supplies the values
// of nodes computed elsewhere (forward values, variables) or returns nullptr.
class GraphEvaluator {
 public:
  using Known = std::function<const std::vector<NDArray>*(const Node*)>;
  GraphEvaluator(Known known, bool is_train) : known_(std::move(known)), is_train_(is_train) {}
  const NDArray& value(const NodeEntry& e);

 private:
  Known known_;
  bool is_train_;
  std::unordered_map<const Node*, std::vector<NDArray>> memo_;
};

}  // namespace mxn
