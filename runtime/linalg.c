/*
 * linalg.c - GEMM via OpenBLAS's cblas interface.
 */
#include "linalg.h"

#include <cblas.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elementwise.h"
#include "parallel.h"
#include "prof.h"

static int fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

int ln_gemm_layout(const ln_tensor *t, int *trans, int64_t *ld)
{
    int64_t r = t->shape[0], c = t->shape[1], s0 = t->stride[0], s1 = t->stride[1];
    if (!fits_int(r) || !fits_int(c)) return 0;
    /* row-major: unit step along a row (irrelevant for one column), rows
     * at least a row apart (irrelevant for one row) */
    if ((s1 == 1 || c == 1) && (r == 1 || s0 >= (c > 1 ? c : 1))) {
        *trans = 0;
        *ld = r == 1 ? (c > 1 ? c : 1) : s0;
        return fits_int(*ld);
    }
    if ((s0 == 1 || r == 1) && (c == 1 || s1 >= (r > 1 ? r : 1))) {
        *trans = 1;
        *ld = c == 1 ? (r > 1 ? r : 1) : s1;
        return fits_int(*ld);
    }
    return 0;
}

/* m*n*k below which a GEMM runs on one thread even when more are set
 * (LUNET_SMALL_GEMM overrides it, for benchmarks): splitting it would
 * cost more than it saves */
static int64_t small_gemm_v;
static int split_parts_v; /* the parts a split product is cut into */

/* at most this many parts: more would repack the other operand once per
 * part on few threads, and the same count gives the same bits on every
 * machine with at least this many CPUs */
#define MAX_SPLIT_PARTS 8
static pthread_once_t gemm_once = PTHREAD_ONCE_INIT;

static void gemm_init(void)
{
    const char *e = getenv("LUNET_SMALL_GEMM");
    small_gemm_v = e ? atoll(e) : (int64_t)1 << 20;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    split_parts_v = cpus < 2 ? 2 : (cpus > MAX_SPLIT_PARTS ? MAX_SPLIT_PARTS : (int)cpus);
}

static int64_t small_gemm(void)
{
    pthread_once(&gemm_once, gemm_init);
    return small_gemm_v;
}

/* one cblas call on the calling thread's share of OpenBLAS (k >= 1) */
static void gemm_call(ln_tensor *c, const ln_tensor *a, const ln_tensor *b, double alpha, double beta)
{
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    int ta, tb;
    int64_t lda, ldb;
    ln_gemm_layout(a, &ta, &lda);
    ln_gemm_layout(b, &tb, &ldb);
    int64_t ldc = m == 1 ? n : c->stride[0];
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE TB = tb ? CblasTrans : CblasNoTrans;
    LN_BY_DTYPE(c->dtype, cblas_sgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, (float)alpha,
                    (const float *)a->data, (int)lda, (const float *)b->data, (int)ldb,
                    (float)beta, (float *)c->data, (int)ldc),
        cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, alpha,
                    (const double *)a->data, (int)lda, (const double *)b->data, (int)ldb, beta,
                    (double *)c->data, (int)ldc));
}

/* A product in deterministic mode (the default): an output dim cut into
 * parts, each a whole number of SPLIT_ALIGN-row (or column) blocks and one
 * one-thread GEMM, the parts shared out over lunet's threads.  The parts
 * depend on the shape and the machine's CPU count only, never on the
 * thread count: OpenBLAS picks its kernel (a direct or small-matrix one,
 * whose sums over k run in another order) from each call's shape, so a
 * thread's share must not be one call.  Every output element is then the
 * same dot product, in the same order, on any thread count, and OpenBLAS's
 * own pool never wakes, so it never spins beside lunet's threads. */
#define SPLIT_ALIGN 32

typedef struct gemm_job {
    ln_tensor *c;
    const ln_tensor *a, *b;
    double alpha, beta;
    int by_rows;
    int64_t blocks, parts;
} gemm_job;

static void gemm_parts(int64_t lo, int64_t hi, int slot, void *ctx)
{
    (void)slot;
    const gemm_job *j = ctx;
    const int64_t es = (int64_t)ln_dtype_size(j->c->dtype);
    const int64_t dim = j->by_rows ? j->c->shape[0] : j->c->shape[1];
    for (int64_t part = lo; part < hi; part++) {
        ln_tensor c = *j->c, a = *j->a, b = *j->b;
        int64_t first = part * j->blocks / j->parts * SPLIT_ALIGN;
        int64_t last = (part + 1) * j->blocks / j->parts * SPLIT_ALIGN;
        if (last > dim) last = dim;
        if (j->by_rows) {
            a.data = (char *)a.data + first * a.stride[0] * es;
            c.data = (char *)c.data + first * c.stride[0] * es;
            a.shape[0] = c.shape[0] = last - first;
        } else {
            b.data = (char *)b.data + first * b.stride[1] * es;
            c.data = (char *)c.data + first * c.stride[1] * es;
            b.shape[1] = c.shape[1] = last - first;
        }
        gemm_call(&c, &a, &b, j->alpha, j->beta);
    }
}

static int deterministic = 1;

void ln_set_deterministic(int on) { deterministic = on != 0; }
int ln_deterministic(void) { return deterministic; }

void ln_gemm(ln_tensor *c, const ln_tensor *a, const ln_tensor *b, double alpha, double beta)
{
    LN_PROF_SCOPE(LN_PROF_GEMM);
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    if (m == 0 || n == 0) return;
    if (k == 0) {
        /* empty sum: c = beta * c */
        if (beta == 0) {
            ln_fill(c, 0);
        } else {
            double buf;
            ln_tensor s;
            ln_scalar(&s, &buf, c->dtype, beta, c->ndim, c->shape);
            ln_binary(LN_OP_MUL, c, c, &s);
        }
        return;
    }
    /* A product too small to gain from more threads is one call on one.
     * A larger one is cut into parts over lunet's threads (whose pool is
     * hot between the jobs of a step), each part a one-thread GEMM: as fast
     * as OpenBLAS's own threading on the SNN MLP's shapes, faster on the
     * propagation demo's, and the same numbers on any thread count.  Inside
     * lunet's parallel regions (conv.c) OpenBLAS runs on one thread already
     * and the parts run here, in turn.  With deterministic mode off,
     * OpenBLAS threads the product, after the pool is parked so that no
     * lunet worker spins beside OpenBLAS's. */
    int small = m * n * k < small_gemm();
    if (!small && !deterministic) {
        if (ln_blas_threads() > 1) ln_parallel_park();
        gemm_call(c, a, b, alpha, beta);
        return;
    }
    int bt = ln_blas_one_thread();
    if (small) {
        gemm_call(c, a, b, alpha, beta);
    } else {
        /* the longer output side, unless it has fewer blocks than the
         * parts: each thread then packs only its share of the other
         * operand (by rows, every thread packs all of b: the SNN MLP's
         * epoch is 2% faster with its 128x784x512 by columns, measured) */
        const int64_t parts = split_parts_v;
        const int64_t rb = (m + SPLIT_ALIGN - 1) / SPLIT_ALIGN, cb = (n + SPLIT_ALIGN - 1) / SPLIT_ALIGN;
        const int by_rows = rb >= parts ? (m >= n || cb < parts) : rb >= cb;
        const int64_t blocks = by_rows ? rb : cb;
        gemm_job j = {c, a, b, alpha, beta, by_rows, blocks, blocks < parts ? blocks : parts};
        ln_parallel_slots(j.parts, gemm_parts, &j);
    }
    ln_blas_restore(bt);
}

int ln_blas_one_thread(void)
{
    int bt = openblas_get_num_threads();
    if (bt > 1) openblas_set_num_threads(1);
    return bt;
}

void ln_blas_restore(int n)
{
    if (n > 1) openblas_set_num_threads(n);
}

static ln_tensor slice(const ln_tensor *t, int64_t i)
{
    ln_tensor s = *t;
    if (t->ndim == 3) {
        s.data = (char *)t->data + i * t->stride[0] * (int64_t)ln_dtype_size(t->dtype);
        s.ndim = 2;
        s.shape[0] = t->shape[1];
        s.shape[1] = t->shape[2];
        s.stride[0] = t->stride[1];
        s.stride[1] = t->stride[2];
    }
    return s;
}

void ln_matmul_batched(ln_tensor *out, const ln_tensor *a, const ln_tensor *b)
{
    int64_t nb = out->ndim == 3 ? out->shape[0] : 1;
    for (int64_t i = 0; i < nb; i++) {
        ln_tensor oi = slice(out, i), ai = slice(a, i), bi = slice(b, i);
        ln_gemm(&oi, &ai, &bi, 1.0, 0.0);
    }
}

void ln_blas_set_threads(int n) { openblas_set_num_threads(n); }
int ln_blas_threads(void) { return openblas_get_num_threads(); }
const char *ln_blas_corename(void) { return openblas_get_corename(); }
const char *ln_blas_config(void) { return openblas_get_config(); }
