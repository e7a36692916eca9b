/*
 * nn.h - layer kernels: the fused Dense forward and the dropout family.
 */
#ifndef LN_NN_H
#define LN_NN_H

#include "activations.h"
#include "rng.h"
#include "tensor.h"

/* Dropout fused into Dense (Sequential's Dense then a dropout layer, in
 * training): keep (N*M bytes, drawn beforehand, as ln_dropout_forward
 * would) and the affine constants.  The results are those of the two
 * kernels one after the other. */
typedef struct ln_dense_drop {
    const uint8_t *keep;
    double a, b, alpha;
} ln_dense_drop;

/* x is (N, K) and w (K, M), both accepted by ln_gemm_layout; b is (M,)
 * contiguous or NULL; y (N, M) contiguous; z (N, M) contiguous or NULL.
 * Overwrites z with x @ w + b (when given) and y with act(x @ w + b), in
 * one pass over the GEMM output after the GEMM; with drop (else NULL),
 * y = keep ? a*act(x @ w + b) + b : a*alpha + b, block by block in cache. */
void ln_dense_forward(const ln_tensor *x, const ln_tensor *w, const ln_tensor *b,
                      const ln_act_def *act, const ln_act_params *p, const ln_tensor *z,
                      const ln_tensor *y, const ln_dense_drop *drop);

/* The backward of ln_dense_forward for the gradient g (N, M) of y:
 * with drop, first g' = keep ? a*g : 0 (tmp: M elements of scratch when
 * there is an activation); then dz = act'(s) * g' (s = z, or y when the
 * activation saves y; act NULL or linear and no drop: dz is g itself and
 * may be NULL), db = the column sums of dz (summed in float64 into acc, M
 * doubles, in row order), dW = x^T dz and dx = dz w^T.  dx, dw, db may each
 * be NULL (not wanted); g, s, dz and the outputs are contiguous, x and w as
 * ln_dense_forward takes them. */
void ln_dense_backward(const ln_tensor *x, const ln_tensor *w, const ln_act_def *act,
                       const ln_act_params *p, const ln_tensor *s, const ln_tensor *g,
                       const ln_dense_drop *drop, void *tmp, const ln_tensor *dz, ln_tensor *dx,
                       ln_tensor *dw, const ln_tensor *db, double *acc);

/* rows x m contiguous: t += b per row (b NULL: none), then y = act(t) (act
 * NULL or linear: a copy; y may be t).  The output pass of ln_dense_forward,
 * for kernels that run their own GEMM (a convolution's, per chunk). */
void ln_bias_act_rows(ln_dtype dt, int64_t rows, int64_t m, void *t, const void *b, void *y,
                      const ln_act_def *act, const ln_act_params *p);

/* The dropout family in one kernel (x, y contiguous, n elements; keep
 * n bytes): keep[i] = (u_i >= rate) for u_i uniform in [0, 1) from r, then
 *   y = keep ? a*x + b : a*alpha + b.
 * Dropout: a = 1/(1-rate), b = 0, alpha = 0; AlphaDropout and the SNN
 * authors' dropout_selu: their a, b and saturation value alpha.
 * When `mask_given`, keep is read instead of drawn (a broadcast mask). */
void ln_dropout_forward(ln_rng *r, ln_dtype dt, int64_t n, const void *x, void *y, uint8_t *keep,
                        int mask_given, double rate, double a, double b, double alpha);

/* dx = keep ? a*g : 0 (overwrites dx; dx may be g) */
void ln_dropout_backward(ln_dtype dt, int64_t n, const void *g, const uint8_t *keep, double a,
                         void *dx);

/* Batch normalization over the rows of x (rows, c) contiguous, per column
 * (feature) j, in double accumulators:
 *   training:  mean_j, var_j the batch's (biased, as Keras normalizes);
 *   inference: mean_j, var_j read from `mean` and `var` (the moving ones);
 *   y = (x - mean_j) / sqrt(var_j + eps) * gamma_j + beta_j
 * (gamma, beta NULL: 1 and 0).  In training mean and var (c each, double)
 * receive the batch's statistics.  invstd (c, double) receives
 * 1/sqrt(var_j + eps) either way, for the backward.  scratch: 2c doubles. */
void ln_batchnorm_forward(ln_dtype dt, int64_t rows, int64_t c, const void *x, const void *gamma,
                          const void *beta, double eps, int training, double *mean, double *var,
                          double *invstd, void *y, double *scratch);

/* The gradient of sum(g * y) for the forward above, from the mean and
 * invstd it left: dgamma_j = sum_i g_ij xhat_ij, dbeta_j = sum_i g_ij
 * (each NULL when not wanted; of x's dtype) and dx (NULL: not wanted):
 *   training:  dx = gamma_j invstd_j (g - dbeta_j/rows - xhat dgamma_j/rows)
 *   inference: dx = gamma_j invstd_j g
 * with xhat = (x - mean_j) invstd_j.  scratch: 5c doubles. */
void ln_batchnorm_backward(ln_dtype dt, int64_t rows, int64_t c, const void *x, const void *gamma,
                           const double *mean, const double *invstd, int training, const void *g,
                           void *dx, void *dgamma, void *dbeta, double *scratch);

/* Softmax cross-entropy from logits, one row at a time (z, p: (n, c)
 * contiguous; loss: n).  p = softmax(z) per row and, with lse the row's
 * log-sum-exp (max subtracted first, so no overflow),
 *   dense targets y (n, c):  loss = sum_j y_j (lse - z_j)
 *   class ids (n, int32, each in [0, c), checked by the caller):
 *                            loss = lse - z[id].
 * Exactly one of y and ids is non-NULL.  A NaN in a row gives NaN. */
void ln_softmax_xent_forward(ln_dtype dt, int64_t n, int64_t c, const void *z, const void *y,
                             const int32_t *ids, void *loss, void *p);

/* The gradient of sum_i g_i loss_i: dz = g_i (p_ij s_i - y_ij), s_i the sum
 * of row i of y; with ids dz = g_i (p_ij - [j == id_i]).  dz may be p. */
void ln_softmax_xent_backward(ln_dtype dt, int64_t n, int64_t c, const void *p, const void *y,
                              const int32_t *ids, const void *g, void *dz);

#endif
