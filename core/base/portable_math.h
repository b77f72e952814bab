// Math functions whose results are the same bits on every target (native x86-64 with glibc,
// WebAssembly with Emscripten's musl, any other C library): they are built from +, -, *, /,
// sqrt, floor and fmod only, which IEEE 754 defines exactly, in a translation unit compiled without
// floating-point contraction. The operators use them where C libraries are known to disagree in
// the last bits (tanh, log10, acos, cbrt, erf, tgamma), so Python, R, Julia and JavaScript
// observe identical bytes. Accuracy: within a few ulp of the exact value in double; the float
// versions round the double result, so they are almost always correctly rounded.
#pragma once

namespace mxn::pmath {

double exp(double x);
double expm1(double x);
double log(double x);

double tanh(double x);
double log10(double x);
double acos(double x);
double cbrt(double x);
double erf(double x);
double tgamma(double x);

inline float tanh(float x) { return static_cast<float>(tanh(static_cast<double>(x))); }
inline float log10(float x) { return static_cast<float>(log10(static_cast<double>(x))); }
inline float acos(float x) { return static_cast<float>(acos(static_cast<double>(x))); }
inline float cbrt(float x) { return static_cast<float>(cbrt(static_cast<double>(x))); }
inline float erf(float x) { return static_cast<float>(erf(static_cast<double>(x))); }
inline float tgamma(float x) { return static_cast<float>(tgamma(static_cast<double>(x))); }

}  // namespace mxn::pmath
