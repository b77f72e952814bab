// Small helpers shared by the training code: running a registered operator with typed
// parameters, engine-ordered fills, and reading arrays on the host.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/op/op.h"
#include "core/tensor/ndarray.h"

namespace mxn::train {

using NamedValue = std::pair<const char*, ParamValue>;

// Runs operator `name` on `inputs`, writing into `out` (MXNet's out=).
void run_op(const char* name, const std::vector<NDArray>& inputs, const NDArray& out,
            const std::vector<NamedValue>& params);
// A new array of zeros (pooled memory, filled through the engine).
NDArray zeros(const Shape& shape, DType dtype, Device dev);
// Pushes `fn` as one engine operation reading `reads` and writing `writes` (the arrays are
// kept alive until it ran).
void push_fn(const char* name, std::vector<NDArray> reads, std::vector<NDArray> writes,
             std::function<void()> fn, int priority = 0);
// Fills the whole array with a value (engine-ordered).
void fill(const NDArray& a, double value);
// Waits and returns the values as float64.
std::vector<double> to_host(const NDArray& a);
// Writes float64 values (one per element) into the array, converting to its dtype; ordered
// after pending work on it, returns when done.
void from_host(const NDArray& a, const std::vector<double>& values);

}  // namespace mxn::train
