#include "core/tensor/ndarray.h"

#include <cstring>

#include "core/storage/cpu_pool.h"

namespace mxn {

std::shared_ptr<Chunk> Chunk::allocate(size_t bytes, Device dev) {
  MXN_CHECK(dev.type == DeviceType::kCPU, ErrorCode::kDevice, "cannot allocate on ", dev.str(),
            ": this mxnext library was not built with CUDA");
  auto chunk = std::make_shared<Chunk>();
  chunk->data = CpuPool::get().alloc(bytes, &chunk->block_bytes);
  chunk->bytes = bytes;
  chunk->dev = dev;
  chunk->var = Engine::get().new_var();
  return chunk;
}

std::shared_ptr<Chunk> Chunk::wrap(void* data, size_t bytes, Device dev,
                                   std::function<void()> release) {
  auto chunk = std::make_shared<Chunk>();
  chunk->data = data;
  chunk->bytes = bytes;
  chunk->dev = dev;
  chunk->var = Engine::get().new_var();
  chunk->release = std::move(release);  // last: a failure above must not run it
  return chunk;
}

Chunk::~Chunk() {
  // Every operation on this chunk holds a reference to it, so none is pending now.
  Engine::get().delete_var(var);
  if (release) {
    release();
  } else {
    CpuPool::get().free(data, block_bytes);
  }
}

NDArray NDArray::empty(const Shape& shape, DType dtype, Device dev) {
  const size_t bytes = static_cast<size_t>(shape.size()) * dtype_size(dtype);
  return from_chunk(Chunk::allocate(bytes, dev), shape, dtype, 0);
}

NDArray NDArray::from_chunk(std::shared_ptr<Chunk> chunk, const Shape& shape, DType dtype,
                            size_t offset) {
  NDArray a;
  a.chunk_ = std::move(chunk);
  a.shape_ = shape;
  a.dtype_ = dtype;
  a.offset_ = offset;
  return a;
}

NDArray NDArray::slice(int64_t begin, int64_t end) const {
  MXN_CHECK(shape_.ndim() >= 1, ErrorCode::kShape, "cannot slice a 0-d array");
  const int64_t n = shape_[0];
  MXN_CHECK(begin >= 0 && begin <= end && end <= n, ErrorCode::kInvalidArg, "slice [", begin,
            ", ", end, ") is out of range for the first axis of length ", n);
  Shape s = shape_;
  s[0] = end - begin;
  const int64_t row = n == 0 ? 0 : shape_.size() / n;
  return from_chunk(chunk_, s, dtype_,
                    offset_ + static_cast<size_t>(begin * row) * dtype_size(dtype_));
}

NDArray NDArray::at(int64_t index) const {
  MXN_CHECK(shape_.ndim() >= 1, ErrorCode::kShape, "cannot index a 0-d array");
  const int64_t n = shape_[0];
  if (index < 0) index += n;
  if (index < 0 || index >= n) {
    throw Error(ErrorCode::kInvalidArg,
                cat("index ", index, " is out of range for the first axis of length ", n))
        .with_axis(0);
  }
  NDArray v = slice(index, index + 1);
  Shape s;
  for (int i = 1; i < shape_.ndim(); ++i) s.push_back(shape_[i]);
  v.shape_ = s;
  return v;
}

NDArray NDArray::reshape(const Shape& shape) const {
  MXN_CHECK(shape.size() == size(), ErrorCode::kShape, "cannot reshape an array of shape ",
            shape_.str(), " (", size(), " elements) to ", shape.str(), " (", shape.size(),
            " elements)");
  return from_chunk(chunk_, shape, dtype_, offset_);
}

void NDArray::wait_to_read() const { Engine::get().wait_for_var(var(), false); }
void NDArray::wait_to_write() const { Engine::get().wait_for_var(var(), true); }

void convert_elements(const void* src, DType src_type, void* dst, DType dst_type, int64_t n) {
  if (src_type == dst_type) {
    std::memmove(dst, src, static_cast<size_t>(n) * dtype_size(src_type));
    return;
  }
  MXN_DTYPE_SWITCH(src_type, S, {
    MXN_DTYPE_SWITCH(dst_type, D, {
      const S* s = static_cast<const S*>(src);
      D* d = static_cast<D*>(dst);
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<D, bool>) {
          d[i] = static_cast<double>(s[i]) != 0.0;
        } else if constexpr (std::is_same_v<D, half_t> || std::is_same_v<S, half_t>) {
          d[i] = static_cast<D>(static_cast<float>(s[i]));
        } else {
          d[i] = static_cast<D>(s[i]);
        }
      }
    });
  });
}

void copy_array(const NDArray& src, const NDArray& dst) {
  MXN_CHECK(!src.is_none() && !dst.is_none(), ErrorCode::kInvalidArg, "copy: empty array");
  MXN_CHECK(src.shape() == dst.shape(), ErrorCode::kShape, "copy: source shape ",
            src.shape().str(), " differs from destination shape ", dst.shape().str());
  if (src.var() == dst.var() && src.offset() == dst.offset() && src.dtype() == dst.dtype()) return;
  auto s_chunk = src.chunk();
  auto d_chunk = dst.chunk();
  const TBlob s = src.blob(), d = dst.blob();
  EngineVar* reads[] = {src.var()};
  EngineVar* writes[] = {dst.var()};
  PushOptions opt;
  opt.name = "copy";
  opt.run_inline = src.nbytes() + dst.nbytes() <= (64u << 10);
  Engine::get().push(
      [s, d, s_chunk, d_chunk] { convert_elements(s.dptr, s.dtype, d.dptr, d.dtype, s.size()); },
      reads, 1, writes, 1, opt);
}

void copy_from_host(const NDArray& dst, const void* src, size_t nbytes) {
  MXN_CHECK(nbytes == dst.nbytes(), ErrorCode::kInvalidArg, "copy from host: got ", nbytes,
            " bytes for an array of ", dst.nbytes(), " bytes");
  MXN_CHECK(nbytes == 0 || src != nullptr, ErrorCode::kInvalidArg, "copy from host: NULL source");
  void* d = dst.data();
  auto chunk = dst.chunk();
  EngineVar* writes[] = {dst.var()};
  PushOptions opt;
  opt.name = "copy_from_host";
  opt.run_inline = true;
  Engine::get().push([d, src, nbytes, chunk] { std::memcpy(d, src, nbytes); }, nullptr, 0,
                     writes, 1, opt);
  dst.wait_to_write();
}

void copy_to_host(const NDArray& src, void* dst, size_t nbytes) {
  MXN_CHECK(nbytes == src.nbytes(), ErrorCode::kInvalidArg, "copy to host: buffer of ", nbytes,
            " bytes for an array of ", src.nbytes(), " bytes");
  MXN_CHECK(nbytes == 0 || dst != nullptr, ErrorCode::kInvalidArg,
            "copy to host: NULL destination");
  src.wait_to_read();
  if (nbytes) std::memcpy(dst, src.data(), nbytes);
}

}  // namespace mxn
