/* Pins the layout of every public struct and the value of every public enum constant of
 * <mxnext/c_api.h> and <mxnext/dlpack.h> (DESIGN §3). A change here is an ABI change: it needs
 * a new MXN_ABI_VERSION and an entry in capi/ABI_CHANGES.md.
 *
 * Plain C11. Holds on LP64 (x86_64, aarch64) and on ILP32 targets whose 64-bit integers and
 * doubles are 8-byte aligned (wasm32, which the JS binding is built for); the pointer-sized
 * offsets take the #if branch. ctest also compiles this file for such an ILP32 target
 * (abi_layout_ilp32) where the compiler can. */
#include <stddef.h>
#include <stdint.h>
#ifndef MXN_ABI_LAYOUT_NO_MAIN
#include <stdio.h>
#endif

#include <mxnext/c_api.h>

#define PIN(cond) _Static_assert(cond, #cond)

#if UINTPTR_MAX == 0xffffffffu
#define MXN_PTR 4
#elif UINTPTR_MAX == 0xffffffffffffffffu
#define MXN_PTR 8
#else
#error "unsupported pointer size"
#endif
PIN(sizeof(void*) == MXN_PTR);
PIN(sizeof(void (*)(void)) == MXN_PTR);
PIN(_Alignof(int64_t) == 8); /* wasm32 and LP64 alike; i386 without -malign-double is not */
PIN(_Alignof(double) == 8);

/* ---- version ---------------------------------------------------------------------------- */
PIN(MXN_ABI_VERSION == 10006);
PIN(MXN_NO_FIELD == INT32_MIN);

/* ---- enums: every constant, and their size ---------------------------------------------- */
PIN(sizeof(mxn_status) == 4);
PIN(MXN_OK == 0);
PIN(MXN_ERR_INVALID_ARG == 1);
PIN(MXN_ERR_SHAPE == 2);
PIN(MXN_ERR_DTYPE == 3);
PIN(MXN_ERR_OOM == 4);
PIN(MXN_ERR_IO == 5);
PIN(MXN_ERR_FORMAT == 6);
PIN(MXN_ERR_DEVICE == 7);
PIN(MXN_ERR_NOT_IMPLEMENTED == 8);
PIN(MXN_ERR_PEER_LOST == 9);
PIN(MXN_ERR_TIMEOUT == 10);
PIN(MXN_ERR_INTERRUPTED == 11);
PIN(MXN_ERR_INTERNAL == 12);

PIN(sizeof(mxn_dtype) == 4);
PIN(MXN_DTYPE_FLOAT32 == 0);
PIN(MXN_DTYPE_FLOAT64 == 1);
PIN(MXN_DTYPE_FLOAT16 == 2);
PIN(MXN_DTYPE_UINT8 == 3);
PIN(MXN_DTYPE_INT32 == 4);
PIN(MXN_DTYPE_INT8 == 5);
PIN(MXN_DTYPE_INT64 == 6);
PIN(MXN_DTYPE_BOOL == 7);

PIN(sizeof(mxn_device_type) == 4);
PIN(MXN_DEVICE_CPU == 1);
PIN(MXN_DEVICE_GPU == 2);
PIN(MXN_DEVICE_CPU_PINNED == 3);

PIN(sizeof(mxn_value_type) == 4);
PIN(MXN_VALUE_NONE == 0);
PIN(MXN_VALUE_INT == 1);
PIN(MXN_VALUE_FLOAT == 2);
PIN(MXN_VALUE_BOOL == 3);
PIN(MXN_VALUE_STRING == 4);
PIN(MXN_VALUE_SHAPE == 5);
PIN(MXN_VALUE_DTYPE == 6);
PIN(MXN_VALUE_DEVICE == 7);

/* mxn_symbol_list_kind (ABI 1.4) */
PIN(MXN_LIST_ARGUMENTS == 0);
PIN(MXN_LIST_OUTPUTS == 1);
PIN(MXN_LIST_AUX_STATES == 2);
PIN(MXN_LIST_INPUTS == 3);

/* ---- mxn_error_info ------------------------------------------------------------------------ */
PIN(offsetof(mxn_error_info, struct_size) == 0);
PIN(offsetof(mxn_error_info, code) == 4);
PIN(offsetof(mxn_error_info, arg_index) == 8);
PIN(offsetof(mxn_error_info, axis) == 12);
PIN(offsetof(mxn_error_info, kind) == 16);
PIN(offsetof(mxn_error_info, message) == 16 + MXN_PTR);
PIN(offsetof(mxn_error_info, op_name) == 16 + 2 * MXN_PTR);
PIN(sizeof(mxn_error_info) == 16 + 3 * MXN_PTR); /* 40 on LP64, 28 on wasm32 */

/* ---- mxn_value: 16 bytes everywhere ------------------------------------------------------- */
PIN(sizeof(mxn_value) == 16);
PIN(_Alignof(mxn_value) == 8);
PIN(offsetof(mxn_value, type) == 0);
PIN(offsetof(mxn_value, len) == 4);
PIN(offsetof(mxn_value, u) == 8);
PIN(sizeof(((mxn_value*)0)->u) == 8);
PIN(offsetof(mxn_value, u.i) == 8);
PIN(offsetof(mxn_value, u.f) == 8);
PIN(offsetof(mxn_value, u.s) == 8);
PIN(offsetof(mxn_value, u.dims) == 8);

/* ---- mxn_memory_stats: no pointers, same on every target ---------------------------------- */
PIN(offsetof(mxn_memory_stats, struct_size) == 0);
PIN(offsetof(mxn_memory_stats, reserved) == 4);
PIN(offsetof(mxn_memory_stats, live_bytes) == 8);
PIN(offsetof(mxn_memory_stats, peak_bytes) == 16);
PIN(offsetof(mxn_memory_stats, cached_bytes) == 24);
PIN(offsetof(mxn_memory_stats, alloc_count) == 32);
PIN(offsetof(mxn_memory_stats, limit_bytes) == 40);
PIN(sizeof(mxn_memory_stats) == 48);

/* ---- DLPack 1.1 (the layout is the standard's) ------------------------------------------- */
PIN(DLPACK_MAJOR_VERSION == 1);
PIN(DLPACK_MINOR_VERSION == 1);
PIN(DLPACK_FLAG_BITMASK_READ_ONLY == 1);
PIN(DLPACK_FLAG_BITMASK_IS_COPIED == 2);
PIN(DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED == 4);

PIN(sizeof(DLDeviceType) == 4);
PIN(kDLCPU == 1);
PIN(kDLCUDA == 2);
PIN(kDLCUDAHost == 3);
PIN(kDLOpenCL == 4);
PIN(kDLVulkan == 7);
PIN(kDLMetal == 8);
PIN(kDLVPI == 9);
PIN(kDLROCM == 10);
PIN(kDLROCMHost == 11);
PIN(kDLExtDev == 12);
PIN(kDLCUDAManaged == 13);
PIN(kDLOneAPI == 14);
PIN(kDLWebGPU == 15);
PIN(kDLHexagon == 16);
PIN(kDLMAIA == 17);

PIN(kDLInt == 0);
PIN(kDLUInt == 1);
PIN(kDLFloat == 2);
PIN(kDLOpaqueHandle == 3);
PIN(kDLBfloat == 4);
PIN(kDLComplex == 5);
PIN(kDLBool == 6);

PIN(sizeof(DLPackVersion) == 8);
PIN(offsetof(DLPackVersion, major) == 0);
PIN(offsetof(DLPackVersion, minor) == 4);

PIN(sizeof(DLDevice) == 8);
PIN(offsetof(DLDevice, device_type) == 0);
PIN(offsetof(DLDevice, device_id) == 4);

PIN(sizeof(DLDataType) == 4);
PIN(offsetof(DLDataType, code) == 0);
PIN(offsetof(DLDataType, bits) == 1);
PIN(offsetof(DLDataType, lanes) == 2);

PIN(offsetof(DLTensor, data) == 0);
PIN(offsetof(DLTensor, device) == MXN_PTR);
PIN(offsetof(DLTensor, ndim) == MXN_PTR + 8);
PIN(offsetof(DLTensor, dtype) == MXN_PTR + 12);
PIN(offsetof(DLTensor, shape) == MXN_PTR + 16);
PIN(offsetof(DLTensor, strides) == 2 * MXN_PTR + 16);
#if MXN_PTR == 8
PIN(offsetof(DLTensor, byte_offset) == 40);
PIN(sizeof(DLTensor) == 48);
#else
PIN(offsetof(DLTensor, byte_offset) == 32); /* 28 rounded up to the uint64_t's alignment */
PIN(sizeof(DLTensor) == 40);
#endif

PIN(offsetof(DLManagedTensor, dl_tensor) == 0);
PIN(offsetof(DLManagedTensor, manager_ctx) == sizeof(DLTensor));
PIN(offsetof(DLManagedTensor, deleter) == sizeof(DLTensor) + MXN_PTR);
#if MXN_PTR == 8
PIN(sizeof(DLManagedTensor) == 64);
#else
PIN(sizeof(DLManagedTensor) == 48);
#endif

PIN(offsetof(DLManagedTensorVersioned, version) == 0);
PIN(offsetof(DLManagedTensorVersioned, manager_ctx) == 8);
PIN(offsetof(DLManagedTensorVersioned, deleter) == 8 + MXN_PTR);
PIN(offsetof(DLManagedTensorVersioned, flags) == 8 + 2 * MXN_PTR);
PIN(offsetof(DLManagedTensorVersioned, dl_tensor) == 16 + 2 * MXN_PTR);
#if MXN_PTR == 8
PIN(sizeof(DLManagedTensorVersioned) == 80);
#else
PIN(sizeof(DLManagedTensorVersioned) == 64);
#endif

#ifndef MXN_ABI_LAYOUT_NO_MAIN
/* Run by ctest: the library loaded at run time must be the version compiled against. */
int main(void) {
  if (mxn_abi_version() != MXN_ABI_VERSION) {
    fprintf(stderr, "library ABI %u, header ABI %d\n", (unsigned)mxn_abi_version(),
            (int)MXN_ABI_VERSION);
    return 1;
  }
  printf("ABI %d: layouts pinned (%d-byte pointers)\n", (int)MXN_ABI_VERSION, MXN_PTR);
  return 0;
}
#endif
