// NDArray: a shared storage chunk (memory + its engine variable) seen through a shape, a dtype
// and a byte offset. Views (first-axis slices, reshapes) share the chunk; copies go through the
// engine so they are ordered with every other operation on the same storage.
#pragma once
#include <atomic>
#include <functional>
#include <memory>

#include "core/base/device.h"
#include "core/base/dtype.h"
#include "core/base/shape.h"
#include "core/engine/engine.h"

namespace mxn {

struct AutogradSlot;  // core/autograd: what autograd knows of an array

struct Chunk {
  void* data = nullptr;
  size_t bytes = 0;        // usable bytes
  size_t block_bytes = 0;  // pool size class (0 for external memory)
  Device dev;
  EngineVar* var = nullptr;
  std::function<void()> release;  // set for memory owned elsewhere (DLPack import)
  // Shared with another framework (DLPack export), which may write it without the engine
  // knowing: its variable's version (var_version) does not identify the contents.
  std::atomic<bool> exported{false};
  // Whether var_version identifies the contents (see `exported`, `release`).
  bool versioned() const { return !release && !exported.load(std::memory_order_relaxed); }

  static std::shared_ptr<Chunk> allocate(size_t bytes, Device dev);
  static std::shared_ptr<Chunk> wrap(void* data, size_t bytes, Device dev,
                                     std::function<void()> release);
  Chunk() = default;
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
  ~Chunk();
};

// A kernel's view of an array: plain pointer, shape and dtype; no ownership.
struct TBlob {
  void* dptr = nullptr;
  Shape shape;
  DType dtype = DType::kFloat32;
  Device dev;
  template <typename T>
  T* ptr() const {
    return static_cast<T*>(dptr);
  }
  int64_t size() const { return shape.size(); }
};

class NDArray {
 public:
  NDArray() = default;
  static NDArray empty(const Shape& shape, DType dtype, Device dev);
  static NDArray from_chunk(std::shared_ptr<Chunk> chunk, const Shape& shape, DType dtype,
                            size_t offset = 0);

  bool is_none() const { return chunk_ == nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return chunk_->dev; }
  int64_t size() const { return shape_.size(); }
  size_t nbytes() const { return static_cast<size_t>(size()) * dtype_size(dtype_); }
  size_t offset() const { return offset_; }
  void* data() const { return static_cast<char*>(chunk_->data) + offset_; }
  EngineVar* var() const { return chunk_->var; }
  const std::shared_ptr<Chunk>& chunk() const { return chunk_; }
  TBlob blob() const { return TBlob{data(), shape_, dtype_, chunk_->dev}; }

  // Views sharing storage.
  NDArray slice(int64_t begin, int64_t end) const;  // along the first axis
  NDArray at(int64_t index) const;                   // drops the first axis
  NDArray reshape(const Shape& shape) const;         // same number of elements

  void wait_to_read() const;
  void wait_to_write() const;

  // Autograd's record of this array (a marked variable, or an output of a recorded
  // operation); copies share it, views and detached arrays have none.
  const std::shared_ptr<AutogradSlot>& autograd() const { return autograd_; }
  void set_autograd(std::shared_ptr<AutogradSlot> slot) { autograd_ = std::move(slot); }
  NDArray detach() const { return from_chunk(chunk_, shape_, dtype_, offset_); }

 private:
  std::shared_ptr<AutogradSlot> autograd_;
  std::shared_ptr<Chunk> chunk_;
  Shape shape_;
  DType dtype_ = DType::kFloat32;
  size_t offset_ = 0;
};

// Asynchronous element-wise copy src -> dst (same shape; converts dtype).
void copy_array(const NDArray& src, const NDArray& dst);
// Synchronous host transfers of the whole array; nbytes must equal the array's byte size.
void copy_from_host(const NDArray& dst, const void* src, size_t nbytes);
void copy_to_host(const NDArray& src, void* dst, size_t nbytes);
// Converts `n` elements between dtypes (used by copies and the cast operator).
void convert_elements(const void* src, DType src_type, void* dst, DType dst_type, int64_t n);

}  // namespace mxn
