/*
 * reduce.c - sum, mean, var, std, max, min, argmax, argmin.
 *
 * Two shapes of work: a run along the reduced dim (contiguous when the last
 * dim is reduced), and, when the reduced dim is not the innermost one, a
 * blocked pass that streams whole rows into per-column accumulators so a
 * (N, D) tensor reduced over N is read once, in order.
 */
#include "reduce.h"

#include <math.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "elementwise.h"
#include "parallel.h"
#include "prof.h"

#define COL_BLOCK 256

/* ---- runs ---------------------------------------------------------------- */

/* Sum of n elements at p (byte step s) in double, with eight accumulators
 * in a fixed order: deterministic, and no dependency chain per element. */
static double run_sum(const char *p, int64_t n, int64_t s, ln_dtype dt, double shift, int squares)
{
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    if (dt == LN_F32 && s == 4) {
        const float *x = (const float *)p;
        if (squares) {
            for (; i + 8 <= n; i += 8)
                for (int k = 0; k < 8; k++) {
                    double d = (double)x[i + k] - shift;
                    a[k] += d * d;
                }
        } else {
            for (; i + 8 <= n; i += 8)
                for (int k = 0; k < 8; k++) a[k] += (double)x[i + k];
        }
    } else if (dt == LN_F64 && s == 8) {
        const double *x = (const double *)p;
        if (squares) {
            for (; i + 8 <= n; i += 8)
                for (int k = 0; k < 8; k++) {
                    double d = x[i + k] - shift;
                    a[k] += d * d;
                }
        } else {
            for (; i + 8 <= n; i += 8)
                for (int k = 0; k < 8; k++) a[k] += x[i + k];
        }
    }
    double t = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (; i < n; i++) {
        double v = ln_load(p + i * s, dt);
        if (squares) {
            double d = v - shift;
            t += d * d;
        } else {
            t += v;
        }
    }
    return t;
}

/* Best (max or min) of a run; returns its 0-based position.  A NaN wins. */
static int64_t run_best(const char *p, int64_t n, int64_t s, ln_dtype dt, int want_max,
                        double *best)
{
    double b = ln_load(p, dt);
    int64_t bi = 0;
    if (b != b) {
        *best = b;
        return 0;
    }
    for (int64_t i = 1; i < n; i++) {
        double v = ln_load(p + i * s, dt);
        if (v != v) {
            *best = v;
            return i;
        }
        if (want_max ? v > b : v < b) {
            b = v;
            bi = i;
        }
    }
    *best = b;
    return bi;
}

/* ---- integer runs: exact (int64 keys, sums wrap as numpy's) -------------- */

static uint64_t run_sum_int(const char *p, int64_t n, int64_t s, ln_dtype dt)
{
    uint64_t t = 0;
#define SUM_AS(T)                                                                                  \
    for (int64_t i = 0; i < n; i++) t += (uint64_t) * (const T *)(p + i * s)
    switch (dt) {
    case LN_I32: SUM_AS(int32_t); break;
    case LN_U8: SUM_AS(uint8_t); break;
    default: SUM_AS(int64_t); break;
    }
#undef SUM_AS
    return t;
}

static int64_t run_best_int(const char *p, int64_t n, int64_t s, ln_dtype dt, int want_max,
                            int64_t *best)
{
    int64_t b = ln_load_i64(p, dt), bi = 0;
    for (int64_t i = 1; i < n; i++) {
        int64_t v = ln_load_i64(p + i * s, dt);
        if (want_max ? v > b : v < b) {
            b = v;
            bi = i;
        }
    }
    *best = b;
    return bi;
}

/* sum, max, min and arg* of an integer dtype take the exact path */
static int is_int_path(ln_redop op, ln_dtype dt)
{
    return !ln_dtype_is_float(dt) && op != LN_RED_MEAN && op != LN_RED_VAR && op != LN_RED_STD;
}

static int is_best_op(ln_redop op)
{
    return op == LN_RED_MAX || op == LN_RED_MIN || op == LN_RED_ARGMAX || op == LN_RED_ARGMIN;
}

static int wants_max(ln_redop op) { return op == LN_RED_MAX || op == LN_RED_ARGMAX; }

/* Store the result of one reduction; `pos` is 0-based. */
static void store_result(char *o, ln_dtype odt, ln_redop op, double value, int64_t pos)
{
    if (op == LN_RED_ARGMAX || op == LN_RED_ARGMIN) *(int32_t *)o = (int32_t)(pos + 1);
    else ln_store(o, odt, value);
}

static double finish_moment(ln_redop op, double sum, double sumsq, int64_t n)
{
    switch (op) {
    case LN_RED_SUM: return sum;
    case LN_RED_MEAN: return n ? sum / (double)n : (double)NAN;
    case LN_RED_VAR: return n ? sumsq / (double)n : (double)NAN;
    case LN_RED_STD: return n ? sqrt(sumsq / (double)n) : (double)NAN;
    default: return 0;
    }
}

static void reduce_run(ln_redop op, char *o, ln_dtype odt, const char *p, int64_t n, int64_t s,
                       ln_dtype dt)
{
    if (is_int_path(op, dt)) {
        if (op == LN_RED_SUM) {
            ln_store_i64(o, odt, (int64_t)run_sum_int(p, n, s, dt));
            return;
        }
        int64_t b, bi = run_best_int(p, n, s, dt, wants_max(op), &b);
        if (op == LN_RED_ARGMAX || op == LN_RED_ARGMIN) *(int32_t *)o = (int32_t)(bi + 1);
        else ln_store_i64(o, odt, b);
        return;
    }
    if (is_best_op(op)) {
        double b;
        int64_t bi = run_best(p, n, s, dt, wants_max(op), &b);
        store_result(o, odt, op, b, bi);
        return;
    }
    double sum = run_sum(p, n, s, dt, 0, 0), sumsq = 0;
    if ((op == LN_RED_VAR || op == LN_RED_STD) && n)
        sumsq = run_sum(p, n, s, dt, sum / (double)n, 1);
    store_result(o, odt, op, finish_moment(op, sum, sumsq, n), 0);
}

/* ---- many contiguous runs ------------------------------------------------
 * sum, mean, var and std of nrows float runs of n elements each (row i at
 * p + i*rs bytes), ROWS at a time: each row is summed exactly as run_sum
 * sums it (eight accumulators, lane k adding elements k, k+8, ..., then
 * the same pairwise total and the same tail), so the results are run_sum's
 * to the bit; interleaving rows only gives the adds independent chains.
 * A (500, 100) mean and std (seed 001's per-layer statistics) ran one
 * 100-element chain after another.  (Vector types, because gcc left the
 * squares loop scalar with the accumulators on the stack.) */
#define ROWS 4
typedef double ln_v4d __attribute__((vector_size(32)));
typedef float ln_v4f __attribute__((vector_size(16)));

static inline ln_v4d load4(const float *x)
{
#if defined(__AVX__)
    return (ln_v4d)_mm256_cvtps_pd(_mm_loadu_ps(x)); /* (gcc splits the generic form) */
#else
    ln_v4f v;
    memcpy(&v, x, sizeof v);
    return __builtin_convertvector(v, ln_v4d);
#endif
}

static inline ln_v4d load4d(const double *x)
{
    ln_v4d v;
    memcpy(&v, x, sizeof v);
    return v;
}

static inline double total8(ln_v4d lo, ln_v4d hi)
{
    return ((lo[0] + lo[1]) + (lo[2] + lo[3])) + ((hi[0] + hi[1]) + (hi[2] + hi[3]));
}

#define DEF_ROW_MOMENTS(NAME, TT, LOAD)                                                            \
    static void NAME(ln_redop op, char *o, int64_t os, ln_dtype odt, const char *p, int64_t nrows, \
                     int64_t rs, int64_t n)                                                        \
    {                                                                                              \
        const int64_t nb = n / 8 * 8;                                                              \
        const int moments = op == LN_RED_VAR || op == LN_RED_STD;                                  \
        for (int64_t r0 = 0; r0 < nrows; r0 += ROWS) {                                             \
            const int m = nrows - r0 < ROWS ? (int)(nrows - r0) : ROWS;                            \
            const TT *x[ROWS];                                                                     \
            ln_v4d lo[ROWS], hi[ROWS];                                                             \
            double sum[ROWS], sq[ROWS], shift[ROWS];                                               \
            for (int r = 0; r < ROWS; r++) {                                                       \
                x[r] = (const TT *)(p + (r0 + (r < m ? r : 0)) * rs);                              \
                lo[r] = hi[r] = (ln_v4d){0, 0, 0, 0};                                              \
                sq[r] = 0;                                                                         \
            }                                                                                      \
            for (int64_t i = 0; i < nb; i += 8)                                                    \
                for (int r = 0; r < ROWS; r++) {                                                   \
                    lo[r] += LOAD(x[r] + i);                                                       \
                    hi[r] += LOAD(x[r] + i + 4);                                                   \
                }                                                                                  \
            for (int r = 0; r < ROWS; r++) {                                                       \
                double t = total8(lo[r], hi[r]);                                                   \
                for (int64_t i = nb; i < n; i++) t += (double)x[r][i];                             \
                sum[r] = t;                                                                        \
                shift[r] = n ? t / (double)n : 0;                                                  \
            }                                                                                      \
            if (moments && n) {                                                                    \
                ln_v4d sh[ROWS];                                                                   \
                for (int r = 0; r < ROWS; r++) {                                                   \
                    lo[r] = hi[r] = (ln_v4d){0, 0, 0, 0};                                          \
                    sh[r] = (ln_v4d){shift[r], shift[r], shift[r], shift[r]};                      \
                }                                                                                  \
                for (int64_t i = 0; i < nb; i += 8)                                                \
                    for (int r = 0; r < ROWS; r++) {                                               \
                        ln_v4d dl = LOAD(x[r] + i) - sh[r], dh = LOAD(x[r] + i + 4) - sh[r];       \
                        lo[r] += dl * dl;                                                          \
                        hi[r] += dh * dh;                                                          \
                    }                                                                              \
                for (int r = 0; r < ROWS; r++) {                                                   \
                    double t = total8(lo[r], hi[r]);                                               \
                    for (int64_t i = nb; i < n; i++) {                                             \
                        double d = (double)x[r][i] - shift[r];                                     \
                        t += d * d;                                                                \
                    }                                                                              \
                    sq[r] = t;                                                                     \
                }                                                                                  \
            }                                                                                      \
            for (int r = 0; r < m; r++)                                                            \
                ln_store(o + (r0 + r) * os, odt, finish_moment(op, sum[r], sq[r], n));             \
        }                                                                                          \
    }
DEF_ROW_MOMENTS(rows_moments_f32, float, load4)
DEF_ROW_MOMENTS(rows_moments_f64, double, load4d)

/* ---- column blocks --------------------------------------------------------
 * ncol outputs (byte step os) each reducing R rows: element (r, j) is at
 * p + r*rs + j*cs.  Rows are streamed in order into per-column state. */
static void reduce_cols(ln_redop op, char *o, int64_t os, ln_dtype odt, const char *p,
                        int64_t ncol, int64_t cs, int64_t R, int64_t rs, ln_dtype dt)
{
    double acc[COL_BLOCK], acc2[COL_BLOCK];
    int64_t idx[COL_BLOCK];
    for (int64_t j0 = 0; j0 < ncol; j0 += COL_BLOCK) {
        int64_t nb = ncol - j0 < COL_BLOCK ? ncol - j0 : COL_BLOCK;
        const char *pj = p + j0 * cs;
        if (is_best_op(op)) {
            int mx = wants_max(op);
            for (int64_t j = 0; j < nb; j++) {
                acc[j] = ln_load(pj + j * cs, dt);
                idx[j] = 0;
            }
            for (int64_t r = 1; r < R; r++) {
                const char *row = pj + r * rs;
                for (int64_t j = 0; j < nb; j++) {
                    double v = ln_load(row + j * cs, dt), b = acc[j];
                    if (b != b) continue;
                    if (v != v || (mx ? v > b : v < b)) {
                        acc[j] = v;
                        idx[j] = r;
                    }
                }
            }
            for (int64_t j = 0; j < nb; j++)
                store_result(o + (j0 + j) * os, odt, op, acc[j], idx[j]);
            continue;
        }
        for (int64_t j = 0; j < nb; j++) acc[j] = acc2[j] = 0;
        if (dt == LN_F32 && cs == 4) {
            for (int64_t r = 0; r < R; r++) {
                const float *row = (const float *)(pj + r * rs);
                for (int64_t j = 0; j < nb; j++) acc[j] += (double)row[j];
            }
        } else {
            for (int64_t r = 0; r < R; r++) {
                const char *row = pj + r * rs;
                for (int64_t j = 0; j < nb; j++) acc[j] += ln_load(row + j * cs, dt);
            }
        }
        if ((op == LN_RED_VAR || op == LN_RED_STD) && R) {
            double mean[COL_BLOCK];
            for (int64_t j = 0; j < nb; j++) mean[j] = acc[j] / (double)R;
            for (int64_t r = 0; r < R; r++) {
                const char *row = pj + r * rs;
                for (int64_t j = 0; j < nb; j++) {
                    double d = ln_load(row + j * cs, dt) - mean[j];
                    acc2[j] += d * d;
                }
            }
        }
        for (int64_t j = 0; j < nb; j++)
            store_result(o + (j0 + j) * os, odt, op, finish_moment(op, acc[j], acc2[j], R), 0);
    }
}

/* ---- drivers ------------------------------------------------------------- */

typedef struct dim_ctx {
    ln_redop op;
    ln_dtype xdt, odt;
    int64_t R, rs; /* length and byte step of the reduced dim */
} dim_ctx;

/* one slice of rows_loop's rows */
typedef struct rows_job {
    const dim_ctx *c;
    char *o;
    const char *p;
    int64_t os, ps;
} rows_job;

static void rows_range(int64_t lo, int64_t hi, void *ctx)
{
    const rows_job *j = ctx;
    const dim_ctx *c = j->c;
    (c->xdt == LN_F32 ? rows_moments_f32 : rows_moments_f64)(c->op, j->o + lo * j->os, j->os, c->odt,
                                                             j->p + lo * j->ps, hi - lo, j->ps, c->R);
}

static int is_moment_op(ln_redop op)
{
    return op == LN_RED_SUM || op == LN_RED_MEAN || op == LN_RED_VAR || op == LN_RED_STD;
}

static void dim_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const dim_ctx *c = (const dim_ctx *)ctx;
    int64_t es = (int64_t)ln_dtype_size(c->xdt);
    if (n >= 4 && s[1] == es && c->rs != es && !is_int_path(c->op, c->xdt)) {
        reduce_cols(c->op, p[0], s[0], c->odt, p[1], n, s[1], c->R, c->rs, c->xdt);
        return;
    }
    if (c->rs == es && (c->xdt == LN_F32 || c->xdt == LN_F64) && is_moment_op(c->op)) {
        rows_job j = {c, p[0], p[1], s[0], s[1]};
        /* each row is one thread's whole job: the result is the thread count's */
        int64_t min_rows = LN_PARALLEL_MIN / (c->R > 0 ? c->R : 1);
        ln_parallel_for(n, ROWS, min_rows > 2 * ROWS ? min_rows : 2 * ROWS, rows_range, &j);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        reduce_run(c->op, p[0] + i * s[0], c->odt, p[1] + i * s[1], c->R, c->rs, c->xdt);
}

typedef struct all_ctx {
    ln_redop op;
    ln_dtype dt;
    double acc, shift, best;
    int64_t seen, best_pos;
    int pass, found_nan;
    uint64_t iacc; /* the integer path's sum and best */
    int64_t ibest;
} all_ctx;

static void all_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    all_ctx *c = (all_ctx *)ctx;
    if (is_int_path(c->op, c->dt)) {
        if (c->op == LN_RED_SUM) {
            c->iacc += run_sum_int(p[0], n, s[0], c->dt);
        } else {
            int64_t b, bi = run_best_int(p[0], n, s[0], c->dt, wants_max(c->op), &b);
            if (c->seen == 0 || (wants_max(c->op) ? b > c->ibest : b < c->ibest)) {
                c->ibest = b;
                c->best_pos = c->seen + bi;
            }
        }
    } else if (is_best_op(c->op)) {
        if (!c->found_nan) {
            double b;
            int64_t bi = run_best(p[0], n, s[0], c->dt, wants_max(c->op), &b);
            int first = c->seen == 0;
            if (b != b) {
                c->found_nan = 1;
                c->best = b;
                c->best_pos = c->seen + bi;
            } else if (first || (wants_max(c->op) ? b > c->best : b < c->best)) {
                c->best = b;
                c->best_pos = c->seen + bi;
            }
        }
    } else {
        c->acc += run_sum(p[0], n, s[0], c->dt, c->shift, c->pass == 2);
    }
    c->seen += n;
}

void ln_reduce(ln_redop op, ln_tensor *out, const ln_tensor *x, int dim)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    if (dim < 0) {
        int64_t n = ln_numel(x);
        if (ln_is_contiguous(x)) {
            reduce_run(op, (char *)out->data, out->dtype, (const char *)x->data, n,
                       (int64_t)ln_dtype_size(x->dtype), x->dtype);
            return;
        }
        all_ctx c = {op, x->dtype, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        const ln_tensor *ops[1] = {x};
        ln_foreach(1, ops, all_loop, &c);
        if (is_int_path(op, x->dtype)) {
            if (op == LN_RED_SUM) ln_store_i64(out->data, out->dtype, (int64_t)c.iacc);
            else if (op == LN_RED_MAX || op == LN_RED_MIN)
                ln_store_i64(out->data, out->dtype, c.ibest);
            else *(int32_t *)out->data = (int32_t)(c.best_pos + 1);
            return;
        }
        if (is_best_op(op)) {
            store_result((char *)out->data, out->dtype, op, c.best, c.best_pos);
            return;
        }
        double sum = c.acc, sumsq = 0;
        if ((op == LN_RED_VAR || op == LN_RED_STD) && n) {
            c.pass = 2;
            c.acc = 0;
            c.shift = sum / (double)n;
            ln_foreach(1, ops, all_loop, &c);
            sumsq = c.acc;
        }
        store_result((char *)out->data, out->dtype, op, finish_moment(op, sum, sumsq, n), 0);
        return;
    }

    /* Views of x and out without the reduced dim; out's keeps its strides. */
    ln_tensor xr = *x, orr = *out;
    int k = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (i == dim) continue;
        xr.shape[k] = x->shape[i];
        xr.stride[k] = x->stride[i];
        orr.shape[k] = x->shape[i];
        orr.stride[k] = out->stride[i];
        k++;
    }
    xr.ndim = orr.ndim = k;
    dim_ctx c = {op, x->dtype, out->dtype, x->shape[dim],
                 x->stride[dim] * (int64_t)ln_dtype_size(x->dtype)};
    const ln_tensor *ops[2] = {&orr, &xr};
    ln_foreach(2, ops, dim_loop, &c);
}
