/*
 * nn.c - the fused Dense forward and the dropout family (see nn.h).
 */
#include "nn.h"

#include <math.h>
#include <string.h>

#include "linalg.h"
#include "parallel.h"
#include "vmath.h"
#include "prof.h"

#define ROW_CHUNK 1024

#define DEF_BIAS_ACT(NAME, TT, FWD)                                                                 \
    /* rows rows of m: t += b on each; y = act(t) (t and y may be the same rows).  The    \
     * activation runs over the rows together, ROW_CHUNK elements at a time, so a narrow   \
     * output (a convolution's filters) does not pay one call per row. */                  \
    static void NAME(int64_t rows, int64_t m, TT *t, const TT *b, TT *y, const ln_act_def *act,  \
                     const ln_act_params *p)                                                       \
    {                                                                                              \
        if (b)                                                                                     \
            for (int64_t r = 0; r < rows; r++)                                                     \
                for (int64_t j = 0; j < m; j++) t[r * m + j] += b[j];                              \
        const int64_t total = rows * m;                                                            \
        if (act == NULL) {                                                                         \
            if (y != t) memcpy(y, t, (size_t)total * sizeof(TT));                                  \
            return;                                                                                \
        }                                                                                          \
        if (y != t) { /* the kernels are restrict-qualified: in place goes through buf */          \
            act->FWD(total, t, y, p);                                                              \
            return;                                                                                \
        }                                                                                          \
        _Alignas(64) TT buf[ROW_CHUNK];                                                            \
        for (int64_t j = 0; j < total; j += ROW_CHUNK) {                                           \
            int64_t c = total - j < ROW_CHUNK ? total - j : ROW_CHUNK;                             \
            act->FWD(c, t + j, buf, p);                                                            \
            memcpy(y + j, buf, (size_t)c * sizeof(TT));                                            \
        }                                                                                          \
    }
DEF_BIAS_ACT(ln_bias_act_forward_f32, float, fwd32)
DEF_BIAS_ACT(ln_bias_act_forward_f64, double, fwd64)

void ln_bias_act_rows(ln_dtype dt, int64_t rows, int64_t m, void *t, const void *b, void *y,
                      const ln_act_def *act, const ln_act_params *p)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    if (act != NULL && strcmp(act->name, "linear") == 0) act = NULL;
    LN_BY_DTYPE(dt, ln_bias_act_forward_f32(rows, m, t, b, y, act, p),
                ln_bias_act_forward_f64(rows, m, t, b, y, act, p));
}

typedef struct dense_pass {
    const ln_tensor *target;
    const ln_tensor *b;
    const ln_act_def *act;
    const ln_act_params *p;
    const ln_tensor *y;
    const ln_dense_drop *drop;
    int64_t block; /* rows per pass */
} dense_pass;

/* rows [lo, hi) of the forward's pass after the GEMM, `block` rows at a time */
static void dense_rows(int64_t lo, int64_t hi, void *ctx)
{
    const dense_pass *j = ctx;
    const int64_t m = j->y->shape[1];
    const size_t es = ln_dtype_size(j->y->dtype);
    for (int64_t i = lo; i < hi; i += j->block) {
        int64_t rows = hi - i < j->block ? hi - i : j->block;
        size_t off = (size_t)(i * m) * es;
        ln_bias_act_rows(j->y->dtype, rows, m, (char *)j->target->data + off, j->b ? j->b->data : NULL,
                         (char *)j->y->data + off, j->act, j->p);
        if (j->drop) /* the block is still in cache: keep ? a*y + b : the dropped value */
            ln_dropout_forward(NULL, j->y->dtype, rows * m, (char *)j->y->data + off,
                               (char *)j->y->data + off, (uint8_t *)j->drop->keep + i * m, 1, 0,
                               j->drop->a, j->drop->b, j->drop->alpha);
    }
}

void ln_dense_forward(const ln_tensor *x, const ln_tensor *w, const ln_tensor *b,
                      const ln_act_def *act, const ln_act_params *p, const ln_tensor *z,
                      const ln_tensor *y, const ln_dense_drop *drop)
{
    ln_tensor target = z ? *z : *y;
    ln_gemm(&target, x, w, 1.0, 0.0);
    const int64_t n = y->shape[0], m = y->shape[1];
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE); /* (the wait for the other threads' rows included) */
    dense_pass j = {&target, b, act, p, y, drop, m >= ROW_CHUNK ? 1 : ROW_CHUNK / m};
    int64_t min_rows = LN_PARALLEL_MIN / (m > 0 ? m : 1); /* by rows */
    ln_parallel_for(n, j.block, min_rows > 2 ? min_rows : 2, dense_rows, &j);
}

/* dz = act'(s) * g row by row over the columns [c0, c1) of rows of m
 * (act NULL: dz is g), with the column sums of each row added into acc
 * (float64, rows in order) when db is wanted: a column's numbers do not
 * depend on how the columns are split */
#define DEF_DENSE_DZ(NAME, TT, BWD)                                                                \
    static void NAME(const ln_act_def *act, const ln_act_params *p, int64_t n, int64_t m,          \
                     int64_t c0, int64_t c1, const TT *s, const TT *g, TT *dz, TT *db, double *acc, \
                     const uint8_t *keep, double a, TT *tmp)                                       \
    {                                                                                              \
        const TT ta = (TT)a;                                                                       \
        const int64_t w = c1 - c0;                                                                 \
        if (db)                                                                                    \
            for (int64_t c = c0; c < c1; c++) acc[c] = 0;                                          \
        for (int64_t r = 0; r < n; r++) {                                                          \
            const int64_t at = r * m + c0;                                                         \
            const TT *row = g + at;                                                                \
            if (keep) { /* the dropout's backward first: a*g where kept, 0 where dropped */       \
                TT *t = act ? tmp + c0 : dz + at;                                                  \
                const uint8_t *k = keep + at;                                                      \
                for (int64_t c = 0; c < w; c++) t[c] = k[c] ? ta * row[c] : (TT)0;                 \
                row = t;                                                                           \
            }                                                                                      \
            if (act) {                                                                             \
                act->BWD(w, s + at, row, dz + at, p);                                              \
                row = dz + at;                                                                     \
            }                                                                                      \
            if (db)                                                                                \
                for (int64_t c = 0; c < w; c++) acc[c0 + c] += (double)row[c];                     \
        }                                                                                          \
        if (db)                                                                                    \
            for (int64_t c = c0; c < c1; c++) db[c] = (TT)acc[c];                                  \
    }
DEF_DENSE_DZ(dense_dz_f32, float, bwd32)
DEF_DENSE_DZ(dense_dz_f64, double, bwd64)

typedef struct dz_pass {
    const ln_act_def *act;
    const ln_act_params *p;
    int64_t n, m;
    const void *s, *g;
    void *dz, *db;
    double *acc;
    const uint8_t *keep;
    double a;
    void *tmp;
    ln_dtype dt;
} dz_pass;

static void dz_columns(int64_t lo, int64_t hi, void *ctx)
{
    const dz_pass *j = ctx;
    LN_BY_DTYPE(j->dt,
                dense_dz_f32(j->act, j->p, j->n, j->m, lo, hi, j->s, j->g, j->dz, j->db, j->acc, j->keep,
                             j->a, j->tmp),
                dense_dz_f64(j->act, j->p, j->n, j->m, lo, hi, j->s, j->g, j->dz, j->db, j->acc, j->keep,
                             j->a, j->tmp));
}

void ln_dense_backward(const ln_tensor *x, const ln_tensor *w, const ln_act_def *act,
                       const ln_act_params *p, const ln_tensor *s, const ln_tensor *g,
                       const ln_dense_drop *drop, void *tmp, const ln_tensor *dz, ln_tensor *dx,
                       ln_tensor *dw, const ln_tensor *db, double *acc)
{
    const uint8_t *keep = drop ? drop->keep : NULL;
    const double a = drop ? drop->a : 0;
    if (act != NULL && strcmp(act->name, "linear") == 0) act = NULL;
    const int64_t n = g->shape[0], m = g->shape[1];
    const int own = act || keep; /* dz is computed (else it is g) */
    if (own || db) {
        LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
        dz_pass j = {act, p, n, m, act ? s->data : NULL, g->data, own ? dz->data : NULL,
                     db ? db->data : NULL, acc, keep, a, tmp, g->dtype};
        /* columns in slices of 16; serial (a minimum above m) under
         * LN_PARALLEL_MIN elements or 32 columns */
        ln_parallel_for(m, 16, n * m >= LN_PARALLEL_MIN && m >= 32 ? 32 : m + 1, dz_columns, &j);
    }
    const ln_tensor *d = own ? dz : g;
    if (dw) {
        /* dW = x^T dz: x read through transposed strides */
        ln_tensor xt = *x;
        xt.shape[0] = x->shape[1], xt.shape[1] = x->shape[0];
        xt.stride[0] = x->stride[1], xt.stride[1] = x->stride[0];
        ln_gemm(dw, &xt, d, 1.0, 0.0);
    }
    if (dx) {
        ln_tensor wt = *w;
        wt.shape[0] = w->shape[1], wt.shape[1] = w->shape[0];
        wt.stride[0] = w->stride[1], wt.stride[1] = w->stride[0];
        ln_gemm(dx, d, &wt, 1.0, 0.0);
    }
}

#define DEF_DROPOUT(FWD_NAME, BWD_NAME, TT)                                                                       \
    static void FWD_NAME(ln_rng *r,    int64_t n, const TT *x, TT *y, uint8_t *keep, int given,  \
                              double rate, double a, double b, double alpha)                       \
    {                                                                                              \
        const TT ta = (TT)a, tb = (TT)b, dropped = (TT)(a * alpha + b);                            \
        if (!given) ln_rng_keep_mask(r, n, rate, keep);                                            \
        for (int64_t i = 0; i < n; i++) y[i] = keep[i] ? ta * x[i] + tb : dropped;                 \
    }                                                                                              \
    static void BWD_NAME(int64_t n,        const TT *g, const uint8_t *keep, double a, TT *dx)   \
    {                                                                                              \
        const TT ta = (TT)a;                                                                       \
        for (int64_t i = 0; i < n; i++) dx[i] = keep[i] ? ta * g[i] : (TT)0;                       \
    }
DEF_DROPOUT(ln_dropout_forward_f32, ln_dropout_backward_f32, float)
DEF_DROPOUT(ln_dropout_forward_f64, ln_dropout_backward_f64, double)

void ln_dropout_forward(ln_rng *r, ln_dtype dt, int64_t n, const void *x, void *y, uint8_t *keep,
                        int mask_given, double rate, double a, double b, double alpha)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, ln_dropout_forward_f32(r, n, x, y, keep, mask_given, rate, a, b, alpha),
        ln_dropout_forward_f64(r, n, x, y, keep, mask_given, rate, a, b, alpha));
}

void ln_dropout_backward(ln_dtype dt, int64_t n, const void *g, const uint8_t *keep, double a,
                         void *dx)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, ln_dropout_backward_f32(n, g, keep, a, dx),
        ln_dropout_backward_f64(n, g, keep, a, dx));
}

/* ---- softmax cross-entropy from logits ------------------------------------ */

#define DEF_XENT(FWD_NAME, BWD_NAME, TT, EXPF)                                                      \
    static void FWD_NAME(int64_t n, int64_t c, const TT *z, const TT *y, const int32_t *ids, TT *loss,    \
                  TT *p)                                                                           \
    {                                                                                              \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const TT *zi = z + i * c;                                                              \
            TT *pi = p + i * c;                                                                    \
            TT m = -(TT)INFINITY;                                                                  \
            int nan = 0;                                                                           \
            for (int64_t j = 0; j < c; j++) {                                                      \
                nan |= zi[j] != zi[j];                                                             \
                m = zi[j] > m ? zi[j] : m;                                                         \
            }                                                                                      \
            if (nan) m = (TT)NAN;                                                                  \
            double sum = 0;                                                                        \
            for (int64_t j = 0; j < c; j++) {                                                      \
                pi[j] = EXPF(zi[j] - m);                                                           \
                sum += (double)pi[j];                                                              \
            }                                                                                      \
            TT inv = (TT)(1.0 / sum);                                                              \
            for (int64_t j = 0; j < c; j++) pi[j] *= inv;                                          \
            double lse = (double)m + log(sum);                                                     \
            double l;                                                                              \
            if (ids) {                                                                             \
                l = lse - (double)zi[ids[i]];                                                      \
            } else {                                                                               \
                const TT *yi = y + i * c;                                                          \
                l = 0;                                                                             \
                for (int64_t j = 0; j < c; j++)                                                    \
                    if (yi[j] != 0) l += (double)yi[j] * (lse - (double)zi[j]);                    \
            }                                                                                      \
            loss[i] = (TT)l;                                                                       \
        }                                                                                          \
    }                                                                                              \
    static void BWD_NAME(int64_t n, int64_t c, const TT *p, const TT *y, const int32_t *ids, const TT *g, \
                  TT *dz)                                                                          \
    {                                                                                              \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const TT *pi = p + i * c;                                                              \
            TT *di = dz + i * c;                                                                   \
            TT gi = g[i];                                                                          \
            if (ids) {                                                                             \
                for (int64_t j = 0; j < c; j++) di[j] = gi * pi[j];                                \
                di[ids[i]] -= gi;                                                                  \
            } else {                                                                               \
                const TT *yi = y + i * c;                                                          \
                double s = 0;                                                                      \
                for (int64_t j = 0; j < c; j++) s += (double)yi[j];                                \
                TT st = (TT)s;                                                                     \
                for (int64_t j = 0; j < c; j++) di[j] = gi * (pi[j] * st - yi[j]);                 \
            }                                                                                      \
        }                                                                                          \
    }
DEF_XENT(ln_softmax_xent_forward_f32, ln_softmax_xent_backward_f32, float, ln_expf)
DEF_XENT(ln_softmax_xent_forward_f64, ln_softmax_xent_backward_f64, double, exp)

void ln_softmax_xent_forward(ln_dtype dt, int64_t n, int64_t c, const void *z, const void *y,
                             const int32_t *ids, void *loss, void *p)
{
    LN_PROF_SCOPE(LN_PROF_LOSS);
    LN_BY_DTYPE(dt, ln_softmax_xent_forward_f32(n, c, z, y, ids, loss, p),
                ln_softmax_xent_forward_f64(n, c, z, y, ids, loss, p));
}

void ln_softmax_xent_backward(ln_dtype dt, int64_t n, int64_t c, const void *p, const void *y,
                              const int32_t *ids, const void *g, void *dz)
{
    LN_PROF_SCOPE(LN_PROF_LOSS);
    LN_BY_DTYPE(dt, ln_softmax_xent_backward_f32(n, c, p, y, ids, g, dz),
                ln_softmax_xent_backward_f64(n, c, p, y, ids, g, dz));
}

/* ---- batch normalization -------------------------------------------------- */

#define DEF_BN(FWD_NAME, BWD_NAME, TT)                                                             \
    static void FWD_NAME(int64_t rows, int64_t c, const TT *x, const TT *gamma, const TT *beta,    \
                         double eps, int training, double *mean, double *var, double *invstd,      \
                         TT *y, double *acc)                                                       \
    {                                                                                              \
        if (training) {                                                                            \
            for (int64_t j = 0; j < c; j++) acc[j] = 0;                                            \
            for (int64_t i = 0; i < rows; i++)                                                     \
                for (int64_t j = 0; j < c; j++) acc[j] += (double)x[i * c + j];                    \
            for (int64_t j = 0; j < c; j++) mean[j] = acc[j] / (double)rows, acc[j] = 0;           \
            for (int64_t i = 0; i < rows; i++)                                                     \
                for (int64_t j = 0; j < c; j++) {                                                  \
                    double d = (double)x[i * c + j] - mean[j];                                     \
                    acc[j] += d * d;                                                               \
                }                                                                                  \
            for (int64_t j = 0; j < c; j++) var[j] = acc[j] / (double)rows;                        \
        }                                                                                          \
        /* y = x * scale + shift, per column */                                                    \
        double *scale = acc, *shift = acc + c;                                                     \
        for (int64_t j = 0; j < c; j++) {                                                          \
            invstd[j] = 1.0 / sqrt(var[j] + eps);                                                  \
            scale[j] = invstd[j] * (gamma ? (double)gamma[j] : 1.0);                               \
            shift[j] = (beta ? (double)beta[j] : 0.0) - mean[j] * scale[j];                        \
        }                                                                                          \
        for (int64_t i = 0; i < rows; i++)                                                         \
            for (int64_t j = 0; j < c; j++) y[i * c + j] = (TT)((double)x[i * c + j] * scale[j] + shift[j]); \
    }                                                                                              \
    static void BWD_NAME(int64_t rows, int64_t c, const TT *x, const TT *gamma, const double *mean, \
                         const double *invstd, int training, const TT *g, TT *dx, TT *dgamma,      \
                         TT *dbeta, double *acc)                                                   \
    {                                                                                              \
        double *sg = acc, *sgx = acc + c; /* sum g, sum g * xhat */                                \
        for (int64_t j = 0; j < c; j++) sg[j] = sgx[j] = 0;                                        \
        for (int64_t i = 0; i < rows; i++)                                                         \
            for (int64_t j = 0; j < c; j++) {                                                      \
                double gi = (double)g[i * c + j];                                                  \
                sg[j] += gi;                                                                       \
                sgx[j] += gi * (((double)x[i * c + j] - mean[j]) * invstd[j]);                     \
            }                                                                                      \
        for (int64_t j = 0; j < c; j++) {                                                          \
            if (dgamma) dgamma[j] = (TT)sgx[j];                                                    \
            if (dbeta) dbeta[j] = (TT)sg[j];                                                       \
        }                                                                                          \
        if (!dx) return;                                                                           \
        double *k = acc + 2 * c, *mg = acc + 3 * c, *mgx = acc + 4 * c;                            \
        for (int64_t j = 0; j < c; j++) {                                                          \
            k[j] = (gamma ? (double)gamma[j] : 1.0) * invstd[j];                                   \
            mg[j] = training ? sg[j] / (double)rows : 0.0;                                         \
            mgx[j] = training ? sgx[j] / (double)rows : 0.0;                                       \
        }                                                                                          \
        for (int64_t i = 0; i < rows; i++)                                                         \
            for (int64_t j = 0; j < c; j++) {                                                      \
                double xh = ((double)x[i * c + j] - mean[j]) * invstd[j];                          \
                dx[i * c + j] = (TT)(k[j] * ((double)g[i * c + j] - mg[j] - xh * mgx[j]));         \
            }                                                                                      \
    }
DEF_BN(bn_forward_f32, bn_backward_f32, float)
DEF_BN(bn_forward_f64, bn_backward_f64, double)

void ln_batchnorm_forward(ln_dtype dt, int64_t rows, int64_t c, const void *x, const void *gamma,
                          const void *beta, double eps, int training, double *mean, double *var,
                          double *invstd, void *y, double *scratch)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, bn_forward_f32(rows, c, x, gamma, beta, eps, training, mean, var, invstd, y, scratch),
                bn_forward_f64(rows, c, x, gamma, beta, eps, training, mean, var, invstd, y, scratch));
}

void ln_batchnorm_backward(ln_dtype dt, int64_t rows, int64_t c, const void *x, const void *gamma,
                           const double *mean, const double *invstd, int training, const void *g,
                           void *dx, void *dgamma, void *dbeta, double *scratch)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, bn_backward_f32(rows, c, x, gamma, mean, invstd, training, g, dx, dgamma, dbeta, scratch),
                bn_backward_f64(rows, c, x, gamma, mean, invstd, training, g, dx, dgamma, dbeta, scratch));
}
