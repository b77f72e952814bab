#include "core/base/device.h"

#include "core/base/error.h"

namespace mxn {

std::string Device::str() const {
  const char* name = type == DeviceType::kGPU         ? "gpu"
                     : type == DeviceType::kCPUPinned ? "cpu_pinned"
                                                      : "cpu";
  return cat(name, "(", id, ")");
}

Device device_checked(int32_t type, int32_t id) {
  MXN_CHECK(type == 1 || type == 2 || type == 3, ErrorCode::kInvalidArg, "unknown device type ",
            type, " (1 = cpu, 2 = gpu, 3 = cpu_pinned)");
  MXN_CHECK(id >= 0, ErrorCode::kInvalidArg, "device id must be >= 0, got ", id);
  Device dev{static_cast<DeviceType>(type), id};
  MXN_CHECK(dev.type != DeviceType::kGPU, ErrorCode::kDevice, dev.str(),
            " is not available: this mxnext library was not built with CUDA");
  // Pinned host memory is ordinary host memory without CUDA.
  if (dev.type == DeviceType::kCPUPinned) dev.type = DeviceType::kCPU;
  return dev;
}

}  // namespace mxn
