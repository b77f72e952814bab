// Portable math: see portable_math.h. Only +, -, *, /, sqrt, floor, fmod and exact
// bit manipulation are used; the file is compiled with -ffp-contract=off (core/CMakeLists.txt) so
// no compiler fuses a*b+c where one target has FMA and another does not.
#include "core/base/portable_math.h"

#include <cmath>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <limits>

namespace mxn::pmath {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// ln 2 split so that k * kLn2Hi is exact for |k| < 2^11 (the low 32 bits of kLn2Hi are zero).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.44269504088896338700e+00;
constexpr double kPi = 3.14159265358979311600e+00;
constexpr double kPio2Hi = 1.57079632679489655800e+00;
constexpr double kPio2Lo = 6.12323399573676603587e-17;
constexpr double kTwoOverSqrtPi = 1.12837916709551255856e+00;

uint64_t bits_of(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
double from_bits(uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
// 2^k for -1022 <= k <= 1023, exactly.
double pow2(int k) { return from_bits(static_cast<uint64_t>(k + 1023) << 52); }
// x * 2^k for any k, exact unless the result over- or underflows.
double scale(double x, int k) {
  while (k > 1023) {
    x *= pow2(1023);
    k -= 1023;
  }
  while (k < -1022) {
    x *= pow2(-1022);
    k += 1022;
    if (x == 0) return x;
  }
  return x * pow2(k);
}
// The largest double whose low 32 bits are zero, not above |x| in magnitude: products of two
// such halves are exact.
double high_half(double x) { return from_bits(bits_of(x) & 0xffffffff00000000ULL); }

// Polynomial c[0] + c[1] t + ... by Horner's rule.
template <size_t N>
double horner(const double (&c)[N], double t) {
  double r = c[N - 1];
  for (size_t i = N - 1; i-- > 0;) r = r * t + c[i];
  return r;
}

// x = k ln2 + r, |r| <= ln2/2 (a little more after rounding); k as a double.
double reduce_ln2(double x, double* k) {
  *k = std::floor(x * kLog2e + 0.5);
  return (x - *k * kLn2Hi) - *k * kLn2Lo;
}

// e^r - 1 for |r| <= 0.35: r + r^2 E(r / 0.35), E a Chebyshev fit at 60 digits (0.6 ulp).
double expm1_small(double r) {
  static constexpr double kExpm1[] = {
      0.5,
      0.05833333333333333,
      0.005104166666666666,
      0.0003572916666666667,
      2.0842013888888887e-05,
      1.0421006944438e-06,
      4.559190538192167e-08,
      1.7730185448387804e-09,
      6.205564905709369e-11,
      1.9744942436859555e-12,
      5.758942741525077e-14,
      1.5534292905744684e-15,
      3.8831485219470156e-17,
  };
  return r + r * r * horner(kExpm1, r / 0.35);
}

// log(1 + f) for m = 1 + f in [sqrt(1/2), sqrt(2)), returned as hi + lo with hi's low 32 bits
// zero: 2 atanh(s), s = f / (2 + f), written as f - f^2/2 + s (f^2/2 + R) to keep f exact.
void log1p_reduced(double f, double* hi, double* lo) {
  const double s = f / (2.0 + f);
  const double z = s * s;
  double q = 2.0 / 25;
  for (int n = 11; n >= 1; --n) q = q * z + 2.0 / (2 * n + 1);
  const double r = z * q;
  const double hfsq = 0.5 * f * f;
  *hi = high_half(f - hfsq);
  *lo = (f - *hi) - hfsq + s * (hfsq + r);
}

// x = 2^k * (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); x positive and finite.
double split_log(double x, int* k) {
  int e = 0;
  if (x < std::numeric_limits<double>::min()) {  // subnormal
    x *= pow2(54);
    e = -54;
  }
  const uint64_t b = bits_of(x);
  e += static_cast<int>((b >> 52) & 0x7ff) - 1023;
  double m = from_bits((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 1.41421356237309504880) {
    m *= 0.5;
    e += 1;
  }
  *k = e;
  return m - 1.0;
}

// Error-free sum: s + err == a + b exactly.
double two_sum(double a, double b, double* err) {
  const double s = a + b;
  const double bb = s - a;
  *err = (a - (s - bb)) + (b - bb);
  return s;
}

// asin(t) for |t| <= 0.5: t + t^3 (1/6 + 3/40 t^2 + ...), the series of (2n)!/(4^n n!^2 (2n+1));
// 30 terms leave less than 2^-60 of t.
double asin_small(double t) {
  constexpr int kTerms = 30;
  static const auto* coef = [] {
    static double c[kTerms];
    double a = 1.0;  // (2n)! / (4^n n!^2)
    for (int n = 1; n <= kTerms; ++n) {
      a = a * (2 * n - 1) / (2 * n);
      c[n - 1] = a / (2 * n + 1);
    }
    return c;
  }();
  const double z = t * t;
  double p = coef[kTerms - 1];
  for (int i = kTerms - 2; i >= 0; --i) p = p * z + coef[i];
  return t + t * z * p;
}

// sin(pi x) for any finite x (exact reduction: x - floor(x) is exact for |x| < 2^52).
double sinpi(double x) {
  double sign = 1.0;
  if (x < 0) {
    x = -x;
    sign = -1.0;
  }
  const double n = std::floor(x);
  double f = x - n;
  if (std::fmod(n, 2.0) != 0) sign = -sign;
  if (f > 0.5) f = 1.0 - f;
  const double a = kPi * f;  // in [0, pi/2]
  const double z = a * a;
  double p = 0.0;
  for (int n2 = 23; n2 >= 3; n2 -= 2) p = (p + 1.0) * (-z / (n2 * (n2 - 1)));
  return sign * (a + a * p);
}

// Gamma on [1, 2]: a degree-28 polynomial in t = 2 (y - 1.5), Chebyshev-fitted to Gamma at 60
// digits (relative error under 1.2 ulp with this evaluation).
double gamma_1_2(double y) {
  constexpr double kCoef[] = {
    0.886226925452758,
    0.016169198724442505,
    0.1037033634220753,
    -0.013411850570596526,
    0.009040334940288847,
    -0.0024225953843704296,
    0.0009157859971433651,
    -0.00029689012152266277,
    0.00010092815021801993,
    -3.363758420293808e-05,
    1.1252456435839803e-05,
    -3.754986038580194e-06,
    1.2528426641546386e-06,
    -4.1782247504317845e-07,
    1.393181722303206e-07,
    -4.644836290171452e-08,
    1.548457882189342e-08,
    -5.1611533940024525e-09,
    1.7203745976431115e-09,
    -5.746365080917308e-10,
    1.916447373122226e-10,
    -6.255145766158854e-11,
    2.077043913748168e-11,
    -7.975423291307641e-12,
    2.702043337345984e-12,
    -3.536829758118692e-13,
    1.0395388224083182e-13,
    -2.0295872344391375e-13,
    6.964443364804053e-14};
  return horner(kCoef, 2.0 * (y - 1.5));
}

}  // namespace

double exp(double x) {
  if (x != x) return x;
  if (x > 709.782712893383973096) return kInf;
  if (x < -745.133219101941108420) return 0.0;
  double k;
  const double r = reduce_ln2(x, &k);
  return scale(1.0 + expm1_small(r), static_cast<int>(k));
}

double expm1(double x) {
  if (x != x) return x;
  if (x > 709.782712893383973096) return kInf;
  if (x < -40.0) return -1.0;
  if (x > -0.34657359027997264 && x < 0.34657359027997264) return expm1_small(x);
  double k;
  const double r = reduce_ln2(x, &k);
  const double e = expm1_small(r);
  if (k > 1000) return scale(1.0 + e, static_cast<int>(k));
  const double t = pow2(static_cast<int>(k));
  return (t - 1.0) + t * e;  // t - 1 is exact for -53 <= k <= 52
}

double log(double x) {
  if (x != x) return x;
  if (x < 0) return kNaN;
  if (x == 0) return -kInf;
  if (x == kInf) return x;
  int k;
  const double f = split_log(x, &k);
  double hi, lo;
  log1p_reduced(f, &hi, &lo);
  return k * kLn2Hi + ((hi + lo) + k * kLn2Lo);
}

double log10(double x) {
  if (x != x) return x;
  if (x < 0) return kNaN;
  if (x == 0) return -kInf;
  if (x == kInf) return x;
  // log10(2) and 1/ln(10), each split so that the products with k and with hi are exact.
  constexpr double kLog10_2Hi = 3.01029995663611771306e-01;
  constexpr double kLog10_2Lo = 3.69423907715893078616e-13;
  constexpr double kInvLn10Hi = 4.34294481878168880939e-01;
  constexpr double kInvLn10Lo = 2.50829467116452752298e-11;
  int k;
  const double f = split_log(x, &k);
  double hi, lo;
  log1p_reduced(f, &hi, &lo);
  const double w = k * kLog10_2Hi;
  const double val_hi = hi * kInvLn10Hi;
  const double val_lo = k * kLog10_2Lo + ((lo + hi) * kInvLn10Lo + lo * kInvLn10Hi);
  double err;
  const double s = two_sum(w, val_hi, &err);
  return s + (err + val_lo);
}

double tanh(double x) {
  if (x != x) return x;
  const double a = x < 0 ? -x : x;
  double r;
  if (a > 22.0) {
    r = 1.0;  // tanh(22) rounds to 1
  } else if (a < 0x1p-28) {
    r = a;
  } else if (a < 0.5477) {
    // x + x^3 T(z), z = x^2 in [0, 0.3], T a Chebyshev fit at 60 digits (0.5 ulp)
    static constexpr double kTanhSmall[] = {
        -0.31447803939209407,
        0.017776180077781388,
        -0.0010172806124162678,
        5.8289726778699435e-05,
        -3.3404497137962673e-06,
        1.9143660218415596e-07,
        -1.097099067570143e-08,
        6.287338597997892e-10,
        -3.603195608329245e-11,
        2.06485503016063e-12,
        -1.1833330305829198e-13,
        6.854761932653752e-15,
        -3.931609558722622e-16,
    };
    const double z = a * a;
    r = a + a * z * horner(kTanhSmall, z / 0.15 - 1.0);
  } else {
    const double t = expm1(2.0 * a);
    r = t / (t + 2.0);
  }
  return x < 0 ? -r : r;
}

double acos(double x) {
  if (x != x) return x;
  if (x > 1.0 || x < -1.0) return kNaN;
  if (x <= 0.5 && x >= -0.5) return kPio2Hi - (asin_small(x) - kPio2Lo);
  if (x > 0) return 2.0 * asin_small(std::sqrt((1.0 - x) * 0.5));
  // pi - 2 asin(t) = 2 (pi/2 - asin(t))
  return 2.0 * (kPio2Hi - (asin_small(std::sqrt((1.0 + x) * 0.5)) - kPio2Lo));
}

double cbrt(double x) {
  if (x != x || x == 0 || x == kInf || x == -kInf) return x;
  double a = x < 0 ? -x : x;
  int e = 0;
  if (a < std::numeric_limits<double>::min()) {
    a *= pow2(54);
    e = -54;
  }
  const uint64_t b = bits_of(a);
  e += static_cast<int>((b >> 52) & 0x7ff) - 1023;
  // a = m * 2^(3q), m in [1, 8)
  const int q = (e >= 0 ? e : e - 2) / 3;
  const double m = from_bits((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL) * pow2(e - 3 * q);
  // A quadratic through (1, 1), (3.375, 1.5), (8, 2): within 3% of m^(1/3) on [1, 8).
  double y = 0.740095 + m * (0.274536 - m * 0.014631);
  for (int i = 0; i < 5; ++i) {  // Halley: the error cubes each step
    const double y3 = y * y * y;
    y = y * (y3 + 2.0 * m) / (2.0 * y3 + m);
  }
  y = y - (y * y * y - m) / (3.0 * y * y);  // a last Newton step settles the final ulp
  const double r = scale(y, q);
  return x < 0 ? -r : r;
}

double erf(double x) {
  if (x != x) return x;
  // Chebyshev fits at 60 digits, as polynomials in t over each interval (within 1.2 ulp):
  // [0, 1): erf(x) = x P(2x^2 - 1); [1, 2): erf(x) = Q(2(x - 1.5));
  // [2, 6): erf(x) = 1 - e^(-x^2) R((x - 4)/2) / x. From 6 on erf rounds to 1.
  static constexpr double kErfSmall[] = {
      0.9654687386698673,
      -0.1405360890227171,
      0.019852496688983708,
      -0.0022854855611440673,
      0.00021751715604160108,
      -1.75371694414921e-05,
      1.223382738352401e-06,
      -7.511569160678138e-08,
      4.11580059766496e-09,
      -2.0352493920247854e-10,
      9.167606746069445e-12,
      -3.7910930392717217e-13,
      1.454817075960679e-14,
      -5.166061616805981e-16,
  };
  static constexpr double kErfMid[] = {
      0.9661051464753108,
      0.05946514461181469,
      -0.04459885845886101,
      0.01734400051177928,
      -0.0027874286536788482,
      -0.0004645714422797355,
      0.00030197143748231703,
      -3.705510313488428e-05,
      -9.229209458891876e-06,
      3.3394913153032788e-06,
      -9.073659908922283e-08,
      -1.2424239144268758e-07,
      1.896726600670538e-08,
      2.1918312107862386e-09,
      -8.600979546583867e-10,
      1.8139763110207952e-11,
      2.3355351966906616e-11,
      -2.5388515420084695e-12,
      -3.848036888601555e-13,
      8.360318274833062e-14,
  };
  static constexpr double kErfcLarge[] = {
      0.5479978305002455,
      0.014930866489951141,
      -0.010087092460476689,
      0.005925639503928907,
      -0.003196355212222062,
      0.001622942328746532,
      -0.0007863221295683581,
      0.0003666153802803909,
      -0.00016542310175177556,
      7.252986592101788e-05,
      -3.0994972052011456e-05,
      1.2940297915953662e-05,
      -5.2880651490182425e-06,
      2.118473432375401e-06,
      -8.3308905225968e-07,
      3.2194020976052293e-07,
      -1.2235522246515928e-07,
      4.5785283559220976e-08,
      -1.691335316518718e-08,
      6.1484501444043575e-09,
      -2.1632117384960503e-09,
      7.642462720422556e-10,
      -3.0116279455495467e-10,
      1.0457303304879145e-10,
      -1.7099639026919827e-11,
      5.567600782278042e-12,
      -7.802775467388882e-12,
      2.602630796647072e-12,
  };
  const double a = x < 0 ? -x : x;
  double r;
  if (a >= 6.0) {
    r = 1.0;
  } else if (a < 0x1p-28) {
    r = a + a * (kTwoOverSqrtPi - 1.0);
  } else if (a < 1.0) {
    r = a * horner(kErfSmall, 2.0 * (a * a) - 1.0);
  } else if (a < 2.0) {
    r = horner(kErfMid, 2.0 * (a - 1.5));
  } else {
    r = 1.0 - exp(-a * a) * horner(kErfcLarge, (a - 4.0) * 0.5) / a;
  }
  return x < 0 ? -r : r;
}

double tgamma(double x) {
  if (x != x) return x;
  if (x == kInf) return x;
  if (x == -kInf) return kNaN;
  if (x == 0) return 1.0 / x;  // +-inf with the sign of zero
  const double n = std::floor(x);
  if (x < 0) {
    if (x == n) return kNaN;  // a pole
    // Reflection: Gamma(x) = pi / (sin(pi x) Gamma(1 - x)), Gamma(1 - x) = (-x) Gamma(-x),
    // where -x is exact.
    const double g = tgamma(-x);
    if (g == kInf) return 0.0 * sinpi(x);
    return kPi / (sinpi(x) * (-x) * g);
  }
  if (x > 171.62434886826910) return kInf;
  if (x == n && x <= 23) {  // (x-1)! exactly: every partial product fits 53 bits
    double p = 1.0;
    for (double i = 2; i < x; i += 1) p *= i;
    return p;
  }
  if (x < 1.0) return gamma_1_2(x + 1.0) / x;
  // Gamma(x) = Gamma(y) (y)(y+1)...(x-1), y = x - floor(x) + 1 in [1, 2); each factor x - j
  // is exact.
  double p = gamma_1_2(x - (n - 1));
  for (double j = 1; x - j >= 1.0; j += 1) p *= x - j;
  return p;
}

}  // namespace mxn::pmath
