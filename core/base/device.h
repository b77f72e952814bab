// Devices, numbered as Apache MXNet's Context device types.
#pragma once
#include <cstdint>
#include <string>

namespace mxn {

enum class DeviceType : int32_t { kCPU = 1, kGPU = 2, kCPUPinned = 3 };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int32_t id = 0;
  bool operator==(const Device& o) const { return type == o.type && id == o.id; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;  // "cpu(0)", "gpu(1)"
  static Device cpu(int32_t id = 0) { return {DeviceType::kCPU, id}; }
};

// Validates a device request: unknown types and negative ids are kInvalidArg; a GPU in a
// build without CUDA is kDevice with a message that says so.
Device device_checked(int32_t type, int32_t id);

}  // namespace mxn
