// Apache MXNet 1.x NDArray list files (`mx.nd.save`, `.params` checkpoints), byte-compatible.
//
// File:   uint64 0x112 (list magic), uint64 reserved (0; ignored on load, as MXNet does),
//         uint64 number of arrays, the array records, uint64 number of names (0 or the number
//         of arrays), each name as uint64 length + bytes. Little-endian throughout.
// Record (what MXNet 1.9.1 writes; V2 without NumPy shape semantics, V3 with them):
//         uint32 magic 0xF993fac9 (V2) or 0xF993faca (V3), int32 storage type (0 dense),
//         shape as int32 ndim + int64 dims, then (unless the shape marks a "none" array)
//         context int32 dev_type + int32 dev_id, int32 type flag, raw element bytes.
// Older records load too: V1 (magic 0xF993fac8: no storage type, same shape encoding) and
// legacy (no magic: the first word is ndim, then uint32 dims).
//
// Writing: V2 records (what MXNet writes by default); when some array is 0-d, which only V3
// can hold, every record is V3 (what MXNet writes with NumPy shape semantics on, and what it
// loads in `with mx.util.np_shape(True)`: MXNet refuses files that mix V2 and V3). Files are
// replaced atomically: temp file in the same directory, fsync, rename over the final name.
//
// Loading validates every count, ndim, dim and byte length against the bytes that remain
// before allocating anything for it; malformed input is always ErrorCode::kFormat (a file that
// cannot be read is kIO; sparse storage and dtypes mxnext lacks are kNotImplemented naming the
// array). "None" records (an uninitialised MXNet array) load as float32 arrays of shape (0,).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "core/tensor/ndarray.h"

namespace mxn {

struct NamedArrays {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;  // empty (a list) or one per array (a dict)
};

// Serialises arrays (and names: empty, or one per array) in MXNet's format. Waits for pending
// writes to the arrays first; their failures are thrown before anything is written.
std::string save_params_to_buffer(const std::vector<NDArray>& arrays,
                                  const std::vector<std::string>& names);
// The same into `path`, atomically: on any failure an existing file at `path` is unchanged
// and no temporary file is left behind.
void save_params_to_file(const std::string& path, const std::vector<NDArray>& arrays,
                         const std::vector<std::string>& names);

NamedArrays load_params_from_buffer(const void* data, size_t size);
NamedArrays load_params_from_file(const std::string& path);

// Format constants (exposed for tests).
constexpr uint64_t kParamsListMagic = 0x112;
constexpr uint32_t kNDArrayV1Magic = 0xF993fac8u;
constexpr uint32_t kNDArrayV2Magic = 0xF993fac9u;
constexpr uint32_t kNDArrayV3Magic = 0xF993facau;
constexpr int kParamsMaxNdim = 32;  // larger ndim is a format error

}  // namespace mxn
