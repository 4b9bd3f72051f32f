// Run-time choice of the instruction set for the hot loops (private to CKernels).
//
// The package is built once and run on machines that differ from day to day (AMD EPYC with
// AVX2 and FMA, Intel Xeon with AVX-512), so the kernels cannot be compiled for the build
// machine (-march=native died with SIGILL on the other kind). On x86-64 Linux with glibc each
// AR_HOT function is compiled three times and a glibc ifunc resolver picks one when the
// library is loaded, from the CPU's feature bits (not its vendor or model):
//   arch=x86-64-v4  AVX-512 F/BW/CD/DQ/VL (Xeon since Skylake-SP, EPYC since Zen 4)
//   arch=x86-64-v3  AVX2, FMA, BMI1/2, F16C (EPYC, Xeon and Core since Haswell)
//   default         the x86-64 baseline (SSE2)
// "avx2,fma" would not do: target_clones splits at commas, giving an AVX2 clone without FMA
// and an FMA clone without AVX2. Elsewhere (macOS arm64, musl, other compilers) AR_HOT is
// empty and the loops are compiled once for the target's baseline (NEON on arm64).
#ifndef AR_DISPATCH_H
#define AR_DISPATCH_H

#include <stdlib.h>  // defines __GLIBC__ on glibc systems (ifunc needs glibc's loader)

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define AR_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef AR_HOT
#define AR_HOT
#endif

// sqrt without errno handling, so that a loop over it vectorises without -fno-math-errno
// (libm's sqrtf must set errno for negative input; the callers never pass one).
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define AR_SQRT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef AR_SQRT
#define AR_SQRT(x) sqrtf(x)
#endif

#endif
