// Data iterators (DESIGN §1, §7): written once in the core, created by name with typed
// parameters through the C ABI, and generated into every front end from the iterator registry
// the way operators are (mxn_dataiter_schema_json()).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/op/params.h"
#include "core/tensor/ndarray.h"

namespace mxn::io {

// One batch: fresh arrays per batch (pooled memory), so a caller may keep them.
struct DataBatch {
  NDArray data, label, index;  // index: int64 record ids (image header id, or sample number)
  int pad = 0;                 // trailing entries that are padding (round_batch / last batch)
};

class DataIter {
 public:
  virtual ~DataIter() = default;
  // Advances to the next batch; false at the end of the epoch. Errors of worker threads
  // (a corrupt record, a failed read) are thrown here, naming the file and the record.
  virtual bool next() = 0;
  // Starts the next epoch.
  virtual void reset() = 0;
  const DataBatch& batch() const { return batch_; }
  bool has_batch() const { return has_batch_; }
  const Shape& data_shape() const { return data_shape_; }
  const Shape& label_shape() const { return label_shape_; }
  DType data_dtype() const { return data_dtype_; }

 protected:
  DataBatch batch_;
  bool has_batch_ = false;
  Shape data_shape_, label_shape_;
  DType data_dtype_ = DType::kFloat32;
};

using IterFactory = std::function<std::unique_ptr<DataIter>(const OpParams&)>;

struct IterDef {
  std::string name;
  std::string doc;
  std::vector<ParamSpec> params;
  IterFactory create;

  IterDef& describe(std::string text);
  IterDef& param(std::string name, ParamType type, ParamValue default_value, std::string doc);
  IterDef& required(std::string name, ParamType type, std::string doc);
  IterDef& factory(IterFactory fn);
};

class IterRegistry {
 public:
  static IterRegistry& get();
  IterDef& add(const std::string& name);
  const IterDef* find(const std::string& name) const;
  std::vector<const IterDef*> list() const;  // sorted by name
  const std::string& schema_json();          // built once

 private:
  IterRegistry() = default;
  std::vector<std::unique_ptr<IterDef>> defs_;
  std::string schema_;
};

// Creates an iterator by name with typed parameters (coerced like operator parameters).
std::unique_ptr<DataIter> create_iter(const std::string& name, int num, const char* const* keys,
                                      const ParamValue* values);

}  // namespace mxn::io

#define MXN_ITER_CONCAT_(a, b) a##b
#define MXN_ITER_CONCAT(a, b) MXN_ITER_CONCAT_(a, b)
#define MXN_REGISTER_ITER(name)                                                       \
  static ::mxn::io::IterDef& MXN_ITER_CONCAT(mxn_iter_registration_, __COUNTER__) \
      [[maybe_unused]] = ::mxn::io::IterRegistry::get().add(#name)
