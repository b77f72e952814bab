// The operator registry (DESIGN §4). Each operator family file in core/ops/ registers its
// operators with MXN_REGISTER_OP; the registry publishes them all as JSON for the code
// generators of every front end.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/op/params.h"
#include "core/tensor/ndarray.h"

namespace mxn {

// Which inputs and outputs of a call hold (N, C, H, W) values stored channel-blocked (nChw16c
// or nChw8c: `block` channels a block, C a multiple of it) instead of NCHW. Set only by the
// executor's training layouts (core/graph/train_layouts.cc), only for the operators that read
// it: Convolution, BatchNorm, Pooling and their backwards (element-wise operators, on values
// of one layout, need not know).
struct BlockedIO {
  uint32_t inputs = 0, outputs = 0;  // bit i: input / output i
  int64_t block = 0;
  bool any() const { return (inputs | outputs) != 0; }
  bool input(int i) const { return i < 32 && ((inputs >> i) & 1u) != 0; }
  bool output(int i) const { return i < 32 && ((outputs >> i) & 1u) != 0; }
};

struct OpContext {
  Device dev;
  uint64_t seed = 0;     // counter-based randomness: key ...
  uint64_t counter = 0;  // ... and first counter reserved for this call
  bool is_train = false;  // training mode (Dropout drops, BatchNorm uses batch statistics)
  // Bit i set: nothing reads output i (the executor knows; a gradient of an input that needs
  // none). A kernel may leave such an output unwritten and skip its work.
  uint32_t unused_outputs = 0;
  bool output_unused(int i) const { return i < 32 && ((unused_outputs >> i) & 1u) != 0; }
  // Arrays stored channel-blocked instead of NCHW (the executor's training layouts).
  BlockedIO blocked;
};

// Graph nodes (core/graph/node.h), named here for the gradient hook.
struct Node;
struct NodeEntry;
// The gradient of an operator, as graph nodes: given its forward node and the gradients of
// its outputs, one entry per input (an entry without a node means "no gradient": zero).
// Typically one _backward_<op> node reading the output gradients and the forward values.
using GradientFn = std::function<std::vector<NodeEntry>(const std::shared_ptr<Node>& node,
                                                        const std::vector<NodeEntry>& out_grads)>;

using InferShapeFn =
    std::function<void(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out)>;
using InferTypeFn =
    std::function<void(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out)>;
using ComputeFn = std::function<void(const OpContext&, const OpParams&,
                                     const std::vector<TBlob>& in, const std::vector<TBlob>& out)>;

struct OpInput {
  std::string name;
  std::string doc;
  bool aux = false;  // an auxiliary state the operator updates (BatchNorm's moving_mean)
  bool optional = false;  // may be left out (FullyConnected's bias with no_bias=True)
};

struct OpDef {
  std::string name;
  std::vector<std::string> aliases;
  std::string doc;
  std::vector<OpInput> inputs;
  // Non-empty: the single declared input repeats; this int parameter holds the count
  // (MXNet's num_args). When not given it is set from the number of inputs.
  std::string variadic_count;
  std::vector<ParamSpec> params;
  std::vector<std::string> outputs = {"output"};
  InferShapeFn infer_shape;
  InferTypeFn infer_type;  // default: every input has one dtype, outputs take it
  ComputeFn compute_cpu;
  bool uses_random = false;
  // Set on some that use it (random()): whether an inference call (is_train false) with these
  // parameters draws random numbers (Dropout only with mode='always'). Empty: always.
  std::function<bool(const OpParams&)> draws_at_inference;
  // Operators without inputs place their output by this parameter (MXNet's ctx).
  bool has_ctx_param = false;
  GradientFn gradient;  // empty: not differentiable
  // Inputs that depend on parameters (FullyConnected without bias has data and weight only):
  // returns the names of the inputs used: a prefix of `inputs` (aux flags go by position).
  std::function<std::vector<std::string>(const OpParams&)> input_names_fn;
  // Fills unknown (Shape::unknown()) input shapes from known ones: the weight shape of
  // FullyConnected from data's and num_hidden. Used by symbolic shape inference.
  std::function<void(const OpParams&, std::vector<Shape>* in)> infer_input_shapes;
  // Outputs whose number depends on parameters (SliceChannel's num_outputs); names are
  // "output0", "output1", ... Empty: `outputs` as declared.
  std::function<int(const OpParams&)> num_outputs_fn;
  // How many leading outputs a caller sees (Dropout hides its mask). Empty: all.
  std::function<int(const OpParams&)> num_visible_fn;
  // Output 0 may share the storage of input `inplace_input` (element-wise operators): the
  // memory planner reuses a dying input's buffer. -1: never.
  int inplace_input = -1;
  // The kernel leaves hidden outputs that OpContext::output_unused names unwritten (LRN's
  // normaliser in an inference pass): the executor then gives them no storage.
  bool skips_unused_hidden_outputs = false;
  // Set on _backward_* operators: they read the parameters of this forward operator (the
  // backward node carries the forward node's parameters) and are left out of the schema.
  std::string backward_of;

  // Builder used by MXN_REGISTER_OP.
  OpDef& describe(std::string text);
  OpDef& alias(std::string name);
  OpDef& input(std::string name, std::string doc = "");
  OpDef& aux_input(std::string name, std::string doc = "");
  OpDef& optional_input(std::string name, std::string doc = "");
  OpDef& variadic(std::string count_param);
  OpDef& output_names(std::vector<std::string> names);
  OpDef& param(std::string name, ParamType type, ParamValue default_value, std::string doc);
  OpDef& required(std::string name, ParamType type, std::string doc);
  OpDef& nullable(std::string name, ParamType type, std::string doc);  // default None
  OpDef& choice(std::string name, std::vector<std::string> choices, std::string default_value,
                std::string doc);
  OpDef& ctx_param();  // adds ctx (device) and marks outputs placed by it
  // Operators that create an array from nothing (_zeros, _random_uniform): shape, ctx and
  // dtype parameters, and the output shape taken from `shape`.
  OpDef& creation_params(std::string dtype_doc);
  OpDef& shape_fn(InferShapeFn fn);
  OpDef& type_fn(InferTypeFn fn);
  OpDef& cpu(ComputeFn fn);
  OpDef& random(std::function<bool(const OpParams&)> draws_at_inference = nullptr);
  OpDef& grad(GradientFn fn);
  OpDef& inputs_used(std::function<std::vector<std::string>(const OpParams&)> names);
  OpDef& input_shapes_fn(std::function<void(const OpParams&, std::vector<Shape>* in)> fn);
  OpDef& dynamic_outputs(std::function<int(const OpParams&)> count);
  OpDef& visible_outputs(std::function<int(const OpParams&)> count);
  OpDef& backward_for(std::string forward_op);
  OpDef& inplace(int input_index = 0);
  OpDef& skips_unused_hidden_outputs_flag();

  const ParamSpec* find_param(const std::string& name) const;
  int num_inputs(const OpParams& params) const;  // including aux inputs
  std::vector<std::string> input_names(const OpParams& params) const;
  int num_outputs(const OpParams& params) const;
  int num_visible_outputs(const OpParams& params) const;
  bool is_aux_input(int index) const;  // the index-th input is an auxiliary state
  // Whether a call draws random numbers (uses_random and draws_at_inference).
  bool draws_random(const OpParams& params, bool is_train) const;
};

class OpRegistry {
 public:
  static OpRegistry& get();
  OpDef& add(const std::string& name);
  const OpDef* find(const std::string& name) const;  // by name or alias; nullptr if none
  const std::vector<const OpDef*>& list() const { return ops_; }
  // The whole registry as JSON (built once, valid for the life of the process).
  const std::string& schema_json();

 private:
  OpRegistry() = default;
  struct Impl;
  std::vector<const OpDef*> ops_;
  Impl* impl_ = nullptr;
};

// Output dtypes of an operator: its own rule, or "every input has one dtype, outputs take
// it" (creation operators: their dtype parameter). Throws kDType naming the input.
void infer_node_types(const OpDef& op, const OpParams& params, const std::vector<DType>& in,
                      std::vector<DType>* out);

std::string op_schema_to_json(std::vector<const OpDef*> ops);  // sorted by name

// Infers, allocates (unless `outputs` is given) and pushes one operator invocation. Returns
// every output, hidden ones included (callers show num_visible_outputs of them). Auxiliary
// inputs are written. A _backward_ operator takes its forward operator's parameters.
// `after`: engine variables the call also writes, only to be ordered after their users
// (the executor's memory plan: storage shared with other values).
std::vector<NDArray> invoke_op(const OpDef& op, const std::vector<NDArray>& inputs,
                               const OpParams& params, const std::vector<NDArray>* outputs,
                               bool is_train = false, uint32_t unused_outputs = 0,
                               const std::vector<EngineVar*>* after = nullptr,
                               BlockedIO blocked = {});

// Counter-based randomness (Philox4x32-10): the global seed and the next free counter.
void random_seed(uint64_t seed);
// Reserves `count` counters for one call, in program order; returns the seed and first counter.
void random_reserve(uint64_t count, uint64_t* seed, uint64_t* counter);

}  // namespace mxn

#define MXN_OP_CONCAT_(a, b) a##b
#define MXN_OP_CONCAT(a, b) MXN_OP_CONCAT_(a, b)
// At namespace scope in core/ops/*.cc:
//   MXN_REGISTER_OP(name).describe(...).input(...)...;
//   MXN_OP_REGISTRATION = some_family_helper("name", ...).alias(...);
#define MXN_OP_REGISTRATION \
  static ::mxn::OpDef& MXN_OP_CONCAT(mxn_op_registration_, __COUNTER__) [[maybe_unused]]
#define MXN_REGISTER_OP(name) MXN_OP_REGISTRATION = ::mxn::OpRegistry::get().add(#name)
