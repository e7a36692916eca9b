/*
 * rng.c - xoshiro256** (Blackman & Vigna) and the distributions on top.
 */
#include "rng.h"

#include <math.h>

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
