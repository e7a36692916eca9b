/*
 * rng.c - xoshiro256** (Blackman & Vigna) and the distributions on top.
 */
#include "rng.h"

#include <math.h>
#include <string.h>

#include "parallel.h"
#if defined(__AVX2__) && defined(__BMI2__)
#include <immintrin.h>
#endif

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void ln_rng_seed(ln_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ln_rng_next(ln_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ln_rng_double(ln_rng *r) { return (double)(ln_rng_next(r) >> 11) * 0x1.0p-53; }

/* four lanes of 64 bits: GCC's vector extension, AVX2 registers */
typedef uint64_t ln_u64x4 __attribute__((vector_size(32)));
typedef int64_t ln_i64x4 __attribute__((vector_size(32)));

typedef struct lanes4 {
    ln_u64x4 s0, s1, s2, s3;
} lanes4;

/* one xoshiro256** step on four lanes; returns their outputs.  x * 5 and
 * y * 9 are written as shifts and adds (AVX2 has no 64-bit multiply). */
static inline ln_u64x4 lanes4_next(lanes4 *v)
{
    ln_u64x4 x = (v->s1 << 2) + v->s1, y = (x << 7) | (x >> 57), out = (y << 3) + y;
    ln_u64x4 t = v->s1 << 17;
    v->s2 ^= v->s0;
    v->s3 ^= v->s1;
    v->s1 ^= v->s2;
    v->s0 ^= v->s3;
    v->s2 ^= t;
    v->s3 = (v->s3 << 45) | (v->s3 >> 19);
    return out;
}

/* A mask is made in blocks of MASK_BLOCK elements, each from eight lanes of
 * its own: lane l of block B is seeded by splitmix64 from the l-th draw plus
 * B * MASK_STEP (block 0 from the draw itself), so the blocks can be made on
 * any thread, in any order, with the same bits. */
#define MASK_BLOCK 8192
#define MASK_STEP 0xd1b54a32d192ed03u

typedef struct mask_job {
    uint64_t draw[8];
    int64_t n, thr;
    uint8_t *keep;
} mask_job;

static void mask_blocks(int64_t lo, int64_t hi, void *ctx)
{
    const mask_job *j = ctx;
    for (int64_t blk = lo; blk < hi; blk++) {
        /* lane l is word l % 4 of a (l < 4) or of b: two independent
         * chains, kept in registers */
        lanes4 v[2];
        for (int l = 0; l < 8; l++) {
            uint64_t x = j->draw[l] + (uint64_t)blk * MASK_STEP;
            lanes4 *h = &v[l / 4];
            h->s0[l % 4] = splitmix64(&x);
            h->s1[l % 4] = splitmix64(&x);
            h->s2[l % 4] = splitmix64(&x);
            h->s3[l % 4] = splitmix64(&x);
        }
        lanes4 a = v[0], b = v[1];
        const int64_t first = blk * MASK_BLOCK, left = j->n - first;
        const int64_t len = left < MASK_BLOCK ? left : MASK_BLOCK;
        uint8_t *keep = j->keep + first;
        const ln_i64x4 th = {j->thr, j->thr, j->thr, j->thr};
        for (int64_t i = 0; i < len; i += 8) {
            const ln_i64x4 ka = (ln_i64x4)(lanes4_next(&a) >> 11) >= th;
            const ln_i64x4 kb = (ln_i64x4)(lanes4_next(&b) >> 11) >= th;
            uint8_t k[8];
#if defined(__AVX2__) && defined(__BMI2__)
            /* the eight sign bits, spread one to a byte */
            const unsigned bits = (unsigned)_mm256_movemask_pd((__m256d)ka) |
                                  (unsigned)_mm256_movemask_pd((__m256d)kb) << 4;
            const uint64_t spread = _pdep_u64(bits, 0x0101010101010101u);
            memcpy(k, &spread, sizeof k);
#else
            for (int l = 0; l < 4; l++) {
                k[l] = (uint8_t)(ka[l] & 1);
                k[l + 4] = (uint8_t)(kb[l] & 1);
            }
#endif
            memcpy(keep + i, k, (size_t)(len - i < 8 ? len - i : 8));
        }
    }
}

void ln_rng_keep_mask(ln_rng *r, int64_t n, double rate, uint8_t *keep)
{
    mask_job j;
    for (int l = 0; l < 8; l++) j.draw[l] = ln_rng_next(r);
    /* u >= rate with u = (bits >> 11) * 2^-53, both exact: compare the
     * integers, in signed form (bits >> 11 < 2^53, so no sign is lost) */
    j.thr = (int64_t)ceil(rate * 0x1p53);
    j.n = n;
    j.keep = keep;
    ln_parallel_for((n + MASK_BLOCK - 1) / MASK_BLOCK, 1, LN_PARALLEL_MIN / MASK_BLOCK, mask_blocks, &j);
}

uint64_t ln_rng_below(ln_rng *r, uint64_t n)
{
    /* rejection on the top of the range: unbiased */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = ln_rng_next(r);
    while (x >= limit);
    return x % n;
}

typedef struct uniform_ctx {
    ln_rng *r;
    ln_dtype dt;
    double low, span, high;
} uniform_ctx;

static void uniform_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    uniform_ctx *c = (uniform_ctx *)ctx;
    char *o = p[0];
    for (int64_t i = 0; i < n; i++, o += s[0]) {
        if (c->dt == LN_F32) {
            double u = (double)(ln_rng_next(c->r) >> 40) * 0x1.0p-24;
            float v = (float)(c->low + c->span * u);
            /* rounding may reach high; the interval is half-open */
            if ((double)v >= c->high && c->span > 0) v = nextafterf((float)c->high, (float)c->low);
            *(float *)o = v;
        } else {
            double v = c->low + c->span * ln_rng_double(c->r);
            if (v >= c->high && c->span > 0) v = nextafter(c->high, c->low);
            *(double *)o = v;
        }
    }
}

void ln_rng_uniform(ln_rng *r, ln_tensor *t, double low, double high)
{
    uniform_ctx c = {r, t->dtype, low, high - low, high};
    const ln_tensor *ops[1] = {t};
    ln_foreach(1, ops, uniform_loop, &c);
}

typedef struct normal_ctx {
    ln_rng *r;
    ln_dtype dt;
    double mean, std, spare;
    int have_spare;
} normal_ctx;

static double next_normal(normal_ctx *c)
{
    if (c->have_spare) {
        c->have_spare = 0;
        return c->spare;
    }
    double u1 = (double)((ln_rng_next(c->r) >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    double u2 = ln_rng_double(c->r);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586 * u2;
    c->spare = rad * sin(th);
    c->have_spare = 1;
    return rad * cos(th);
}

static void normal_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    normal_ctx *c = (normal_ctx *)ctx;
    char *o = p[0];
    for (int64_t i = 0; i < n; i++, o += s[0]) {
        double v = c->mean + c->std * next_normal(c);
        if (c->dt == LN_F32) *(float *)o = (float)v;
        else *(double *)o = v;
    }
}

void ln_rng_normal(ln_rng *r, ln_tensor *t, double mean, double std)
{
    normal_ctx c = {r, t->dtype, mean, std, 0, 0};
    const ln_tensor *ops[1] = {t};
    ln_foreach(1, ops, normal_loop, &c);
}

void ln_rng_truncate_normal(ln_rng *r, double *z, int64_t n, double bound)
{
    int64_t out = 0;
    for (int64_t i = 0; i < n; i++) out += fabs(z[i]) > bound;
    while (out > 0) {
        normal_ctx c = {r, LN_F64, 0, 1, 0, 0};
        out = 0;
        for (int64_t i = 0; i < n; i++) {
            double w = 0 + 1 * next_normal(&c); /* as ln_rng_normal(mean 0, std 1) draws it */
            if (fabs(z[i]) > bound) z[i] = w;
            out += fabs(z[i]) > bound;
        }
    }
}

void ln_rng_permutation(ln_rng *r, int32_t *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = (int32_t)(i + 1);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ln_rng_below(r, (uint64_t)i + 1);
        int32_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}
