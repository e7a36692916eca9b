/*
 * linalg.c - GEMM via OpenBLAS's cblas interface.
 */
#include "linalg.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>

#include "elementwise.h"
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

/* m*n*k below which a GEMM runs on one thread (LUNET_SMALL_GEMM overrides
 * it, for benchmarks) */
static int64_t small_gemm(void)
{
    static int64_t v = -1;
    if (v < 0) {
        const char *e = getenv("LUNET_SMALL_GEMM");
        v = e ? atoll(e) : (int64_t)1 << 23;
    }
    return v;
}

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
    int ta, tb;
    int64_t lda, ldb;
    ln_gemm_layout(a, &ta, &lda);
    ln_gemm_layout(b, &tb, &ldb);
    int64_t ldc = m == 1 ? n : c->stride[0];
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE TB = tb ? CblasTrans : CblasNoTrans;
    /* a product too small to gain from OpenBLAS's threads runs on one: waking
     * them costs more than they save, and each job leaves them spinning
     * for a while, taking the cores from whatever runs next */
    /* (the thread count first: inside lunet's parallel regions it is 1, and
     * small_gemm's first call, which reads the environment, stays on one thread) */
    int bt = ln_blas_threads() > 1 && m * n * k < small_gemm() ? ln_blas_one_thread() : 1;
    LN_BY_DTYPE(c->dtype, cblas_sgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, (float)alpha,
                    (const float *)a->data, (int)lda, (const float *)b->data, (int)ldb,
                    (float)beta, (float *)c->data, (int)ldc),
        cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, alpha,
                    (const double *)a->data, (int)lda, (const double *)b->data, (int)ldb, beta,
                    (double *)c->data, (int)ldc));
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
