#include "core/graph/gradient_pass.h"

#include <unordered_set>

#include "core/graph/gradient.h"

namespace mxn {

std::vector<NodePtr> topo_order(const std::vector<NodeEntry>& heads) {
  std::vector<NodePtr> order;
  std::unordered_set<const Node*> seen;
  std::vector<std::pair<NodePtr, size_t>> stack;
  for (const NodeEntry& h : heads) {
    if (!seen.insert(h.node.get()).second) continue;
    stack.push_back({h.node, 0});
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < n->inputs.size()) {
        const NodePtr& child = n->inputs[next++].node;
        if (seen.insert(child.get()).second) stack.push_back({child, 0});
      } else {
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return order;
}

std::vector<NodeEntry> build_gradients(const std::vector<NodeEntry>& heads,
                                       const std::vector<NodeEntry>& head_grads,
                                       const std::vector<const Node*>& wanted) {
  MXN_CHECK(heads.size() == head_grads.size(), ErrorCode::kInternal, heads.size(), " heads, ",
            head_grads.size(), " head gradients");
  const std::vector<NodePtr> order = topo_order(heads);
  const std::unordered_set<const Node*> targets(wanted.begin(), wanted.end());
  std::unordered_set<const Node*> needs;  // nodes on a path to a wanted variable
  for (const NodePtr& n : order) {
    bool need = targets.count(n.get()) > 0;
    for (const NodeEntry& e : n->inputs) need = need || needs.count(e.node.get()) > 0;
    if (need) needs.insert(n.get());
  }
  std::unordered_map<const Node*, std::vector<std::vector<NodeEntry>>> contrib;
  auto add = [&](const NodeEntry& target, const NodeEntry& g) {
    auto& slots = contrib[target.node.get()];
    if (slots.size() <= target.index) slots.resize(target.index + 1);
    slots[target.index].push_back(g);
  };
  for (size_t i = 0; i < heads.size(); ++i) add(heads[i], head_grads[i]);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const NodePtr& self = *it;
    const Node* n = self.get();
    if (n->is_variable() || !needs.count(n)) continue;
    const OpDef& op = *n->op;
    if (!op.gradient) {
      throw Error(ErrorCode::kNotImplemented,
                  cat("operator ", op.name, " has no gradient (node '", n->name, "')"))
          .with_op(op.name);
    }
    auto& slots = contrib[n];
    std::vector<NodeEntry> out_grads;
    const int num_out = n->num_outputs();
    for (int i = 0; i < num_out; ++i) {
      if (static_cast<size_t>(i) < slots.size() && !slots[i].empty()) {
        out_grads.push_back(sum_entries(slots[i], n->name + "_out" + std::to_string(i)));
      } else {
        const NodeEntry me{self, static_cast<uint32_t>(i)};
        out_grads.push_back(NodeEntry{make_node("zeros_like", n->name + "_zero_grad", {me}), 0});
      }
    }
    std::vector<NodeEntry> in_grads = op.gradient(self, out_grads);
    MXN_CHECK(in_grads.size() == n->inputs.size(), ErrorCode::kInternal, "gradient of ", op.name,
              " returned ", in_grads.size(), " entries for ", n->inputs.size(), " inputs");
    for (size_t j = 0; j < in_grads.size(); ++j) {
      if (in_grads[j] && needs.count(n->inputs[j].node.get())) add(n->inputs[j], in_grads[j]);
    }
  }
  std::vector<NodeEntry> result;
  for (const Node* w : wanted) {
    auto it = contrib.find(w);
    if (it == contrib.end() || it->second.empty() || it->second[0].empty()) {
      result.push_back(NodeEntry{});
    } else {
      result.push_back(sum_entries(it->second[0], w->name + "_grad"));
    }
  }
  return result;
}

const NDArray& GraphEvaluator::value(const NodeEntry& e) {
  const Node* n = e.node.get();
  if (const std::vector<NDArray>* v = known_(n)) return v->at(e.index);
  auto it = memo_.find(n);
  if (it == memo_.end()) {
    MXN_CHECK(!n->is_variable(), ErrorCode::kInternal, "no value for variable '", n->name, "'");
    std::vector<NDArray> in;
    in.reserve(n->inputs.size());
    for (const NodeEntry& ie : n->inputs) in.push_back(value(ie));
    it = memo_.emplace(n, invoke_op(*n->op, in, n->params, nullptr, is_train_)).first;
  }
  return it->second.at(e.index);
}

}  // namespace mxn
