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
/* keep[0..n) = 1 with probability 1 - rate, else 0 (rate in [0, 1)).  In
 * blocks of 8192 elements, each from eight xoshiro256** streams interleaved
 * element by element (element i from stream i % 8), stream l of block B
 * seeded through splitmix64 by the l-th of eight draws from r plus B times
 * an odd constant: r advances by exactly 8 draws whatever n is, and the mask
 * depends only on r's state, n and rate, never on the threads that make its
 * blocks.  A unit is kept when its 53-bit uniform is >= rate, as
 * ln_rng_double would decide. */
void ln_rng_keep_mask(ln_rng *r, int64_t n, double rate, uint8_t *keep);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t ln_rng_below(ln_rng *r, uint64_t n);

/* Fill a float view, in row-major order: uniform in [low, high) (float32
 * draws 24 bits, float64 53 bits), or normal(mean, std) by Box-Muller in
 * double precision (float32 gets the rounded float64 sequence). */
void ln_rng_uniform(ln_rng *r, ln_tensor *t, double low, double high);
void ln_rng_normal(ln_rng *r, ln_tensor *t, double mean, double std);
/* Redraw z[0..n) where |z| > bound until none is: each round draws n
 * normals, the same sequence as ln_rng_normal on n float64 elements would,
 * and takes the i-th for every z[i] still outside: the same numbers as
 * drawing each round into a tensor and selecting, without it. */
void ln_rng_truncate_normal(ln_rng *r, double *z, int64_t n, double bound);
/* out[0..n) = a random permutation of 1..n (Fisher-Yates). */
void ln_rng_permutation(ln_rng *r, int32_t *out, int64_t n);

#endif
