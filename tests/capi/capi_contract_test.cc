// The C ABI contract (DESIGN §3, EXAMPLES "Reliability" 8-9): every exported function is called
// with NULL and wrong-type handles, NULL out-pointers and bad values, and must return the right
// code, leave a structured thread-local error, leave its out-parameters untouched and leave the
// library working. Positive paths pin what the header promises.
//
// This file sees the library only through <mxnext/c_api.h> (no core/ includes).
// EveryExportedFunctionIsCovered fails when c_api.h gains an MXN_API function that is not
// called here.
#include <mxnext/c_api.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// ------------------------------------------------------------------------------------------
// Sentinels: out-parameters are pre-filled with these and must still hold them after a failure.

constexpr int32_t kI32 = -12345;
constexpr int64_t kI64 = -1234567890123;
constexpr uint32_t kU32 = 0xfeedbeefu;
mxn_ndarray* const kArrSentinel = reinterpret_cast<mxn_ndarray*>(uintptr_t{0x5e5e5e50});
const mxn_op* const kOpSentinel = reinterpret_cast<const mxn_op*>(uintptr_t{0x0b0b0b00});
const char* const kStrSentinel = "sentinel";
const int64_t* const kDimsSentinel = reinterpret_cast<const int64_t*>(uintptr_t{0xd1d1d1d0});
void* const kPtrSentinel = reinterpret_cast<void*>(uintptr_t{0xdada0000});

// ------------------------------------------------------------------------------------------
// RAII and small helpers

struct ArrayDeleter {
  void operator()(mxn_ndarray* a) const { mxn_ndarray_free(a); }
};
using Array = std::unique_ptr<mxn_ndarray, ArrayDeleter>;

const char* expected_kind(int code) {
  switch (code) {
    case MXN_ERR_INVALID_ARG: return "InvalidArgument";
    case MXN_ERR_SHAPE: return "ShapeError";
    case MXN_ERR_DTYPE: return "DTypeError";
    case MXN_ERR_OOM: return "OutOfMemory";
    case MXN_ERR_IO: return "IOError";
    case MXN_ERR_FORMAT: return "FormatError";
    case MXN_ERR_DEVICE: return "DeviceError";
    case MXN_ERR_NOT_IMPLEMENTED: return "NotImplemented";
    case MXN_ERR_PEER_LOST: return "PeerLost";
    case MXN_ERR_TIMEOUT: return "Timeout";
    case MXN_ERR_INTERRUPTED: return "Interrupted";
    case MXN_ERR_INTERNAL: return "InternalError";
    default: return "?";
  }
}

// What a failed call must have left in the thread-local error.
struct Err {
  int code;
  std::string op;  // expected op_name ("" for calls that are not about an operator)
  bool check_arg = false;
  int32_t arg_index = MXN_NO_FIELD;
  bool check_axis = false;
  int32_t axis = MXN_NO_FIELD;
  std::vector<std::string> mentions;

  explicit Err(int c) : code(c) {}
  Err& op_name(const char* name) {
    op = name;
    return *this;
  }
  Err& arg(int32_t i) {
    check_arg = true;
    arg_index = i;
    return *this;
  }
  Err& on_axis(int32_t a) {
    check_axis = true;
    axis = a;
    return *this;
  }
  Err& says(std::initializer_list<const char*> parts) {
    for (const char* p : parts) mentions.emplace_back(p);
    return *this;
  }
};

void check_error(int rc, const Err& want) {
  EXPECT_EQ(rc, want.code);
  const char* msg = mxn_last_error_message();
  ASSERT_NE(msg, nullptr);
  EXPECT_GT(std::strlen(msg), 0u) << "empty error message";
  mxn_error_info info;
  std::memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(info);
  ASSERT_EQ(mxn_last_error(&info), MXN_OK);
  EXPECT_EQ(info.code, want.code) << msg;
  ASSERT_NE(info.kind, nullptr);
  EXPECT_STREQ(info.kind, expected_kind(want.code)) << msg;
  ASSERT_NE(info.message, nullptr);
  EXPECT_STREQ(info.message, msg);
  ASSERT_NE(info.op_name, nullptr);
  EXPECT_EQ(std::string(info.op_name), want.op) << msg;
  if (want.check_arg) {
    EXPECT_EQ(info.arg_index, want.arg_index) << msg;
  }
  if (want.check_axis) {
    EXPECT_EQ(info.axis, want.axis) << msg;
  }
  for (const auto& m : want.mentions) {
    EXPECT_NE(std::string(msg).find(m), std::string::npos)
        << "message does not mention '" << m << "': " << msg;
  }
}

#define EXPECT_MXN_ERR(call, err)    \
  do {                               \
    SCOPED_TRACE(#call);             \
    check_error((call), (err));      \
  } while (0)

#define ASSERT_MXN_OK(call) ASSERT_EQ((call), MXN_OK) << #call << ": " << mxn_last_error_message()
#define EXPECT_MXN_OK(call) EXPECT_EQ((call), MXN_OK) << #call << ": " << mxn_last_error_message()

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case MXN_DTYPE_FLOAT32: return 4;
    case MXN_DTYPE_FLOAT64: return 8;
    case MXN_DTYPE_FLOAT16: return 2;
    case MXN_DTYPE_UINT8: return 1;
    case MXN_DTYPE_INT32: return 4;
    case MXN_DTYPE_INT8: return 1;
    case MXN_DTYPE_INT64: return 8;
    case MXN_DTYPE_BOOL: return 1;
  }
  return 0;
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Array make(const std::vector<int64_t>& shape, int32_t dtype, const void* data, size_t nbytes) {
  mxn_ndarray* out = nullptr;
  int rc = mxn_ndarray_from_data(shape.data(), static_cast<int32_t>(shape.size()), dtype,
                                 MXN_DEVICE_CPU, 0, data, nbytes, &out);
  EXPECT_EQ(rc, MXN_OK) << mxn_last_error_message();
  return Array(out);
}

Array make_f32(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), numel(shape));
  return make(shape, MXN_DTYPE_FLOAT32, values.data(), values.size() * sizeof(float));
}

Array make_i32(const std::vector<int64_t>& shape, const std::vector<int32_t>& values) {
  return make(shape, MXN_DTYPE_INT32, values.data(), values.size() * sizeof(int32_t));
}

Array iota_f32(const std::vector<int64_t>& shape) {
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return make_f32(shape, v);
}

std::vector<int64_t> shape_of(const mxn_ndarray* a) {
  int32_t ndim = -1;
  const int64_t* dims = nullptr;
  EXPECT_MXN_OK(mxn_ndarray_shape(a, &ndim, &dims));
  if (ndim < 0) return {};
  return std::vector<int64_t>(dims, dims + ndim);
}

template <typename T>
std::vector<T> read(const mxn_ndarray* a) {
  int64_t n = -1;
  EXPECT_MXN_OK(mxn_ndarray_size(a, &n));
  std::vector<T> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  EXPECT_MXN_OK(mxn_ndarray_copy_to_host(a, out.data(), out.size() * sizeof(T)));
  return out;
}
std::vector<float> read_f32(const mxn_ndarray* a) { return read<float>(a); }

const mxn_op* find_op(const char* name) {
  const mxn_op* op = nullptr;
  EXPECT_MXN_OK(mxn_op_find(name, &op));
  return op;
}

mxn_value v_int(int64_t i) {
  mxn_value v{};
  v.type = MXN_VALUE_INT;
  v.u.i = i;
  return v;
}
mxn_value v_float(double f) {
  mxn_value v{};
  v.type = MXN_VALUE_FLOAT;
  v.u.f = f;
  return v;
}
mxn_value v_bool(bool b) {
  mxn_value v{};
  v.type = MXN_VALUE_BOOL;
  v.u.i = b ? 1 : 0;
  return v;
}
mxn_value v_str(const char* s) {
  mxn_value v{};
  v.type = MXN_VALUE_STRING;
  v.u.s = s;
  return v;
}
mxn_value v_shape(const int64_t* dims, int32_t len) {
  mxn_value v{};
  v.type = MXN_VALUE_SHAPE;
  v.len = len;
  v.u.dims = dims;
  return v;
}
mxn_value v_dtype(int64_t code) {
  mxn_value v{};
  v.type = MXN_VALUE_DTYPE;
  v.u.i = code;
  return v;
}
mxn_value v_device(int64_t type, int32_t id) {
  mxn_value v{};
  v.type = MXN_VALUE_DEVICE;
  v.u.i = type;
  v.len = id;
  return v;
}
mxn_value v_none() {
  mxn_value v{};
  v.type = MXN_VALUE_NONE;
  return v;
}

// Invokes an operator expected to succeed with one output.
Array invoke1(const char* name, std::vector<mxn_ndarray*> in, std::vector<const char*> keys = {},
              std::vector<mxn_value> vals = {}) {
  const mxn_op* op = find_op(name);
  mxn_ndarray* out = nullptr;
  int32_t n = 0;
  EXPECT_MXN_OK(mxn_op_invoke(op, static_cast<int32_t>(in.size()), in.data(),
                              static_cast<int32_t>(keys.size()), keys.data(), vals.data(), 1,
                              &out, &n));
  EXPECT_EQ(n, out ? 1 : 0);
  return Array(out);
}

// A small computation whose result is checked: run after every test (fixture TearDown), so
// each error path is followed by proof that the library still works.
void expect_library_works() {
  Array a = make_f32({2, 3}, {0, 1, 2, 3, 4, 5});
  Array b = make_f32({3}, {10, 20, 30});
  ASSERT_TRUE(a && b);
  Array c = invoke1("broadcast_add", {a.get(), b.get()});
  ASSERT_TRUE(c);
  EXPECT_EQ(read_f32(c.get()), (std::vector<float>{10, 21, 32, 13, 24, 35}));
  EXPECT_MXN_OK(mxn_wait_all());
}

class Capi : public ::testing::Test {
 protected:
  void TearDown() override {
    SCOPED_TRACE("library keeps working after the test");
    expect_library_works();
  }
};

// A handle of the wrong type: every handle starts with a magic tag, so these must be refused.
mxn_ndarray* op_as_array() {
  return const_cast<mxn_ndarray*>(reinterpret_cast<const mxn_ndarray*>(find_op("broadcast_add")));
}
const mxn_op* array_as_op(mxn_ndarray* a) { return reinterpret_cast<const mxn_op*>(a); }

std::string read_text(const char* path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// ==========================================================================================
// Coverage of the header by this file

TEST(CapiCoverage, EveryExportedFunctionIsCovered) {
  const std::string header = read_text(MXN_CAPI_HEADER);
  const std::string self = read_text(MXN_TEST_SOURCE);
  ASSERT_FALSE(header.empty()) << MXN_CAPI_HEADER;
  ASSERT_FALSE(self.empty()) << MXN_TEST_SOURCE;
  const std::regex decl(R"(MXN_API\s+[A-Za-z_][\w\s\*]*?\b(mxn_\w+)\s*\()");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(header.begin(), header.end(), decl);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1].str());
  }
  // A sanity floor so that a broken pattern cannot pass by finding nothing (39 in ABI 1.0).
  EXPECT_GE(names.size(), 39u);
  for (const auto& name : names) {
    // Called, not just named: the name followed by an opening parenthesis.
    const std::regex call("\\b" + name + "\\s*\\(");
    EXPECT_TRUE(std::regex_search(self, call))
        << name << " is exported by c_api.h but never called in " << MXN_TEST_SOURCE
        << ": add its contract test";
  }
}

// ==========================================================================================
// Errors

TEST_F(Capi, LastErrorRejectsNullAndShortStruct) {
  EXPECT_MXN_ERR(mxn_last_error(nullptr), Err(MXN_ERR_INVALID_ARG).says({"struct_size"}));

  mxn_error_info info;
  info.struct_size = 4;  // too small: nothing else may be written
  info.code = kI32;
  info.arg_index = kI32;
  info.axis = kI32;
  info.kind = kStrSentinel;
  info.message = kStrSentinel;
  info.op_name = kStrSentinel;
  EXPECT_MXN_ERR(mxn_last_error(&info), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(info.struct_size, 4u);
  EXPECT_EQ(info.code, kI32);
  EXPECT_EQ(info.arg_index, kI32);
  EXPECT_EQ(info.axis, kI32);
  EXPECT_EQ(info.kind, kStrSentinel);
  EXPECT_EQ(info.message, kStrSentinel);
  EXPECT_EQ(info.op_name, kStrSentinel);

  // A caller built against a later minor version passes a bigger struct: accepted.
  struct {
    mxn_error_info info;
    char more[32];
  } big;
  std::memset(&big, 0, sizeof(big));
  big.info.struct_size = sizeof(big);
  EXPECT_MXN_OK(mxn_last_error(&big.info));
  EXPECT_EQ(big.info.code, MXN_ERR_INVALID_ARG);
}

TEST_F(Capi, ClearErrorForgetsTheLastFailure) {
  int32_t n = kI32;
  EXPECT_MXN_ERR(mxn_device_count(99, &n), Err(MXN_ERR_INVALID_ARG).says({"99"}));
  mxn_clear_error();
  const char* msg = mxn_last_error_message();
  ASSERT_NE(msg, nullptr);
  EXPECT_STREQ(msg, "");
  mxn_error_info info;
  std::memset(&info, 0xab, sizeof(info));
  info.struct_size = sizeof(info);
  ASSERT_MXN_OK(mxn_last_error(&info));
  EXPECT_EQ(info.code, MXN_OK);
  EXPECT_STREQ(info.kind, "Ok");
  EXPECT_STREQ(info.message, "");
  EXPECT_STREQ(info.op_name, "");
  EXPECT_EQ(info.arg_index, MXN_NO_FIELD);
  EXPECT_EQ(info.axis, MXN_NO_FIELD);
}

TEST_F(Capi, ErrorsAreThreadLocalAndSurviveSuccessfulCalls) {
  int32_t n = kI32;
  EXPECT_MXN_ERR(mxn_device_count(77, &n), Err(MXN_ERR_INVALID_ARG).says({"77"}));
  mxn_error_info mine;
  std::memset(&mine, 0, sizeof(mine));
  mine.struct_size = sizeof(mine);
  ASSERT_MXN_OK(mxn_last_error(&mine));
  const std::string before = mine.message;

  std::string other_initial = "unset", other_after = "unset";
  std::thread t([&] {
    other_initial = mxn_last_error_message();  // a fresh thread has no error
    int32_t m = 0;
    mxn_device_count(55, &m);
    other_after = mxn_last_error_message();
  });
  t.join();
  EXPECT_EQ(other_initial, "");
  EXPECT_NE(other_after.find("55"), std::string::npos) << other_after;

  // Successful calls on this thread do not disturb the borrowed strings.
  EXPECT_MXN_OK(mxn_device_count(MXN_DEVICE_CPU, &n));
  Array a = iota_f32({4});
  EXPECT_EQ(std::string(mine.message), before);
  EXPECT_EQ(std::string(mxn_last_error_message()), before);
}

// ==========================================================================================
// Library

TEST_F(Capi, AbiVersionAndVersionString) {
  EXPECT_EQ(mxn_abi_version(), static_cast<uint32_t>(MXN_ABI_VERSION));
  EXPECT_EQ(mxn_abi_version(), 10006u);
  const char* v = mxn_version_string();
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(std::regex_match(v, std::regex(R"(\d+\.\d+\.\d+)"))) << v;
  EXPECT_EQ(v, mxn_version_string()) << "a static string";
}

TEST_F(Capi, DeviceCount) {
  int32_t n = kI32;
  ASSERT_MXN_OK(mxn_device_count(MXN_DEVICE_CPU, &n));
  EXPECT_EQ(n, 1);
  n = kI32;
  ASSERT_MXN_OK(mxn_device_count(MXN_DEVICE_GPU, &n));
  EXPECT_EQ(n, 0) << "no CUDA in this build";
  n = kI32;
  ASSERT_MXN_OK(mxn_device_count(MXN_DEVICE_CPU_PINNED, &n));
  EXPECT_EQ(n, 1);

  for (int32_t bad : {0, 4, 99, -1}) {
    n = kI32;
    EXPECT_MXN_ERR(mxn_device_count(bad, &n), Err(MXN_ERR_INVALID_ARG).says({"device type"}));
    EXPECT_EQ(n, kI32);
  }
  EXPECT_MXN_ERR(mxn_device_count(MXN_DEVICE_CPU, nullptr), Err(MXN_ERR_INVALID_ARG));
}

// ==========================================================================================
// NDArray creation

TEST_F(Capi, CreateRejectsBadArguments) {
  const int64_t dims[2] = {2, 3};
  mxn_ndarray* out = kArrSentinel;

  EXPECT_MXN_ERR(mxn_ndarray_create(dims, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, nullptr),
                 Err(MXN_ERR_INVALID_ARG).says({"out"}));

  for (int32_t dt : {99, -1, 8}) {
    EXPECT_MXN_ERR(mxn_ndarray_create(dims, 2, dt, MXN_DEVICE_CPU, 0, &out),
                   Err(MXN_ERR_DTYPE).says({"dtype"}));
    EXPECT_EQ(out, kArrSentinel);
  }
  EXPECT_MXN_ERR(mxn_ndarray_create(dims, -1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out),
                 Err(MXN_ERR_SHAPE).says({"ndim", "-1"}));
  EXPECT_EQ(out, kArrSentinel);
  const int64_t many[17] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_MXN_ERR(mxn_ndarray_create(many, 17, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out),
                 Err(MXN_ERR_SHAPE).says({"17"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_create(nullptr, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out),
                 Err(MXN_ERR_INVALID_ARG).says({"dims"}));
  EXPECT_EQ(out, kArrSentinel);
  const int64_t neg[2] = {2, -3};
  EXPECT_MXN_ERR(mxn_ndarray_create(neg, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out),
                 Err(MXN_ERR_SHAPE).says({"-3"}));
  EXPECT_EQ(out, kArrSentinel);
  const int64_t overflow[2] = {int64_t{1} << 62, int64_t{1} << 62};
  EXPECT_MXN_ERR(mxn_ndarray_create(overflow, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out),
                 Err(MXN_ERR_SHAPE));
  EXPECT_EQ(out, kArrSentinel);
  // Countable, but more bytes than any machine has: an OOM code, not a crash.
  const int64_t huge[1] = {int64_t{1} << 58};
  EXPECT_MXN_ERR(mxn_ndarray_create(huge, 1, MXN_DTYPE_FLOAT64, MXN_DEVICE_CPU, 0, &out),
                 Err(MXN_ERR_OOM).says({"2305843009213693952", "cpu"}));
  EXPECT_EQ(out, kArrSentinel);

  for (int32_t dev : {0, 4, 99, -2}) {
    EXPECT_MXN_ERR(mxn_ndarray_create(dims, 2, MXN_DTYPE_FLOAT32, dev, 0, &out),
                   Err(MXN_ERR_INVALID_ARG).says({"device type"}));
    EXPECT_EQ(out, kArrSentinel);
  }
  EXPECT_MXN_ERR(mxn_ndarray_create(dims, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, -1, &out),
                 Err(MXN_ERR_INVALID_ARG).says({"device id"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_create(dims, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_GPU, 0, &out),
                 Err(MXN_ERR_DEVICE).says({"gpu(0)", "not built with CUDA"}));
  EXPECT_EQ(out, kArrSentinel);
}

TEST_F(Capi, FromDataRejectsBadArguments) {
  const int64_t dims[2] = {2, 3};
  const float data[6] = {1, 2, 3, 4, 5, 6};
  mxn_ndarray* out = kArrSentinel;

  EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, data,
                                       sizeof(data), nullptr),
                 Err(MXN_ERR_INVALID_ARG).says({"out"}));
  for (size_t nbytes : {size_t{0}, sizeof(data) - 1, sizeof(data) + 4, sizeof(data) * 2}) {
    EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, data,
                                         nbytes, &out),
                   Err(MXN_ERR_INVALID_ARG).says({"24 bytes", std::to_string(nbytes).c_str()}));
    EXPECT_EQ(out, kArrSentinel);
  }
  EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, nullptr,
                                       sizeof(data), &out),
                 Err(MXN_ERR_INVALID_ARG).says({"NULL"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 2, 99, MXN_DEVICE_CPU, 0, data, sizeof(data), &out),
                 Err(MXN_ERR_DTYPE).says({"99"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 99, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, data,
                                       sizeof(data), &out),
                 Err(MXN_ERR_SHAPE));
  EXPECT_EQ(out, kArrSentinel);
  const int64_t neg[2] = {-2, 3};
  EXPECT_MXN_ERR(mxn_ndarray_from_data(neg, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, data,
                                       sizeof(data), &out),
                 Err(MXN_ERR_SHAPE));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 2, MXN_DTYPE_FLOAT32, 42, 0, data, sizeof(data),
                                       &out),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_GPU, 1, data,
                                       sizeof(data), &out),
                 Err(MXN_ERR_DEVICE).says({"gpu(1)", "CUDA"}));
  EXPECT_EQ(out, kArrSentinel);

  // NULL data is fine for an empty array.
  const int64_t empty[2] = {0, 3};
  ASSERT_MXN_OK(mxn_ndarray_from_data(empty, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, nullptr, 0,
                                      &out));
  Array hold(out);
  EXPECT_EQ(shape_of(out), (std::vector<int64_t>{0, 3}));
}

TEST_F(Capi, FreeAcceptsNullAndIgnoresForeignHandles) {
  mxn_ndarray_free(nullptr);
  // A handle of another type is not freed (the op handle belongs to the library).
  mxn_ndarray_free(op_as_array());
  const char* name = nullptr;
  ASSERT_MXN_OK(mxn_op_name(find_op("broadcast_add"), &name));
  EXPECT_STREQ(name, "broadcast_add");
  // Storage outlives a freed handle while a view uses it.
  Array a = iota_f32({4});
  mxn_ndarray* v = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_slice(a.get(), 1, 3, &v));
  Array view(v);
  a.reset();
  EXPECT_EQ(read_f32(view.get()), (std::vector<float>{1, 2}));
}

// Round trips of every dtype through from_data / create / data / copy_to_host, including 0-d
// and 0-size arrays, and the metadata getters.
TEST_F(Capi, RoundTripEveryDtypeAndShape) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 3}, {}, {0}, {3, 0, 2}, {1, 1, 5}};
  for (int32_t dt = MXN_DTYPE_FLOAT32; dt <= MXN_DTYPE_BOOL; ++dt) {
    for (const auto& shape : shapes) {
      SCOPED_TRACE("dtype " + std::to_string(dt) + " ndim " + std::to_string(shape.size()));
      const int64_t n = numel(shape);
      const size_t es = dtype_size(dt);
      std::vector<uint8_t> bytes(static_cast<size_t>(n) * es);
      for (size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = dt == MXN_DTYPE_BOOL ? static_cast<uint8_t>(i % 2)
                                        : static_cast<uint8_t>(i * 37 + 11);
      }
      Array a = make(shape, dt, bytes.empty() ? nullptr : bytes.data(), bytes.size());
      ASSERT_TRUE(a);

      int32_t ndim = kI32, dtype = kI32, dev_type = kI32, dev_id = kI32;
      const int64_t* dims = kDimsSentinel;
      int64_t size = kI64;
      ASSERT_MXN_OK(mxn_ndarray_shape(a.get(), &ndim, &dims));
      EXPECT_EQ(ndim, static_cast<int32_t>(shape.size()));
      EXPECT_EQ(std::vector<int64_t>(dims, dims + ndim), shape);
      ASSERT_MXN_OK(mxn_ndarray_dtype(a.get(), &dtype));
      EXPECT_EQ(dtype, dt);
      ASSERT_MXN_OK(mxn_ndarray_device(a.get(), &dev_type, &dev_id));
      EXPECT_EQ(dev_type, MXN_DEVICE_CPU);
      EXPECT_EQ(dev_id, 0);
      ASSERT_MXN_OK(mxn_ndarray_size(a.get(), &size));
      EXPECT_EQ(size, n);

      std::vector<uint8_t> back(bytes.size() + 1, 0xee);
      ASSERT_MXN_OK(mxn_ndarray_copy_to_host(a.get(), back.data(), bytes.size()));
      EXPECT_EQ(std::vector<uint8_t>(back.begin(), back.end() - 1), bytes);
      EXPECT_EQ(back.back(), 0xee) << "wrote past nbytes";

      // create + write through mxn_ndarray_data + read back
      mxn_ndarray* c = kArrSentinel;
      ASSERT_MXN_OK(mxn_ndarray_create(shape.data(), static_cast<int32_t>(shape.size()), dt,
                                       MXN_DEVICE_CPU, 0, &c));
      Array created(c);
      ASSERT_MXN_OK(mxn_ndarray_wait_to_write(c));
      void* p = kPtrSentinel;
      ASSERT_MXN_OK(mxn_ndarray_data(c, &p));
      ASSERT_NE(p, kPtrSentinel);
      if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
      ASSERT_MXN_OK(mxn_ndarray_wait_to_read(c));
      std::vector<uint8_t> back2(bytes.size());
      ASSERT_MXN_OK(mxn_ndarray_copy_to_host(c, back2.data(), back2.size()));
      EXPECT_EQ(back2, bytes);

      // copy_from_host overwrites
      std::vector<uint8_t> zeros(bytes.size(), 0);
      ASSERT_MXN_OK(mxn_ndarray_copy_from_host(c, zeros.data(), zeros.size()));
      ASSERT_MXN_OK(mxn_ndarray_copy_to_host(c, back2.data(), back2.size()));
      EXPECT_EQ(back2, zeros);
    }
  }
}

TEST_F(Capi, PinnedDeviceIsHostMemory) {
  const int64_t dims[1] = {3};
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_create(dims, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU_PINNED, 0, &out));
  Array a(out);
  int32_t t = kI32, id = kI32;
  ASSERT_MXN_OK(mxn_ndarray_device(a.get(), &t, &id));
  EXPECT_TRUE(t == MXN_DEVICE_CPU || t == MXN_DEVICE_CPU_PINNED) << t;
}

// ==========================================================================================
// Metadata getters: bad handles and NULL out-pointers

TEST_F(Capi, GettersRejectBadHandlesAndNullOuts) {
  Array a = iota_f32({2, 3});
  mxn_ndarray* wrong = op_as_array();
  for (mxn_ndarray* h : {static_cast<mxn_ndarray*>(nullptr), wrong}) {
    const bool is_null = h == nullptr;
    const char* says = is_null ? "NULL" : "not an array handle";
    int32_t ndim = kI32;
    const int64_t* dims = kDimsSentinel;
    EXPECT_MXN_ERR(mxn_ndarray_shape(h, &ndim, &dims), Err(MXN_ERR_INVALID_ARG).says({says}));
    EXPECT_EQ(ndim, kI32);
    EXPECT_EQ(dims, kDimsSentinel);
    int32_t dt = kI32;
    EXPECT_MXN_ERR(mxn_ndarray_dtype(h, &dt), Err(MXN_ERR_INVALID_ARG).says({says}));
    EXPECT_EQ(dt, kI32);
    int32_t t = kI32, id = kI32;
    EXPECT_MXN_ERR(mxn_ndarray_device(h, &t, &id), Err(MXN_ERR_INVALID_ARG).says({says}));
    EXPECT_EQ(t, kI32);
    EXPECT_EQ(id, kI32);
    int64_t n = kI64;
    EXPECT_MXN_ERR(mxn_ndarray_size(h, &n), Err(MXN_ERR_INVALID_ARG).says({says}));
    EXPECT_EQ(n, kI64);
    void* p = kPtrSentinel;
    EXPECT_MXN_ERR(mxn_ndarray_data(h, &p), Err(MXN_ERR_INVALID_ARG).says({says}));
    EXPECT_EQ(p, kPtrSentinel);
    EXPECT_MXN_ERR(mxn_ndarray_wait_to_read(h), Err(MXN_ERR_INVALID_ARG).says({says}));
    EXPECT_MXN_ERR(mxn_ndarray_wait_to_write(h), Err(MXN_ERR_INVALID_ARG).says({says}));
  }

  // NULL out-pointers, one at a time; the other out stays untouched.
  int32_t ndim = kI32;
  const int64_t* dims = kDimsSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_shape(a.get(), nullptr, &dims), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(dims, kDimsSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_shape(a.get(), &ndim, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(ndim, kI32);
  EXPECT_MXN_ERR(mxn_ndarray_dtype(a.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  int32_t t = kI32, id = kI32;
  EXPECT_MXN_ERR(mxn_ndarray_device(a.get(), nullptr, &id), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(id, kI32);
  EXPECT_MXN_ERR(mxn_ndarray_device(a.get(), &t, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(t, kI32);
  EXPECT_MXN_ERR(mxn_ndarray_size(a.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_data(a.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
}

// ==========================================================================================
// Host transfers and copies

TEST_F(Capi, HostCopiesRejectBadArguments) {
  Array a = make_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  std::vector<float> buf(8, -7.0f);
  const std::vector<float> untouched = buf;

  EXPECT_MXN_ERR(mxn_ndarray_copy_to_host(nullptr, buf.data(), 24),
                 Err(MXN_ERR_INVALID_ARG).says({"NULL"}));
  EXPECT_MXN_ERR(mxn_ndarray_copy_to_host(op_as_array(), buf.data(), 24),
                 Err(MXN_ERR_INVALID_ARG).says({"not an array handle"}));
  for (size_t nb : {size_t{0}, size_t{20}, size_t{28}, size_t{32}}) {
    EXPECT_MXN_ERR(mxn_ndarray_copy_to_host(a.get(), buf.data(), nb),
                   Err(MXN_ERR_INVALID_ARG).says({"24 bytes", std::to_string(nb).c_str()}));
  }
  EXPECT_MXN_ERR(mxn_ndarray_copy_to_host(a.get(), nullptr, 24), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(buf, untouched);

  const std::vector<float> src(8, 9.0f);
  EXPECT_MXN_ERR(mxn_ndarray_copy_from_host(nullptr, src.data(), 24), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_copy_from_host(op_as_array(), src.data(), 24),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_copy_from_host(a.get(), src.data(), 20),
                 Err(MXN_ERR_INVALID_ARG).says({"20", "24"}));
  EXPECT_MXN_ERR(mxn_ndarray_copy_from_host(a.get(), nullptr, 24), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(read_f32(a.get()), (std::vector<float>{1, 2, 3, 4, 5, 6})) << "array modified";
}

TEST_F(Capi, CopyToConvertsDtypes) {
  Array src = make_f32({2, 3}, {0.0f, 1.75f, -2.5f, 3.0f, 1024.0f, 0.5f});
  const int64_t dims[2] = {2, 3};

  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_create(dims, 2, MXN_DTYPE_INT32, MXN_DEVICE_CPU, 0, &out));
  Array i32(out);
  ASSERT_MXN_OK(mxn_ndarray_copy_to(src.get(), i32.get()));
  EXPECT_EQ(read<int32_t>(i32.get()), (std::vector<int32_t>{0, 1, -2, 3, 1024, 0}));

  ASSERT_MXN_OK(mxn_ndarray_create(dims, 2, MXN_DTYPE_FLOAT16, MXN_DEVICE_CPU, 0, &out));
  Array f16(out);
  ASSERT_MXN_OK(mxn_ndarray_copy_to(src.get(), f16.get()));
  // IEEE half bits of 0, 1.75, -2.5, 3, 1024, 0.5
  EXPECT_EQ(read<uint16_t>(f16.get()),
            (std::vector<uint16_t>{0x0000, 0x3f00, 0xc100, 0x4200, 0x6400, 0x3800}));
  ASSERT_MXN_OK(mxn_ndarray_create(dims, 2, MXN_DTYPE_FLOAT64, MXN_DEVICE_CPU, 0, &out));
  Array f64(out);
  ASSERT_MXN_OK(mxn_ndarray_copy_to(f16.get(), f64.get()));
  EXPECT_EQ(read<double>(f64.get()), (std::vector<double>{0.0, 1.75, -2.5, 3.0, 1024.0, 0.5}));

  ASSERT_MXN_OK(mxn_ndarray_create(dims, 2, MXN_DTYPE_BOOL, MXN_DEVICE_CPU, 0, &out));
  Array b(out);
  ASSERT_MXN_OK(mxn_ndarray_copy_to(src.get(), b.get()));
  EXPECT_EQ(read<uint8_t>(b.get()), (std::vector<uint8_t>{0, 1, 1, 1, 1, 1}));

  ASSERT_MXN_OK(mxn_ndarray_create(dims, 2, MXN_DTYPE_UINT8, MXN_DEVICE_CPU, 0, &out));
  Array u8(out);
  ASSERT_MXN_OK(mxn_ndarray_copy_to(i32.get(), u8.get()));
  EXPECT_EQ(read<uint8_t>(u8.get())[1], 1);

  // Copy into a view writes into the base array.
  Array base = make_f32({4, 3}, std::vector<float>(12, 0.0f));
  mxn_ndarray* view = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_slice(base.get(), 1, 3, &view));
  Array v(view);
  ASSERT_MXN_OK(mxn_ndarray_copy_to(i32.get(), v.get()));
  EXPECT_EQ(read_f32(base.get()),
            (std::vector<float>{0, 0, 0, 0, 1, -2, 3, 1024, 0, 0, 0, 0}));
}

TEST_F(Capi, CopyToRejectsBadArguments) {
  Array a = make_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Array d = make_f32({3, 2}, {9, 9, 9, 9, 9, 9});
  EXPECT_MXN_ERR(mxn_ndarray_copy_to(nullptr, d.get()), Err(MXN_ERR_INVALID_ARG).says({"src"}));
  EXPECT_MXN_ERR(mxn_ndarray_copy_to(a.get(), nullptr), Err(MXN_ERR_INVALID_ARG).says({"dst"}));
  EXPECT_MXN_ERR(mxn_ndarray_copy_to(op_as_array(), d.get()),
                 Err(MXN_ERR_INVALID_ARG).says({"src"}));
  EXPECT_MXN_ERR(mxn_ndarray_copy_to(a.get(), op_as_array()),
                 Err(MXN_ERR_INVALID_ARG).says({"dst"}));
  EXPECT_MXN_ERR(mxn_ndarray_copy_to(a.get(), d.get()),
                 Err(MXN_ERR_SHAPE).says({"(2,3)", "(3,2)"}));
  EXPECT_EQ(read_f32(d.get()), (std::vector<float>(6, 9.0f)));
}

// ==========================================================================================
// Views

TEST_F(Capi, SliceAtReshapeShareStorage) {
  Array a = iota_f32({4, 3});
  mxn_ndarray* out = kArrSentinel;

  ASSERT_MXN_OK(mxn_ndarray_slice(a.get(), 1, 3, &out));
  Array s(out);
  EXPECT_EQ(shape_of(s.get()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(read_f32(s.get()), (std::vector<float>{3, 4, 5, 6, 7, 8}));
  // write through the view, read the base
  const float w[6] = {-1, -2, -3, -4, -5, -6};
  ASSERT_MXN_OK(mxn_ndarray_copy_from_host(s.get(), w, sizeof(w)));
  EXPECT_EQ(read_f32(a.get()), (std::vector<float>{0, 1, 2, -1, -2, -3, -4, -5, -6, 9, 10, 11}));
  // write the base, read the view
  const float z[12] = {};
  ASSERT_MXN_OK(mxn_ndarray_copy_from_host(a.get(), z, sizeof(z)));
  EXPECT_EQ(read_f32(s.get()), (std::vector<float>(6, 0.0f)));

  ASSERT_MXN_OK(mxn_ndarray_at(a.get(), -1, &out));
  Array last(out);
  EXPECT_EQ(shape_of(last.get()), (std::vector<int64_t>{3}));
  const float r[3] = {7, 8, 9};
  ASSERT_MXN_OK(mxn_ndarray_copy_from_host(last.get(), r, sizeof(r)));
  EXPECT_EQ(read_f32(a.get()), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8, 9}));

  // at() of a 1-d array is 0-d
  ASSERT_MXN_OK(mxn_ndarray_at(last.get(), 1, &out));
  Array scalar(out);
  EXPECT_EQ(shape_of(scalar.get()), std::vector<int64_t>{});
  EXPECT_EQ(read_f32(scalar.get()), (std::vector<float>{8}));

  // An empty slice is fine.
  ASSERT_MXN_OK(mxn_ndarray_slice(a.get(), 2, 2, &out));
  Array empty(out);
  EXPECT_EQ(shape_of(empty.get()), (std::vector<int64_t>{0, 3}));

  // reshape: a view too; a view of a view
  const int64_t flat[1] = {-1};
  ASSERT_MXN_OK(mxn_ndarray_reshape(s.get(), flat, 1, 0, &out));
  Array rs(out);
  EXPECT_EQ(shape_of(rs.get()), (std::vector<int64_t>{6}));
  const float q[6] = {1, 2, 3, 4, 5, 6};
  ASSERT_MXN_OK(mxn_ndarray_copy_from_host(rs.get(), q, sizeof(q)));
  EXPECT_EQ(read_f32(a.get()), (std::vector<float>{0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(Capi, ReshapeCodes) {
  struct Case {
    std::vector<int64_t> in, spec;
    bool reverse;
    std::vector<int64_t> want;
  };
  // MXNet's Reshape documentation examples.
  const std::vector<Case> cases = {
      {{2, 3, 4}, {4, 0, 2}, false, {4, 3, 2}},
      {{2, 3, 4}, {2, 0, 0}, false, {2, 3, 4}},
      {{2, 3, 4}, {6, 1, -1}, false, {6, 1, 4}},
      {{2, 3, 4}, {3, -1, 8}, false, {3, 1, 8}},
      {{2, 3, 4}, {-1}, false, {24}},
      {{2, 3, 4}, {-2}, false, {2, 3, 4}},
      {{2, 3, 4}, {2, -2}, false, {2, 3, 4}},
      {{2, 3, 4}, {-2, 1, 1}, false, {2, 3, 4, 1, 1}},
      {{2, 3, 4}, {-3, 4}, false, {6, 4}},
      {{2, 3, 4, 5}, {-3, -3}, false, {6, 20}},
      {{2, 3, 4}, {0, -3}, false, {2, 12}},
      {{2, 3, 4}, {-3, -2}, false, {6, 4}},
      {{2, 3, 4}, {-4, 1, 2, -2}, false, {1, 2, 3, 4}},
      {{2, 3, 4}, {2, -4, -1, 3, -2}, false, {2, 1, 3, 4}},
      {{10, 5, 4}, {-1, 0}, false, {40, 5}},
      {{10, 5, 4}, {-1, 0}, true, {50, 4}},
      {{2, 3}, {}, false, {}},  // only valid for one element: checked below as an error
  };
  for (const Case& c : cases) {
    Array a = iota_f32(c.in);
    mxn_ndarray* out = kArrSentinel;
    int rc = mxn_ndarray_reshape(a.get(), c.spec.data(), static_cast<int32_t>(c.spec.size()),
                                 c.reverse, &out);
    if (c.spec.empty()) {
      check_error(rc, Err(MXN_ERR_SHAPE).says({"(2,3)"}));
      EXPECT_EQ(out, kArrSentinel);
      continue;
    }
    ASSERT_EQ(rc, MXN_OK) << mxn_last_error_message();
    Array r(out);
    EXPECT_EQ(shape_of(r.get()), c.want);
    EXPECT_EQ(read_f32(r.get()), read_f32(a.get()));
  }
  // 1-element array to 0-d and back
  Array one = make_f32({1, 1}, {5});
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_reshape(one.get(), nullptr, 0, 0, &out));
  Array zero_d(out);
  EXPECT_EQ(shape_of(zero_d.get()), std::vector<int64_t>{});
}

TEST_F(Capi, ViewsRejectBadArguments) {
  Array a = iota_f32({4, 3});
  mxn_ndarray* out = kArrSentinel;
  for (mxn_ndarray* h : {static_cast<mxn_ndarray*>(nullptr), op_as_array()}) {
    EXPECT_MXN_ERR(mxn_ndarray_slice(h, 0, 1, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_ndarray_at(h, 0, &out), Err(MXN_ERR_INVALID_ARG));
    const int64_t d[1] = {-1};
    EXPECT_MXN_ERR(mxn_ndarray_reshape(h, d, 1, 0, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_EQ(out, kArrSentinel);
  }
  EXPECT_MXN_ERR(mxn_ndarray_slice(a.get(), 0, 1, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_at(a.get(), 0, nullptr), Err(MXN_ERR_INVALID_ARG));
  const int64_t flat[1] = {12};
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), flat, 1, 0, nullptr), Err(MXN_ERR_INVALID_ARG));

  for (auto be : std::vector<std::pair<int64_t, int64_t>>{{-1, 2}, {3, 2}, {0, 5}, {5, 6}}) {
    EXPECT_MXN_ERR(mxn_ndarray_slice(a.get(), be.first, be.second, &out),
                   Err(MXN_ERR_INVALID_ARG).says({"out of range"}));
    EXPECT_EQ(out, kArrSentinel);
  }
  for (int64_t idx : {4, -5, 100}) {
    EXPECT_MXN_ERR(mxn_ndarray_at(a.get(), idx, &out),
                   Err(MXN_ERR_INVALID_ARG).on_axis(0).says({"out of range"}));
    EXPECT_EQ(out, kArrSentinel);
  }
  Array s = make_f32({}, {1});
  EXPECT_MXN_ERR(mxn_ndarray_slice(s.get(), 0, 0, &out), Err(MXN_ERR_SHAPE).says({"0-d"}));
  EXPECT_MXN_ERR(mxn_ndarray_at(s.get(), 0, &out), Err(MXN_ERR_SHAPE).says({"0-d"}));
  EXPECT_EQ(out, kArrSentinel);

  const int64_t bad_count[1] = {5};
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), bad_count, 1, 0, &out),
                 Err(MXN_ERR_SHAPE).says({"(4,3)", "(5,)"}));
  const int64_t two_infer[2] = {-1, -1};
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), two_infer, 2, 0, &out),
                 Err(MXN_ERR_SHAPE).says({"-1"}));
  const int64_t unknown[2] = {-5, 3};
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), unknown, 2, 0, &out),
                 Err(MXN_ERR_SHAPE).says({"-5"}));
  const int64_t bad_split[3] = {-4, 5, -1};
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), bad_split, 3, 0, &out), Err(MXN_ERR_SHAPE));
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), flat, -1, 0, &out), Err(MXN_ERR_SHAPE));
  const int64_t many[17] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 12};
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), many, 17, 0, &out), Err(MXN_ERR_SHAPE));
  EXPECT_MXN_ERR(mxn_ndarray_reshape(a.get(), nullptr, 2, 0, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kArrSentinel);
}

TEST_F(Capi, WaitsSucceedOnHealthyArrays) {
  Array a = iota_f32({64, 64});
  Array b = invoke1("_mul_scalar", {a.get()}, {"scalar"}, {v_float(2.0)});
  EXPECT_MXN_OK(mxn_ndarray_wait_to_read(b.get()));
  EXPECT_MXN_OK(mxn_ndarray_wait_to_write(b.get()));
  EXPECT_MXN_OK(mxn_wait_all());
  EXPECT_EQ(read_f32(b.get())[4095], 8190.0f);
}

// ==========================================================================================
// DLPack

// Deleters may run on an engine worker (the last reference to storage can be a finished
// operation's closure), so the count is atomic and "released" is awaited briefly.
std::atomic<int> g_deleted{0};
void (*g_inner_versioned)(DLManagedTensorVersioned*) = nullptr;
void (*g_inner_legacy)(DLManagedTensor*) = nullptr;
void counting_deleter_v(DLManagedTensorVersioned* self) {
  ++g_deleted;
  if (g_inner_versioned) g_inner_versioned(self);
}
void counting_deleter_l(DLManagedTensor* self) {
  ++g_deleted;
  if (g_inner_legacy) g_inner_legacy(self);
}

// The deleter count once it reaches `want` (or after 5 s), after all queued work finished.
int deleted_count(int want) {
  EXPECT_MXN_OK(mxn_wait_all());
  for (int i = 0; i < 5000 && g_deleted.load() < want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a second call would show now
  return g_deleted.load();
}

// A producer-owned tensor: memory and metadata held by the test.
struct Foreign {
  std::vector<float> data;
  std::vector<int64_t> shape, strides;
  DLManagedTensorVersioned v{};
  DLManagedTensor l{};

  Foreign(std::vector<float> d, std::vector<int64_t> s, std::vector<int64_t> st = {})
      : data(std::move(d)), shape(std::move(s)), strides(std::move(st)) {
    DLTensor t{};
    t.data = data.data();
    t.device.device_type = kDLCPU;
    t.device.device_id = 0;
    t.ndim = static_cast<int32_t>(shape.size());
    t.dtype.code = kDLFloat;
    t.dtype.bits = 32;
    t.dtype.lanes = 1;
    t.shape = shape.data();
    t.strides = strides.empty() ? nullptr : strides.data();
    t.byte_offset = 0;
    v.version.major = DLPACK_MAJOR_VERSION;
    v.version.minor = DLPACK_MINOR_VERSION;
    v.manager_ctx = this;
    v.deleter = &counting_deleter_v;
    v.flags = 0;
    v.dl_tensor = t;
    l.dl_tensor = t;
    l.manager_ctx = this;
    l.deleter = &counting_deleter_l;
  }
};

class CapiDLPack : public Capi {
 protected:
  void SetUp() override {
    g_deleted = 0;
    g_inner_versioned = nullptr;
    g_inner_legacy = nullptr;
  }
};

TEST_F(CapiDLPack, ExportImportRoundTripVersioned) {
  Array a = iota_f32({2, 3});
  DLManagedTensorVersioned* m = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_to_dlpack(a.get(), &m));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->version.major, 1u);
  EXPECT_EQ(m->version.minor, static_cast<uint32_t>(DLPACK_MINOR_VERSION));
  EXPECT_EQ(m->flags & DLPACK_FLAG_BITMASK_READ_ONLY, 0u);
  EXPECT_EQ(m->dl_tensor.device.device_type, kDLCPU);
  EXPECT_EQ(m->dl_tensor.ndim, 2);
  EXPECT_EQ(m->dl_tensor.shape[0], 2);
  EXPECT_EQ(m->dl_tensor.shape[1], 3);
  if (m->dl_tensor.strides) {
    EXPECT_EQ(m->dl_tensor.strides[0], 3);
    EXPECT_EQ(m->dl_tensor.strides[1], 1);
  }
  EXPECT_EQ(m->dl_tensor.dtype.code, kDLFloat);
  EXPECT_EQ(m->dl_tensor.dtype.bits, 32);
  EXPECT_EQ(m->dl_tensor.dtype.lanes, 1);
  void* p = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_data(a.get(), &p));
  EXPECT_EQ(static_cast<char*>(m->dl_tensor.data) + m->dl_tensor.byte_offset, p) << "zero-copy";

  // Import it back: shared, and mxnext now owns the managed tensor.
  g_inner_versioned = m->deleter;
  m->deleter = &counting_deleter_v;
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack(m, &out));
  Array b(out);
  EXPECT_EQ(g_deleted.load(), 0);
  EXPECT_EQ(shape_of(b.get()), (std::vector<int64_t>{2, 3}));
  const float w[6] = {6, 5, 4, 3, 2, 1};
  ASSERT_MXN_OK(mxn_ndarray_copy_from_host(b.get(), w, sizeof(w)));
  EXPECT_EQ(read_f32(a.get()), (std::vector<float>{6, 5, 4, 3, 2, 1}));
  // The original handle can go first; the import keeps the storage alive.
  a.reset();
  EXPECT_EQ(read_f32(b.get()), (std::vector<float>{6, 5, 4, 3, 2, 1}));
  b.reset();
  EXPECT_EQ(deleted_count(1), 1) << "the deleter runs exactly once, when the import is released";
}

TEST_F(CapiDLPack, ExportImportRoundTripLegacy) {
  Array a = iota_f32({3});
  DLManagedTensor* m = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_to_dlpack_legacy(a.get(), &m));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->dl_tensor.ndim, 1);
  EXPECT_EQ(m->dl_tensor.shape[0], 3);
  g_inner_legacy = m->deleter;
  m->deleter = &counting_deleter_l;
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack_legacy(m, &out));
  Array b(out);
  static_cast<float*>(m->dl_tensor.data)[1] = 42.0f;  // producer writes, consumer sees it
  EXPECT_EQ(read_f32(b.get()), (std::vector<float>{0, 42, 2}));
  EXPECT_EQ(g_deleted.load(), 0);
  b.reset();
  EXPECT_EQ(deleted_count(1), 1);
}

TEST_F(CapiDLPack, ExportEveryDtypeViewsAndScalars) {
  struct {
    int32_t dtype;
    uint8_t code, bits;
  } const table[] = {
      {MXN_DTYPE_FLOAT32, kDLFloat, 32}, {MXN_DTYPE_FLOAT64, kDLFloat, 64},
      {MXN_DTYPE_FLOAT16, kDLFloat, 16}, {MXN_DTYPE_UINT8, kDLUInt, 8},
      {MXN_DTYPE_INT32, kDLInt, 32},     {MXN_DTYPE_INT8, kDLInt, 8},
      {MXN_DTYPE_INT64, kDLInt, 64},     {MXN_DTYPE_BOOL, kDLBool, 8},
  };
  for (const auto& row : table) {
    SCOPED_TRACE(row.dtype);
    for (const auto& shape : std::vector<std::vector<int64_t>>{{2, 2}, {}, {0, 4}}) {
      const int64_t n = numel(shape);
      std::vector<uint8_t> bytes(static_cast<size_t>(n) * dtype_size(row.dtype), 1);
      Array a = make(shape, row.dtype, bytes.data(), bytes.size());
      DLManagedTensorVersioned* m = nullptr;
      ASSERT_MXN_OK(mxn_ndarray_to_dlpack(a.get(), &m));
      EXPECT_EQ(m->dl_tensor.dtype.code, row.code);
      EXPECT_EQ(m->dl_tensor.dtype.bits, row.bits);
      EXPECT_EQ(m->dl_tensor.ndim, static_cast<int32_t>(shape.size()));
      mxn_ndarray* out = nullptr;
      ASSERT_MXN_OK(mxn_ndarray_from_dlpack(m, &out));  // mxnext owns m from here
      Array b(out);
      int32_t dt = kI32;
      ASSERT_MXN_OK(mxn_ndarray_dtype(b.get(), &dt));
      EXPECT_EQ(dt, row.dtype);
      EXPECT_EQ(shape_of(b.get()), shape);
      std::vector<uint8_t> back(bytes.size());
      ASSERT_MXN_OK(mxn_ndarray_copy_to_host(b.get(), back.data(), back.size()));
      EXPECT_EQ(back, bytes);
    }
  }
  // A view exports its own offset.
  Array a = iota_f32({4, 2});
  mxn_ndarray* v = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_slice(a.get(), 2, 4, &v));
  Array view(v);
  DLManagedTensor* m = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_to_dlpack_legacy(view.get(), &m));
  const float* p =
      reinterpret_cast<const float*>(static_cast<char*>(m->dl_tensor.data) + m->dl_tensor.byte_offset);
  EXPECT_EQ(p[0], 4.0f);
  EXPECT_EQ(p[3], 7.0f);
  m->deleter(m);  // the consumer releases it exactly once
}

TEST_F(CapiDLPack, ImportSharesCompactWritableTensors) {
  Foreign f({1, 2, 3, 4, 5, 6}, {2, 3}, {3, 1});  // explicit compact strides count as compact
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack(&f.v, &out));
  Array a(out);
  EXPECT_EQ(g_deleted.load(), 0) << "shared: the producer's memory is in use";
  Array b = invoke1("_plus_scalar", {a.get()}, {"scalar"}, {v_float(1.0)});
  ASSERT_MXN_OK(mxn_ndarray_copy_to(b.get(), a.get()));  // write into the producer's memory
  ASSERT_MXN_OK(mxn_ndarray_wait_to_read(a.get()));
  EXPECT_EQ(f.data, (std::vector<float>{2, 3, 4, 5, 6, 7}));
  f.data[0] = 100;
  EXPECT_EQ(read_f32(a.get())[0], 100.0f);
  a.reset();
  EXPECT_EQ(deleted_count(1), 1);
  b.reset();
  EXPECT_EQ(deleted_count(1), 1);

  // byte_offset is honoured
  Foreign g({1, 2, 3, 4}, {2});
  g.v.dl_tensor.byte_offset = 2 * sizeof(float);
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack(&g.v, &out));
  Array c(out);
  EXPECT_EQ(read_f32(c.get()), (std::vector<float>{3, 4}));
  c.reset();
  EXPECT_EQ(deleted_count(2), 2);
}

TEST_F(CapiDLPack, ImportCopiesStridedAndReadOnlyTensors) {
  // A transposed view: logical (3,2) over row-major (2,3) memory.
  Foreign t({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack(&t.v, &out));
  Array a(out);
  EXPECT_EQ(g_deleted.load(), 1) << "copied: the deleter already ran";
  EXPECT_EQ(read_f32(a.get()), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  a.reset();
  EXPECT_EQ(deleted_count(1), 1) << "not called a second time";

  Foreign r({1, 2, 3}, {3});
  r.v.flags = DLPACK_FLAG_BITMASK_READ_ONLY;
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack(&r.v, &out));
  Array b(out);
  EXPECT_EQ(g_deleted.load(), 2);
  const float w[3] = {7, 8, 9};
  ASSERT_MXN_OK(mxn_ndarray_copy_from_host(b.get(), w, sizeof(w)));
  EXPECT_EQ(r.data, (std::vector<float>{1, 2, 3})) << "read-only producer memory was written";
  b.reset();
  EXPECT_EQ(deleted_count(2), 2);

  // Legacy strided: copied too.
  Foreign l({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack_legacy(&l.l, &out));
  Array c(out);
  EXPECT_EQ(g_deleted.load(), 3);
  EXPECT_EQ(read_f32(c.get()), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  c.reset();
  EXPECT_EQ(deleted_count(3), 3);

  // Legacy compact: shared.
  Foreign lc({5, 6}, {2});
  ASSERT_MXN_OK(mxn_ndarray_from_dlpack_legacy(&lc.l, &out));
  Array d(out);
  EXPECT_EQ(g_deleted.load(), 3);
  d.reset();
  EXPECT_EQ(deleted_count(4), 4);
}

TEST_F(CapiDLPack, ImportRefusalsLeaveOwnershipWithTheCaller) {
  mxn_ndarray* out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_from_dlpack(nullptr, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_from_dlpack_legacy(nullptr, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kArrSentinel);
  {
    Foreign f({1, 2}, {2});
    EXPECT_MXN_ERR(mxn_ndarray_from_dlpack(&f.v, nullptr), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_ndarray_from_dlpack_legacy(&f.l, nullptr), Err(MXN_ERR_INVALID_ARG));
    EXPECT_EQ(g_deleted.load(), 0);
  }
  {
    Foreign f({1, 2}, {2});
    f.v.version.major = 2;
    EXPECT_MXN_ERR(mxn_ndarray_from_dlpack(&f.v, &out), Err(MXN_ERR_FORMAT).says({"2"}));
    EXPECT_EQ(out, kArrSentinel);
    EXPECT_EQ(g_deleted.load(), 0) << "refused: still owned by the caller";
    f.v.deleter(&f.v);  // the caller releases it
    EXPECT_EQ(g_deleted.load(), 1);
    g_deleted = 0;
  }
  struct BadCase {
    const char* what;
    void (*spoil)(DLTensor&);
    int code;
  };
  const BadCase bad[] = {
      {"complex dtype", [](DLTensor& t) { t.dtype.code = kDLComplex; t.dtype.bits = 64; },
       MXN_ERR_DTYPE},
      {"vector lanes", [](DLTensor& t) { t.dtype.lanes = 4; }, MXN_ERR_DTYPE},
      {"bfloat16", [](DLTensor& t) { t.dtype.code = kDLBfloat; t.dtype.bits = 16; },
       MXN_ERR_DTYPE},
      {"float 24 bits", [](DLTensor& t) { t.dtype.bits = 24; }, MXN_ERR_DTYPE},
      {"cuda device", [](DLTensor& t) { t.device.device_type = kDLCUDA; }, MXN_ERR_DEVICE},
      {"negative ndim", [](DLTensor& t) { t.ndim = -1; }, MXN_ERR_SHAPE},
      {"oversized ndim", [](DLTensor& t) { t.ndim = 17; }, MXN_ERR_SHAPE},
      {"negative dim", [](DLTensor& t) { t.shape[0] = -2; }, MXN_ERR_SHAPE},
      {"NULL shape", [](DLTensor& t) { t.shape = nullptr; }, MXN_ERR_INVALID_ARG},
      {"NULL data", [](DLTensor& t) { t.data = nullptr; }, MXN_ERR_INVALID_ARG},
  };
  for (const BadCase& c : bad) {
    SCOPED_TRACE(c.what);
    Foreign f({1, 2, 3, 4}, {2, 2});
    c.spoil(f.v.dl_tensor);
    c.spoil(f.l.dl_tensor);
    EXPECT_MXN_ERR(mxn_ndarray_from_dlpack(&f.v, &out), Err(c.code).says({"DLPack"}));
    EXPECT_MXN_ERR(mxn_ndarray_from_dlpack_legacy(&f.l, &out), Err(c.code).says({"DLPack"}));
    EXPECT_EQ(out, kArrSentinel);
    EXPECT_EQ(g_deleted.load(), 0);
  }
}

TEST_F(CapiDLPack, ExportRejectsBadArguments) {
  Array a = iota_f32({2});
  DLManagedTensorVersioned* mv = reinterpret_cast<DLManagedTensorVersioned*>(kPtrSentinel);
  DLManagedTensor* ml = reinterpret_cast<DLManagedTensor*>(kPtrSentinel);
  for (mxn_ndarray* h : {static_cast<mxn_ndarray*>(nullptr), op_as_array()}) {
    EXPECT_MXN_ERR(mxn_ndarray_to_dlpack(h, &mv), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_ndarray_to_dlpack_legacy(h, &ml), Err(MXN_ERR_INVALID_ARG));
  }
  EXPECT_MXN_ERR(mxn_ndarray_to_dlpack(a.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_to_dlpack_legacy(a.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(mv, reinterpret_cast<DLManagedTensorVersioned*>(kPtrSentinel));
  EXPECT_EQ(ml, reinterpret_cast<DLManagedTensor*>(kPtrSentinel));
}

// ==========================================================================================
// Operator registry

TEST_F(Capi, SchemaJson) {
  const char* s = mxn_op_schema_json();
  ASSERT_NE(s, nullptr);
  const std::string js = s;
  EXPECT_EQ(js.front(), '{');
  EXPECT_EQ(js.back(), '}');
  EXPECT_NE(js.find("\"broadcast_add\""), std::string::npos);
  EXPECT_NE(js.find("\"_plus_scalar\""), std::string::npos);
  EXPECT_EQ(s, mxn_op_schema_json()) << "a static string";
}

TEST_F(Capi, OpCountAtFindName) {
  int32_t n = kI32;
  ASSERT_MXN_OK(mxn_op_count(&n));
  ASSERT_GT(n, 0);
  std::string prev;
  for (int32_t i = 0; i < n; ++i) {
    const mxn_op* op = nullptr;
    ASSERT_MXN_OK(mxn_op_at(i, &op));
    const char* name = nullptr;
    ASSERT_MXN_OK(mxn_op_name(op, &name));
    ASSERT_NE(name, nullptr);
    EXPECT_LT(prev, std::string(name)) << "sorted by name, no duplicates";
    prev = name;
    const mxn_op* found = nullptr;
    ASSERT_MXN_OK(mxn_op_find(name, &found));
    EXPECT_EQ(found, op) << name;
  }
  // Aliases find the canonical operator.
  const mxn_op* add = find_op("broadcast_add");
  const mxn_op* plus = kOpSentinel;
  ASSERT_MXN_OK(mxn_op_find("broadcast_plus", &plus));
  EXPECT_EQ(plus, add);
  const char* name = nullptr;
  ASSERT_MXN_OK(mxn_op_name(plus, &name));
  EXPECT_STREQ(name, "broadcast_add");
}

TEST_F(Capi, OpRegistryRejectsBadArguments) {
  EXPECT_MXN_ERR(mxn_op_count(nullptr), Err(MXN_ERR_INVALID_ARG));
  int32_t n = 0;
  ASSERT_MXN_OK(mxn_op_count(&n));
  const mxn_op* op = kOpSentinel;
  for (int32_t i : {-1, n, n + 100, INT32_MIN}) {
    EXPECT_MXN_ERR(mxn_op_at(i, &op), Err(MXN_ERR_INVALID_ARG).says({"out of range"}));
    EXPECT_EQ(op, kOpSentinel);
  }
  EXPECT_MXN_ERR(mxn_op_at(0, nullptr), Err(MXN_ERR_INVALID_ARG));

  EXPECT_MXN_ERR(mxn_op_find("no_such_op", &op),
                 Err(MXN_ERR_INVALID_ARG).says({"no_such_op"}));
  EXPECT_MXN_ERR(mxn_op_find("", &op), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_op_find(nullptr, &op), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(op, kOpSentinel);
  EXPECT_MXN_ERR(mxn_op_find("broadcast_add", nullptr), Err(MXN_ERR_INVALID_ARG));

  const char* name = kStrSentinel;
  Array a = iota_f32({1});
  EXPECT_MXN_ERR(mxn_op_name(nullptr, &name), Err(MXN_ERR_INVALID_ARG).says({"NULL"}));
  EXPECT_MXN_ERR(mxn_op_name(array_as_op(a.get()), &name),
                 Err(MXN_ERR_INVALID_ARG).says({"not an operator handle"}));
  EXPECT_EQ(name, kStrSentinel);
  EXPECT_MXN_ERR(mxn_op_name(find_op("broadcast_add"), nullptr), Err(MXN_ERR_INVALID_ARG));
}

// ==========================================================================================
// Operator invocation

TEST_F(Capi, InvokeComputesWithTypedValues) {
  Array a = make_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Array b = make_f32({2, 1}, {10, 20});
  Array c = invoke1("broadcast_add", {a.get(), b.get()});
  EXPECT_EQ(shape_of(c.get()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(read_f32(c.get()), (std::vector<float>{11, 12, 13, 24, 25, 26}));

  EXPECT_EQ(read_f32(invoke1("_plus_scalar", {a.get()}, {"scalar"}, {v_float(0.5)}).get()),
            (std::vector<float>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}));
  // An int is accepted where a float is declared; None means the default (1.0).
  EXPECT_EQ(read_f32(invoke1("_mul_scalar", {a.get()}, {"scalar"}, {v_int(3)}).get()),
            (std::vector<float>{3, 6, 9, 12, 15, 18}));
  EXPECT_EQ(read_f32(invoke1("_plus_scalar", {a.get()}, {"scalar"}, {v_none()}).get()),
            (std::vector<float>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(read_f32(invoke1("_plus_scalar", {a.get()}, {"scalar"}, {v_bool(true)}).get()),
            (std::vector<float>{2, 3, 4, 5, 6, 7}));

  // Integer arrays keep their dtype.
  Array i = make_i32({3}, {1, 2, 3});
  Array j = invoke1("broadcast_mul", {i.get(), i.get()});
  int32_t dt = kI32;
  ASSERT_MXN_OK(mxn_ndarray_dtype(j.get(), &dt));
  EXPECT_EQ(dt, MXN_DTYPE_INT32);
  EXPECT_EQ(read<int32_t>(j.get()), (std::vector<int32_t>{1, 4, 9}));

  // 0-size and 0-d
  Array e = make_f32({0, 3}, {});
  Array row = make_f32({3}, {1, 2, 3});
  EXPECT_EQ(shape_of(invoke1("broadcast_add", {e.get(), row.get()}).get()),
            (std::vector<int64_t>{0, 3}));
  Array s = make_f32({}, {4});
  EXPECT_EQ(read_f32(invoke1("broadcast_add", {s.get(), row.get()}).get()),
            (std::vector<float>{5, 6, 7}));

  // max_outputs larger than needed: only the real outputs are written.
  mxn_ndarray* outs[3] = {kArrSentinel, kArrSentinel, kArrSentinel};
  int32_t n = kI32;
  mxn_ndarray* in[2] = {a.get(), b.get()};
  ASSERT_MXN_OK(mxn_op_invoke(find_op("broadcast_sub"), 2, in, 0, nullptr, nullptr, 3, outs, &n));
  EXPECT_EQ(n, 1);
  Array d(outs[0]);
  EXPECT_EQ(outs[1], kArrSentinel);
  EXPECT_EQ(outs[2], kArrSentinel);
  EXPECT_EQ(read_f32(d.get()), (std::vector<float>{-9, -8, -7, -16, -15, -14}));
}

TEST_F(Capi, InvokeRejectsBadHandlesAndPointers) {
  Array a = iota_f32({2, 3});
  Array b = iota_f32({2, 3});
  mxn_ndarray* in[2] = {a.get(), b.get()};
  const mxn_op* add = find_op("broadcast_add");
  mxn_ndarray* out = kArrSentinel;
  int32_t n = kI32;

  EXPECT_MXN_ERR(mxn_op_invoke(nullptr, 2, in, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).says({"NULL"}));
  EXPECT_MXN_ERR(mxn_op_invoke(array_as_op(a.get()), 2, in, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).says({"not an operator handle"}));
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, in, 0, nullptr, nullptr, 1, nullptr, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"outputs"}));
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, in, 0, nullptr, nullptr, 1, &out, nullptr),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"num_outputs"}));
  EXPECT_MXN_ERR(mxn_op_invoke(add, -1, in, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add"));
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, nullptr, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add"));
  mxn_ndarray* with_null[2] = {a.get(), nullptr};
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, with_null, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").arg(1).says({"input 1"}));
  mxn_ndarray* with_wrong[2] = {op_as_array(), b.get()};
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, with_wrong, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").arg(0).says({"input 0"}));
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, in, 0, nullptr, nullptr, 0, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"max_outputs"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_EQ(n, kI32);
}

TEST_F(Capi, InvokeRejectsBadInputs) {
  Array a = iota_f32({2, 3});
  Array v4 = iota_f32({4});
  Array i = make_i32({2, 3}, {1, 2, 3, 4, 5, 6});
  const mxn_op* add = find_op("broadcast_add");
  mxn_ndarray* out = kArrSentinel;
  int32_t n = kI32;

  mxn_ndarray* one[1] = {a.get()};
  EXPECT_MXN_ERR(mxn_op_invoke(add, 1, one, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"expects 2", "got 1"}));
  mxn_ndarray* three[3] = {a.get(), a.get(), a.get()};
  EXPECT_MXN_ERR(mxn_op_invoke(add, 3, three, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"got 3"}));
  EXPECT_MXN_ERR(mxn_op_invoke(add, 0, nullptr, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add"));

  mxn_ndarray* mismatch[2] = {a.get(), v4.get()};
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, mismatch, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_SHAPE).op_name("broadcast_add").on_axis(1).says(
                     {"broadcast_add", "(2,3)", "(4,)"}));
  mxn_ndarray* mixed[2] = {a.get(), i.get()};
  EXPECT_MXN_ERR(mxn_op_invoke(add, 2, mixed, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_DTYPE).op_name("broadcast_add").arg(1).says({"float32", "int32"}));
  mxn_ndarray* elem[2] = {a.get(), v4.get()};
  EXPECT_MXN_ERR(mxn_op_invoke(find_op("elemwise_add"), 2, elem, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_SHAPE).op_name("elemwise_add").arg(1).says({"(2,3)", "(4,)"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_EQ(n, kI32);
}

TEST_F(Capi, InvokeRejectsBadParameters) {
  Array a = iota_f32({2, 3});
  mxn_ndarray* in[1] = {a.get()};
  const mxn_op* plus = find_op("_plus_scalar");
  mxn_ndarray* out = kArrSentinel;
  int32_t n = kI32;
  auto call = [&](std::vector<const char*> keys, std::vector<mxn_value> vals) {
    return mxn_op_invoke(plus, 1, in, static_cast<int32_t>(keys.size()), keys.data(),
                         vals.data(), 1, &out, &n);
  };
  const Err bad = Err(MXN_ERR_INVALID_ARG).op_name("_plus_scalar");

  EXPECT_MXN_ERR(call({"no_such_param"}, {v_float(1)}),
                 Err(bad).says({"no_such_param", "scalar"}));
  EXPECT_MXN_ERR(call({"scalar"}, {v_str("abc")}), Err(bad).says({"scalar", "string"}));
  const int64_t dims[2] = {1, 2};
  EXPECT_MXN_ERR(call({"scalar"}, {v_shape(dims, 2)}), Err(bad).says({"scalar", "shape"}));
  EXPECT_MXN_ERR(call({"scalar"}, {v_dtype(MXN_DTYPE_INT32)}), Err(bad).says({"scalar"}));
  EXPECT_MXN_ERR(call({"scalar"}, {v_device(MXN_DEVICE_CPU, 0)}), Err(bad).says({"scalar"}));
  mxn_value weird{};
  weird.type = 99;
  EXPECT_MXN_ERR(call({"scalar"}, {weird}), Err(bad).says({"99"}));
  EXPECT_MXN_ERR(call({"scalar"}, {v_str(nullptr)}), Err(bad).says({"NULL"}));
  EXPECT_MXN_ERR(call({"scalar"}, {v_shape(dims, 17)}), Err(bad));
  EXPECT_MXN_ERR(call({"scalar"}, {v_shape(dims, -1)}), Err(bad));
  EXPECT_MXN_ERR(call({"scalar"}, {v_shape(nullptr, 2)}), Err(bad));
  EXPECT_MXN_ERR(call({"scalar"}, {v_dtype(99)}), Err(MXN_ERR_DTYPE).op_name("_plus_scalar"));
  EXPECT_MXN_ERR(call({"scalar"}, {v_device(99, 0)}), Err(bad));
  EXPECT_MXN_ERR(call({nullptr}, {v_float(1)}), Err(bad));
  EXPECT_MXN_ERR(call({"scalar", "scalar"}, {v_float(1), v_str("x")}), Err(bad));
  EXPECT_MXN_ERR(mxn_op_invoke(plus, 1, in, 1, nullptr, nullptr, 1, &out, &n), Err(bad));
  EXPECT_MXN_ERR(mxn_op_invoke(plus, 1, in, -1, nullptr, nullptr, 1, &out, &n), Err(bad));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_EQ(n, kI32);

  // More than eight parameters take another path inside; still checked.
  std::vector<const char*> keys(10, "scalar");
  keys[9] = "bogus";
  std::vector<mxn_value> vals(10, v_float(1));
  EXPECT_MXN_ERR(call(keys, vals), Err(bad).says({"bogus"}));
  EXPECT_EQ(out, kArrSentinel);
}

// Finds an operator that declares a required parameter (from the schema); "" if none.
std::pair<std::string, std::string> op_with_required_param() {
  std::istringstream lines(mxn_op_schema_json());
  std::string line;
  const std::regex op_name(R"re(\{"name":"([^"]+)")re");
  const std::regex req(R"re(\{"name":"([^"]+)","type":"[^"]*","type_code":\d+,"required":true)re");
  while (std::getline(lines, line)) {
    std::smatch m, r;
    const std::string::size_type pos = line.find("\"ops\":[");
    const std::string body = pos == std::string::npos ? line : line.substr(pos + 7);
    if (std::regex_search(body, m, op_name) && std::regex_search(body, r, req)) {
      return {m[1].str(), r[1].str()};
    }
  }
  return {"", ""};
}

TEST_F(Capi, InvokeRejectsMissingRequiredParameter) {
  const auto found = op_with_required_param();
  ASSERT_FALSE(found.first.empty()) << "no registered operator has a required parameter";
  const mxn_op* op = find_op(found.first.c_str());
  mxn_ndarray* out = kArrSentinel;
  int32_t n = kI32;
  // Parameters are checked before inputs, so no inputs are needed to see the error.
  EXPECT_MXN_ERR(mxn_op_invoke(op, 0, nullptr, 0, nullptr, nullptr, 8, &out, &n),
                 Err(MXN_ERR_INVALID_ARG).op_name(found.first.c_str()).says(
                     {found.second.c_str(), "required"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_EQ(n, kI32);
}

TEST_F(Capi, InvokeIntoWritesExistingArrays) {
  Array a = make_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Array b = make_f32({3}, {1, 1, 1});
  Array dst = make_f32({2, 3}, std::vector<float>(6, 0.0f));
  mxn_ndarray* in[2] = {a.get(), b.get()};
  mxn_ndarray* outs[1] = {dst.get()};
  ASSERT_MXN_OK(mxn_op_invoke_into(find_op("broadcast_add"), 2, in, 0, nullptr, nullptr, 1, outs));
  EXPECT_EQ(read_f32(dst.get()), (std::vector<float>{2, 3, 4, 5, 6, 7}));

  // In place (out= is an input) and into a view of a bigger array.
  mxn_ndarray* self[1] = {a.get()};
  const char* keys[1] = {"scalar"};
  const mxn_value vals[1] = {v_float(10)};
  ASSERT_MXN_OK(mxn_op_invoke_into(find_op("_plus_scalar"), 1, self, 1, keys, vals, 1, self));
  EXPECT_EQ(read_f32(a.get()), (std::vector<float>{11, 12, 13, 14, 15, 16}));
  Array big = make_f32({4, 3}, std::vector<float>(12, 0.0f));
  mxn_ndarray* v = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_slice(big.get(), 1, 3, &v));
  Array view(v);
  mxn_ndarray* vouts[1] = {view.get()};
  ASSERT_MXN_OK(mxn_op_invoke_into(find_op("broadcast_add"), 2, in, 0, nullptr, nullptr, 1, vouts));
  EXPECT_EQ(read_f32(big.get()), (std::vector<float>{0, 0, 0, 12, 13, 14, 15, 16, 17, 0, 0, 0}));
}

TEST_F(Capi, InvokeIntoRejectsBadArguments) {
  Array a = iota_f32({2, 3});
  Array b = iota_f32({2, 3});
  Array dst = make_f32({2, 3}, std::vector<float>(6, -1.0f));
  Array wrong_shape = make_f32({3, 2}, std::vector<float>(6, -1.0f));
  Array wrong_dtype = make_i32({2, 3}, std::vector<int32_t>(6, -1));
  mxn_ndarray* in[2] = {a.get(), b.get()};
  mxn_ndarray* outs[2] = {dst.get(), dst.get()};
  const mxn_op* add = find_op("broadcast_add");

  EXPECT_MXN_ERR(mxn_op_invoke_into(nullptr, 2, in, 0, nullptr, nullptr, 1, outs),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_op_invoke_into(array_as_op(a.get()), 2, in, 0, nullptr, nullptr, 1, outs),
                 Err(MXN_ERR_INVALID_ARG).says({"not an operator handle"}));
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, 1, nullptr),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add"));
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, -1, outs),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add"));
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, 2, outs),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"1 output"}));
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, 0, outs),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add"));
  mxn_ndarray* null_out[1] = {nullptr};
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, 1, null_out),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"out array 0", "NULL"}));
  mxn_ndarray* foreign_out[1] = {op_as_array()};
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, 1, foreign_out),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says(
                     {"out array 0", "not an array handle"}));
  mxn_ndarray* bad_in[2] = {a.get(), nullptr};
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, bad_in, 0, nullptr, nullptr, 1, outs),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").arg(1));
  mxn_ndarray* ws[1] = {wrong_shape.get()};
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, 1, ws),
                 Err(MXN_ERR_SHAPE).op_name("broadcast_add").says({"(3,2)", "(2,3)"}));
  mxn_ndarray* wd[1] = {wrong_dtype.get()};
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 0, nullptr, nullptr, 1, wd),
                 Err(MXN_ERR_DTYPE).op_name("broadcast_add").says({"int32", "float32"}));
  const char* keys[1] = {"nope"};
  const mxn_value vals[1] = {v_float(1)};
  EXPECT_MXN_ERR(mxn_op_invoke_into(add, 2, in, 1, keys, vals, 1, outs),
                 Err(MXN_ERR_INVALID_ARG).op_name("broadcast_add").says({"nope"}));

  EXPECT_EQ(read_f32(dst.get()), std::vector<float>(6, -1.0f));
  EXPECT_EQ(read_f32(wrong_shape.get()), std::vector<float>(6, -1.0f));
  EXPECT_EQ(read<int32_t>(wrong_dtype.get()), std::vector<int32_t>(6, -1));
}

// Failures of queued work surface at the next wait. None of the operators registered so far
// can fail once validation passed, so this is exercised in tests/cpp against the engine
// directly; here only the healthy path is checked (WaitsSucceedOnHealthyArrays).

// ==========================================================================================
// Randomness, engine, memory

TEST_F(Capi, RandomSeedMakesRandomUniformReproducible) {
  EXPECT_MXN_OK(mxn_random_seed(0));
  EXPECT_MXN_OK(mxn_random_seed(UINT64_MAX));
  const mxn_op* op = nullptr;
  if (mxn_op_find("_random_uniform", &op) != MXN_OK) {
    FAIL() << "_random_uniform is not registered";
  }
  const int64_t dims[1] = {1000};
  auto draw = [&] {
    const char* keys[3] = {"low", "high", "shape"};
    const mxn_value vals[3] = {v_float(-1.0), v_float(2.0), v_shape(dims, 1)};
    mxn_ndarray* out = nullptr;
    int32_t n = 0;
    EXPECT_MXN_OK(mxn_op_invoke(op, 0, nullptr, 3, keys, vals, 1, &out, &n));
    Array a(out);
    return read_f32(a.get());
  };
  ASSERT_MXN_OK(mxn_random_seed(42));
  const std::vector<float> x = draw();
  const std::vector<float> x2 = draw();
  ASSERT_MXN_OK(mxn_random_seed(42));
  const std::vector<float> y = draw();
  ASSERT_MXN_OK(mxn_random_seed(43));
  const std::vector<float> z = draw();
  ASSERT_EQ(x.size(), 1000u);
  EXPECT_EQ(x, y) << "same seed, same numbers";
  EXPECT_NE(x, x2) << "the stream advances";
  EXPECT_NE(x, z) << "another seed, other numbers";
  for (float v : x) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LT(v, 2.0f);
  }
}

TEST_F(Capi, EngineInfo) {
  const char* name = kStrSentinel;
  int32_t workers = kI32;
  ASSERT_MXN_OK(mxn_engine_info(&name, &workers));
  ASSERT_NE(name, nullptr);
  EXPECT_TRUE(std::string(name) == "threaded" || std::string(name) == "naive") << name;
  EXPECT_GE(workers, 0);
  const char* name2 = kStrSentinel;
  int32_t workers2 = kI32;
  EXPECT_MXN_ERR(mxn_engine_info(nullptr, &workers2), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(workers2, kI32);
  EXPECT_MXN_ERR(mxn_engine_info(&name2, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(name2, kStrSentinel);
}

mxn_memory_stats cpu_stats() {
  mxn_memory_stats s;
  std::memset(&s, 0, sizeof(s));
  s.struct_size = sizeof(s);
  EXPECT_MXN_OK(mxn_memory_stats_get(MXN_DEVICE_CPU, 0, &s));
  return s;
}

TEST_F(Capi, MemoryStatsMoveWithAllocations) {
  ASSERT_MXN_OK(mxn_wait_all());
  const mxn_memory_stats before = cpu_stats();
  EXPECT_GE(before.live_bytes, 0);
  EXPECT_GE(before.peak_bytes, before.live_bytes);
  const int64_t dims[1] = {1 << 18};  // 1 MiB of float32
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_create(dims, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out));
  Array a(out);
  const mxn_memory_stats during = cpu_stats();
  EXPECT_GE(during.live_bytes, before.live_bytes + (1 << 20));
  EXPECT_GE(during.peak_bytes, during.live_bytes);
  EXPECT_GT(during.alloc_count, before.alloc_count);
  a.reset();
  const mxn_memory_stats after = cpu_stats();
  EXPECT_LE(after.live_bytes, during.live_bytes - (1 << 20));
  EXPECT_GE(after.cached_bytes, 1 << 20) << "freed blocks stay in the pool";
  ASSERT_MXN_OK(mxn_memory_release_cached(MXN_DEVICE_CPU, 0));
  EXPECT_EQ(cpu_stats().cached_bytes, 0);
  ASSERT_MXN_OK(mxn_memory_release_cached(MXN_DEVICE_CPU_PINNED, 0));
}

TEST_F(Capi, MemoryFunctionsRejectBadArguments) {
  mxn_memory_stats s;
  std::memset(&s, 0x7f, sizeof(s));
  s.struct_size = sizeof(s) - 8;
  const mxn_memory_stats untouched = s;
  EXPECT_MXN_ERR(mxn_memory_stats_get(MXN_DEVICE_CPU, 0, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_memory_stats_get(MXN_DEVICE_CPU, 0, &s),
                 Err(MXN_ERR_INVALID_ARG).says({"struct_size"}));
  s.struct_size = sizeof(s);
  mxn_memory_stats untouched_full = s;
  EXPECT_MXN_ERR(mxn_memory_stats_get(MXN_DEVICE_GPU, 0, &s),
                 Err(MXN_ERR_DEVICE).says({"CUDA"}));
  EXPECT_MXN_ERR(mxn_memory_stats_get(9, 0, &s), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_memory_stats_get(MXN_DEVICE_CPU, -1, &s), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(std::memcmp(&s, &untouched_full, sizeof(s)), 0);
  (void)untouched;

  EXPECT_MXN_ERR(mxn_memory_release_cached(MXN_DEVICE_GPU, 0), Err(MXN_ERR_DEVICE).says({"CUDA"}));
  EXPECT_MXN_ERR(mxn_memory_release_cached(0, 0), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_memory_set_limit(MXN_DEVICE_GPU, 0, 1 << 20),
                 Err(MXN_ERR_DEVICE).says({"CUDA"}));
  EXPECT_MXN_ERR(mxn_memory_set_limit(-3, 0, 1 << 20), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_memory_set_limit(MXN_DEVICE_CPU, 0, -1), Err(MXN_ERR_INVALID_ARG).says({"-1"}));
  EXPECT_EQ(cpu_stats().limit_bytes, 0) << "a refused limit is not applied";
}

// Resets the CPU limit however the test ends.
struct LimitGuard {
  ~LimitGuard() { mxn_memory_set_limit(MXN_DEVICE_CPU, 0, 0); }
};

TEST_F(Capi, MemoryLimitGivesOomThenRecovers) {
  LimitGuard guard;
  ASSERT_MXN_OK(mxn_wait_all());
  ASSERT_MXN_OK(mxn_memory_release_cached(MXN_DEVICE_CPU, 0));
  const int64_t live = cpu_stats().live_bytes;
  const int64_t limit = live + (256 << 10);
  ASSERT_MXN_OK(mxn_memory_set_limit(MXN_DEVICE_CPU, 0, limit));
  EXPECT_EQ(cpu_stats().limit_bytes, limit);

  const int64_t dims[1] = {1 << 18};  // 1 MiB of float32: beyond the limit
  mxn_ndarray* out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_create(dims, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out),
                 Err(MXN_ERR_OOM).says({"1048576 bytes", "cpu(0)", std::to_string(limit).c_str()}));
  EXPECT_EQ(out, kArrSentinel);
  std::vector<float> data(1 << 18, 1.0f);
  EXPECT_MXN_ERR(mxn_ndarray_from_data(dims, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, data.data(),
                                       data.size() * sizeof(float), &out),
                 Err(MXN_ERR_OOM).says({"1048576 bytes"}));
  EXPECT_EQ(out, kArrSentinel);

  // Small arrays still fit; an operator whose output does not fit names itself.
  const int64_t small_dims[1] = {1 << 14};  // 64 KiB
  mxn_ndarray* small = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_create(small_dims, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &small));
  Array s(small);
  ASSERT_MXN_OK(mxn_ndarray_wait_to_write(s.get()));
  const int64_t big_dims[2] = {1 << 14, 1};
  mxn_ndarray* col = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_reshape(s.get(), big_dims, 2, 0, &col));
  Array c(col);
  mxn_ndarray* in[2] = {s.get(), c.get()};  // (16384,) + (16384,1) -> 1 GiB result
  int32_t n = kI32;
  EXPECT_MXN_ERR(mxn_op_invoke(find_op("broadcast_add"), 2, in, 0, nullptr, nullptr, 1, &out, &n),
                 Err(MXN_ERR_OOM).op_name("broadcast_add").says({"1073741824 bytes"}));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_EQ(n, kI32);
  s.reset();
  c.reset();

  ASSERT_MXN_OK(mxn_memory_set_limit(MXN_DEVICE_CPU, 0, 0));
  ASSERT_MXN_OK(mxn_ndarray_create(dims, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, &out));
  Array a(out);
  EXPECT_EQ(cpu_stats().limit_bytes, 0);
}

// ==========================================================================================
// Autograd

TEST_F(Capi, AutogradSwitchesRoundTrip) {
  int32_t prev = kI32, now = kI32;
  ASSERT_MXN_OK(mxn_autograd_set_recording(1, &prev));
  EXPECT_EQ(prev, 0);
  ASSERT_MXN_OK(mxn_autograd_is_recording(&now));
  EXPECT_EQ(now, 1);
  ASSERT_MXN_OK(mxn_autograd_set_recording(0, nullptr));  // previous may be NULL
  ASSERT_MXN_OK(mxn_autograd_set_training(1, &prev));
  EXPECT_EQ(prev, 0);
  ASSERT_MXN_OK(mxn_autograd_is_training(&now));
  EXPECT_EQ(now, 1);
  ASSERT_MXN_OK(mxn_autograd_set_training(0, nullptr));
  EXPECT_MXN_ERR(mxn_autograd_is_recording(nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_autograd_is_training(nullptr), Err(MXN_ERR_INVALID_ARG));
}

TEST_F(Capi, AutogradBackwardOfAProduct) {
  Array x = make_f32({3}, {1, 2, 3});
  Array g = make_f32({3}, {0, 0, 0});
  mxn_ndarray* vars[1] = {x.get()};
  mxn_ndarray* grads[1] = {g.get()};
  const int32_t reqs[1] = {1};
  ASSERT_MXN_OK(mxn_autograd_mark_variables(1, vars, reqs, grads));
  ASSERT_MXN_OK(mxn_autograd_set_recording(1, nullptr));
  Array y = invoke1("elemwise_mul", {x.get(), x.get()});
  ASSERT_MXN_OK(mxn_autograd_set_recording(0, nullptr));
  mxn_ndarray* heads[1] = {y.get()};
  ASSERT_MXN_OK(mxn_autograd_backward(1, heads, nullptr, 0, nullptr, 1, 1, nullptr));
  mxn_ndarray* got = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_get_grad(x.get(), &got));
  ASSERT_NE(got, nullptr);
  Array gh(got);
  float out[3];
  ASSERT_MXN_OK(mxn_ndarray_copy_to_host(gh.get(), out, sizeof(out)));
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[2], 6.0f);
  // Explicit variables: gradients come back as new handles, .grad is untouched.
  mxn_ndarray* res[1] = {kArrSentinel};
  ASSERT_MXN_OK(mxn_autograd_backward(1, heads, nullptr, 1, vars, 0, 1, res));
  ASSERT_NE(res[0], kArrSentinel);
  Array r(res[0]);
  ASSERT_MXN_OK(mxn_ndarray_copy_to_host(r.get(), out, sizeof(out)));
  EXPECT_EQ(out[1], 4.0f);
  // The graph was released (retain_graph = 0): a second backward is an error, not a crash.
  EXPECT_MXN_ERR(mxn_autograd_backward(1, heads, nullptr, 1, vars, 0, 1, res),
                 Err(MXN_ERR_INVALID_ARG).says({"retain_graph"}));
}

TEST_F(Capi, AutogradRejectsBadArguments) {
  Array x = make_f32({2}, {1, 2});
  Array g = make_f32({3}, {0, 0, 0});
  mxn_ndarray* vars[1] = {x.get()};
  mxn_ndarray* grads[1] = {g.get()};
  const int32_t write[1] = {1};
  const int32_t bad_req[1] = {7};
  EXPECT_MXN_ERR(mxn_autograd_mark_variables(1, vars, write, grads),
                 Err(MXN_ERR_SHAPE).says({"(3,)", "(2,)"}));
  Array g2 = make_f32({2}, {0, 0});
  grads[0] = g2.get();
  EXPECT_MXN_ERR(mxn_autograd_mark_variables(1, vars, bad_req, grads),
                 Err(MXN_ERR_INVALID_ARG).arg(0).says({"grad_req 7"}));
  EXPECT_MXN_ERR(mxn_autograd_mark_variables(-1, vars, write, grads), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_autograd_mark_variables(1, nullptr, write, grads), Err(MXN_ERR_INVALID_ARG));
  mxn_ndarray* wrong[1] = {op_as_array()};
  EXPECT_MXN_ERR(mxn_autograd_mark_variables(1, wrong, write, grads),
                 Err(MXN_ERR_INVALID_ARG).says({"not an array handle"}));
  // A head that was not recorded.
  mxn_ndarray* heads[1] = {x.get()};
  EXPECT_MXN_ERR(mxn_autograd_backward(1, heads, nullptr, 0, nullptr, 0, 1, nullptr),
                 Err(MXN_ERR_INVALID_ARG).arg(0).says({"record"}));
  EXPECT_MXN_ERR(mxn_autograd_backward(0, heads, nullptr, 0, nullptr, 0, 1, nullptr),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_autograd_backward(1, wrong, nullptr, 0, nullptr, 0, 1, nullptr),
                 Err(MXN_ERR_INVALID_ARG));
  mxn_ndarray* out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_autograd_backward(1, heads, nullptr, 1, vars, 0, 1, nullptr),
                 Err(MXN_ERR_INVALID_ARG));
  // get_grad / detach: not a variable gives NULL; bad handles are errors.
  ASSERT_MXN_OK(mxn_ndarray_get_grad(x.get(), &out));
  EXPECT_EQ(out, nullptr);
  out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_get_grad(op_as_array(), &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_get_grad(x.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_detach(nullptr, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kArrSentinel);
  EXPECT_MXN_ERR(mxn_ndarray_detach(x.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  ASSERT_MXN_OK(mxn_ndarray_detach(x.get(), &out));
  Array d(out);
}


// ==========================================================================================
// RecordIO, image codecs, data iterators

std::string io_tmp(const char* name) { return ::testing::TempDir() + "mxn_capi_io_" + name; }

TEST_F(Capi, RecordIOWriteReadTellSeek) {
  const std::string path = io_tmp("a.rec");
  mxn_recordio* w = nullptr;
  ASSERT_MXN_OK(mxn_recordio_open(path.c_str(), "w", &w));
  const std::string recs[3] = {"hello", std::string("abcd\x0a\x23\xd7\xce" "efgh", 12), ""};
  int64_t offsets[3];
  for (int i = 0; i < 3; ++i) {
    ASSERT_MXN_OK(mxn_recordio_tell(w, &offsets[i]));
    ASSERT_MXN_OK(mxn_recordio_write(w, recs[i].data(), recs[i].size()));
  }
  const void* data = kPtrSentinel;
  size_t size = 7;
  int32_t has = kI32;
  EXPECT_MXN_ERR(mxn_recordio_read(w, &data, &size, &has), Err(MXN_ERR_INVALID_ARG).says({"writing"}));
  EXPECT_EQ(has, kI32);
  ASSERT_MXN_OK(mxn_recordio_close(w));
  ASSERT_MXN_OK(mxn_recordio_close(w));  // twice is fine
  EXPECT_MXN_ERR(mxn_recordio_write(w, "x", 1), Err(MXN_ERR_INVALID_ARG).says({"closed"}));
  mxn_recordio_free(w);
  mxn_recordio_free(nullptr);

  mxn_recordio* r = nullptr;
  ASSERT_MXN_OK(mxn_recordio_open(path.c_str(), "r", &r));
  for (int i = 0; i < 3; ++i) {
    ASSERT_MXN_OK(mxn_recordio_read(r, &data, &size, &has));
    ASSERT_EQ(has, 1);
    EXPECT_EQ(std::string(static_cast<const char*>(data), size), recs[i]);
  }
  data = kPtrSentinel;
  size = 7;
  ASSERT_MXN_OK(mxn_recordio_read(r, &data, &size, &has));
  EXPECT_EQ(has, 0);
  EXPECT_EQ(data, kPtrSentinel);  // untouched at the end
  EXPECT_EQ(size, 7u);
  ASSERT_MXN_OK(mxn_recordio_seek(r, offsets[1]));
  ASSERT_MXN_OK(mxn_recordio_read(r, &data, &size, &has));
  EXPECT_EQ(std::string(static_cast<const char*>(data), size), recs[1]);
  int64_t pos = kI64;
  ASSERT_MXN_OK(mxn_recordio_tell(r, &pos));
  EXPECT_EQ(pos, offsets[2]);
  ASSERT_MXN_OK(mxn_recordio_reset(r));
  ASSERT_MXN_OK(mxn_recordio_read(r, &data, &size, &has));
  EXPECT_EQ(std::string(static_cast<const char*>(data), size), recs[0]);
  EXPECT_MXN_ERR(mxn_recordio_write(r, "x", 1), Err(MXN_ERR_INVALID_ARG).says({"reading"}));
  EXPECT_MXN_ERR(mxn_recordio_seek(r, -4), Err(MXN_ERR_INVALID_ARG));
  mxn_recordio_free(r);

  // Parts: together they hold every record once.
  int total = 0;
  for (int p = 0; p < 2; ++p) {
    mxn_recordio* part = nullptr;
    ASSERT_MXN_OK(mxn_recordio_open_part(path.c_str(), 2, p, &part));
    while (mxn_recordio_read(part, &data, &size, &has) == MXN_OK && has) ++total;
    mxn_recordio_free(part);
  }
  EXPECT_EQ(total, 3);
}

TEST_F(Capi, RecordIORejectsBadArguments) {
  mxn_recordio* out = reinterpret_cast<mxn_recordio*>(kPtrSentinel);
  EXPECT_MXN_ERR(mxn_recordio_open(nullptr, "r", &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_open("x.rec", "a", &out), Err(MXN_ERR_INVALID_ARG).says({"mode"}));
  EXPECT_MXN_ERR(mxn_recordio_open("/nonexistent/x.rec", "r", &out),
                 Err(MXN_ERR_IO).says({"/nonexistent/x.rec"}));
  EXPECT_MXN_ERR(mxn_recordio_open("/nonexistent/x.rec", "w", &out), Err(MXN_ERR_IO));
  EXPECT_MXN_ERR(mxn_recordio_open("x.rec", "r", nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_open_part("x.rec", 2, 2, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_open_part(nullptr, 1, 0, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, reinterpret_cast<mxn_recordio*>(kPtrSentinel));
  auto* wrong = reinterpret_cast<mxn_recordio*>(op_as_array());
  const void* data = nullptr;
  size_t size = 0;
  int32_t has = 0;
  int64_t pos = 0;
  EXPECT_MXN_ERR(mxn_recordio_read(wrong, &data, &size, &has), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_read(nullptr, &data, &size, &has), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_write(wrong, "x", 1), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_tell(nullptr, &pos), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_seek(nullptr, 0), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_reset(wrong), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_recordio_close(nullptr), Err(MXN_ERR_INVALID_ARG));
  // A corrupt file: a length word claiming 2^29 - 1 bytes in a 16-byte file.
  const std::string path = io_tmp("huge.rec");
  {
    std::ofstream f(path, std::ios::binary);
    const uint32_t words[4] = {0xced7230au, (1u << 29) - 1, 0, 0};
    f.write(reinterpret_cast<const char*>(words), sizeof(words));
  }
  mxn_recordio* r = nullptr;
  ASSERT_MXN_OK(mxn_recordio_open(path.c_str(), "r", &r));
  data = kPtrSentinel;
  EXPECT_MXN_ERR(mxn_recordio_read(r, &data, &size, &has),
                 Err(MXN_ERR_FORMAT).says({"huge.rec", "record 0"}));
  EXPECT_EQ(data, kPtrSentinel);
  mxn_recordio_free(r);
}

TEST_F(Capi, ImageEncodeDecodeRoundTrip) {
  const int64_t dims[3] = {6, 8, 3};
  std::vector<uint8_t> px(6 * 8 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 5);
  mxn_ndarray* img = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_from_data(dims, 3, MXN_DTYPE_UINT8, MXN_DEVICE_CPU, 0, px.data(),
                                      px.size(), &img));
  Array image(img);
  mxn_ndarray* enc = nullptr;
  ASSERT_MXN_OK(mxn_image_encode(image.get(), "png", 3, &enc));
  Array encoded(enc);
  int64_t n = 0;
  ASSERT_MXN_OK(mxn_ndarray_size(enc, &n));
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  ASSERT_MXN_OK(mxn_ndarray_copy_to_host(enc, bytes.data(), bytes.size()));
  mxn_ndarray* dec = nullptr;
  ASSERT_MXN_OK(mxn_image_decode(bytes.data(), bytes.size(), 0, &dec));
  Array decoded(dec);
  std::vector<uint8_t> back(px.size());
  ASSERT_MXN_OK(mxn_ndarray_copy_to_host(dec, back.data(), back.size()));
  EXPECT_EQ(back, px);
  ASSERT_MXN_OK(mxn_image_encode(image.get(), "jpeg", 90, &enc));
  Array jpeg(enc);
  mxn_ndarray* out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_image_decode(bytes.data(), 10, 3, &out), Err(MXN_ERR_FORMAT));
  EXPECT_MXN_ERR(mxn_image_decode("hello", 5, 3, &out), Err(MXN_ERR_FORMAT));
  EXPECT_MXN_ERR(mxn_image_decode(bytes.data(), bytes.size(), 2, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_image_decode(nullptr, 4, 3, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_image_encode(image.get(), "gif", 3, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_image_encode(image.get(), "jpeg", 101, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_image_encode(nullptr, "png", 3, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_image_encode(image.get(), "png", 3, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kArrSentinel);
}

TEST_F(Capi, DataIterCsvEpochsAndErrors) {
  const char* schema = mxn_dataiter_schema_json();
  ASSERT_NE(schema, nullptr);
  EXPECT_NE(std::string(schema).find("\"ImageRecordIter\""), std::string::npos);
  const std::string csv = io_tmp("d.csv");
  {
    std::ofstream f(csv);
    for (int i = 0; i < 5; ++i) f << i << "," << i * 10 << "\n";
  }
  const char* keys[3] = {"data_csv", "data_shape", "batch_size"};
  const int64_t shape[1] = {2};
  mxn_value vals[3];
  vals[0].type = MXN_VALUE_STRING;
  vals[0].len = 0;
  vals[0].u.s = csv.c_str();
  vals[1].type = MXN_VALUE_SHAPE;
  vals[1].len = 1;
  vals[1].u.dims = shape;
  vals[2].type = MXN_VALUE_INT;
  vals[2].len = 0;
  vals[2].u.i = 2;
  mxn_dataiter* it = nullptr;
  ASSERT_MXN_OK(mxn_dataiter_create("CSVIter", 3, keys, vals, &it));
  int32_t nd = 0, dtype = -1;
  const int64_t* dims = nullptr;
  ASSERT_MXN_OK(mxn_dataiter_batch_shape(it, 0, &nd, &dims, &dtype));
  ASSERT_EQ(nd, 2);
  EXPECT_EQ(dims[0], 2);
  EXPECT_EQ(dtype, MXN_DTYPE_FLOAT32);
  ASSERT_MXN_OK(mxn_dataiter_batch_shape(it, 1, &nd, &dims, &dtype));
  EXPECT_EQ(nd, 1);
  mxn_ndarray* out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_dataiter_data(it, &out), Err(MXN_ERR_INVALID_ARG).says({"next"}));
  EXPECT_EQ(out, kArrSentinel);
  for (int epoch = 0; epoch < 2; ++epoch) {
    int batches = 0;
    int32_t has = 0, pad = -1;
    while (true) {
      ASSERT_MXN_OK(mxn_dataiter_next(it, &has));
      if (!has) break;
      ++batches;
      mxn_ndarray *d = nullptr, *l = nullptr, *x = nullptr;
      ASSERT_MXN_OK(mxn_dataiter_data(it, &d));
      ASSERT_MXN_OK(mxn_dataiter_label(it, &l));
      ASSERT_MXN_OK(mxn_dataiter_index(it, &x));
      ASSERT_MXN_OK(mxn_dataiter_pad(it, &pad));
      float v[4];
      ASSERT_MXN_OK(mxn_ndarray_copy_to_host(d, v, sizeof(v)));
      if (batches == 1 && epoch == 0) {
        EXPECT_EQ(v[3], 10.f);
      }
      mxn_ndarray_free(d);
      mxn_ndarray_free(l);
      mxn_ndarray_free(x);
    }
    // round_batch: epoch 0 ends with a batch padded by row 0 of the next epoch, which epoch 1
    // then skips (MXNet's semantics): 5 rows = 2 + 2 + (1 + 1 pad), then 2 + 2.
    EXPECT_EQ(batches, epoch == 0 ? 3 : 2);
    EXPECT_EQ(pad, epoch == 0 ? 1 : 0);
    ASSERT_MXN_OK(mxn_dataiter_reset(it));
  }
  mxn_dataiter_free(it);
  mxn_dataiter_free(nullptr);

  mxn_dataiter* bad = reinterpret_cast<mxn_dataiter*>(kPtrSentinel);
  EXPECT_MXN_ERR(mxn_dataiter_create("NoSuchIter", 0, nullptr, nullptr, &bad),
                 Err(MXN_ERR_INVALID_ARG).says({"NoSuchIter", "CSVIter"}));
  EXPECT_MXN_ERR(mxn_dataiter_create("CSVIter", 1, keys, vals, &bad),
                 Err(MXN_ERR_INVALID_ARG).op_name("CSVIter").says({"required", "data_shape"}));
  const char* wrong_key[1] = {"no_such_param"};
  EXPECT_MXN_ERR(mxn_dataiter_create("CSVIter", 1, wrong_key, vals, &bad),
                 Err(MXN_ERR_INVALID_ARG).op_name("CSVIter").says({"no_such_param"}));
  EXPECT_MXN_ERR(mxn_dataiter_create(nullptr, 0, nullptr, nullptr, &bad), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_dataiter_create("CSVIter", 3, keys, vals, nullptr), Err(MXN_ERR_INVALID_ARG));
  vals[0].u.s = "/nonexistent/d.csv";
  EXPECT_MXN_ERR(mxn_dataiter_create("CSVIter", 3, keys, vals, &bad),
                 Err(MXN_ERR_IO).op_name("CSVIter").says({"/nonexistent/d.csv"}));
  EXPECT_EQ(bad, reinterpret_cast<mxn_dataiter*>(kPtrSentinel));
  auto* wrong = reinterpret_cast<mxn_dataiter*>(op_as_array());
  int32_t has = kI32;
  EXPECT_MXN_ERR(mxn_dataiter_next(wrong, &has), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_dataiter_next(nullptr, &has), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(has, kI32);
  EXPECT_MXN_ERR(mxn_dataiter_reset(nullptr), Err(MXN_ERR_INVALID_ARG));
  mxn_ndarray* arr = kArrSentinel;
  EXPECT_MXN_ERR(mxn_dataiter_label(wrong, &arr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_dataiter_index(nullptr, &arr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(arr, kArrSentinel);
  int32_t pad = kI32;
  EXPECT_MXN_ERR(mxn_dataiter_pad(nullptr, &pad), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(pad, kI32);
  EXPECT_MXN_ERR(mxn_dataiter_batch_shape(nullptr, 0, &nd, &dims, &dtype),
                 Err(MXN_ERR_INVALID_ARG));
}

// ==========================================================================================
// Symbols, string lists, shape lists

struct SymbolDeleter {
  void operator()(mxn_symbol* s) const { mxn_symbol_free(s); }
};
using Sym = std::unique_ptr<mxn_symbol, SymbolDeleter>;
mxn_symbol* const kSymSentinel = reinterpret_cast<mxn_symbol*>(uintptr_t{0x5a5a5a50});
mxn_strings* const kStrsSentinel = reinterpret_cast<mxn_strings*>(uintptr_t{0x5b5b5b50});
mxn_shapes* const kShpSentinel = reinterpret_cast<mxn_shapes*>(uintptr_t{0x5c5c5c50});

Sym sym_var(const char* name) {
  mxn_symbol* s = nullptr;
  EXPECT_MXN_OK(mxn_symbol_variable(name, &s));
  return Sym(s);
}

std::vector<std::string> take_strings(mxn_strings* l) {
  std::vector<std::string> out;
  int32_t n = 0;
  EXPECT_MXN_OK(mxn_strings_size(l, &n));
  for (int32_t i = 0; i < n; ++i) {
    const char* p = nullptr;
    EXPECT_MXN_OK(mxn_strings_get(l, i, &p));
    out.emplace_back(p);
  }
  mxn_strings_free(l);
  return out;
}

Sym sym_add(mxn_symbol* a, mxn_symbol* b, const char* name) {
  mxn_symbol* args[2] = {a, b};
  mxn_symbol* out = nullptr;
  EXPECT_MXN_OK(mxn_symbol_compose(find_op("broadcast_add"), 0, nullptr, nullptr, name, 2, args,
                                   nullptr, 0, nullptr, nullptr, &out));
  return Sym(out);
}

TEST_F(Capi, SymbolComposeListAndJson) {
  Sym a = sym_var("a"), b = sym_var("b");
  Sym c = sym_add(a.get(), b.get(), "add");
  mxn_strings* l = nullptr;
  ASSERT_MXN_OK(mxn_symbol_list(c.get(), MXN_LIST_ARGUMENTS, &l));
  EXPECT_EQ(take_strings(l), (std::vector<std::string>{"a", "b"}));
  ASSERT_MXN_OK(mxn_symbol_list(c.get(), MXN_LIST_OUTPUTS, &l));
  EXPECT_EQ(take_strings(l), (std::vector<std::string>{"add_output"}));
  ASSERT_MXN_OK(mxn_symbol_list(c.get(), MXN_LIST_AUX_STATES, &l));
  EXPECT_TRUE(take_strings(l).empty());
  ASSERT_MXN_OK(mxn_symbol_list(c.get(), MXN_LIST_INPUTS, &l));
  EXPECT_EQ(take_strings(l).size(), 2u);
  const char* name = nullptr;
  ASSERT_MXN_OK(mxn_symbol_name(c.get(), &name));
  EXPECT_STREQ(name, "add");
  int32_t n = 0;
  ASSERT_MXN_OK(mxn_symbol_num_outputs(c.get(), &n));
  EXPECT_EQ(n, 1);
  mxn_symbol* group_in[2] = {c.get(), a.get()};
  mxn_symbol* g = nullptr;
  ASSERT_MXN_OK(mxn_symbol_group(2, group_in, &g));
  Sym gs(g);
  mxn_symbol* o = nullptr;
  ASSERT_MXN_OK(mxn_symbol_output(gs.get(), 1, &o));
  Sym os(o);
  ASSERT_MXN_OK(mxn_symbol_name(os.get(), &name));
  EXPECT_STREQ(name, "a");
  mxn_symbol* internals = nullptr;
  ASSERT_MXN_OK(mxn_symbol_internals(c.get(), &internals));
  Sym is(internals);
  ASSERT_MXN_OK(mxn_symbol_num_outputs(is.get(), &n));
  EXPECT_EQ(n, 3);
  mxn_symbol* kids = kSymSentinel;
  ASSERT_MXN_OK(mxn_symbol_children(a.get(), &kids));
  EXPECT_EQ(kids, nullptr);
  ASSERT_MXN_OK(mxn_symbol_children(c.get(), &kids));
  Sym ks(kids);
  ASSERT_MXN_OK(mxn_symbol_set_attr(c.get(), "__mood__", "calm"));
  int32_t found = kI32;
  ASSERT_MXN_OK(mxn_symbol_get_attr(c.get(), "__mood__", &found, &l));
  EXPECT_EQ(found, 1);
  EXPECT_EQ(take_strings(l), (std::vector<std::string>{"calm"}));
  ASSERT_MXN_OK(mxn_symbol_get_attr(c.get(), "__none__", &found, &l));
  EXPECT_EQ(found, 0);
  EXPECT_EQ(l, nullptr);
  ASSERT_MXN_OK(mxn_symbol_list_attr(c.get(), 1, &l));
  EXPECT_EQ(take_strings(l), (std::vector<std::string>{"add$__mood__", "calm"}));
  ASSERT_MXN_OK(mxn_symbol_to_json(c.get(), &l));
  const std::string json = take_strings(l).at(0);
  mxn_symbol* back = nullptr;
  ASSERT_MXN_OK(mxn_symbol_from_json(json.c_str(), &back));
  Sym bs(back);
  ASSERT_MXN_OK(mxn_symbol_to_json(bs.get(), &l));
  EXPECT_EQ(take_strings(l).at(0), json);
}

TEST_F(Capi, SymbolInferShapeAndType) {
  Sym a = sym_var("a"), b = sym_var("b");
  Sym c = sym_add(a.get(), b.get(), "add");
  const char* names[2] = {"a", "b"};
  const int32_t ndims[2] = {2, 1};
  const int64_t dims[3] = {2, 3, 3};
  mxn_shapes *args = nullptr, *outs = nullptr, *aux = nullptr;
  ASSERT_MXN_OK(mxn_symbol_infer_shape(c.get(), 2, names, ndims, dims, 0, &args, &outs, &aux));
  int32_t n = 0, nd = 0;
  const int64_t* d = nullptr;
  ASSERT_MXN_OK(mxn_shapes_size(outs, &n));
  EXPECT_EQ(n, 1);
  ASSERT_MXN_OK(mxn_shapes_get(outs, 0, &nd, &d));
  ASSERT_EQ(nd, 2);
  EXPECT_EQ(d[0], 2);
  EXPECT_EQ(d[1], 3);
  EXPECT_MXN_ERR(mxn_shapes_get(outs, 5, &nd, &d), Err(MXN_ERR_INVALID_ARG).says({"out of range"}));
  mxn_shapes_free(args);
  mxn_shapes_free(outs);
  mxn_shapes_free(aux);
  mxn_shapes_free(nullptr);
  // Partial: b unknown -> ndim -1; complete inference of the same is a SHAPE error.
  ASSERT_MXN_OK(mxn_symbol_infer_shape(c.get(), 1, names, ndims, dims, 1, &args, &outs, &aux));
  ASSERT_MXN_OK(mxn_shapes_get(args, 1, &nd, &d));
  EXPECT_EQ(nd, -1);
  mxn_shapes_free(args);
  mxn_shapes_free(outs);
  mxn_shapes_free(aux);
  args = kShpSentinel;
  EXPECT_MXN_ERR(mxn_symbol_infer_shape(c.get(), 1, names, ndims, dims, 0, &args, &outs, &aux),
                 Err(MXN_ERR_SHAPE).says({"b"}));
  EXPECT_EQ(args, kShpSentinel);
  const int64_t bad[3] = {2, 3, 4};
  EXPECT_MXN_ERR(mxn_symbol_infer_shape(c.get(), 2, names, ndims, bad, 0, &args, &outs, &aux),
                 Err(MXN_ERR_SHAPE).op_name("broadcast_add").says({"add", "(2,3)", "(4,)"}));
  EXPECT_EQ(args, kShpSentinel);
  // Types.
  const int32_t f64[1] = {MXN_DTYPE_FLOAT64};
  int32_t at[4], ot[4], xt[4], na = kI32, no = kI32, nx = kI32;
  ASSERT_MXN_OK(mxn_symbol_infer_type(c.get(), 1, names, f64, 4, at, &na, ot, &no, xt, &nx));
  EXPECT_EQ(na, 2);
  EXPECT_EQ(no, 1);
  EXPECT_EQ(nx, 0);
  EXPECT_EQ(ot[0], MXN_DTYPE_FLOAT64);
  na = kI32;
  EXPECT_MXN_ERR(mxn_symbol_infer_type(c.get(), 1, names, f64, 1, at, &na, ot, &no, xt, &nx),
                 Err(MXN_ERR_INVALID_ARG).says({"capacity"}));
  EXPECT_EQ(na, kI32);
  const int32_t bad_dt[1] = {99};
  EXPECT_MXN_ERR(mxn_symbol_infer_type(c.get(), 1, names, bad_dt, 4, at, &na, ot, &no, xt, &nx),
                 Err(MXN_ERR_DTYPE));
}

TEST_F(Capi, SymbolFunctionsRejectBadHandlesAndValues) {
  mxn_symbol* wrong = reinterpret_cast<mxn_symbol*>(op_as_array());
  for (mxn_symbol* h : {static_cast<mxn_symbol*>(nullptr), wrong}) {
    mxn_symbol* out = kSymSentinel;
    mxn_strings* l = kStrsSentinel;
    const char* name = kStrSentinel;
    int32_t n = kI32, found = kI32;
    EXPECT_MXN_ERR(mxn_symbol_num_outputs(h, &n), Err(MXN_ERR_INVALID_ARG).says({"symbol"}));
    EXPECT_MXN_ERR(mxn_symbol_output(h, 0, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_internals(h, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_children(h, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_list(h, 0, &l), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_name(h, &name), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_get_attr(h, "k", &found, &l), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_set_attr(h, "k", "v"), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_list_attr(h, 0, &l), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_symbol_to_json(h, &l), Err(MXN_ERR_INVALID_ARG));
    EXPECT_EQ(out, kSymSentinel);
    EXPECT_EQ(l, kStrsSentinel);
    EXPECT_EQ(name, kStrSentinel);
    EXPECT_EQ(n, kI32);
    mxn_symbol_free(h);  // NULL and foreign handles are ignored
  }
  Sym a = sym_var("a");
  mxn_symbol* out = kSymSentinel;
  EXPECT_MXN_ERR(mxn_symbol_variable(nullptr, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_symbol_variable("", &out), Err(MXN_ERR_INVALID_ARG).says({"name"}));
  EXPECT_MXN_ERR(mxn_symbol_variable("x", nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_symbol_output(a.get(), 3, &out), Err(MXN_ERR_INVALID_ARG).says({"3"}));
  EXPECT_MXN_ERR(mxn_symbol_output(a.get(), -1, &out), Err(MXN_ERR_INVALID_ARG));
  mxn_strings* l = kStrsSentinel;
  EXPECT_MXN_ERR(mxn_symbol_list(a.get(), 9, &l), Err(MXN_ERR_INVALID_ARG).says({"9"}));
  EXPECT_MXN_ERR(mxn_symbol_group(0, nullptr, &out), Err(MXN_ERR_INVALID_ARG));
  mxn_symbol* bad_group[1] = {reinterpret_cast<mxn_symbol*>(op_as_array())};
  EXPECT_MXN_ERR(mxn_symbol_group(1, bad_group, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_symbol_from_json("{\"nodes\": [", &out), Err(MXN_ERR_FORMAT));
  EXPECT_MXN_ERR(mxn_symbol_from_json(nullptr, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kSymSentinel);
  // Compose: bad operator, unknown input name, grouped argument, bad attributes.
  mxn_symbol* args[1] = {a.get()};
  const char* bad_names[1] = {"nope"};
  EXPECT_MXN_ERR(mxn_symbol_compose(nullptr, 0, nullptr, nullptr, "x", 1, args, nullptr, 0,
                                    nullptr, nullptr, &out),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_symbol_compose(find_op("exp"), 0, nullptr, nullptr, "x", 1, args, bad_names,
                                    0, nullptr, nullptr, &out),
                 Err(MXN_ERR_INVALID_ARG).op_name("exp").says({"nope"}));
  mxn_symbol* pair[2] = {a.get(), a.get()};
  mxn_symbol* g = nullptr;
  ASSERT_MXN_OK(mxn_symbol_group(2, pair, &g));
  Sym gs(g);
  mxn_symbol* grouped[1] = {gs.get()};
  EXPECT_MXN_ERR(mxn_symbol_compose(find_op("exp"), 0, nullptr, nullptr, "x", 1, grouped,
                                    nullptr, 0, nullptr, nullptr, &out),
                 Err(MXN_ERR_INVALID_ARG).op_name("exp").arg(0).says({"2 outputs"}));
  EXPECT_MXN_ERR(mxn_symbol_compose(find_op("exp"), 0, nullptr, nullptr, "x", 1, args, nullptr, 1,
                                    nullptr, nullptr, &out),
                 Err(MXN_ERR_INVALID_ARG));
  const char* keys[1] = {"scalar"};
  mxn_value vals[1];
  vals[0].type = MXN_VALUE_STRING;
  vals[0].len = 0;
  vals[0].u.s = "x";
  EXPECT_MXN_ERR(mxn_symbol_compose(find_op("_plus_scalar"), 1, keys, vals, "x", 1, args, nullptr,
                                    0, nullptr, nullptr, &out),
                 Err(MXN_ERR_INVALID_ARG).op_name("_plus_scalar"));
  EXPECT_EQ(out, kSymSentinel);
  int32_t found = kI32;
  EXPECT_MXN_ERR(mxn_symbol_get_attr(gs.get(), "k", &found, &l), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_symbol_get_attr(a.get(), nullptr, &found, &l), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_symbol_set_attr(a.get(), "k", nullptr), Err(MXN_ERR_INVALID_ARG));
  // String and shape lists.
  int32_t n = kI32;
  const char* p = kStrSentinel;
  EXPECT_MXN_ERR(mxn_strings_size(nullptr, &n), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_strings_get(reinterpret_cast<mxn_strings*>(op_as_array()), 0, &p),
                 Err(MXN_ERR_INVALID_ARG));
  ASSERT_MXN_OK(mxn_symbol_list(a.get(), 0, &l));
  EXPECT_MXN_ERR(mxn_strings_get(l, 1, &p), Err(MXN_ERR_INVALID_ARG).says({"out of range"}));
  EXPECT_MXN_ERR(mxn_strings_size(l, nullptr), Err(MXN_ERR_INVALID_ARG));
  mxn_strings_free(l);
  mxn_strings_free(nullptr);
  EXPECT_EQ(p, kStrSentinel);
  EXPECT_MXN_ERR(mxn_shapes_size(nullptr, &n), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(n, kI32);
  mxn_shapes *sa = kShpSentinel, *so = kShpSentinel, *sx = kShpSentinel;
  EXPECT_MXN_ERR(mxn_symbol_infer_shape(nullptr, 0, nullptr, nullptr, nullptr, 0, &sa, &so, &sx),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_symbol_infer_shape(a.get(), 1, nullptr, nullptr, nullptr, 0, &sa, &so, &sx),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(sa, kShpSentinel);
  int32_t na = kI32, no = kI32, nx = kI32;
  EXPECT_MXN_ERR(mxn_symbol_infer_type(nullptr, 0, nullptr, nullptr, 4, nullptr, &na, nullptr,
                                       &no, nullptr, &nx),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(na, kI32);
}


// ==========================================================================================
// NDArray files (.params): save / load / buffers / the list handle

std::string params_tmp(const char* name) {
  // Unique per process: ctest runs this binary on both engines at once.
  static const std::string stamp =
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  return ::testing::TempDir() + "mxn_capi_params_" + stamp + "_" + name;
}

// The repository's tests/data/params, found from this file's path.
std::string params_fixture(const char* name) {
  std::string dir = MXN_TEST_SOURCE;
  dir = dir.substr(0, dir.rfind('/'));  // tests/capi
  dir = dir.substr(0, dir.rfind('/'));  // tests
  return dir + "/data/params/" + name;
}

struct ListDeleter {
  void operator()(mxn_ndarray_list* l) const { mxn_ndarray_list_free(l); }
};
using List = std::unique_ptr<mxn_ndarray_list, ListDeleter>;

mxn_ndarray_list* const kListSentinel = reinterpret_cast<mxn_ndarray_list*>(uintptr_t{0x1151150});

TEST_F(Capi, ParamsSaveLoadRoundTrip) {
  Array a = make_f32({2, 3}, {0, 1, 2, 3, 4, 5});
  Array b = make_i32({4}, {-1, 7, 9, 2147483647});
  Array s = make_f32({}, {2.5f});
  mxn_ndarray* arrays[3] = {a.get(), b.get(), s.get()};
  const char* names[3] = {"arg:w", "aux:b", "scalar"};
  const std::string path = params_tmp("rt.params");
  ASSERT_MXN_OK(mxn_ndarray_save(path.c_str(), 3, arrays, names));

  mxn_ndarray_list* raw = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_load(path.c_str(), &raw));
  List list(raw);
  int32_t n = -1, nn = -1;
  ASSERT_MXN_OK(mxn_ndarray_list_size(list.get(), &n, &nn));
  EXPECT_EQ(n, 3);
  EXPECT_EQ(nn, 3);
  for (int32_t i = 0; i < 3; ++i) {
    const char* name = nullptr;
    size_t len = 0;
    ASSERT_MXN_OK(mxn_ndarray_list_name(list.get(), i, &name, &len));
    EXPECT_EQ(std::string(name, len), names[i]);
  }
  mxn_ndarray* h = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_list_get(list.get(), 0, &h));
  Array a2(h);
  ASSERT_MXN_OK(mxn_ndarray_list_get(list.get(), 1, &h));
  Array b2(h);
  ASSERT_MXN_OK(mxn_ndarray_list_get(list.get(), 2, &h));
  Array s2(h);
  list.reset();  // arrays outlive the list
  EXPECT_EQ(shape_of(a2.get()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(read_f32(a2.get()), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  int32_t dtype = -1;
  ASSERT_MXN_OK(mxn_ndarray_dtype(b2.get(), &dtype));
  EXPECT_EQ(dtype, MXN_DTYPE_INT32);
  EXPECT_EQ(read<int32_t>(b2.get()), (std::vector<int32_t>{-1, 7, 9, 2147483647}));
  EXPECT_EQ(shape_of(s2.get()), std::vector<int64_t>{});
  EXPECT_EQ(read_f32(s2.get()), std::vector<float>{2.5f});

  // The buffer holds the file's bytes; loading it gives the same arrays.
  mxn_ndarray* bytes = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_save_to_buffer(3, arrays, names, &bytes));
  Array buf(bytes);
  ASSERT_MXN_OK(mxn_ndarray_dtype(buf.get(), &dtype));
  EXPECT_EQ(dtype, MXN_DTYPE_UINT8);
  const std::vector<uint8_t> mem = read<uint8_t>(buf.get());
  const std::string file = read_text(path.c_str());
  EXPECT_EQ(std::string(mem.begin(), mem.end()), file);
  ASSERT_MXN_OK(mxn_ndarray_load_from_buffer(mem.data(), mem.size(), &raw));
  list.reset(raw);
  ASSERT_MXN_OK(mxn_ndarray_list_size(list.get(), &n, &nn));
  EXPECT_EQ(n, 3);

  // A list without names.
  ASSERT_MXN_OK(mxn_ndarray_save(path.c_str(), 2, arrays, nullptr));
  ASSERT_MXN_OK(mxn_ndarray_load(path.c_str(), &raw));
  list.reset(raw);
  ASSERT_MXN_OK(mxn_ndarray_list_size(list.get(), &n, &nn));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(nn, 0);
  const char* name = kStrSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_list_name(list.get(), 0, &name, nullptr),
                 Err(MXN_ERR_INVALID_ARG).says({"no names"}));
  EXPECT_EQ(name, kStrSentinel);
  // No arrays at all.
  ASSERT_MXN_OK(mxn_ndarray_save(path.c_str(), 0, nullptr, nullptr));
  ASSERT_MXN_OK(mxn_ndarray_load(path.c_str(), &raw));
  list.reset(raw);
  ASSERT_MXN_OK(mxn_ndarray_list_size(list.get(), &n, &nn));
  EXPECT_EQ(n, 0);
  std::remove(path.c_str());
}

TEST_F(Capi, ParamsLoadsMXNetCheckpoint) {
  mxn_ndarray_list* raw = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_load(params_fixture("mlp-0003.params").c_str(), &raw));
  List list(raw);
  int32_t n = -1, nn = -1;
  ASSERT_MXN_OK(mxn_ndarray_list_size(list.get(), &n, &nn));
  EXPECT_EQ(n, 8);
  EXPECT_EQ(nn, 8);
  const char* name = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_list_name(list.get(), 0, &name, nullptr));
  EXPECT_STREQ(name, "arg:fc1_weight");
  mxn_ndarray* h = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_list_get(list.get(), 0, &h));
  Array w(h);
  EXPECT_EQ(shape_of(w.get()), (std::vector<int64_t>{8, 5}));
  // Sparse arrays are refused by name.
  mxn_ndarray_list* out = kListSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_load(params_fixture("sparse.params").c_str(), &out),
                 Err(MXN_ERR_NOT_IMPLEMENTED).says({"emb_weight", "row_sparse"}));
  EXPECT_EQ(out, kListSentinel);
}

TEST_F(Capi, ParamsErrorContract) {
  Array a = make_f32({2}, {1, 2});
  mxn_ndarray* arrays[2] = {a.get(), a.get()};
  const char* names[2] = {"x", nullptr};
  const std::string path = params_tmp("err.params");
  EXPECT_MXN_ERR(mxn_ndarray_save(nullptr, 1, arrays, nullptr),
                 Err(MXN_ERR_INVALID_ARG).says({"path"}));
  EXPECT_MXN_ERR(mxn_ndarray_save(path.c_str(), -1, arrays, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_save(path.c_str(), 1, nullptr, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_save(path.c_str(), 2, arrays, names),
                 Err(MXN_ERR_INVALID_ARG).arg(1).says({"name 1"}));
  mxn_ndarray* wrong[2] = {a.get(), op_as_array()};
  EXPECT_MXN_ERR(mxn_ndarray_save(path.c_str(), 2, wrong, nullptr),
                 Err(MXN_ERR_INVALID_ARG).arg(1).says({"not an array handle"}));
  mxn_ndarray* with_null[2] = {a.get(), nullptr};
  EXPECT_MXN_ERR(mxn_ndarray_save(path.c_str(), 2, with_null, nullptr),
                 Err(MXN_ERR_INVALID_ARG).arg(1));
  EXPECT_MXN_ERR(mxn_ndarray_save("/nonexistent-dir-mxn/x.params", 1, arrays, nullptr),
                 Err(MXN_ERR_IO).says({"nonexistent-dir-mxn"}));
  std::ifstream none(path);
  EXPECT_FALSE(none.good()) << "a failed save left a file";

  mxn_ndarray* buf = kArrSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_save_to_buffer(1, arrays, nullptr, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_save_to_buffer(2, wrong, nullptr, &buf), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(buf, kArrSentinel);

  mxn_ndarray_list* list = kListSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_load(nullptr, &list), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_load(path.c_str(), nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_load(params_tmp("missing.params").c_str(), &list),
                 Err(MXN_ERR_IO).says({"missing.params"}));
  EXPECT_EQ(list, kListSentinel);
  const char garbage[] = "definitely not an NDArray file";
  EXPECT_MXN_ERR(mxn_ndarray_load_from_buffer(garbage, sizeof(garbage), &list),
                 Err(MXN_ERR_FORMAT).says({"list magic"}));
  EXPECT_MXN_ERR(mxn_ndarray_load_from_buffer(nullptr, 8, &list), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_load_from_buffer(garbage, 0, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_load_from_buffer(garbage, 0, &list),
                 Err(MXN_ERR_FORMAT).says({"truncated"}));
  // A 64-byte file declaring 2^40 float32 elements: refused before any allocation.
  std::vector<uint8_t> huge(64, 0);
  const uint64_t head[3] = {0x112, 0, 1};
  std::memcpy(huge.data(), head, sizeof(head));
  const uint32_t rec[2] = {0xF993fac9u, 0};
  std::memcpy(huge.data() + 24, rec, sizeof(rec));
  const int32_t ndim = 1;
  std::memcpy(huge.data() + 32, &ndim, 4);
  const int64_t dim = int64_t{1} << 40;
  std::memcpy(huge.data() + 36, &dim, 8);
  const int32_t ctx_type[3] = {1, 0, 0};
  std::memcpy(huge.data() + 44, ctx_type, sizeof(ctx_type));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_MXN_ERR(mxn_ndarray_load_from_buffer(huge.data(), huge.size(), &list),
                 Err(MXN_ERR_FORMAT).says({"4398046511104 bytes"}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(10));
  EXPECT_EQ(list, kListSentinel);

  // The list handle: NULL, wrong type, out of range; out-parameters untouched.
  ASSERT_MXN_OK(mxn_ndarray_save(path.c_str(), 1, arrays, names));
  mxn_ndarray_list* raw = nullptr;
  ASSERT_MXN_OK(mxn_ndarray_load(path.c_str(), &raw));
  List l(raw);
  int32_t n = kI32, nn = kI32;
  EXPECT_MXN_ERR(mxn_ndarray_list_size(nullptr, &n, &nn), Err(MXN_ERR_INVALID_ARG));
  auto* not_list = reinterpret_cast<const mxn_ndarray_list*>(a.get());
  EXPECT_MXN_ERR(mxn_ndarray_list_size(not_list, &n, &nn),
                 Err(MXN_ERR_INVALID_ARG).says({"not an array-list handle"}));
  EXPECT_MXN_ERR(mxn_ndarray_list_size(l.get(), nullptr, &nn), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_list_size(l.get(), &n, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(n, kI32);
  EXPECT_EQ(nn, kI32);
  mxn_ndarray* out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_ndarray_list_get(l.get(), 1, &out), Err(MXN_ERR_INVALID_ARG).arg(1));
  EXPECT_MXN_ERR(mxn_ndarray_list_get(l.get(), -1, &out), Err(MXN_ERR_INVALID_ARG).arg(1));
  EXPECT_MXN_ERR(mxn_ndarray_list_get(not_list, 0, &out), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_list_get(l.get(), 0, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(out, kArrSentinel);
  const char* name = kStrSentinel;
  size_t len = 12345;
  EXPECT_MXN_ERR(mxn_ndarray_list_name(l.get(), 5, &name, &len), Err(MXN_ERR_INVALID_ARG).arg(1));
  EXPECT_MXN_ERR(mxn_ndarray_list_name(nullptr, 0, &name, &len), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_ndarray_list_name(l.get(), 0, nullptr, &len), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(name, kStrSentinel);
  EXPECT_EQ(len, 12345u);
  mxn_ndarray_list_free(nullptr);
  std::remove(path.c_str());
}

// ==========================================================================================
// Executors

struct ExecutorDeleter {
  void operator()(mxn_executor* e) const { mxn_executor_free(e); }
};
using Exec = std::unique_ptr<mxn_executor, ExecutorDeleter>;

TEST_F(Capi, ExecutorForwardBackward) {
  Sym a = sym_var("a"), b = sym_var("b");
  mxn_symbol* args2[2] = {a.get(), b.get()};
  mxn_symbol* m = nullptr;
  ASSERT_MXN_OK(mxn_symbol_compose(find_op("broadcast_mul"), 0, nullptr, nullptr, "m", 2, args2,
                                   nullptr, 0, nullptr, nullptr, &m));
  Sym ms(m);
  Array va = make_f32({2}, {1, 2}), vb = make_f32({2}, {3, 4});
  Array ga = make_f32({2}, {9, 9}), gb = make_f32({2}, {9, 9});
  mxn_ndarray* arrays[2] = {va.get(), vb.get()};
  mxn_ndarray* grads[2] = {ga.get(), gb.get()};
  const int32_t reqs[2] = {1, 3};  // write, add
  mxn_executor* e = nullptr;
  ASSERT_MXN_OK(mxn_executor_bind(ms.get(), 2, arrays, grads, reqs, 0, nullptr, &e));
  Exec ex(e);
  int32_t n = 0;
  ASSERT_MXN_OK(mxn_executor_num_outputs(ex.get(), &n));
  EXPECT_EQ(n, 1);
  // backward before a training forward is an error
  EXPECT_MXN_ERR(mxn_executor_backward(ex.get(), 0, nullptr),
                 Err(MXN_ERR_INVALID_ARG).says({"forward(is_train=True)"}));
  ASSERT_MXN_OK(mxn_executor_forward(ex.get(), 1));
  mxn_ndarray* out = nullptr;
  ASSERT_MXN_OK(mxn_executor_output(ex.get(), 0, &out));
  Array o(out);
  EXPECT_EQ(read_f32(o.get()), (std::vector<float>{3, 8}));
  ASSERT_MXN_OK(mxn_executor_backward(ex.get(), 0, nullptr));
  EXPECT_EQ(read_f32(ga.get()), (std::vector<float>{3, 4}));    // written
  EXPECT_EQ(read_f32(gb.get()), (std::vector<float>{10, 11}));  // added to 9
  Array hg = make_f32({2}, {2, 2});
  mxn_ndarray* heads[1] = {hg.get()};
  ASSERT_MXN_OK(mxn_executor_backward(ex.get(), 1, heads));
  EXPECT_EQ(read_f32(ga.get()), (std::vector<float>{6, 8}));
  Array wrong_shape = make_f32({3}, {1, 1, 1});
  mxn_ndarray* bad_heads[1] = {wrong_shape.get()};
  EXPECT_MXN_ERR(mxn_executor_backward(ex.get(), 1, bad_heads),
                 Err(MXN_ERR_SHAPE).says({"(3,)", "(2,)"}));
}

TEST_F(Capi, ExecutorRejectsBadArguments) {
  Sym a = sym_var("a");
  mxn_symbol* args1[1] = {a.get()};
  mxn_symbol* x = nullptr;
  ASSERT_MXN_OK(mxn_symbol_compose(find_op("exp"), 0, nullptr, nullptr, "e", 1, args1, nullptr, 0,
                                   nullptr, nullptr, &x));
  Sym xs(x);
  Array va = make_f32({2}, {1, 2});
  Array gbad = make_f32({3}, {0, 0, 0});
  mxn_ndarray* arrays[1] = {va.get()};
  mxn_ndarray* grads[1] = {gbad.get()};
  const int32_t write[1] = {1}, bad_req[1] = {5};
  mxn_executor* e = reinterpret_cast<mxn_executor*>(kPtrSentinel);
  EXPECT_MXN_ERR(mxn_executor_bind(nullptr, 1, arrays, nullptr, nullptr, 0, nullptr, &e),
                 Err(MXN_ERR_INVALID_ARG).says({"symbol"}));
  EXPECT_MXN_ERR(mxn_executor_bind(xs.get(), 0, nullptr, nullptr, nullptr, 0, nullptr, &e),
                 Err(MXN_ERR_INVALID_ARG).says({"1 arguments"}));
  EXPECT_MXN_ERR(mxn_executor_bind(xs.get(), 1, arrays, grads, write, 0, nullptr, &e),
                 Err(MXN_ERR_SHAPE).says({"(3,)"}));
  EXPECT_MXN_ERR(mxn_executor_bind(xs.get(), 1, arrays, grads, bad_req, 0, nullptr, &e),
                 Err(MXN_ERR_INVALID_ARG).arg(0).says({"grad_req 5"}));
  EXPECT_MXN_ERR(mxn_executor_bind(xs.get(), 1, arrays, nullptr, write, 0, nullptr, &e),
                 Err(MXN_ERR_INVALID_ARG).says({"no gradient array"}));
  mxn_ndarray* wrong[1] = {op_as_array()};
  EXPECT_MXN_ERR(mxn_executor_bind(xs.get(), 1, wrong, nullptr, nullptr, 0, nullptr, &e),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_executor_bind(xs.get(), 1, arrays, nullptr, nullptr, 0, nullptr, nullptr),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(e, reinterpret_cast<mxn_executor*>(kPtrSentinel));
  mxn_executor* foreign = reinterpret_cast<mxn_executor*>(op_as_array());
  for (mxn_executor* h : {static_cast<mxn_executor*>(nullptr), foreign}) {
    int32_t n = kI32;
    mxn_ndarray* out = kArrSentinel;
    EXPECT_MXN_ERR(mxn_executor_forward(h, 0), Err(MXN_ERR_INVALID_ARG).says({"executor"}));
    EXPECT_MXN_ERR(mxn_executor_backward(h, 0, nullptr), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_executor_num_outputs(h, &n), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_executor_output(h, 0, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_EQ(n, kI32);
    EXPECT_EQ(out, kArrSentinel);
    mxn_executor_free(h);  // ignored
  }
  ASSERT_MXN_OK(mxn_executor_bind(xs.get(), 1, arrays, nullptr, nullptr, 0, nullptr, &e));
  Exec ex(e);
  mxn_ndarray* out = kArrSentinel;
  EXPECT_MXN_ERR(mxn_executor_output(ex.get(), 4, &out), Err(MXN_ERR_INVALID_ARG).says({"4"}));
  EXPECT_MXN_ERR(mxn_executor_num_outputs(ex.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_executor_backward(ex.get(), -1, nullptr), Err(MXN_ERR_INVALID_ARG));
  mxn_strings* report = kStrsSentinel;
  EXPECT_MXN_ERR(mxn_executor_memory_report(nullptr, &report), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_executor_memory_report(ex.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(report, kStrsSentinel);
  ASSERT_MXN_OK(mxn_executor_memory_report(ex.get(), &report));
  const std::string json = take_strings(report).at(0);
  EXPECT_NE(json.find("\"planned_bytes\""), std::string::npos) << json;
  EXPECT_NE(json.find("e_output0"), std::string::npos) << json;
}

// ------------------------------------------------------------------------------------------
// Training (ABI 1.5): schedulers, optimizers, initializers, metrics, kvstore.

struct OptDeleter {
  void operator()(mxn_optimizer* o) const { mxn_optimizer_free(o); }
};
struct SchedDeleter {
  void operator()(mxn_lr_scheduler* s) const { mxn_lr_scheduler_free(s); }
};
struct InitDeleter {
  void operator()(mxn_initializer* i) const { mxn_initializer_free(i); }
};
struct MetricDeleter {
  void operator()(mxn_metric* m) const { mxn_metric_free(m); }
};
struct KVDeleter {
  void operator()(mxn_kvstore* k) const { mxn_kvstore_free(k); }
};
using Opt = std::unique_ptr<mxn_optimizer, OptDeleter>;
using Sched = std::unique_ptr<mxn_lr_scheduler, SchedDeleter>;
using Init = std::unique_ptr<mxn_initializer, InitDeleter>;
using Metric = std::unique_ptr<mxn_metric, MetricDeleter>;
using KV = std::unique_ptr<mxn_kvstore, KVDeleter>;

TEST(CapiTrain, SchemaListsEveryKind) {
  const std::string json = mxn_train_schema_json();
  for (const char* s : {"\"optimizer\"", "\"lr_scheduler\"", "\"initializer\"", "\"metric\"",
                        "\"sgd\"", "\"adam\"", "\"adadelta\"", "\"xavier\"", "\"cosine\"",
                        "\"top_k_accuracy\"", "\"nullable\"", "\"choices\""}) {
    EXPECT_NE(json.find(s), std::string::npos) << s;
  }
}

TEST(CapiTrain, LRScheduler) {
  mxn_lr_scheduler* s = reinterpret_cast<mxn_lr_scheduler*>(kPtrSentinel);
  const char* keys[3] = {"step", "factor", "base_lr"};
  mxn_value vals[3] = {v_int(2), v_float(0.5), v_float(1.0)};
  EXPECT_MXN_ERR(mxn_lr_scheduler_create(nullptr, 0, nullptr, nullptr, &s),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_lr_scheduler_create("nope", 0, nullptr, nullptr, &s),
                 Err(MXN_ERR_INVALID_ARG).says({"nope", "factor"}));
  EXPECT_MXN_ERR(mxn_lr_scheduler_create("factor", 0, nullptr, nullptr, &s),
                 Err(MXN_ERR_INVALID_ARG).op_name("factor").says({"step"}));
  mxn_value bad[1] = {v_int(0)};
  EXPECT_MXN_ERR(mxn_lr_scheduler_create("factor", 1, keys, bad, &s),
                 Err(MXN_ERR_INVALID_ARG).says({"step"}));
  EXPECT_MXN_ERR(mxn_lr_scheduler_create("factor", 3, keys, vals, nullptr),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(s, reinterpret_cast<mxn_lr_scheduler*>(kPtrSentinel));
  ASSERT_MXN_OK(mxn_lr_scheduler_create("FactorScheduler", 3, keys, vals, &s));
  Sched sched(s);
  double lr = -1;
  ASSERT_MXN_OK(mxn_lr_scheduler_get(sched.get(), 5, &lr));
  EXPECT_DOUBLE_EQ(lr, 0.25);
  ASSERT_MXN_OK(mxn_lr_scheduler_base_lr(sched.get(), &lr));
  EXPECT_DOUBLE_EQ(lr, 0.25);
  ASSERT_MXN_OK(mxn_lr_scheduler_set_base_lr(sched.get(), 2.0));
  double out = -7;
  EXPECT_MXN_ERR(mxn_lr_scheduler_get(sched.get(), -1, &out), Err(MXN_ERR_INVALID_ARG));
  mxn_lr_scheduler* foreign = reinterpret_cast<mxn_lr_scheduler*>(op_as_array());
  for (mxn_lr_scheduler* h : {static_cast<mxn_lr_scheduler*>(nullptr), foreign}) {
    EXPECT_MXN_ERR(mxn_lr_scheduler_get(h, 1, &out), Err(MXN_ERR_INVALID_ARG).says({"scheduler"}));
    EXPECT_MXN_ERR(mxn_lr_scheduler_base_lr(h, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_lr_scheduler_set_base_lr(h, 1.0), Err(MXN_ERR_INVALID_ARG));
    mxn_lr_scheduler_free(h);  // ignored
  }
  EXPECT_EQ(out, -7);
  expect_library_works();
}

TEST(CapiTrain, OptimizerUpdateStatesAndErrors) {
  mxn_optimizer* o = reinterpret_cast<mxn_optimizer*>(kPtrSentinel);
  const char* keys[3] = {"learning_rate", "momentum", "wd"};
  mxn_value vals[3] = {v_float(0.1), v_float(0.9), v_float(0.0)};
  EXPECT_MXN_ERR(mxn_optimizer_create("nope", 0, nullptr, nullptr, &o),
                 Err(MXN_ERR_INVALID_ARG).says({"optimizer", "nope"}));
  const char* badkey[1] = {"bogus"};
  EXPECT_MXN_ERR(mxn_optimizer_create("sgd", 1, badkey, vals, &o),
                 Err(MXN_ERR_INVALID_ARG).op_name("sgd").says({"bogus"}));
  mxn_value strv[1] = {v_str("x")};
  EXPECT_MXN_ERR(mxn_optimizer_create("sgd", 1, keys, strv, &o),
                 Err(MXN_ERR_INVALID_ARG).op_name("sgd").says({"learning_rate"}));
  EXPECT_EQ(o, reinterpret_cast<mxn_optimizer*>(kPtrSentinel));
  ASSERT_MXN_OK(mxn_optimizer_create("SGD", 3, keys, vals, &o));
  Opt opt(o);
  Array w = make_f32({3}, {1, 1, 1});
  Array g = make_f32({3}, {1, 2, 3});
  ASSERT_MXN_OK(mxn_optimizer_update(opt.get(), 0, nullptr, w.get(), g.get()));
  std::vector<float> got = read_f32(w.get());
  EXPECT_FLOAT_EQ(got[0], 0.9f);
  EXPECT_FLOAT_EQ(got[2], 0.7f);
  int32_t n = kI32;
  ASSERT_MXN_OK(mxn_optimizer_num_states(opt.get(), 0, nullptr, &n));
  EXPECT_EQ(n, 1);
  mxn_ndarray* st = kArrSentinel;
  EXPECT_MXN_ERR(mxn_optimizer_state(opt.get(), 0, nullptr, 1, &st),
                 Err(MXN_ERR_INVALID_ARG).says({"state 1"}));
  EXPECT_EQ(st, kArrSentinel);
  ASSERT_MXN_OK(mxn_optimizer_state(opt.get(), 0, nullptr, 0, &st));
  Array mom(st);
  EXPECT_FLOAT_EQ(read_f32(mom.get())[1], -0.2f);
  int64_t cnt = kI64;
  ASSERT_MXN_OK(mxn_optimizer_num_update(opt.get(), &cnt));
  EXPECT_EQ(cnt, 1);
  ASSERT_MXN_OK(mxn_optimizer_update_count(opt.get(), 0, nullptr, &cnt));
  EXPECT_EQ(cnt, 1);
  // names, multipliers, rates
  ASSERT_MXN_OK(mxn_optimizer_set_param_name(opt.get(), 4, "fc_bias"));
  mxn_value wd = v_float(0.5);
  ASSERT_MXN_OK(mxn_optimizer_set_param(opt.get(), "wd", &wd));
  double lr = 0, wdv = -1;
  ASSERT_MXN_OK(mxn_optimizer_rates(opt.get(), 4, nullptr, &lr, &wdv));
  EXPECT_DOUBLE_EQ(wdv, 0.0);  // a named bias: wd_mult 0
  ASSERT_MXN_OK(mxn_optimizer_set_mult(opt.get(), 0, 0, "fc_bias", 0.5));
  ASSERT_MXN_OK(mxn_optimizer_rates(opt.get(), 0, "fc_bias", &lr, nullptr));
  EXPECT_DOUBLE_EQ(lr, 0.05);
  EXPECT_MXN_ERR(mxn_optimizer_set_mult(opt.get(), 2, 0, nullptr, 1.0), Err(MXN_ERR_INVALID_ARG));
  ASSERT_MXN_OK(mxn_optimizer_clear_mults(opt.get(), 0));
  EXPECT_MXN_ERR(mxn_optimizer_clear_mults(opt.get(), 5), Err(MXN_ERR_INVALID_ARG));
  mxn_value v = v_none();
  ASSERT_MXN_OK(mxn_optimizer_get_param(opt.get(), "momentum", &v));
  EXPECT_EQ(v.type, MXN_VALUE_FLOAT);
  EXPECT_DOUBLE_EQ(v.u.f, 0.9);
  mxn_value before = v;
  EXPECT_MXN_ERR(mxn_optimizer_get_param(opt.get(), "nope", &v), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(v.u.f, before.u.f);
  EXPECT_MXN_ERR(mxn_optimizer_set_param(opt.get(), "nope", &wd),
                 Err(MXN_ERR_INVALID_ARG).op_name("sgd").says({"nope"}));
  EXPECT_MXN_ERR(mxn_optimizer_set_param(opt.get(), "wd", nullptr), Err(MXN_ERR_INVALID_ARG));
  // scheduler sharing
  const char* skeys[1] = {"step"};
  mxn_value svals[1] = {v_int(1)};
  mxn_lr_scheduler* s = nullptr;
  ASSERT_MXN_OK(mxn_lr_scheduler_create("factor", 1, skeys, svals, &s));
  Sched sched(s);
  ASSERT_MXN_OK(mxn_optimizer_set_lr_scheduler(opt.get(), sched.get()));
  ASSERT_MXN_OK(mxn_optimizer_set_lr_scheduler(opt.get(), nullptr));
  // shape mismatch, wrong handles
  Array g4 = make_f32({4}, {1, 1, 1, 1});
  EXPECT_MXN_ERR(mxn_optimizer_update(opt.get(), 0, nullptr, w.get(), g4.get()),
                 Err(MXN_ERR_SHAPE).says({"(4,)", "(3,)"}));
  EXPECT_MXN_ERR(mxn_optimizer_update(opt.get(), 0, nullptr, op_as_array(), g.get()),
                 Err(MXN_ERR_INVALID_ARG).says({"weight"}));
  // states round trip
  mxn_ndarray* blob = kArrSentinel;
  ASSERT_MXN_OK(mxn_optimizer_save_states(opt.get(), &blob));
  Array b(blob);
  std::vector<uint8_t> bytes = read<uint8_t>(b.get());
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "MXNOPTS1");
  ASSERT_MXN_OK(mxn_optimizer_load_states(opt.get(), bytes.data(), bytes.size()));
  EXPECT_MXN_ERR(mxn_optimizer_load_states(opt.get(), bytes.data(), bytes.size() - 3),
                 Err(MXN_ERR_FORMAT));
  EXPECT_MXN_ERR(mxn_optimizer_load_states(opt.get(), "nonsense", 8), Err(MXN_ERR_FORMAT));
  EXPECT_MXN_ERR(mxn_optimizer_load_states(opt.get(), nullptr, 0), Err(MXN_ERR_INVALID_ARG));
  mxn_optimizer* adam = nullptr;
  ASSERT_MXN_OK(mxn_optimizer_create("adam", 0, nullptr, nullptr, &adam));
  Opt a(adam);
  EXPECT_MXN_ERR(mxn_optimizer_load_states(a.get(), bytes.data(), bytes.size()),
                 Err(MXN_ERR_INVALID_ARG).says({"sgd"}));
  mxn_optimizer* foreign = reinterpret_cast<mxn_optimizer*>(op_as_array());
  for (mxn_optimizer* h : {static_cast<mxn_optimizer*>(nullptr), foreign}) {
    int64_t c = kI64;
    int32_t k = kI32;
    mxn_ndarray* out = kArrSentinel;
    EXPECT_MXN_ERR(mxn_optimizer_update(h, 0, nullptr, w.get(), g.get()),
                   Err(MXN_ERR_INVALID_ARG).says({"optimizer"}));
    EXPECT_MXN_ERR(mxn_optimizer_num_update(h, &c), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_optimizer_num_states(h, 0, nullptr, &k), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_optimizer_save_states(h, &out), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_optimizer_set_param_name(h, 0, "x"), Err(MXN_ERR_INVALID_ARG));
    EXPECT_EQ(c, kI64);
    EXPECT_EQ(k, kI32);
    EXPECT_EQ(out, kArrSentinel);
    mxn_optimizer_free(h);  // ignored
  }
  EXPECT_MXN_ERR(mxn_optimizer_set_param_name(opt.get(), 0, nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_optimizer_num_update(opt.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  expect_library_works();
}

TEST(CapiTrain, Initializers) {
  mxn_initializer* i = reinterpret_cast<mxn_initializer*>(kPtrSentinel);
  EXPECT_MXN_ERR(mxn_initializer_create("nope", 0, nullptr, nullptr, &i),
                 Err(MXN_ERR_INVALID_ARG).says({"initializer"}));
  EXPECT_MXN_ERR(mxn_initializer_from_json("[\"xavier\", {\"bogus\": 1}]", &i),
                 Err(MXN_ERR_INVALID_ARG).op_name("xavier").says({"bogus"}));
  EXPECT_MXN_ERR(mxn_initializer_from_json("[\"xavier\"", &i), Err(MXN_ERR_FORMAT));
  EXPECT_EQ(i, reinterpret_cast<mxn_initializer*>(kPtrSentinel));
  const char* keys[1] = {"value"};
  mxn_value vals[1] = {v_float(2.5)};
  ASSERT_MXN_OK(mxn_initializer_create("Constant", 1, keys, vals, &i));
  Init c(i);
  Array w = make_f32({2, 2}, {0, 0, 0, 0});
  Array bias = make_f32({2}, {5, 5});
  ASSERT_MXN_OK(mxn_initializer_apply(c.get(), "fc_weight", nullptr, w.get()));
  EXPECT_FLOAT_EQ(read_f32(w.get())[3], 2.5f);
  ASSERT_MXN_OK(mxn_initializer_apply(c.get(), "fc_bias", "", bias.get()));
  EXPECT_FLOAT_EQ(read_f32(bias.get())[0], 0.0f);
  ASSERT_MXN_OK(mxn_initializer_apply(c.get(), "fc_bias", "[\"one\", {}]", bias.get()));
  EXPECT_FLOAT_EQ(read_f32(bias.get())[1], 1.0f);
  EXPECT_MXN_ERR(mxn_initializer_apply(c.get(), "mystery", nullptr, bias.get()),
                 Err(MXN_ERR_INVALID_ARG).says({"mystery"}));
  ASSERT_MXN_OK(mxn_initializer_init_weight(c.get(), "anything", bias.get()));
  EXPECT_FLOAT_EQ(read_f32(bias.get())[1], 2.5f);
  mxn_initializer* x = nullptr;
  ASSERT_MXN_OK(mxn_initializer_from_json("[\"xavier\", {\"magnitude\": 2}]", &x));
  Init xav(x);
  Array vec = make_f32({3}, {0, 0, 0});
  EXPECT_MXN_ERR(mxn_initializer_init_weight(xav.get(), "v_weight", vec.get()),
                 Err(MXN_ERR_SHAPE).says({"2D"}));
  const char* pats[2] = {"fc.*", ".*"};
  mxn_initializer* parts[2] = {c.get(), xav.get()};
  mxn_initializer* m = nullptr;
  const char* badpat[1] = {"("};
  EXPECT_MXN_ERR(mxn_initializer_mixed(1, badpat, parts, &m), Err(MXN_ERR_INVALID_ARG));
  ASSERT_MXN_OK(mxn_initializer_mixed(2, pats, parts, &m));
  Init mixed(m);
  ASSERT_MXN_OK(mxn_initializer_apply(mixed.get(), "fc_weight", nullptr, w.get()));
  mxn_ndarray* arrs[1] = {w.get()};
  const char* names[1] = {"arg:fc_weight"};
  mxn_initializer* l = nullptr;
  ASSERT_MXN_OK(mxn_initializer_load(1, names, arrs, nullptr, &l));
  Init load(l);
  Array w2 = make_f32({2, 2}, {0, 0, 0, 0});
  ASSERT_MXN_OK(mxn_initializer_apply(load.get(), "fc_weight", nullptr, w2.get()));
  EXPECT_FLOAT_EQ(read_f32(w2.get())[0], 2.5f);
  EXPECT_MXN_ERR(mxn_initializer_apply(load.get(), "other_weight", nullptr, w2.get()),
                 Err(MXN_ERR_INVALID_ARG).says({"other_weight"}));
  mxn_initializer* foreign = reinterpret_cast<mxn_initializer*>(op_as_array());
  for (mxn_initializer* h : {static_cast<mxn_initializer*>(nullptr), foreign}) {
    EXPECT_MXN_ERR(mxn_initializer_apply(h, "w", nullptr, w.get()),
                   Err(MXN_ERR_INVALID_ARG).says({"initializer"}));
    EXPECT_MXN_ERR(mxn_initializer_init_weight(h, "w", w.get()), Err(MXN_ERR_INVALID_ARG));
    mxn_initializer_free(h);  // ignored
  }
  EXPECT_MXN_ERR(mxn_initializer_apply(c.get(), nullptr, nullptr, w.get()),
                 Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_initializer_load(1, names, nullptr, nullptr, &l), Err(MXN_ERR_INVALID_ARG));
  expect_library_works();
}

TEST(CapiTrain, Metrics) {
  mxn_metric* m = reinterpret_cast<mxn_metric*>(kPtrSentinel);
  EXPECT_MXN_ERR(mxn_metric_create("nope", 0, nullptr, nullptr, &m),
                 Err(MXN_ERR_INVALID_ARG).says({"metric"}));
  EXPECT_EQ(m, reinterpret_cast<mxn_metric*>(kPtrSentinel));
  ASSERT_MXN_OK(mxn_metric_create("acc", 0, nullptr, nullptr, &m));
  Metric acc(m);
  Array label = make_f32({3}, {0, 1, 1});
  Array pred = make_f32({3, 2}, {0.9f, 0.1f, 0.2f, 0.8f, 0.7f, 0.3f});
  mxn_ndarray* ls[1] = {label.get()};
  mxn_ndarray* ps[2] = {pred.get(), pred.get()};
  ASSERT_MXN_OK(mxn_metric_update(acc.get(), 1, ls, 1, ps));
  double vals[4] = {0, 0, 0, 0};
  int32_t n = kI32;
  ASSERT_MXN_OK(mxn_metric_get(acc.get(), 0, 4, vals, &n));
  EXPECT_EQ(n, 1);
  EXPECT_NEAR(vals[0], 2.0 / 3.0, 1e-12);
  const char* name = kStrSentinel;
  ASSERT_MXN_OK(mxn_metric_name(acc.get(), 0, &name));
  EXPECT_STREQ(name, "accuracy");
  EXPECT_MXN_ERR(mxn_metric_update(acc.get(), 1, ls, 2, ps), Err(MXN_ERR_SHAPE));
  n = kI32;
  EXPECT_MXN_ERR(mxn_metric_get(acc.get(), 0, 0, vals, &n), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(n, kI32);
  ASSERT_MXN_OK(mxn_metric_reset(acc.get(), 1));
  ASSERT_MXN_OK(mxn_metric_get(acc.get(), 0, 4, vals, &n));
  EXPECT_TRUE(std::isnan(vals[0]));
  ASSERT_MXN_OK(mxn_metric_get(acc.get(), 1, 4, vals, &n));
  EXPECT_NEAR(vals[0], 2.0 / 3.0, 1e-12);
  ASSERT_MXN_OK(mxn_metric_reset(acc.get(), 0));
  mxn_metric* c = nullptr;
  ASSERT_MXN_OK(mxn_metric_create("composite", 0, nullptr, nullptr, &c));
  Metric comp(c);
  mxn_metric* ce = nullptr;
  ASSERT_MXN_OK(mxn_metric_create("ce", 0, nullptr, nullptr, &ce));
  Metric cem(ce);
  ASSERT_MXN_OK(mxn_metric_add_child(comp.get(), acc.get()));
  ASSERT_MXN_OK(mxn_metric_add_child(comp.get(), cem.get()));
  EXPECT_MXN_ERR(mxn_metric_add_child(acc.get(), cem.get()), Err(MXN_ERR_INVALID_ARG));
  ASSERT_MXN_OK(mxn_metric_update(comp.get(), 1, ls, 1, ps));
  ASSERT_MXN_OK(mxn_metric_get(comp.get(), 0, 4, vals, &n));
  EXPECT_EQ(n, 2);
  ASSERT_MXN_OK(mxn_metric_name(comp.get(), 1, &name));
  EXPECT_STREQ(name, "cross-entropy");
  const char* keep = name;
  ASSERT_MXN_OK(mxn_metric_name(comp.get(), 1, &name));
  EXPECT_EQ(keep, name);  // borrowed until the metric is freed
  EXPECT_MXN_ERR(mxn_metric_name(comp.get(), 2, &name), Err(MXN_ERR_INVALID_ARG));
  mxn_metric* foreign = reinterpret_cast<mxn_metric*>(op_as_array());
  for (mxn_metric* h : {static_cast<mxn_metric*>(nullptr), foreign}) {
    EXPECT_MXN_ERR(mxn_metric_update(h, 1, ls, 1, ps), Err(MXN_ERR_INVALID_ARG).says({"metric"}));
    EXPECT_MXN_ERR(mxn_metric_reset(h, 0), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_metric_get(h, 0, 4, vals, &n), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_metric_name(h, 0, &name), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_metric_add_child(comp.get(), h), Err(MXN_ERR_INVALID_ARG));
    mxn_metric_free(h);  // ignored
  }
  mxn_ndarray* wrong[1] = {op_as_array()};
  EXPECT_MXN_ERR(mxn_metric_update(acc.get(), 1, wrong, 1, ps), Err(MXN_ERR_INVALID_ARG).arg(0));
  expect_library_works();
}

int g_updater_calls = 0;
int test_updater(const mxn_value* key, mxn_ndarray* grad, mxn_ndarray* weight, void* user) {
  ++g_updater_calls;
  if (user != nullptr) return 7;  // asked to fail
  if (key->type != MXN_VALUE_INT || key->u.i != 3) return 1;
  std::vector<float> g = read_f32(grad);
  std::vector<float> w = read_f32(weight);
  for (size_t i = 0; i < w.size(); ++i) w[i] -= g[i];
  return mxn_ndarray_copy_from_host(weight, w.data(), w.size() * sizeof(float));
}

TEST(CapiKVStore, PushPullUpdaterOptimizer) {
  mxn_kvstore* k = reinterpret_cast<mxn_kvstore*>(kPtrSentinel);
  EXPECT_MXN_ERR(mxn_kvstore_create("dist_sync", &k), Err(MXN_ERR_NOT_IMPLEMENTED));
  EXPECT_MXN_ERR(mxn_kvstore_create(nullptr, &k), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_kvstore_create("local", nullptr), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(k, reinterpret_cast<mxn_kvstore*>(kPtrSentinel));
  ASSERT_MXN_OK(mxn_kvstore_create("local", &k));
  KV kv(k);
  const char* type = nullptr;
  int32_t rank = kI32, nw = kI32;
  ASSERT_MXN_OK(mxn_kvstore_info(kv.get(), &type, &rank, &nw));
  EXPECT_STREQ(type, "local");
  EXPECT_EQ(rank, 0);
  EXPECT_EQ(nw, 1);
  mxn_value keys[2] = {v_int(3), v_str("w")};
  Array a = make_f32({2}, {1, 1});
  Array b = make_f32({2}, {2, 2});
  mxn_ndarray* init[2] = {a.get(), b.get()};
  ASSERT_MXN_OK(mxn_kvstore_init(kv.get(), 2, keys, init));
  EXPECT_MXN_ERR(mxn_kvstore_init(kv.get(), 1, keys, init),
                 Err(MXN_ERR_INVALID_ARG).says({"duplicate"}));
  mxn_value badkey[1] = {v_float(1.0)};
  EXPECT_MXN_ERR(mxn_kvstore_init(kv.get(), 1, badkey, init), Err(MXN_ERR_INVALID_ARG).arg(0));
  // push a list of two values for key 3 and one for "w" (summed, then stored)
  const int32_t counts[2] = {2, 1};
  mxn_ndarray* vals[3] = {a.get(), b.get(), a.get()};
  ASSERT_MXN_OK(mxn_kvstore_push(kv.get(), 2, keys, counts, vals, -1));
  Array o1 = make_f32({2}, {0, 0});
  Array o2 = make_f32({2}, {0, 0});
  Array o3 = make_f32({2}, {0, 0});
  const int32_t ocounts[2] = {2, 1};
  mxn_ndarray* outs[3] = {o1.get(), o2.get(), o3.get()};
  ASSERT_MXN_OK(mxn_kvstore_pull(kv.get(), 2, keys, ocounts, outs, 0));
  EXPECT_FLOAT_EQ(read_f32(o1.get())[0], 3.0f);
  EXPECT_FLOAT_EQ(read_f32(o2.get())[1], 3.0f);
  EXPECT_FLOAT_EQ(read_f32(o3.get())[0], 1.0f);
  Array wrong = make_f32({3}, {0, 0, 0});
  mxn_ndarray* wv[1] = {wrong.get()};
  const int32_t one[1] = {1};
  EXPECT_MXN_ERR(mxn_kvstore_push(kv.get(), 1, keys, one, wv, 0), Err(MXN_ERR_SHAPE).arg(0));
  const int32_t zero[1] = {0};
  EXPECT_MXN_ERR(mxn_kvstore_pull(kv.get(), 1, keys, zero, wv, 0), Err(MXN_ERR_INVALID_ARG));
  mxn_value unknown[1] = {v_str("never")};
  EXPECT_MXN_ERR(mxn_kvstore_pull(kv.get(), 1, unknown, one, outs, 0),
                 Err(MXN_ERR_INVALID_ARG).says({"never"}));
  // pushpull back into the values; broadcast
  ASSERT_MXN_OK(mxn_kvstore_pushpull(kv.get(), 1, keys, one, vals, nullptr, nullptr, 0));
  EXPECT_FLOAT_EQ(read_f32(a.get())[0], 1.0f);
  ASSERT_MXN_OK(mxn_kvstore_pushpull(kv.get(), 1, keys, one, vals, one, outs, 0));
  mxn_value bkey[1] = {v_str("b")};
  mxn_ndarray* bval[1] = {b.get()};
  ASSERT_MXN_OK(mxn_kvstore_broadcast(kv.get(), 1, bkey, bval, one, outs, 0));
  EXPECT_FLOAT_EQ(read_f32(o1.get())[0], 2.0f);
  // a C updater, and its failure
  mxn_ndarray* none_blob = kArrSentinel;
  EXPECT_MXN_ERR(mxn_kvstore_save_optimizer_states(kv.get(), &none_blob),
                 Err(MXN_ERR_INVALID_ARG).says({"optimizer"}));
  ASSERT_MXN_OK(mxn_kvstore_set_updater(kv.get(), test_updater, nullptr));
  g_updater_calls = 0;
  ASSERT_MXN_OK(mxn_kvstore_push(kv.get(), 1, keys, one, vals, 0));
  EXPECT_EQ(g_updater_calls, 1);
  ASSERT_MXN_OK(mxn_kvstore_set_updater(kv.get(), test_updater, kPtrSentinel));
  EXPECT_MXN_ERR(mxn_kvstore_push(kv.get(), 1, keys, one, vals, 0),
                 Err(MXN_ERR_INVALID_ARG).says({"updater failed", "7"}));
  ASSERT_MXN_OK(mxn_kvstore_set_updater(kv.get(), nullptr, nullptr));
  // an optimizer with its state in the core; save / load
  const char* okeys[1] = {"learning_rate"};
  mxn_value ovals[1] = {v_float(0.5)};
  mxn_optimizer* o = nullptr;
  ASSERT_MXN_OK(mxn_optimizer_create("sgd", 1, okeys, ovals, &o));
  Opt opt(o);
  ASSERT_MXN_OK(mxn_kvstore_set_optimizer(kv.get(), opt.get()));
  EXPECT_MXN_ERR(mxn_kvstore_set_optimizer(kv.get(), nullptr), Err(MXN_ERR_INVALID_ARG));
  ASSERT_MXN_OK(mxn_kvstore_push(kv.get(), 1, keys, one, vals, 0));
  int64_t nu = 0;
  ASSERT_MXN_OK(mxn_optimizer_num_update(opt.get(), &nu));
  EXPECT_EQ(nu, 1);
  mxn_ndarray* blob = kArrSentinel;
  ASSERT_MXN_OK(mxn_kvstore_save_optimizer_states(kv.get(), &blob));
  Array bl(blob);
  std::vector<uint8_t> bytes = read<uint8_t>(bl.get());
  ASSERT_MXN_OK(mxn_kvstore_load_optimizer_states(kv.get(), bytes.data(), bytes.size()));
  EXPECT_MXN_ERR(mxn_kvstore_load_optimizer_states(kv.get(), nullptr, 0),
                 Err(MXN_ERR_INVALID_ARG));
  mxn_kvstore* foreign = reinterpret_cast<mxn_kvstore*>(op_as_array());
  for (mxn_kvstore* h : {static_cast<mxn_kvstore*>(nullptr), foreign}) {
    EXPECT_MXN_ERR(mxn_kvstore_info(h, &type, &rank, &nw), Err(MXN_ERR_INVALID_ARG).says({"kv"}));
    EXPECT_MXN_ERR(mxn_kvstore_init(h, 1, keys, init), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_push(h, 1, keys, one, vals, 0), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_pull(h, 1, keys, one, outs, 0), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_pushpull(h, 1, keys, one, vals, nullptr, nullptr, 0),
                   Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_broadcast(h, 1, bkey, bval, one, outs, 0),
                   Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_set_updater(h, test_updater, nullptr), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_set_optimizer(h, opt.get()), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_save_optimizer_states(h, &blob), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_load_optimizer_states(h, bytes.data(), bytes.size()),
                   Err(MXN_ERR_INVALID_ARG));
    mxn_kvstore_free(h);  // ignored
  }
  mxn_kvstore* d = nullptr;
  ASSERT_MXN_OK(mxn_kvstore_create("device", &d));
  KV dev(d);
  ASSERT_MXN_OK(mxn_kvstore_info(dev.get(), &type, nullptr, nullptr));
  EXPECT_STREQ(type, "device");
  expect_library_works();
}

// Distributed KVStore (ABI 1.6). Without a job (this test runs as one plain process, and the
// default build has no libmxnext_mpi.so) the dist types are NOT_IMPLEMENTED; on a local store
// barrier and allreduce_int64 are no-ops, the transport bench is INVALID_ARG.
TEST(CapiKVStoreDist, BarrierAllreduceBenchOnLocalStore) {
  mxn_kvstore* k = nullptr;
  ASSERT_MXN_OK(mxn_kvstore_create("local", &k));
  KV kv(k);
  ASSERT_MXN_OK(mxn_kvstore_barrier(kv.get()));
  int64_t v[3] = {4, -2, 7};
  ASSERT_MXN_OK(mxn_kvstore_allreduce_int64(kv.get(), v, 3, 0));
  EXPECT_EQ(v[0], 4);
  EXPECT_EQ(v[1], -2);
  EXPECT_EQ(v[2], 7);
  ASSERT_MXN_OK(mxn_kvstore_allreduce_int64(kv.get(), v, 0, 2));
  EXPECT_MXN_ERR(mxn_kvstore_allreduce_int64(kv.get(), nullptr, 2, 0), Err(MXN_ERR_INVALID_ARG));
  EXPECT_MXN_ERR(mxn_kvstore_allreduce_int64(kv.get(), v, 1, 3), Err(MXN_ERR_INVALID_ARG));
  double s = -1;
  EXPECT_MXN_ERR(mxn_kvstore_bench_transport(kv.get(), 10, 1, &s), Err(MXN_ERR_INVALID_ARG));
  EXPECT_EQ(s, -1);
  EXPECT_MXN_ERR(mxn_kvstore_bench_transport(kv.get(), 10, 1, nullptr), Err(MXN_ERR_INVALID_ARG));
  mxn_kvstore* foreign = reinterpret_cast<mxn_kvstore*>(op_as_array());
  for (mxn_kvstore* h : {static_cast<mxn_kvstore*>(nullptr), foreign}) {
    EXPECT_MXN_ERR(mxn_kvstore_barrier(h), Err(MXN_ERR_INVALID_ARG).says({"kv"}));
    EXPECT_MXN_ERR(mxn_kvstore_allreduce_int64(h, v, 1, 0), Err(MXN_ERR_INVALID_ARG));
    EXPECT_MXN_ERR(mxn_kvstore_bench_transport(h, 10, 1, &s), Err(MXN_ERR_INVALID_ARG));
  }
  mxn_kvstore* a = nullptr;
  EXPECT_MXN_ERR(mxn_kvstore_create("dist_async", &a), Err(MXN_ERR_NOT_IMPLEMENTED));
  EXPECT_EQ(a, nullptr);
  expect_library_works();
}

}  // namespace
