/*
 * linalg.h - matrix products through cblas_sgemm / cblas_dgemm.
 *
 * Transposed (and other strided) views go to BLAS as they are when their
 * strides describe a row-major matrix or its transpose; ln_gemm_layout says
 * whether a view qualifies, so the caller copies only the ones that don't.
 */
#ifndef LN_LINALG_H
#define LN_LINALG_H

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

/* BLAS threads and identity (OpenBLAS). */
void ln_blas_set_threads(int n);
int ln_blas_threads(void);
const char *ln_blas_corename(void);
const char *ln_blas_config(void);

#endif
