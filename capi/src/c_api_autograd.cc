// Autograd: recording switches, variables, backward.
#include "capi/src/handles.h"
#include "core/autograd/autograd.h"

using namespace mxn;
using mxn::capi::check_out;

extern "C" {

int mxn_autograd_set_recording(int32_t recording, int32_t* previous) {
  MXN_API_BEGIN();
  bool prev = autograd::set_recording(recording != 0);
  if (previous) *previous = prev ? 1 : 0;
  MXN_API_END();
}

int mxn_autograd_set_training(int32_t training, int32_t* previous) {
  MXN_API_BEGIN();
  bool prev = autograd::set_training(training != 0);
  if (previous) *previous = prev ? 1 : 0;
  MXN_API_END();
}

int mxn_autograd_is_recording(int32_t* out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  *out = autograd::is_recording() ? 1 : 0;
  MXN_API_END();
}

int mxn_autograd_is_training(int32_t* out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  *out = autograd::is_training() ? 1 : 0;
  MXN_API_END();
}

int mxn_autograd_mark_variables(int32_t num, mxn_ndarray* const* variables,
                                const int32_t* grad_reqs, mxn_ndarray* const* grads) {
  MXN_API_BEGIN();
  MXN_CHECK(num >= 0, ErrorCode::kInvalidArg, "num is negative");
  MXN_CHECK(num == 0 || (variables && grad_reqs && grads), ErrorCode::kInvalidArg,
            "variables, grad_reqs or grads is NULL");
  std::vector<NDArray*> vars;
  std::vector<GradReq> reqs;
  std::vector<NDArray> g;
  for (int32_t i = 0; i < num; ++i) {
    capi::ndarray_of(variables[i], "variable");
    const int32_t r = grad_reqs[i];
    if (r != 0 && r != 1 && r != 2 && r != 3) {
      throw Error(ErrorCode::kInvalidArg,
                  cat("grad_req ", r, " of variable ", i, " is not 0 (null), 1 (write) or 3 (add)"))
          .with_arg(i);
    }
    vars.push_back(&variables[i]->array);
    reqs.push_back(r == 0 ? GradReq::kNull : r == 3 ? GradReq::kAdd : GradReq::kWrite);
    g.push_back(capi::ndarray_of(grads[i], "gradient"));
  }
  autograd::mark_variables(vars, reqs, g);
  MXN_API_END();
}

int mxn_ndarray_get_grad(const mxn_ndarray* array, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const NDArray& a = capi::ndarray_of(array, "array");
  check_out(out, "out");
  const auto& slot = a.autograd();
  *out = (slot && slot->is_variable) ? capi::new_handle(slot->grad) : nullptr;
  MXN_API_END();
}

int mxn_ndarray_detach(const mxn_ndarray* array, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const NDArray& a = capi::ndarray_of(array, "array");
  check_out(out, "out");
  *out = capi::new_handle(a.detach());
  MXN_API_END();
}

int mxn_autograd_backward(int32_t num_heads, mxn_ndarray* const* heads,
                          mxn_ndarray* const* head_grads, int32_t num_variables,
                          mxn_ndarray* const* variables, int32_t retain_graph,
                          int32_t train_mode, mxn_ndarray** grads_out) {
  MXN_API_BEGIN();
  MXN_CHECK(num_heads > 0 && heads != nullptr, ErrorCode::kInvalidArg,
            "backward needs at least one head");
  MXN_CHECK(num_variables >= 0, ErrorCode::kInvalidArg, "num_variables is negative");
  MXN_CHECK(num_variables == 0 || (variables && grads_out), ErrorCode::kInvalidArg,
            "variables or grads_out is NULL");
  std::vector<NDArray> h, hg, vars;
  for (int32_t i = 0; i < num_heads; ++i) h.push_back(capi::ndarray_of(heads[i], "head"));
  if (head_grads != nullptr) {
    for (int32_t i = 0; i < num_heads; ++i) {
      hg.push_back(head_grads[i] ? capi::ndarray_of(head_grads[i], "head gradient") : NDArray());
    }
  }
  for (int32_t i = 0; i < num_variables; ++i) {
    vars.push_back(capi::ndarray_of(variables[i], "variable"));
  }
  std::vector<NDArray> grads =
      autograd::backward(h, hg, vars, retain_graph != 0, train_mode != 0);
  std::vector<std::unique_ptr<mxn_ndarray>> handles;
  for (NDArray& g : grads) handles.emplace_back(capi::new_handle(std::move(g)));
  for (size_t i = 0; i < handles.size(); ++i) grads_out[i] = handles[i].release();
  MXN_API_END();
}

}  // extern "C"
