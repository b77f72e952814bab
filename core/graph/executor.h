// Executor: a Symbol bound to arrays (DESIGN §5). At bind it schedules the forward nodes and,
// when gradients are wanted, the gradient graph built by the gradient pass; infers every
// value's shape and dtype; and plans their memory (co-sharing and in-place reuse, see
// memory_plan.h). forward/backward run the schedule through the engine (independent branches
// run in parallel) into the planned buffers.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/autograd/autograd.h"
#include "core/graph/memory_plan.h"
#include "core/graph/symbol.h"

namespace mxn {

namespace ops::nn {
class ConvChainKernel;  // core/ops/nn_conv_chain.h
namespace onednn {
struct ActLayout;  // core/ops/nn_onednn.h
}
}  // namespace ops::nn

struct ExecutorOptions {
  bool plan_memory = true;  // false: every value gets its own buffer (MXNEXT_MEMORY_PLAN=0)
  // Runs of element-wise operators whose intermediate values nothing else reads execute as
  // one engine operation, tile by tile, so each tile stays in cache (MXNEXT_FUSE=0: off).
  bool fuse_elementwise = true;
  // Inference forwards (is_train false) run Convolution -> BatchNorm -> add -> ReLU chains as
  // one oneDNN convolution with the BatchNorm folded in (core/graph/conv_chains.cc;
  // MXNEXT_FUSE=0: off).
  bool fuse_conv_chains = true;
  // Training forwards and the backward keep the values passed between convolutions (through
  // BatchNorm, ReLU, adds, pooling) channel-blocked, in oneDNN's layout
  // (core/graph/train_layouts.cc; MXNEXT_TRAIN_LAYOUTS=0: off).
  bool train_layouts = true;
  // Inference forwards (is_train false) push their operations as one engine operation, as
  // MXNet's MXNET_EXEC_BULK_EXEC_INFERENCE does (Engine::begin_bulk;
  // MXNEXT_EXEC_BULK_INFERENCE=0: off).
  bool bulk_inference = true;
};

class Executor {
 public:
  // args and grads follow list_arguments(), aux follows list_auxiliary_states(); a none
  // gradient array, or req kNull, means no gradient for that argument. Shapes are checked by
  // shape inference from the argument shapes.
  Executor(Symbol symbol, std::vector<NDArray> args, std::vector<NDArray> grads,
           std::vector<GradReq> reqs, std::vector<NDArray> aux,
           ExecutorOptions options = ExecutorOptions());

  void forward(bool is_train);
  // head_grads: one per output, or empty for ones (loss outputs ignore them).
  void backward(const std::vector<NDArray>& head_grads);
  const std::vector<NDArray>& outputs() const { return outputs_; }
  // JSON: storage blocks and what shares them, in-place and co-share savings, parameters,
  // gradients, auxiliary states, outputs, and the peak.
  std::string memory_report() const;

 private:
  struct Step {
    NodePtr node;
    bool backward = false;
    std::vector<NDArray> outputs;  // planned buffers
    int group = -1;                // index into groups_ when fused
    int chain = -1;                // index into chains_ (inference forwards)
    uint32_t unused = 0;           // outputs nothing reads (kernels may skip them)
    std::vector<EngineVar*> after = {};  // blocks sharing its outputs' memory (memory_plan.h)
    std::vector<size_t> readers = {};    // forward steps reading output 0 (forward steps)
    bool head = false;                   // output 0 is one of the graph's outputs
    BlockedIO blocked = {};  // arrays it reads or writes channel-blocked in training
  };
  const NDArray& value_of(const NodeEntry& e) const;
  struct KeptLayouts;
  // Pushes the forward's steps and the copies to outputs_.
  void push_forward(bool is_train, const std::vector<char>& fused, const KeptLayouts& kept);
  void run(Step& step, bool is_train);
  void run_fused(const std::vector<size_t>& group, bool is_train);
  void find_fusable_runs(const std::vector<int>& consumers,
                         const std::vector<std::vector<int>>& value_index);
  // A Convolution and what follows it, run as one kernel in inference forwards.
  struct ConvChain {
    std::vector<size_t> steps;         // the Convolution, BatchNorm, add, ReLU steps present
    std::vector<NodeEntry> inputs;     // in ConvChainKernel's order
    std::shared_ptr<ops::nn::ConvChainKernel> kernel;
    std::vector<EngineVar*> after;     // its members' Step::after, each block once
  };
  void find_conv_chains(std::vector<PlannedValue>* values,
                        const std::vector<std::vector<int>>& value_index);
  // Whether chain c runs fused now (oneDNN takes it: decided at every forward, as the
  // operators decide at every call).
  bool chain_fusable(const ConvChain& c) const;
  // chain_fusable of every chain, kept while the settings it depends on
  // (ops::nn::conv_chain_settings) stay the same (the shapes and dtypes are the bound ones).
  const std::vector<char>& fusable_chains(const std::string& settings);
  // Which values an inference forward keeps in oneDNN's layouts, channel-blocked or
  // channels-last (core/graph/kept_layouts.cc): the output 0 of forward step s is in out[s]
  // where that is not null. Fused chains, Pooling, LRN and Concat hand them on without reordering to NCHW.
  struct KeptLayouts {
    std::vector<std::shared_ptr<const ops::nn::onednn::ActLayout>> out;
    std::string chain_settings;  // the ops::nn::conv_chain_settings() they were chosen under
    uint64_t generation = 0;     // renewed each time they are chosen anew
    // The layout of value e (null: NCHW).
    std::shared_ptr<const ops::nn::onednn::ActLayout> of(const Executor& ex,
                                                         const NodeEntry& e) const;
  };
  // Readers of each forward step's output 0 and whether it is a graph output (bind time).
  void find_layout_readers();
  // The layouts for this forward, given the chains that run fused (cached while those, and the
  // switches, stay the same).
  const KeptLayouts& kept_layouts(const std::vector<char>& fused, const std::string& settings);
  void run_conv_chain(const ConvChain& c, const KeptLayouts& kept);
  // Runs forward step s where it reads a kept value and needs a kernel of its own for it: a
  // Pooling or LRN, a Concat of channels-last values (blocked ones run the operator
  // unchanged). False where the step runs as usual.
  bool run_kept_step(size_t s, const KeptLayouts& kept);
  void run_kept_unary(size_t s, const KeptLayouts& kept);
  void run_kept_concat(size_t s);
  // Which values training keeps channel-blocked (core/graph/train_layouts.cc): sets each step's
  // Step::blocked (bind time).
  void find_train_layouts(const std::vector<PlannedValue>& values,
                          const std::vector<std::vector<int>>& value_index);
  // How many times the chains built their folded weights (memory_report; the tests check
  // that weights are reused while unchanged and rebuilt when changed).
  int64_t conv_chain_builds() const;

  Symbol symbol_;
  std::unordered_map<const Node*, NDArray> bound_;  // variables: arguments, aux, head grads
  std::vector<NDArray> args_, aux_, grads_;
  std::vector<GradReq> reqs_;
  std::vector<std::string> arg_names_;
  std::vector<NDArray> outputs_;
  std::vector<Step> steps_;
  std::unordered_map<const Node*, size_t> step_of_;
  size_t num_forward_ = 0;
  std::vector<NodePtr> head_grad_vars_;
  std::vector<NodeEntry> grad_entries_;  // per argument with a gradient
  std::vector<size_t> grad_args_;        // their argument indices
  std::vector<size_t> direct_grads_;     // indices into grad_args_ computed in place
  bool trained_ = false;                 // the last forward ran in training mode
  bool bulk_inference_ = true;           // ExecutorOptions::bulk_inference
  bool replayable_ = false;              // inference forwards may be replayed (no randomness)
  std::shared_ptr<BulkReplay> replay_;   // the last inference forward's operations ...
  uint64_t replay_generation_ = 0;       // ... for these kept_ (the same chains fused)
  int64_t replayed_forwards_ = 0;        // inference forwards pushed as replay_ (memory_report)
  std::vector<std::vector<size_t>> groups_;  // fused runs of forward steps
  std::vector<ConvChain> chains_;
  std::vector<char> fusable_;         // fusable_chains(), for ...
  std::string fusable_settings_;      // ... these ops::nn::conv_chain_settings()
  KeptLayouts kept_;                  // the last kept_layouts(), for kept_fused_ and kept_key_
  std::vector<char> kept_fused_;
  std::string kept_key_;
  int64_t kept_outputs_ = 0;          // values kept in oneDNN's layout by the last forward
  int64_t train_blocked_values_ = 0;  // values training keeps channel-blocked
  MemoryPlan plan_;
  std::vector<std::string> value_names_;
  std::vector<size_t> value_bytes_;
};

}  // namespace mxn
