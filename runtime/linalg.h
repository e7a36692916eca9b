/*
 * linalg.h - matrix products through cblas_sgemm / cblas_dgemm.
 *
 * Transposed (and other strided) views go to BLAS as they are when their
 * strides describe a row-major matrix or its transpose; ln_gemm_layout says
 * whether a view qualifies, so the caller copies only the ones that don't.
 */
#ifndef LN_LINALG_H
#define LN_LINALG_H

#include <limits.h>
#include <stdint.h>
#include <sys/resource.h>

#include "tensor.h"

/* A 2-d view BLAS can read in place: *trans is 0 (row-major, leading dim
 * *ld) or 1 (the transpose of a row-major matrix).  Returns 0 when the
 * strides fit neither, or a size or stride does not fit BLAS's int. */
int ln_gemm_layout(const ln_tensor *t, int *trans, int64_t *ld);

/* c = alpha * a @ b + beta * c for 2-d views of one float dtype:
 * a (m, k), b (k, n), c (m, n).  a and b must pass ln_gemm_layout; c must be
 * row-major (stride (ldc, 1)).  beta == 0 overwrites c (NaNs in c ignored). */
void ln_gemm(ln_tensor *c, const ln_tensor *a, const ln_tensor *b, double alpha, double beta);

/* out = a @ b where a is (B, m, k) or (m, k), b is (B, k, n) or (k, n) and
 * out is (B, m, n) (batch strides may be 0 to broadcast).  Each 2-d slice must
 * pass ln_gemm_layout. */
void ln_matmul_batched(ln_tensor *out, const ln_tensor *a, const ln_tensor *b);

/* How many OpenBLAS threads fit under the address-space limit (RLIMIT_AS,
 * `ulimit -v`), the calling thread included; INT_MAX when there is none.
 * OpenBLAS 0.3 maps a 128 MiB buffer for each thread of its pool as it
 * starts it (and for the caller at its first GEMM), and when mmap fails it
 * retries forever: a pool larger than the limit allows spins at full CPU,
 * a GEMM handed to it never ends, and so does exit, where OpenBLAS's
 * destructor joins the pool.  Measured (0.3.21, x86-64): 43 MiB for the
 * launcher with one thread, 139 MiB more per thread.  Header-only, so the
 * launcher can size the pool before OpenBLAS starts it. */
#define LN_BLAS_BUFFER_BYTES ((uint64_t)128 << 20)
#define LN_BLAS_BASE_BYTES ((uint64_t)64 << 20)
static inline int ln_blas_threads_that_fit(void)
{
    struct rlimit as, stk;
    if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) return INT_MAX;
    uint64_t stack = (uint64_t)8 << 20; /* a thread's stack: RLIMIT_STACK, as glibc */
    if (getrlimit(RLIMIT_STACK, &stk) == 0 && stk.rlim_cur != RLIM_INFINITY &&
        stk.rlim_cur < ((uint64_t)64 << 20))
        stack = stk.rlim_cur;
    uint64_t per = LN_BLAS_BUFFER_BYTES + stack, lim = (uint64_t)as.rlim_cur;
    if (lim < LN_BLAS_BASE_BYTES + 2 * per) return 1;
    uint64_t n = (lim - LN_BLAS_BASE_BYTES) / per;
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* Deterministic mode (on by default): products large enough for threads
 * are split over lunet's threads, each output element computed by one
 * one-thread GEMM, so results do not depend on the thread count.  Off,
 * OpenBLAS threads them itself. */
void ln_set_deterministic(int on);
int ln_deterministic(void);

/* OpenBLAS to one thread (for a product too small for more, or while
 * lunet's own threads each run GEMMs); returns the count to give back to
 * ln_blas_restore.  Inside lunet's parallel regions (ln_gemm called from a
 * worker) the count is already 1, so neither call sets anything there. */
int ln_blas_one_thread(void);
void ln_blas_restore(int n);

/* BLAS threads and identity (OpenBLAS). */
void ln_blas_set_threads(int n);
int ln_blas_threads(void);
const char *ln_blas_corename(void);
const char *ln_blas_config(void);

#endif
