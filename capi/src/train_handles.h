// Internal to capi/: the training handle types, shared by c_api_train.cc and c_api_kvstore.cc.
#pragma once
#include <deque>
#include <memory>
#include <string>

#include "capi/src/handles.h"
#include "core/train/initializer.h"
#include "core/train/metric.h"
#include "core/train/optimizer.h"

constexpr uint32_t kOptimizerMagic = 0x4f505449u;    // "OPTI"
constexpr uint32_t kSchedulerMagic = 0x4c525343u;    // "LRSC"
constexpr uint32_t kInitializerMagic = 0x494e4954u;  // "INIT"
constexpr uint32_t kMetricMagic = 0x4d455452u;       // "METR"
constexpr uint32_t kKVStoreMagic = 0x4b565354u;      // "KVST"

struct mxn_optimizer {
  uint32_t magic = kOptimizerMagic;
  std::shared_ptr<mxn::train::Optimizer> opt;
  std::string string_value;  // get_param's borrowed string
};
struct mxn_lr_scheduler {
  uint32_t magic = kSchedulerMagic;
  std::shared_ptr<mxn::train::LRScheduler> sched;
};
struct mxn_initializer {
  uint32_t magic = kInitializerMagic;
  std::shared_ptr<mxn::train::Initializer> init;
};
struct mxn_metric {
  uint32_t magic = kMetricMagic;
  std::shared_ptr<mxn::train::Metric> metric;
  mutable std::deque<std::string> names;  // borrowed by mxn_metric_name until free
};

namespace mxn::capi {

template <typename H>
H* checked(H* h, uint32_t magic, const char* what, const char* type) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, what, " is a NULL handle");
  MXN_CHECK(h->magic == magic, ErrorCode::kInvalidArg, what, " is not ", type,
            " handle (wrong handle type or already freed)");
  return h;
}
// Typed C values -> ParamValues (the same conversion as operator parameters).
std::vector<ParamValue> values_of(int32_t num, const char* const* keys, const mxn_value* values);

}  // namespace mxn::capi
