// Imperative invocation: validate, infer, allocate, push. Kernels run later on the engine.
#include <atomic>
#include <mutex>

#include "core/base/env.h"
#include "core/op/op.h"

namespace mxn {

namespace {

struct RandomState {
  std::mutex mu;
  uint64_t seed = 0x6d786e657874ull;  // "mxnext"
  uint64_t counter = 0;
};
RandomState& random_state() {
  static RandomState* s = new RandomState();
  return *s;
}

// Operations whose inputs and outputs together are this small run on the calling thread when
// they are ready: cheaper than waking a worker (DESIGN §11).
size_t inline_limit_bytes() {
  static const size_t limit =
      static_cast<size_t>(env_int("MXNEXT_INLINE_LIMIT_BYTES", 64 << 10));
  return limit;
}

[[noreturn]] void rethrow_with_op(Error& e, const OpDef& op) {
  if (e.op_name().empty()) {
    e.with_op(op.name);
    if (e.message().rfind(op.name + ":", 0) != 0) e.prefix(op.name);
  }
  throw e;
}

}  // namespace

void infer_node_types(const OpDef& op, const OpParams& params, const std::vector<DType>& in,
                      std::vector<DType>* out) {
  if (op.infer_type) {
    op.infer_type(params, in, out);
    return;
  }
  DType t = DType::kFloat32;
  if (!in.empty()) {
    t = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      if (in[i] != t) {
        throw Error(ErrorCode::kDType,
                    cat("input ", i, " ('", op.inputs[std::min(i, op.inputs.size() - 1)].name,
                        "') has dtype ", dtype_name(in[i]), " but input 0 has dtype ",
                        dtype_name(t)))
            .with_arg(static_cast<int>(i));
      }
    }
  } else if (const ParamSpec* spec = op.find_param("dtype")) {
    (void)spec;
    if (!params.is_none("dtype")) t = params.get_dtype("dtype");
  }
  out->assign(out->size(), t);
}

void random_seed(uint64_t seed) {
  RandomState& s = random_state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.seed = seed;
  s.counter = 0;
}

void random_reserve(uint64_t count, uint64_t* seed, uint64_t* counter) {
  RandomState& s = random_state();
  std::lock_guard<std::mutex> lock(s.mu);
  *seed = s.seed;
  *counter = s.counter;
  s.counter += count;
}

std::vector<NDArray> invoke_op(const OpDef& op, const std::vector<NDArray>& inputs,
                               const OpParams& params_in, const std::vector<NDArray>* outputs,
                               bool is_train, uint32_t unused_outputs,
                               const std::vector<EngineVar*>* after, BlockedIO blocked) {
  OpParams params = params_in;
  try {
    MXN_CHECK(&params.op() == &op || params.op().name == op.backward_of, ErrorCode::kInternal,
              "parameters of ", params.op().name, " passed to ", op.name);
    // Inputs: count (variadic count set from the inputs when not given) and placement.
    if (!op.variadic_count.empty()) {
      if (params.is_none(op.variadic_count.c_str())) {
        params.set(op.variadic_count.c_str(),
                   ParamValue::of_int(static_cast<int64_t>(inputs.size())));
      }
    }
    const int expected = op.num_inputs(params);
    MXN_CHECK(static_cast<int>(inputs.size()) == expected, ErrorCode::kInvalidArg, "expects ",
              expected, " input", expected == 1 ? "" : "s", ", got ", inputs.size());
    Device dev = Device::cpu(0);
    if (!inputs.empty()) {
      dev = inputs[0].device();
    } else if (op.has_ctx_param) {
      const ParamValue& ctx = params.get("ctx");
      dev = device_checked(static_cast<int32_t>(ctx.device.type), ctx.device.id);
    }
    std::vector<Shape> in_shapes;
    std::vector<DType> in_types;
    in_shapes.reserve(inputs.size());
    in_types.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].device() != dev) {
        throw Error(ErrorCode::kDevice, cat("input ", i, " is on ", inputs[i].device().str(),
                                            " but input 0 is on ", dev.str()))
            .with_arg(static_cast<int>(i));
      }
      in_shapes.push_back(inputs[i].shape());
      in_types.push_back(inputs[i].dtype());
    }
    const size_t num_out = static_cast<size_t>(op.num_outputs(params));
    std::vector<DType> out_types(num_out);
    infer_node_types(op, params, in_types, &out_types);
    std::vector<Shape> out_shapes(num_out);
    op.infer_shape(params, in_shapes, &out_shapes);

    std::vector<NDArray> outs;
    if (outputs != nullptr) {
      const size_t num_visible = static_cast<size_t>(op.num_visible_outputs(params));
      MXN_CHECK(outputs->size() == num_out || outputs->size() == num_visible,
                ErrorCode::kInvalidArg, "has ", num_visible, " output",
                num_visible == 1 ? "" : "s", ", got ", outputs->size(), " out arrays");
      for (size_t i = 0; i < outputs->size(); ++i) {
        const NDArray& o = (*outputs)[i];
        if (o.shape() != out_shapes[i]) {
          throw Error(ErrorCode::kShape, cat("out array ", i, " has shape ", o.shape().str(),
                                             " but the result has shape ", out_shapes[i].str()));
        }
        if (o.dtype() != out_types[i]) {
          throw Error(ErrorCode::kDType, cat("out array ", i, " has dtype ", dtype_name(o.dtype()),
                                             " but the result has dtype ",
                                             dtype_name(out_types[i])));
        }
        MXN_CHECK(o.device() == dev, ErrorCode::kDevice, "out array ", i, " is on ",
                  o.device().str(), " but the inputs are on ", dev.str());
      }
      outs = *outputs;
      for (size_t i = outs.size(); i < num_out; ++i) {  // hidden outputs (Dropout's mask)
        outs.push_back(NDArray::empty(out_shapes[i], out_types[i], dev));
      }
    } else {
      outs.reserve(num_out);
      for (size_t i = 0; i < num_out; ++i) outs.push_back(NDArray::empty(out_shapes[i], out_types[i], dev));
    }

    MXN_CHECK(static_cast<bool>(op.compute_cpu), ErrorCode::kNotImplemented,
              "has no kernel for ", dev.str());
    OpContext ctx;
    ctx.dev = dev;
    ctx.is_train = is_train;
    ctx.unused_outputs = unused_outputs;
    ctx.blocked = blocked;
    size_t total_bytes = 0;
    std::vector<TBlob> in_blobs, out_blobs;
    std::vector<std::shared_ptr<Chunk>> keep;  // storage stays alive until the kernel ran
    std::vector<EngineVar*> reads, writes;
    in_blobs.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const NDArray& a = inputs[i];
      in_blobs.push_back(a.blob());
      keep.push_back(a.chunk());
      reads.push_back(a.var());
      if (op.is_aux_input(static_cast<int>(i))) writes.push_back(a.var());  // updated in place
      total_bytes += a.nbytes();
    }
    int64_t out_elems = 0;
    for (const NDArray& a : outs) {
      out_blobs.push_back(a.blob());
      keep.push_back(a.chunk());
      writes.push_back(a.var());
      total_bytes += a.nbytes();
      out_elems += a.size();
    }
    if (after != nullptr) writes.insert(writes.end(), after->begin(), after->end());
    if (op.draws_random(params, is_train)) {
      random_reserve(static_cast<uint64_t>(out_elems), &ctx.seed, &ctx.counter);
    }
    PushOptions opt;
    opt.name = op.name.c_str();
    opt.run_inline = total_bytes <= inline_limit_bytes();
    const OpDef* opp = &op;
    Engine::get().push(
        [opp, ctx, params, in_blobs = std::move(in_blobs), out_blobs = std::move(out_blobs),
         keep = std::move(keep)] {
          try {
            opp->compute_cpu(ctx, params, in_blobs, out_blobs);
          } catch (Error& e) {
            rethrow_with_op(e, *opp);
          }
        },
        reads.data(), static_cast<int>(reads.size()), writes.data(),
        static_cast<int>(writes.size()), opt);
    return outs;
  } catch (Error& e) {
    rethrow_with_op(e, op);
  }
}

}  // namespace mxn
