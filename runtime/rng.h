/*
 * rng.h - lunet's one random number generator: xoshiro256** seeded through
 * splitmix64.  Same seed -> same numbers, bit for bit, on every platform
 * with IEEE doubles (normals use log/cos/sin from libm).
 */
#ifndef LN_RNG_H
#define LN_RNG_H

#include "tensor.h"

typedef struct ln_rng {
    uint64_t s[4];
} ln_rng;

void ln_rng_seed(ln_rng *r, uint64_t seed);
uint64_t ln_rng_next(ln_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double ln_rng_double(ln_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t ln_rng_below(ln_rng *r, uint64_t n);

/* Fill a float view, in row-major order: uniform in [low, high) (float32
 * draws 24 bits, float64 53 bits), or normal(mean, std) by Box-Muller in
 * double precision (float32 gets the rounded float64 sequence). */
void ln_rng_uniform(ln_rng *r, ln_tensor *t, double low, double high);
void ln_rng_normal(ln_rng *r, ln_tensor *t, double mean, double std);
/* out[0..n) = a random permutation of 1..n (Fisher-Yates). */
void ln_rng_permutation(ln_rng *r, int32_t *out, int64_t n);

#endif
