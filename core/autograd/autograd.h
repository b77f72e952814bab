// Imperative autograd (DESIGN §5): while recording, every operator call on arrays that need a
// gradient is kept as a graph node holding its values; backward builds the gradient graph from
// the operators' registered gradient functions (the ones the executor uses) and evaluates it.
#pragma once
#include <vector>

#include "core/graph/node.h"

namespace mxn {

// MXNet's OpReqType numbering.
enum class GradReq : int32_t { kNull = 0, kWrite = 1, kAdd = 3 };

struct AutogradSlot {
  NodeEntry entry;          // the node output this array is
  bool is_variable = false; // marked with attach_grad / mark_variables
  GradReq req = GradReq::kWrite;
  NDArray grad;             // where backward writes (variables only)
};

// Values a recorded node keeps for backward.
struct NodeValues {
  std::vector<NDArray> outputs;  // every output (hidden ones too); a variable: its value
  bool freed = false;            // released by a backward without retain_graph
  std::weak_ptr<AutogradSlot> variable;  // for variable nodes: the marked array's slot
};

namespace autograd {

// Thread-local switches (MXNet's semantics: record() turns both on, pause() turns recording
// off). Each setter returns the previous value.
bool is_recording();
bool set_recording(bool on);
bool is_training();
bool set_training(bool on);

// Marks arrays as variables: backward writes (or adds, by req) their gradient into grads[i],
// which must have the variable's shape and dtype.
void mark_variables(std::vector<NDArray*> variables, const std::vector<GradReq>& reqs,
                    const std::vector<NDArray>& grads);

// The imperative entry point of every operator call from a front end: runs in training mode
// when it is on, records when recording and an input needs a gradient; returns the visible
// outputs.
std::vector<NDArray> invoke(const OpDef& op, const std::vector<NDArray>& inputs,
                            const OpParams& params, const std::vector<NDArray>* outputs);

// Differentiates heads (each recorded) with head gradients (a none array: ones). With
// `variables` empty, writes into every reachable marked variable's gradient by its req and
// returns nothing; otherwise returns the gradients of `variables`, in order, writing nothing.
// Without retain_graph the recorded values are released.
std::vector<NDArray> backward(const std::vector<NDArray>& heads,
                              const std::vector<NDArray>& head_grads,
                              const std::vector<NDArray>& variables, bool retain_graph,
                              bool train_mode);

}  // namespace autograd
}  // namespace mxn
