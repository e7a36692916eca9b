/*
 * vmath.h - float32 exp, expm1, tanh and erfc written so that gcc
 * vectorises loops that call them (no -ffast-math needed).
 *
 * libm's expf is a function call the vectoriser cannot see through, so an
 * elementwise selu over 16M floats would run one element at a time.  These
 * are straight-line code (selects instead of branches, integer exponent
 * arithmetic for the scaling), full range and NaN/Inf-correct:
 *   exp(NaN) = NaN, exp(+Inf) = +Inf, exp(-Inf) = +0, subnormal results
 *   are produced (two-step scaling), overflow gives +Inf.
 * Accuracy: exp and expm1 within ~1.5 ulp, tanh within ~3 ulp, Phi within
 * ~3e-7 relative down to Phi(-9) ~ 1e-19.
 * float64 kernels use libm (exp, expm1, tanh, erfc) and are exact to libm.
 */
#ifndef LN_VMATH_H
#define LN_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* LN_SIMD_CLONES on an elementwise kernel builds it twice, for AVX-512
 * (x86-64-v4: 16 floats a vector) and for the build's own target, and the
 * loader picks the one the CPU runs.  Both do the same IEEE operations on
 * each element (no reassociation, fp-contract off under -std=c11, fmaf
 * only where written), so the results are the same bits on either. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define LN_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#else
#define LN_SIMD_CLONES
#endif

#if defined(__FMA__)
#define LN_FMAF(a, b, c) fmaf((a), (b), (c))
#else
#define LN_FMAF(a, b, c) ((a) * (b) + (c))
#endif

static inline int32_t ln_f2i_bits(float f)
{
    int32_t i;
    memcpy(&i, &f, sizeof i);
    return i;
}

static inline float ln_i2f_bits(int32_t i)
{
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

/* x = n ln2 + r with |r| <= ln2/2 (n rounded to nearest, Cody-Waite
 * two-part ln2); returns r and sets *n.  |x| must be below 2^22. */
static inline float ln_reduce_ln2(float x, int32_t *n)
{
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding rounds to an integer */
    float t = LN_FMAF(x, 1.44269504088896341f, shifter);
    float nf = t - shifter;
    *n = ln_f2i_bits(t) - ln_f2i_bits(shifter);
    float r = LN_FMAF(nf, -0.693145751953125f, x); /* ln2 high part: exact product */
    return LN_FMAF(nf, -1.428606765330187045e-06f, r);
}

/* expm1(r) for |r| <= ln2/2: Taylor to degree 7 (truncation ~0.25 ulp) */
static inline float ln_expm1f_small(float r)
{
    float q = 1.0f / 5040.0f;
    q = LN_FMAF(q, r, 1.0f / 720.0f);
    q = LN_FMAF(q, r, 1.0f / 120.0f);
    q = LN_FMAF(q, r, 1.0f / 24.0f);
    q = LN_FMAF(q, r, 1.0f / 6.0f);
    q = LN_FMAF(q, r, 0.5f);
    return LN_FMAF(r * r, q, r);
}

/* 2^n for n in [-126, 127]; 0 for n = -127.  (Unsigned shift: a NaN
 * input gives a garbage n, which must not be undefined behaviour; the NaN
 * propagates through the polynomial anyway.) */
static inline float ln_pow2i(int32_t n)
{
    uint32_t u = ((uint32_t)n + 127u) << 23;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* exp(x + lo), lo a small correction to the argument (used where x is a
 * rounded -z^2 and lo its rounding error).  2^n is applied in two halves
 * so that subnormal results and overflow to +Inf come out right. */
static inline float ln_expf_hl(float x, float lo)
{
    /* clamps keep n in range; a NaN passes both selects unchanged */
    x = x > 89.0f ? 89.0f : x;
    x = x < -112.0f ? -112.0f : x;
    const float shifter = 12582912.0f;
    float t = LN_FMAF(x + lo, 1.44269504088896341f, shifter);
    float nf = t - shifter;
    int32_t n = ln_f2i_bits(t) - ln_f2i_bits(shifter);
    float r = LN_FMAF(nf, -0.693145751953125f, x);
    r = LN_FMAF(nf, -1.428606765330187045e-06f, r) + lo; /* r of x + lo */
    float p = 1.0f + ln_expm1f_small(r);
    int32_t n1 = n >> 1;
    return p * ln_pow2i(n1) * ln_pow2i(n - n1);
}

static inline float ln_expf(float x)
{
    x = x > 89.0f ? 89.0f : x;
    x = x < -112.0f ? -112.0f : x;
    int32_t n;
    float r = ln_reduce_ln2(x, &n);
    float p = 1.0f + ln_expm1f_small(r);
    int32_t n1 = n >> 1;
    return p * ln_pow2i(n1) * ln_pow2i(n - n1);
}

/* expm1(x) = 2^n expm1(r) + (2^n - 1), evaluated as
 * 2 (2^(n-1) expm1(r) + (2^(n-1) - 1/2)) so that n = 128 does not overflow
 * early: one polynomial, exact near 0 (n = 0), -1 below -87, +Inf above the
 * float range. */
static inline float ln_expm1f(float x)
{
    float xc = x > 88.72283935546875f ? 88.72283935546875f : x;
    xc = xc < -87.0f ? -87.0f : xc;
    int32_t n;
    float r = ln_reduce_ln2(xc, &n);
    float h = ln_pow2i(n - 1);
    float y = 2.0f * LN_FMAF(h, ln_expm1f_small(r), h - 0.5f);
    return x > 88.72283935546875f ? (float)INFINITY : y;
}

/* tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)), sign restored */
static inline float ln_tanhf(float x)
{
    float m = ln_expm1f(-2.0f * fabsf(x));
    return copysignf(-m / (2.0f + m), x);
}

/* The standard normal cdf Phi(x) = erfc(-x/sqrt2)/2, computed from the
 * side that keeps relative precision in the lower tail:
 * erfc(z) = t exp(-z^2 + P(t)), t = 1/(1 + z/2), z >= 0 (a Chebyshev-fitted
 * form with relative error below 1.2e-7).  z^2 = x^2/2 is formed from x
 * (exactly, with fma) because rounding z = |x|/sqrt2 first would cost
 * |x|^2 * 6e-8 of relative precision in the tail.  ln_phi_tail is the
 * part ln_phif and ln_phi_pdf_f share: with ax = |x| it returns
 * e = exp(-x^2/2 + P(t)) (so erfc(z)/2 = t e / 2) and sets t and P(t). */
static inline float ln_phi_tail(float ax, float *t_out, float *p_out)
{
    float t = 1.0f / LN_FMAF(0.35355339059327376f, ax, 1.0f); /* 1 + z/2 */
    float p = 0.17087277f;
    p = LN_FMAF(p, t, -0.82215223f);
    p = LN_FMAF(p, t, 1.48851587f);
    p = LN_FMAF(p, t, -1.13520398f);
    p = LN_FMAF(p, t, 0.27886807f);
    p = LN_FMAF(p, t, -0.18628806f);
    p = LN_FMAF(p, t, 0.09678418f);
    p = LN_FMAF(p, t, 0.37409196f);
    p = LN_FMAF(p, t, 1.00002368f);
    p = LN_FMAF(p, t, -1.26551223f);
    float h = 0.5f * ax;
    float z2 = h * ax;
#if defined(__FMA__)
    float z2lo = fmaf(h, ax, -z2); /* exact: h*ax = z2 + z2lo */
#else
    float z2lo = 0.0f;
#endif
    *t_out = t;
    *p_out = p;
    return ln_expf_hl(-z2, p - z2lo);
}

static inline float ln_phif(float x)
{
    float t, p, e = ln_phi_tail(fabsf(x), &t, &p);
    float q = 0.5f * t * e;
    return x >= 0.0f ? 1.0f - q : (x < 0.0f ? q : x);
}

/* Phi(x) as ln_phif, and the normal density phi(x) = exp(-x^2/2)/sqrt(2 pi)
 * from the same exponential: e = exp(-x^2/2 + P(t)) times exp(-P(t)),
 * where -P(t) is in [0, 1.27] (P(0) = -1.2655, P(1) = 0), so
 * exp(-P) = (1 + expm1(-P/4))^4 needs only the small-argument polynomial.
 * gelu's derivative Phi(x) + x phi(x) then costs one exponential. */
static inline void ln_phi_pdf_f(float x, float *phi, float *pdf)
{
    float t, p, e = ln_phi_tail(fabsf(x), &t, &p);
    float q = 0.5f * t * e;
    *phi = x >= 0.0f ? 1.0f - q : (x < 0.0f ? q : x);
    float u = 1.0f + ln_expm1f_small(-0.25f * p);
    u *= u;
    *pdf = 0.39894228040143267794f * e * (u * u);
}

static inline double ln_phi(double x)
{
    return 0.5 * erfc(-x * 0.70710678118654752440);
}

#endif
