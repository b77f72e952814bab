// core/base/portable_math: accuracy against the C library's functions on a grid of inputs,
// exact values, and special values. (That the results are the same bits in WebAssembly is
// checked by the conformance suite: JS's results lines equal Python's.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/base/portable_math.h"

namespace mxn {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Distance in units in the last place of b (ordered bit patterns, so it is exact).
double ulps(double a, double b) {
  if (a == b) return 0;
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1e300;
  auto ordered = [](double x) {
    int64_t i;
    std::memcpy(&i, &x, sizeof i);
    return i < 0 ? std::numeric_limits<int64_t>::min() - i : i;
  };
  return std::fabs(static_cast<double>(ordered(a) - ordered(b)));
}

// Inputs in [lo, hi]: an even grid plus a geometric one when the range is positive.
std::vector<double> grid(double lo, double hi, int n = 20011) {
  std::vector<double> xs;
  for (int i = 0; i <= n; ++i) xs.push_back(lo + (hi - lo) * i / n);
  if (lo > 0) {
    for (int i = 0; i <= n; ++i) xs.push_back(lo * std::pow(hi / lo, double(i) / n));
  }
  return xs;
}

struct Case {
  std::string name;
  double (*ours)(double);
  double (*libc)(double);
  double lo, hi;
  double max_ulps;  // our error plus the C library's (glibc's are within 1-5 ulp)
};

double libc_tanh(double x) { return std::tanh(x); }
double libc_log10(double x) { return std::log10(x); }
double libc_acos(double x) { return std::acos(x); }
double libc_cbrt(double x) { return std::cbrt(x); }
double libc_erf(double x) { return std::erf(x); }
double libc_tgamma(double x) { return std::tgamma(x); }
double libc_exp(double x) { return std::exp(x); }
double libc_expm1(double x) { return std::expm1(x); }
double libc_log(double x) { return std::log(x); }

class PortableMath : public ::testing::TestWithParam<Case> {};

TEST_P(PortableMath, DoubleWithinUlpsOfTheCLibrary) {
  const Case& c = GetParam();
  double worst = 0, at = 0;
  for (double x : grid(c.lo, c.hi)) {
    const double e = ulps(c.ours(x), c.libc(x));
    if (e > worst) {
      worst = e;
      at = x;
    }
  }
  EXPECT_LE(worst, c.max_ulps) << c.name << " at x=" << at << ": " << c.ours(at) << " vs "
                               << c.libc(at);
}

TEST_P(PortableMath, FloatIsTheRoundedDouble) {
  const Case& c = GetParam();
  for (double xd : grid(c.lo, c.hi, 4001)) {
    const float x = static_cast<float>(xd);
    const double ref = c.libc(static_cast<double>(x));
    if (std::fabs(ref) > std::numeric_limits<float>::max()) continue;
    float ours;
    if (c.name == "tanh") ours = pmath::tanh(x);
    else if (c.name == "log10") ours = pmath::log10(x);
    else if (c.name == "acos") ours = pmath::acos(x);
    else if (c.name == "cbrt") ours = pmath::cbrt(x);
    else if (c.name == "erf") ours = pmath::erf(x);
    else if (c.name == "tgamma") ours = pmath::tgamma(x);
    else continue;  // exp, expm1, log have no float version
    ASSERT_LE(ulps(ours, static_cast<float>(ref)), 1) << c.name << "(" << x << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Functions, PortableMath,
    ::testing::Values(
        Case{"tanh", pmath::tanh, libc_tanh, -25, 25, 4},
        Case{"tanh", pmath::tanh, libc_tanh, 1e-12, 0.6, 4},
        Case{"log10", pmath::log10, libc_log10, 1e-300, 1e300, 3},
        Case{"log10", pmath::log10, libc_log10, 0.5, 2, 3},
        Case{"acos", pmath::acos, libc_acos, -1, 1, 3},
        Case{"cbrt", pmath::cbrt, libc_cbrt, -1e6, 1e6, 4},
        Case{"cbrt", pmath::cbrt, libc_cbrt, 1e-310, 1e300, 4},
        Case{"erf", pmath::erf, libc_erf, -7, 7, 12},
        Case{"erf", pmath::erf, libc_erf, 1e-20, 1, 4},
        Case{"tgamma", pmath::tgamma, libc_tgamma, 1e-8, 171, 24},
        Case{"tgamma", pmath::tgamma, libc_tgamma, -40.5, -1e-8, 24},
        Case{"exp", pmath::exp, libc_exp, -745, 709, 2},
        Case{"expm1", pmath::expm1, libc_expm1, -40, 700, 3},
        Case{"expm1", pmath::expm1, libc_expm1, 1e-15, 0.5, 3},
        Case{"log", pmath::log, libc_log, 1e-300, 1e300, 2}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return info.param.name + std::to_string(info.index);
    });

TEST(PortableMathExact, ValuesThatHaveAnExactAnswer) {
  double fact = 1;
  for (int n = 1; n <= 23; ++n) {
    EXPECT_EQ(pmath::tgamma(double(n)), fact) << "Gamma(" << n << ")";
    fact *= n;
  }
  EXPECT_EQ(pmath::cbrt(27.0), 3.0);
  EXPECT_EQ(pmath::cbrt(-8.0), -2.0);
  EXPECT_EQ(pmath::cbrt(0.125), 0.5);
  for (int k = 0; k <= 22; ++k) EXPECT_EQ(pmath::log10(std::pow(10.0, k)), k) << "10^" << k;
  EXPECT_EQ(pmath::acos(1.0), 0.0);
  EXPECT_EQ(pmath::acos(-1.0), 3.141592653589793);
  EXPECT_EQ(pmath::acos(0.0), 1.5707963267948966);
  EXPECT_EQ(pmath::erf(0.0), 0.0);
  EXPECT_EQ(pmath::tanh(0.0), 0.0);
  EXPECT_EQ(pmath::exp(0.0), 1.0);
  EXPECT_EQ(pmath::log(1.0), 0.0);
  EXPECT_LE(ulps(pmath::tgamma(0.5), 1.7724538509055159), 1);  // sqrt(pi)
}

TEST(PortableMathExact, SpecialValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto f : {pmath::tanh, pmath::log10, pmath::acos, pmath::cbrt, pmath::erf, pmath::tgamma,
                 pmath::exp, pmath::expm1, pmath::log}) {
    EXPECT_TRUE(std::isnan(f(nan)));
  }
  EXPECT_EQ(pmath::tanh(kInf), 1.0);
  EXPECT_EQ(pmath::tanh(-kInf), -1.0);
  EXPECT_TRUE(std::signbit(pmath::tanh(-0.0)));
  EXPECT_EQ(pmath::erf(kInf), 1.0);
  EXPECT_EQ(pmath::erf(-kInf), -1.0);
  EXPECT_EQ(pmath::log10(0.0), -kInf);
  EXPECT_TRUE(std::isnan(pmath::log10(-1.0)));
  EXPECT_EQ(pmath::log10(kInf), kInf);
  EXPECT_TRUE(std::isnan(pmath::acos(1.5)));
  EXPECT_EQ(pmath::cbrt(-kInf), -kInf);
  EXPECT_TRUE(std::signbit(pmath::cbrt(-0.0)));
  EXPECT_EQ(pmath::tgamma(0.0), kInf);
  EXPECT_EQ(pmath::tgamma(-0.0), -kInf);
  EXPECT_TRUE(std::isnan(pmath::tgamma(-1.0)));
  EXPECT_TRUE(std::isnan(pmath::tgamma(-kInf)));
  EXPECT_EQ(pmath::tgamma(kInf), kInf);
  EXPECT_EQ(pmath::tgamma(172.0), kInf);
  EXPECT_EQ(pmath::tgamma(-200.5), 0.0);
  EXPECT_EQ(pmath::exp(710.0), kInf);
  EXPECT_EQ(pmath::exp(-746.0), 0.0);
  EXPECT_EQ(pmath::expm1(-50.0), -1.0);
  EXPECT_GT(pmath::exp(-740.0), 0.0);  // subnormal, not flushed
}

}  // namespace
}  // namespace mxn
