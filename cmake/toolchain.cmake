# Compiler settings shared by every target: C++17, hidden symbols, ccache, sanitizers.
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_C_STANDARD 11)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_CXX_VISIBILITY_PRESET hidden)
set(CMAKE_C_VISIBILITY_PRESET hidden)
set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()
set(CMAKE_CXX_FLAGS_RELEASE "-O2")

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

add_compile_options(-Wall -Wextra -Wno-unused-parameter)

if(MXN_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address)
elseif(MXN_SANITIZE STREQUAL "undefined")
  add_compile_options(-fsanitize=undefined -fno-sanitize-recover=undefined -g)
  add_link_options(-fsanitize=undefined)
elseif(MXN_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -g)
  add_link_options(-fsanitize=thread)
elseif(NOT MXN_SANITIZE STREQUAL "")
  message(FATAL_ERROR "MXN_SANITIZE must be address, undefined or thread")
endif()

if(MXN_BUILD_WASM)
  # WebAssembly (Emscripten): CPU only, no threads, WASM SIMD, native wasm exceptions, no BLAS
  # (MXN_NO_BLAS selects core/ops/gemm_tiled's packed SIMD GEMM and the direct depthwise
  # convolution; gemm_ref stays the oracle).
  if(NOT EMSCRIPTEN)
    message(FATAL_ERROR "MXN_BUILD_WASM needs the Emscripten toolchain: use bindings/js/build.sh")
  endif()
  set(CMAKE_POSITION_INDEPENDENT_CODE OFF)
  set(CMAKE_C_FLAGS_RELEASE "-O2")
  add_compile_options(-msimd128 -fwasm-exceptions)
  add_link_options(-msimd128 -fwasm-exceptions)
  add_compile_definitions(MXN_NO_BLAS)
  if(MXN_USE_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "MXN_USE_ONEDNN=ON: oneDNN is not available in the WebAssembly build")
  endif()
  set(MXN_ONEDNN_ENABLED OFF)
  set(MXN_CBLAS_INCLUDE "")
  set(MXN_OPENBLAS_LIB "")
  add_library(Threads::Threads INTERFACE IMPORTED)  # no threads: targets link nothing
  return()
endif()

find_package(Threads REQUIRED)

# OpenBLAS (Debian libopenblas-dev) for GEMM. Its OpenMP build (libopenblas-openmp-dev) first,
# linked by path (the build's RUNPATH names its folder, whatever the system's alternative):
# it then runs on the calling thread's OpenMP team, the one oneDNN uses, instead of a pool of
# its own whose workers spin in sched_yield between calls, taking a core from oneDNN's threads
# (30% of the CPU samples of ResNet-50 batch-1 inference).
find_path(MXN_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas-openmp NO_DEFAULT_PATH
          PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
find_library(MXN_OPENBLAS_LIB NAMES openblas PATH_SUFFIXES openblas-openmp NO_DEFAULT_PATH
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE})
find_path(MXN_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas-pthread openblas)
find_library(MXN_OPENBLAS_LIB NAMES openblas)
if(NOT MXN_CBLAS_INCLUDE OR NOT MXN_OPENBLAS_LIB)
  message(FATAL_ERROR "OpenBLAS not found: apt-get install libopenblas-dev")
endif()

# oneDNN (Debian libdnnl-dev: oneDNN 2.6 on the OpenMP runtime) for float32 2-D convolution
# (core/ops/nn_onednn.cc). MXN_USE_ONEDNN: AUTO (default) uses it when found, ON requires it,
# OFF leaves it out. The glue sets the OpenMP thread count of each calling thread, so it links
# the OpenMP runtime that libdnnl uses (libgomp).
set(MXN_ONEDNN_ENABLED OFF)
set(MXN_ONEDNN_LIBS "")
if(NOT MXN_USE_ONEDNN STREQUAL "OFF" AND MXN_USE_ONEDNN)
  find_path(MXN_DNNL_INCLUDE oneapi/dnnl/dnnl.hpp)
  find_library(MXN_DNNL_LIB NAMES dnnl)
  find_package(OpenMP COMPONENTS CXX QUIET)
  if(MXN_DNNL_INCLUDE AND MXN_DNNL_LIB AND OpenMP_CXX_FOUND)
    set(MXN_ONEDNN_ENABLED ON)
    set(MXN_ONEDNN_LIBS ${MXN_DNNL_LIB} ${OpenMP_CXX_LIBRARIES})
    message(STATUS "oneDNN: ${MXN_DNNL_LIB} (float32 2-D convolution)")
  elseif(MXN_USE_ONEDNN STREQUAL "AUTO")
    message(STATUS "oneDNN: not found (apt-get install libdnnl-dev); reference kernels only")
  else()
    message(FATAL_ERROR "MXN_USE_ONEDNN=${MXN_USE_ONEDNN} but oneDNN (dnnl.hpp, libdnnl) or "
                        "OpenMP was not found: apt-get install libdnnl-dev ocl-icd-opencl-dev")
  endif()
else()
  message(STATUS "oneDNN: off (MXN_USE_ONEDNN=OFF); reference kernels only")
endif()
