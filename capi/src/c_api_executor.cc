// Executors: bind, forward, backward, outputs.
#include "capi/src/handles.h"
#include "core/graph/executor.h"

using namespace mxn;
using mxn::capi::check_out;

struct mxn_executor {
  uint32_t magic = kExecutorMagic;
  std::unique_ptr<Executor> exec;
};

namespace {
Executor& executor_of(const mxn_executor* h) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, "executor is a NULL handle");
  MXN_CHECK(h->magic == kExecutorMagic, ErrorCode::kInvalidArg,
            "executor is not an executor handle (wrong handle type or already freed)");
  return *h->exec;
}
}  // namespace

extern "C" {

int mxn_executor_bind(const mxn_symbol* symbol, int32_t num_args, mxn_ndarray* const* args,
                      mxn_ndarray* const* arg_grads, const int32_t* grad_reqs, int32_t num_aux,
                      mxn_ndarray* const* aux, mxn_executor** out) {
  MXN_API_BEGIN();
  const Symbol& sym = capi::symbol_of(symbol, "symbol");
  check_out(out, "out");
  MXN_CHECK(num_args >= 0 && (num_args == 0 || args), ErrorCode::kInvalidArg,
            "args is NULL or num_args negative");
  MXN_CHECK(num_aux >= 0 && (num_aux == 0 || aux), ErrorCode::kInvalidArg,
            "aux is NULL or num_aux negative");
  std::vector<NDArray> a, g, x;
  std::vector<GradReq> reqs;
  for (int32_t i = 0; i < num_args; ++i) {
    a.push_back(capi::ndarray_of(args[i], "argument"));
    const bool has_grad = arg_grads != nullptr && arg_grads[i] != nullptr;
    g.push_back(has_grad ? capi::ndarray_of(arg_grads[i], "gradient") : NDArray());
    int32_t r = grad_reqs ? grad_reqs[i] : (has_grad ? 1 : 0);
    if (r != 0 && r != 1 && r != 2 && r != 3) {
      throw Error(ErrorCode::kInvalidArg, cat("grad_req ", r, " of argument ", i,
                                              " is not 0 (null), 1 (write) or 3 (add)"))
          .with_arg(i);
    }
    if (r != 0 && !has_grad) {
      throw Error(ErrorCode::kInvalidArg,
                  cat("argument ", i, " asks for a gradient but has no gradient array"))
          .with_arg(i);
    }
    reqs.push_back(r == 0 ? GradReq::kNull : r == 3 ? GradReq::kAdd : GradReq::kWrite);
  }
  for (int32_t i = 0; i < num_aux; ++i) x.push_back(capi::ndarray_of(aux[i], "auxiliary state"));
  auto h = std::make_unique<mxn_executor>();
  h->exec = std::make_unique<Executor>(sym, std::move(a), std::move(g), std::move(reqs), std::move(x));
  *out = h.release();
  MXN_API_END();
}

void mxn_executor_free(mxn_executor* executor) {
  if (executor == nullptr || executor->magic != kExecutorMagic) return;
  executor->magic = 0;
  delete executor;
}

int mxn_executor_forward(mxn_executor* executor, int32_t is_train) {
  MXN_API_BEGIN();
  executor_of(executor).forward(is_train != 0);
  MXN_API_END();
}

int mxn_executor_backward(mxn_executor* executor, int32_t num_head_grads,
                          mxn_ndarray* const* head_grads) {
  MXN_API_BEGIN();
  Executor& e = executor_of(executor);
  MXN_CHECK(num_head_grads >= 0 && (num_head_grads == 0 || head_grads), ErrorCode::kInvalidArg,
            "head_grads is NULL or num_head_grads negative");
  std::vector<NDArray> hg;
  for (int32_t i = 0; i < num_head_grads; ++i) {
    hg.push_back(head_grads[i] ? capi::ndarray_of(head_grads[i], "head gradient") : NDArray());
  }
  e.backward(hg);
  MXN_API_END();
}

int mxn_executor_num_outputs(const mxn_executor* executor, int32_t* out) {
  MXN_API_BEGIN();
  const Executor& e = executor_of(executor);
  check_out(out, "out");
  *out = static_cast<int32_t>(e.outputs().size());
  MXN_API_END();
}

int mxn_executor_output(const mxn_executor* executor, int32_t index, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const Executor& e = executor_of(executor);
  check_out(out, "out");
  MXN_CHECK(index >= 0 && static_cast<size_t>(index) < e.outputs().size(), ErrorCode::kInvalidArg,
            "output index ", index, " is out of range [0, ", e.outputs().size(), ")");
  *out = capi::new_handle(e.outputs()[static_cast<size_t>(index)]);
  MXN_API_END();
}

int mxn_executor_memory_report(const mxn_executor* executor, mxn_strings** out) {
  MXN_API_BEGIN();
  const Executor& e = executor_of(executor);
  check_out(out, "out");
  *out = capi::new_strings({e.memory_report()});
  MXN_API_END();
}

}  // extern "C"
