// core/base: shapes, axes, dtypes, half_t, environment parsing, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "core/base/dtype.h"
#include "core/base/env.h"
#include "core/base/error.h"
#include "core/base/half.h"
#include "core/base/shape.h"

namespace mxn {
namespace {

template <typename F>
Error catch_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no mxn::Error thrown";
  return Error(ErrorCode::kOk, "");
}

// ---- Shape ---------------------------------------------------------------------------------

TEST(Shape, ScalarHasSizeOne) {
  Shape s;
  EXPECT_EQ(s.ndim(), 0);
  EXPECT_EQ(s.size(), 1);
  EXPECT_EQ(s.str(), "()");
  EXPECT_EQ(Shape({}), s);
}

TEST(Shape, SizesAndStrings) {
  EXPECT_EQ(Shape({7}).size(), 7);
  EXPECT_EQ(Shape({7}).str(), "(7,)");
  EXPECT_EQ(Shape({2, 3}).size(), 6);
  EXPECT_EQ(Shape({2, 3}).str(), "(2,3)");
  EXPECT_EQ(Shape({2, 3, 4, 5}).size(), 120);
  EXPECT_EQ(Shape({2, 3, 4, 5}).str(), "(2,3,4,5)");
  EXPECT_EQ(Shape({2, 0, 5}).size(), 0);
  EXPECT_EQ(Shape({0}).size(), 0);
  EXPECT_EQ(Shape({0}).str(), "(0,)");
  EXPECT_NE(Shape({2, 3}), Shape({3, 2}));
  EXPECT_NE(Shape({2, 3}), Shape({2, 3, 1}));
  EXPECT_EQ(Shape({2, 3}), Shape({2, 3}));
}

TEST(Shape, OverflowIsAShapeError) {
  const int64_t big = int64_t{1} << 32;
  Shape s({big, big});
  Error e = catch_error([&] { (void)s.size(); });
  EXPECT_EQ(e.code(), ErrorCode::kShape);
  EXPECT_NE(e.message().find("(4294967296,4294967296)"), std::string::npos) << e.message();
  // A zero dimension anywhere makes the size 0, even next to huge ones.
  EXPECT_EQ(Shape({big, big, 0}).size(), 0);
  EXPECT_EQ(Shape({0, big, big}).size(), 0);
  // Just under the limit is fine.
  EXPECT_EQ(Shape({int64_t{1} << 31, int64_t{1} << 31}).size(), int64_t{1} << 62);
  const int64_t dims[2] = {big, big};
  EXPECT_EQ(catch_error([&] { Shape::from_dims(dims, 2); }).code(), ErrorCode::kShape);
}

TEST(Shape, FromDimsValidates) {
  const int64_t dims[3] = {2, -1, 3};
  Error e = catch_error([&] { Shape::from_dims(dims, 3, "weight"); });
  EXPECT_EQ(e.code(), ErrorCode::kShape);
  EXPECT_NE(e.message().find("weight"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("dimension 1"), std::string::npos) << e.message();

  int64_t many[kMaxNdim + 1];
  for (auto& d : many) d = 1;
  EXPECT_EQ(catch_error([&] { Shape::from_dims(many, kMaxNdim + 1); }).code(), ErrorCode::kShape);
  EXPECT_EQ(catch_error([&] { Shape::from_dims(many, -1); }).code(), ErrorCode::kShape);
  EXPECT_EQ(Shape::from_dims(many, kMaxNdim).ndim(), kMaxNdim);
  EXPECT_EQ(catch_error([&] { Shape::from_dims(nullptr, 2); }).code(), ErrorCode::kInvalidArg);
  EXPECT_EQ(Shape::from_dims(nullptr, 0), Shape());

  const int64_t ok[2] = {4, 5};
  Shape s = Shape::from_dims(ok, 2);
  EXPECT_EQ(s, Shape({4, 5}));
}

TEST(Shape, TooManyDimensions) {
  Shape s;
  for (int i = 0; i < kMaxNdim; ++i) s.push_back(1);
  EXPECT_EQ(s.ndim(), kMaxNdim);
  EXPECT_EQ(catch_error([&] { s.push_back(1); }).code(), ErrorCode::kShape);
  EXPECT_EQ(catch_error([&] { s.resize(kMaxNdim + 1); }).code(), ErrorCode::kShape);
  EXPECT_EQ(catch_error([&] {
              Shape t({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
            }).code(),
            ErrorCode::kShape);
  Shape r({2, 3});
  r.resize(4, 9);
  EXPECT_EQ(r, Shape({2, 3, 9, 9}));
  r.resize(1);
  EXPECT_EQ(r, Shape({2}));
}

TEST(Shape, NormalizeAxis) {
  EXPECT_EQ(normalize_axis(0, 3), 0);
  EXPECT_EQ(normalize_axis(2, 3), 2);
  EXPECT_EQ(normalize_axis(-1, 3), 2);
  EXPECT_EQ(normalize_axis(-3, 3), 0);
  EXPECT_EQ(normalize_axis(0, 0), 0);  // a scalar accepts axis 0 and -1
  EXPECT_EQ(normalize_axis(-1, 0), 0);

  Error e = catch_error([] { normalize_axis(3, 3); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArg);
  EXPECT_EQ(e.axis(), 3);
  EXPECT_NE(e.message().find("axis 3"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("3 dimensions"), std::string::npos) << e.message();

  e = catch_error([] { normalize_axis(-4, 3, "reduce axis"); });
  EXPECT_EQ(e.axis(), -4);
  EXPECT_NE(e.message().find("reduce axis -4"), std::string::npos) << e.message();

  e = catch_error([] { normalize_axis(1, 1); });
  EXPECT_EQ(e.axis(), 1);
  EXPECT_NE(e.message().find("1 dimension"), std::string::npos) << e.message();
  EXPECT_EQ(catch_error([] { normalize_axis(1, 0); }).axis(), 1);
}

// ---- dtypes --------------------------------------------------------------------------------

TEST(DType, MXNetFlagsNamesAndSizes) {
  struct Row {
    DType t;
    int flag;
    const char* name;
    size_t size;
    bool is_float;
  };
  const Row rows[] = {
      {DType::kFloat32, 0, "float32", 4, true}, {DType::kFloat64, 1, "float64", 8, true},
      {DType::kFloat16, 2, "float16", 2, true}, {DType::kUint8, 3, "uint8", 1, false},
      {DType::kInt32, 4, "int32", 4, false},    {DType::kInt8, 5, "int8", 1, false},
      {DType::kInt64, 6, "int64", 8, false},    {DType::kBool, 7, "bool", 1, false},
  };
  EXPECT_EQ(kNumDTypes, 8);
  for (const Row& r : rows) {
    EXPECT_EQ(static_cast<int>(r.t), r.flag) << r.name;
    EXPECT_STREQ(dtype_name(r.t), r.name);
    EXPECT_EQ(dtype_size(r.t), r.size) << r.name;
    EXPECT_EQ(dtype_is_float(r.t), r.is_float) << r.name;
    DType parsed = DType::kBool;
    ASSERT_TRUE(dtype_from_name(r.name, &parsed)) << r.name;
    EXPECT_EQ(parsed, r.t);
    EXPECT_EQ(dtype_checked(r.flag), r.t);
    EXPECT_TRUE(dtype_valid(r.flag));
  }
  EXPECT_EQ(sizeof(half_t), 2u);
}

TEST(DType, UnknownNamesAndCodes) {
  DType t = DType::kInt8;
  EXPECT_FALSE(dtype_from_name("float", &t));
  EXPECT_FALSE(dtype_from_name("Float32", &t));
  EXPECT_FALSE(dtype_from_name("", &t));
  EXPECT_FALSE(dtype_from_name(nullptr, &t));
  EXPECT_EQ(t, DType::kInt8);  // untouched
  EXPECT_FALSE(dtype_valid(8));
  EXPECT_FALSE(dtype_valid(-1));
  Error e = catch_error([] { dtype_checked(8); });
  EXPECT_EQ(e.code(), ErrorCode::kDType);
  EXPECT_NE(e.message().find("8"), std::string::npos) << e.message();
  EXPECT_EQ(catch_error([] { dtype_checked(-1); }).code(), ErrorCode::kDType);
}

TEST(DType, SwitchBindsTheCppType) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = static_cast<DType>(i);
    size_t size = 0;
    MXN_DTYPE_SWITCH(t, T, { size = sizeof(T); });
    EXPECT_EQ(size, dtype_size(t)) << dtype_name(t);
  }
  EXPECT_EQ(catch_error([] {
              MXN_DTYPE_SWITCH(static_cast<DType>(9), T, { (void)sizeof(T); });
            }).code(),
            ErrorCode::kDType);
}

// ---- half_t --------------------------------------------------------------------------------

uint32_t float_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}
float bits_float(uint32_t x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

// The exact value of a finite binary16 bit pattern, computed independently in double.
double half_exact(uint16_t h) {
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  return sign * std::ldexp(1024 + mant, exp - 25);
}

TEST(Half, EveryBitPatternRoundTrips) {
  int nans = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    const float f = half_bits_to_float(h);
    const bool is_nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff) != 0;
    if (is_nan) {
      ++nans;
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      const uint16_t back = float_to_half_bits(f);
      ASSERT_EQ(back & 0x7c00, 0x7c00) << std::hex << h;
      ASSERT_NE(back & 0x3ff, 0) << "NaN became inf: " << std::hex << h;
      ASSERT_EQ(back & 0x8000, h & 0x8000) << "NaN sign lost: " << std::hex << h;
      continue;
    }
    if (((h >> 10) & 0x1f) == 0x1f) {
      ASSERT_TRUE(std::isinf(f)) << std::hex << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0);
    } else {
      ASSERT_EQ(static_cast<double>(f), half_exact(h)) << std::hex << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;  // -0 keeps its sign
    }
    ASSERT_EQ(float_to_half_bits(f), h) << std::hex << h;
    half_t ht;
    ht.bits = h;
    ASSERT_EQ(half_t(static_cast<float>(ht)).bits, h);
  }
  EXPECT_EQ(nans, 2 * 1023);
}

TEST(Half, RoundingCases) {
  struct Case {
    float f;
    uint16_t h;
  };
  const float sub = std::ldexp(1.0f, -24);  // the smallest subnormal half
  const Case cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {0.5f, 0x3800},
      {65504.0f, 0x7bff},                         // the largest finite half
      {65519.0f, 0x7bff},                         // below the midpoint to 65536
      {65520.0f, 0x7c00},                         // the midpoint: ties to even = overflow
      {1e6f, 0x7c00},                             // overflow to inf
      {-1e6f, 0xfc00},
      {std::numeric_limits<float>::max(), 0x7c00},
      {std::numeric_limits<float>::infinity(), 0x7c00},
      {-std::numeric_limits<float>::infinity(), 0xfc00},
      {1.0f + std::ldexp(1.0f, -11), 0x3c00},     // tie between 0x3c00 and 0x3c01: even
      {1.0f + 3 * std::ldexp(1.0f, -11), 0x3c02}, // tie between 0x3c01 and 0x3c02: even
      {std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f), 0x3c01},  // just above the tie
      {std::ldexp(1.0f, -14), 0x0400},            // the smallest normal half
      {sub, 0x0001},
      {-sub, 0x8001},
      {1023 * sub, 0x03ff},                       // the largest subnormal
      {1023.5f * sub, 0x0400},                    // tie: rounds up to the even normal
      {0.5f * sub, 0x0000},                       // tie between 0 and the smallest: even (0)
      {std::nextafter(0.5f * sub, 1.0f), 0x0001}, // just above it
      {1.5f * sub, 0x0002},                       // tie between 1 and 2: even
      {2.5f * sub, 0x0002},                       // tie between 2 and 3: even
      {0.25f * sub, 0x0000},
      {-0.25f * sub, 0x8000},
      {std::numeric_limits<float>::denorm_min(), 0x0000},  // float subnormals underflow
      {0.1f, 0x2e66},
      {3.14159265f, 0x4248},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(float_to_half_bits(c.f), c.h)
        << c.f << " (float bits 0x" << std::hex << float_bits(c.f) << ")";
  }
  EXPECT_TRUE(std::isnan(static_cast<float>(half_t(std::nanf("")))));
}

TEST(Half, MidpointsBetweenNeighboursRoundToEven) {
  // For every pair of adjacent finite positive halves, the float midpoint rounds to the one
  // with an even mantissa, and the floats just either side round to the nearer one.
  for (uint16_t h = 0; h < 0x7bff; ++h) {
    const double lo = half_exact(h), hi = half_exact(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((lo + hi) / 2);  // exact in float
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : h;
    ASSERT_EQ(float_to_half_bits(mid), even) << std::hex << h;
    ASSERT_EQ(float_to_half_bits(std::nextafter(mid, 0.0f)), h) << std::hex << h;
    ASSERT_EQ(float_to_half_bits(std::nextafter(mid, 1e9f)), h + 1) << std::hex << h;
    ASSERT_EQ(float_to_half_bits(-mid), even | 0x8000) << std::hex << h;
  }
}

TEST(Half, Conversions) {
  EXPECT_EQ(static_cast<float>(half_t(1.5f)), 1.5f);
  EXPECT_EQ(static_cast<float>(half_t(2.25)), 2.25f);
  EXPECT_EQ(static_cast<float>(half_t(3)), 3.0f);
  EXPECT_EQ(static_cast<float>(half_t(int64_t{-2048})), -2048.0f);
  EXPECT_EQ(static_cast<float>(half_t(2049)), 2048.0f);  // tie to even
  EXPECT_EQ(half_t().bits, 0);
  EXPECT_EQ(bits_float(float_bits(1.0f)), 1.0f);
}

// ---- environment ---------------------------------------------------------------------------

TEST(Env, IntParsing) {
  const char* name = "MXNEXT_TEST_ENV_INT";
  ::unsetenv(name);
  EXPECT_EQ(env_int(name, 17), 17);
  ::setenv(name, "", 1);
  EXPECT_EQ(env_int(name, 17), 17);
  ::setenv(name, "42", 1);
  EXPECT_EQ(env_int(name, 17), 42);
  ::setenv(name, "-7", 1);
  EXPECT_EQ(env_int(name, 17), -7);
  ::setenv(name, "9223372036854775807", 1);
  EXPECT_EQ(env_int(name, 0), std::numeric_limits<int64_t>::max());
  for (const char* bad : {"12abc", "abc", "1.5", "99999999999999999999", "4 "}) {
    ::setenv(name, bad, 1);
    Error e = catch_error([&] { env_int(name, 0); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArg) << bad;
    EXPECT_NE(e.message().find(name), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(bad), std::string::npos) << e.message();
  }
  ::unsetenv(name);
}

TEST(Env, StringValues) {
  const char* name = "MXNEXT_TEST_ENV_STR";
  ::unsetenv(name);
  EXPECT_EQ(env_str(name, "dflt"), "dflt");
  ::setenv(name, "", 1);
  EXPECT_EQ(env_str(name, "dflt"), "dflt");
  ::setenv(name, "naive", 1);
  EXPECT_EQ(env_str(name, "dflt"), "naive");
  ::unsetenv(name);
}

// ---- errors --------------------------------------------------------------------------------

TEST(Error, FieldsKindsAndMessages) {
  EXPECT_STREQ(error_kind(ErrorCode::kShape), "ShapeError");
  EXPECT_STREQ(error_kind(ErrorCode::kOutOfMemory), "OutOfMemory");
  EXPECT_STREQ(error_kind(ErrorCode::kInternal), "InternalError");
  EXPECT_STREQ(error_kind(static_cast<ErrorCode>(99)), "UnknownError");
  Error e(ErrorCode::kShape, "bad");
  EXPECT_EQ(e.arg_index(), kNoField);
  EXPECT_EQ(e.axis(), kNoField);
  e.with_op("dot").with_arg(1).with_axis(-1);
  e.prefix("dot");
  EXPECT_EQ(e.message(), "dot: bad");
  EXPECT_STREQ(e.what(), "dot: bad");
  EXPECT_EQ(e.op_name(), "dot");
  EXPECT_EQ(e.arg_index(), 1);
  EXPECT_EQ(e.axis(), -1);
  EXPECT_EQ(cat("a", 1, ' ', true, ' ', 2.5, ' ', static_cast<const char*>(nullptr)),
            "a1 true 2.5 (null)");
  Error c = catch_error([] { MXN_CHECK(1 == 2, ErrorCode::kIO, "x=", 3); });
  EXPECT_EQ(c.code(), ErrorCode::kIO);
  EXPECT_EQ(c.message(), "x=3");
}

}  // namespace
}  // namespace mxn
