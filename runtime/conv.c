/*
 * conv.c - im2col/col2im and max pooling over NHWC tensors (see conv.h).
 */
#include "conv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "nn.h"
#include "parallel.h"
#include "prof.h"

/* kh runs of N elements: from src, rows `next` apart, to dst, one after the other */
#define COPY_RUNS(N)                                                                               \
    for (int64_t u = 0; u < g->kh; u++, dst += (N), src += next)                                   \
        for (int64_t t = 0; t < (N); t++) dst[t] = src[t]

#define DEF_IM2COL(IM2COL, COL2IM, TT)                                                             \
    static void IM2COL(const ln_window *g, const TT *x, TT *col)                                   \
    {                                                                                              \
        const int64_t row = g->kh * g->kw * g->c, c = g->c;                                        \
        for (int64_t b = 0; b < g->n; b++)                                                         \
            for (int64_t i = 0; i < g->oh; i++)                                                    \
                for (int64_t j = 0; j < g->ow; j++) {                                              \
                    TT *dst = col + ((b * g->oh + i) * g->ow + j) * row;                           \
                    int64_t y0 = i * g->sh - g->pt, x0 = j * g->sw - g->pl;                        \
                    int inside = y0 >= 0 && y0 + (g->kh - 1) * g->dh < g->h && x0 >= 0 &&          \
                                 x0 + (g->kw - 1) * g->dw < g->w;                                  \
                    if (inside && g->dw == 1) {                                                    \
                        /* each window row is one run of kw*c elements; a short run (one           \
                         * channel: kw) is copied with its length known to the compiler */         \
                        const int64_t run = g->kw * c;                                             \
                        const TT *src = x + ((b * g->h + y0) * g->w + x0) * c;                     \
                        const int64_t next = g->dh * g->w * c;                                     \
                        switch (run) {                                                             \
                        case 3: COPY_RUNS(3); break;                                               \
                        case 5: COPY_RUNS(5); break;                                               \
                        case 7: COPY_RUNS(7); break;                                               \
                        default: COPY_RUNS(run); break;                                            \
                        }                                                                          \
                        continue;                                                                  \
                    }                                                                              \
                    for (int64_t u = 0; u < g->kh; u++) {                                          \
                        int64_t y = y0 + u * g->dh;                                                \
                        for (int64_t v = 0; v < g->kw; v++, dst += c) {                            \
                            int64_t xx = x0 + v * g->dw;                                           \
                            if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) {                      \
                                memset(dst, 0, (size_t)c * sizeof(TT));                            \
                            } else {                                                               \
                                const TT *src = x + ((b * g->h + y) * g->w + xx) * c;              \
                                memcpy(dst, src, (size_t)c * sizeof(TT));                          \
                            }                                                                      \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
    }                                                                                              \
    static void COL2IM(const ln_window *g, const TT *col, TT *dx)                                  \
    {                                                                                              \
        const int64_t row = g->kh * g->kw * g->c;                                                  \
        memset(dx, 0, (size_t)(g->n * g->h * g->w * g->c) * sizeof(TT));                          \
        for (int64_t b = 0; b < g->n; b++)                                                         \
            for (int64_t i = 0; i < g->oh; i++)                                                    \
                for (int64_t j = 0; j < g->ow; j++) {                                              \
                    const TT *src = col + ((b * g->oh + i) * g->ow + j) * row;                     \
                    for (int64_t u = 0; u < g->kh; u++) {                                          \
                        int64_t y = i * g->sh + u * g->dh - g->pt;                                 \
                        for (int64_t v = 0; v < g->kw; v++, src += g->c) {                         \
                            int64_t xx = j * g->sw + v * g->dw - g->pl;                            \
                            if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) continue;              \
                            TT *d = dx + ((b * g->h + y) * g->w + xx) * g->c;                      \
                            for (int64_t k = 0; k < g->c; k++) d[k] += src[k];                     \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
    }
DEF_IM2COL(ln_im2col_f32, ln_col2im_f32, float)
DEF_IM2COL(ln_im2col_f64, ln_col2im_f64, double)

void ln_im2col(ln_dtype dt, const ln_window *g, const void *x, void *col)
{
    LN_PROF_SCOPE(LN_PROF_CONV);
    LN_BY_DTYPE(dt, ln_im2col_f32(g, x, col), ln_im2col_f64(g, x, col));
}

void ln_col2im(ln_dtype dt, const ln_window *g, const void *col, void *dx)
{
    LN_PROF_SCOPE(LN_PROF_CONV);
    LN_BY_DTYPE(dt, ln_col2im_f32(g, col, dx), ln_col2im_f64(g, col, dx));
}

/* the body (the last argument) for each cell (r, q) inside the input of
 * output (i, j)'s window, in (u, v) order */
#define FOR_CELLS(g, i, j, r, q, ...)                                                              \
    for (int64_t u_ = 0; u_ < (g)->kh; u_++) {                                                     \
        int64_t r = (i) * (g)->sh + u_ - (g)->pt;                                                  \
        if (r < 0 || r >= (g)->h) continue;                                                        \
        for (int64_t v_ = 0; v_ < (g)->kw; v_++) {                                                 \
            int64_t q = (j) * (g)->sw + v_ - (g)->pl;                                              \
            if (q < 0 || q >= (g)->w) continue;                                                    \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

#define DEF_MAXPOOL(FWD, BWD, TT)                                                                  \
    /* one sample: channels innermost, each window cell updating a contiguous row of c */          \
    static void FWD(const ln_window *g, const TT *x, TT *y, int32_t *arg)                          \
    {                                                                                              \
        const int64_t c = g->c;                                                                    \
        for (int64_t i = 0; i < g->oh; i++)                                                        \
            for (int64_t j = 0; j < g->ow; j++) {                                                  \
                TT *yo = y + (i * g->ow + j) * c;                                                  \
                int32_t *ao = arg + (i * g->ow + j) * c;                                           \
                int first = 1;                                                                     \
                FOR_CELLS(g, i, j, r, q, {                                                         \
                        const int32_t at = (int32_t)((r * g->w + q) * c);                          \
                        const TT *xr = x + at;                                                     \
                        if (first) {                                                               \
                            for (int64_t k = 0; k < c; k++) {                                      \
                                yo[k] = xr[k];                                                     \
                                ao[k] = at + (int32_t)k;                                           \
                            }                                                                      \
                            first = 0;                                                             \
                            continue;                                                              \
                        }                                                                          \
                        for (int64_t k = 0; k < c; k++) {                                          \
                            TT e = xr[k], m = yo[k];                                               \
                            /* a larger value wins, and a NaN over a number */                     \
                            int take = (e > m) | ((e != e) & (m == m));                            \
                            yo[k] = take ? e : m;                                                  \
                            ao[k] = take ? at + (int32_t)k : ao[k];                                \
                        }                                                                          \
                });                                                                                \
                /* every window holds a cell of the input (the binding checks the sizes) */        \
            }                                                                                      \
    }                                                                                              \
    /* returns the first o whose arg is outside the sample (skipped), or -1 */                     \
    static int64_t BWD(const ln_window *g, const TT *gy, const int32_t *arg, TT *dx)               \
    {                                                                                              \
        const uint32_t cells = (uint32_t)(g->h * g->w * g->c);                                     \
        memset(dx, 0, (size_t)cells * sizeof(TT));                                                 \
        int64_t m = g->oh * g->ow * g->c, bad = -1;                                                \
        for (int64_t o = 0; o < m; o++) {                                                          \
            uint32_t at = (uint32_t)arg[o];                                                        \
            if (at < cells)                                                                        \
                dx[at] += gy[o];                                                                   \
            else if (bad < 0)                                                                      \
                bad = o;                                                                           \
        }                                                                                          \
        return bad;                                                                                \
    }
DEF_MAXPOOL(maxpool_forward_f32, maxpool_backward_f32, float)
DEF_MAXPOOL(maxpool_forward_f64, maxpool_backward_f64, double)

#define DEF_AVGPOOL(FWD, BWD, TT)                                                                  \
    /* one sample: each window's cells inside the input, summed in (u, v) order, / their count */  \
    static void FWD(const ln_window *g, const TT *x, TT *y)                                        \
    {                                                                                              \
        const int64_t c = g->c;                                                                    \
        for (int64_t i = 0; i < g->oh; i++)                                                        \
            for (int64_t j = 0; j < g->ow; j++) {                                                  \
                TT *yo = y + (i * g->ow + j) * c;                                                  \
                int64_t cells = 0;                                                                 \
                for (int64_t k = 0; k < c; k++) yo[k] = 0;                                         \
                FOR_CELLS(g, i, j, r, q, {                                                         \
                    const TT *xr = x + (r * g->w + q) * c;                                         \
                    for (int64_t k = 0; k < c; k++) yo[k] += xr[k];                                \
                    cells++;                                                                       \
                });                                                                                \
                for (int64_t k = 0; k < c; k++) yo[k] /= (TT)cells;                                \
            }                                                                                      \
    }                                                                                              \
    static void BWD(const ln_window *g, const TT *gy, TT *dx)                                      \
    {                                                                                              \
        const int64_t c = g->c;                                                                    \
        memset(dx, 0, (size_t)(g->h * g->w * c) * sizeof(TT));                                     \
        for (int64_t i = 0; i < g->oh; i++)                                                        \
            for (int64_t j = 0; j < g->ow; j++) {                                                  \
                const TT *go = gy + (i * g->ow + j) * c;                                           \
                int64_t r0 = i * g->sh - g->pt, q0 = j * g->sw - g->pl;                            \
                int64_t r1 = r0 + g->kh, q1 = q0 + g->kw;                                          \
                r0 = r0 < 0 ? 0 : r0, q0 = q0 < 0 ? 0 : q0;                                        \
                r1 = r1 > g->h ? g->h : r1, q1 = q1 > g->w ? g->w : q1;                            \
                const TT cells = (TT)((r1 - r0) * (q1 - q0));                                      \
                for (int64_t r = r0; r < r1; r++)                                                  \
                    for (int64_t q = q0; q < q1; q++) {                                            \
                        TT *d = dx + (r * g->w + q) * c;                                           \
                        for (int64_t k = 0; k < c; k++) d[k] += go[k] / cells;                     \
                    }                                                                              \
            }                                                                                      \
    }
DEF_AVGPOOL(avgpool_forward_f32, avgpool_backward_f32, float)
DEF_AVGPOOL(avgpool_forward_f64, avgpool_backward_f64, double)

typedef struct pool_job {
    ln_dtype dt;
    const ln_window *g;
    int backward, avg; /* avg: average pooling (no arg) */
    const void *in;   /* x, or gy */
    void *out;        /* y, or dx */
    int32_t *arg;
    _Atomic int64_t bad; /* backward: the first bad index, or -1 */
} pool_job;

/* samples [lo, hi) forward (x -> y, arg) or backward (gy, arg -> dx) */
static void pool_samples(int64_t lo, int64_t hi, void *ctx)
{
    pool_job *p = ctx;
    const ln_window *g = p->g;
    const int64_t px = g->h * g->w * g->c, py = g->oh * g->ow * g->c;
    const int64_t step_in = p->backward ? py : px, step_out = p->backward ? px : py;
    const size_t es = ln_dtype_size(p->dt);
    for (int64_t b = lo; b < hi; b++) {
        const void *in = (const char *)p->in + (size_t)(b * step_in) * es;
        void *out = (char *)p->out + (size_t)(b * step_out) * es;
        int32_t *arg = p->arg ? p->arg + b * py : NULL;
        if (p->avg) {
            if (p->backward)
                LN_BY_DTYPE(p->dt, avgpool_backward_f32(g, in, out), avgpool_backward_f64(g, in, out));
            else
                LN_BY_DTYPE(p->dt, avgpool_forward_f32(g, in, out), avgpool_forward_f64(g, in, out));
            continue;
        }
        if (!p->backward) {
            LN_BY_DTYPE(p->dt, maxpool_forward_f32(g, in, out, arg), maxpool_forward_f64(g, in, out, arg));
            continue;
        }
        int64_t bad = p->dt == LN_F32 ? maxpool_backward_f32(g, in, arg, out)
                                      : maxpool_backward_f64(g, in, arg, out);
        if (bad >= 0) {
            bad += b * py;
            int64_t seen = atomic_load(&p->bad);
            while ((seen < 0 || bad < seen) && !atomic_compare_exchange_weak(&p->bad, &seen, bad)) {
            }
            return; /* the samples after are not needed: the caller raises an error */
        }
    }
}

/* samples per thread worth starting it for: about 64k input elements */
static int64_t min_samples(const ln_window *g)
{
    int64_t per = g->h * g->w * g->c;
    int64_t s = ((int64_t)1 << 16) / (per > 0 ? per : 1);
    return s < 2 ? 2 : s;
}

void ln_maxpool_forward(ln_dtype dt, const ln_window *g, const void *x, void *y, int32_t *arg)
{
    LN_PROF_SCOPE(LN_PROF_POOL);
    pool_job p = {dt, g, 0, 0, x, y, arg, -1};
    ln_parallel_for(g->n, 1, min_samples(g), pool_samples, &p);
}

int64_t ln_maxpool_backward(ln_dtype dt, const ln_window *g, const void *gy, const int32_t *arg,
                            void *dx)
{
    LN_PROF_SCOPE(LN_PROF_POOL);
    pool_job p = {dt, g, 1, 0, gy, dx, (int32_t *)arg, -1};
    ln_parallel_for(g->n, 1, min_samples(g), pool_samples, &p);
    return atomic_load(&p.bad);
}

void ln_avgpool_forward(ln_dtype dt, const ln_window *g, const void *x, void *y)
{
    LN_PROF_SCOPE(LN_PROF_POOL);
    pool_job p = {dt, g, 0, 1, x, y, NULL, -1};
    ln_parallel_for(g->n, 1, min_samples(g), pool_samples, &p);
}

void ln_avgpool_backward(ln_dtype dt, const ln_window *g, const void *gy, void *dx)
{
    LN_PROF_SCOPE(LN_PROF_POOL);
    pool_job p = {dt, g, 1, 1, gy, dx, NULL, -1};
    ln_parallel_for(g->n, 1, min_samples(g), pool_samples, &p);
}

/* ---- Conv2D as one fused kernel (see conv.h) ------------------------------ */

/* a chunk's im2col matrix and output rows, at most (LUNET_CONV_CHUNK_KB
 * overrides it, for benchmarks) */
static int64_t chunk_bytes(void)
{
    static int64_t v = 0;
    if (v == 0) {
        const char *e = getenv("LUNET_CONV_CHUNK_KB");
        v = (e && atoi(e) > 0 ? atoi(e) : 512) * (int64_t)1024;
    }
    return v;
}

static int64_t pixels(const ln_window *g) { return g->oh * g->ow; }
static int64_t col_width(const ln_window *g) { return g->kh * g->kw * g->c; }

int64_t ln_conv_chunk(ln_dtype dt, const ln_window *g, int64_t m)
{
    int64_t per = pixels(g) * (col_width(g) + m) * (int64_t)ln_dtype_size(dt);
    int64_t cs = per > 0 ? chunk_bytes() / per : 1;
    if (cs < 1) cs = 1;
    return cs < g->n ? cs : (g->n > 0 ? g->n : 1);
}

static int64_t chunks(ln_dtype dt, const ln_window *g, int64_t m)
{
    int64_t cs = ln_conv_chunk(dt, g, m);
    return (g->n + cs - 1) / cs;
}

/* per slot: the chunk's col and dcol (rows x K), then two (rows x m): the
 * GEMM's output and y (forward), or dz and the pooled gradient through the
 * activation (backward, pooling fused); then one (K x m) kernel gradient
 * and m bias gradient per chunk */
static int64_t slot_elems(ln_dtype dt, const ln_window *g, int64_t m)
{
    int64_t rows = ln_conv_chunk(dt, g, m) * pixels(g);
    return rows * (2 * col_width(g) + 2 * m);
}

int64_t ln_conv_workspace(ln_dtype dt, const ln_window *g, int64_t m)
{
    return ln_threads() * slot_elems(dt, g, m) + chunks(dt, g, m) * (col_width(g) * m + m);
}

static ln_tensor mat(ln_dtype dt, void *data, int64_t r, int64_t c, int trans)
{
    ln_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.dtype = dt;
    t.ndim = 2;
    t.shape[0] = trans ? c : r;
    t.shape[1] = trans ? r : c;
    t.stride[0] = trans ? 1 : c;
    t.stride[1] = trans ? c : 1;
    return t;
}

/* g's window over a batch of `count` samples (a chunk's) */
static ln_window chunk_window(const ln_window *g, int64_t count)
{
    ln_window c = *g;
    c.n = count;
    return c;
}

typedef struct conv_job {
    const ln_conv_args *a;
    int64_t cs, nchunks;
    size_t es;
    _Atomic int64_t bad; /* the fused pooling's backward: the first bad argmax, or -1 */
} conv_job;

#define AT(p, off) ((void *)((char *)(p) + (size_t)(off) * j->es))

/* where the per-chunk kernel and bias gradients start in the workspace
 * (after the slots): chunk k's dW (K x m), then its db (m) */
#define parts_of(j) AT((j)->a->ws, ln_threads() * slot_elems((j)->a->dt, &(j)->a->g, (j)->a->m))
#define CAT(p, off) ((const void *)((const char *)(p) + (size_t)(off) * j->es))

static void conv_forward_chunks(int64_t lo, int64_t hi, int slot, void *ctx)
{
    const conv_job *j = ctx;
    const ln_conv_args *a = j->a;
    const ln_window *g = &a->g;
    int64_t K = col_width(g), P = pixels(g), in_px = g->h * g->w * g->c;
    void *col = AT(a->ws, slot * slot_elems(a->dt, g, a->m));
    void *buf = AT(col, 2 * j->cs * P * K); /* the GEMM's output when z is not kept */
    ln_tensor w = mat(a->dt, (void *)a->w, K, a->m, 0);
    for (int64_t k = lo; k < hi; k++) {
        int64_t b0 = k * j->cs, count = g->n - b0 < j->cs ? g->n - b0 : j->cs, rows = count * P;
        ln_window cg = chunk_window(g, count);
        ln_im2col(a->dt, &cg, CAT(a->x, b0 * in_px), col);
        void *t = a->z && !a->pool ? AT(a->z, b0 * P * a->m) : buf;
        ln_tensor c = mat(a->dt, t, rows, a->m, 0), x = mat(a->dt, col, rows, K, 0);
        ln_gemm(&c, &x, &w, 1.0, 0.0);
        if (!a->pool) {
            ln_bias_act_rows(a->dt, rows, a->m, t, a->b, AT(a->y, b0 * P * a->m), a->act, a->p);
            continue;
        }
        /* the chunk's y beside its z (t), pooled sample by sample while in cache */
        void *y = AT(buf, rows * a->m);
        ln_bias_act_rows(a->dt, rows, a->m, t, a->b, y, a->act, a->p);
        const void *saved = a->act && a->act->saves_y ? y : t;
        const int64_t PP = a->pool->oh * a->pool->ow * a->m;
        for (int64_t sm = 0; sm < count; sm++) {
            const int64_t o0 = (b0 + sm) * PP;
            int32_t *arg = a->parg + o0;
            LN_BY_DTYPE(a->dt, maxpool_forward_f32(a->pool, CAT(y, sm * P * a->m), AT(a->py, o0), arg),
                        maxpool_forward_f64(a->pool, CAT(y, sm * P * a->m), AT(a->py, o0), arg));
            if (!a->ps) continue;
            if (a->dt == LN_F32) {
                const float *sv = (const float *)saved + sm * P * a->m;
                float *ps = (float *)a->ps + o0;
                for (int64_t o = 0; o < PP; o++) ps[o] = sv[arg[o]];
            } else {
                const double *sv = (const double *)saved + sm * P * a->m;
                double *ps = (double *)a->ps + o0;
                for (int64_t o = 0; o < PP; o++) ps[o] = sv[arg[o]];
            }
        }
    }
}

/* the fused pooling's backward for one chunk: dz (rows x m) = 0 but at each
 * argmax, where it gets act'(ps) * gp (tmp holds that, pooled); returns the
 * first bad entry of parg in the chunk (its index in the batch), or -1 */
static int64_t pooled_dz(const ln_conv_args *a, int64_t b0, int64_t count, void *dz, void *tmp)
{
    const int64_t P = pixels(&a->g) * a->m, PP = a->pool->oh * a->pool->ow * a->m, n = count * PP;
    const size_t es = ln_dtype_size(a->dt);
    const void *gp = (const char *)a->gp + (size_t)(b0 * PP) * es, *src = gp;
    if (a->act) {
        const void *ps = (const char *)a->ps + (size_t)(b0 * PP) * es;
        if (a->dt == LN_F32)
            a->act->bwd32(n, ps, gp, tmp, a->p);
        else
            a->act->bwd64(n, ps, gp, tmp, a->p);
        src = tmp;
    }
    memset(dz, 0, (size_t)(count * P) * es);
    const int32_t *arg = a->parg + b0 * PP;
    int64_t bad = -1;
    for (int64_t sm = 0; sm < count; sm++)
        for (int64_t o = sm * PP; o < (sm + 1) * PP; o++) {
            uint32_t at = (uint32_t)arg[o];
            if (at >= (uint32_t)P) {
                if (bad < 0) bad = b0 * PP + o;
                continue;
            }
            if (a->dt == LN_F32)
                ((float *)dz)[sm * P + at] += ((const float *)src)[o];
            else
                ((double *)dz)[sm * P + at] += ((const double *)src)[o];
        }
    return bad;
}

#define DEF_COLSUM(NAME, TT)                                                                       \
    static void NAME(int64_t rows, int64_t m, const TT *dz, TT *out)                               \
    {                                                                                              \
        for (int64_t c = 0; c < m; c++) out[c] = 0;                                                \
        for (int64_t r = 0; r < rows; r++)                                                         \
            for (int64_t c = 0; c < m; c++) out[c] += dz[r * m + c];                               \
    }                                                                                              \
    static void NAME##_parts(int64_t lo, int64_t hi, int64_t nparts, int64_t stride, const TT *p,  \
                             TT *out)                                                              \
    {                                                                                              \
        for (int64_t e = lo; e < hi; e++) {                                                        \
            TT s = p[e];                                                                           \
            for (int64_t k = 1; k < nparts; k++) s += p[k * stride + e];                           \
            out[e] = s;                                                                            \
        }                                                                                          \
    }
DEF_COLSUM(colsum_f32, float)
DEF_COLSUM(colsum_f64, double)

static void conv_backward_chunks(int64_t lo, int64_t hi, int slot, void *ctx)
{
    const conv_job *j = ctx;
    const ln_conv_args *a = j->a;
    const ln_window *g = &a->g;
    const int64_t K = col_width(g), P = pixels(g), in_px = g->h * g->w * g->c, m = a->m;
    const int64_t rows_max = j->cs * P;
    void *col = AT(a->ws, slot * slot_elems(a->dt, g, m));
    void *dcol = AT(col, rows_max * K);
    void *dzbuf = AT(dcol, rows_max * K);
    void *parts = parts_of(j);
    ln_tensor wt = mat(a->dt, (void *)a->w, K, m, 1);
    for (int64_t k = lo; k < hi; k++) {
        int64_t b0 = k * j->cs, count = g->n - b0 < j->cs ? g->n - b0 : j->cs, rows = count * P;
        ln_window cg = chunk_window(g, count);
        const void *dz;
        if (a->pool) {
            int64_t bad = pooled_dz(a, b0, count, dzbuf, AT(dzbuf, rows_max * m));
            if (bad >= 0) {
                /* the smallest bad index over the chunks (any thread) */
                int64_t seen = atomic_load(&j->bad);
                while ((seen < 0 || bad < seen) && !atomic_compare_exchange_weak((_Atomic int64_t *)&j->bad, &seen, bad)) {
                }
            }
            dz = dzbuf;
        } else if (a->act) {
            const void *gy = CAT(a->gy, b0 * P * m);
            const void *s = CAT(a->s, b0 * P * m);
            if (a->dt == LN_F32)
                a->act->bwd32(rows * m, s, gy, dzbuf, a->p);
            else
                a->act->bwd64(rows * m, s, gy, dzbuf, a->p);
            dz = dzbuf;
        } else {
            dz = CAT(a->gy, b0 * P * m);
        }
        void *part = AT(parts, k * (K * m + m));
        ln_tensor dzm = mat(a->dt, (void *)dz, rows, m, 0);
        if (a->db) {
            LN_BY_DTYPE(a->dt, colsum_f32(rows, m, dz, AT(part, K * m)),
                        colsum_f64(rows, m, dz, AT(part, K * m)));
        }
        if (a->dw) {
            ln_im2col(a->dt, &cg, CAT(a->x, b0 * in_px), col);
            ln_tensor colt = mat(a->dt, col, rows, K, 1), dwp = mat(a->dt, part, K, m, 0);
            ln_gemm(&dwp, &colt, &dzm, 1.0, 0.0);
        }
        if (a->dx) {
            ln_tensor dc = mat(a->dt, dcol, rows, K, 0);
            ln_gemm(&dc, &dzm, &wt, 1.0, 0.0);
            ln_col2im(a->dt, &cg, dcol, AT(a->dx, b0 * in_px));
        }
    }
}

typedef struct sum_job {
    const conv_job *j;
    int64_t off; /* within each chunk's part: 0 for dW, K*m for db */
    void *out;
} sum_job;

static void sum_parts(int64_t lo, int64_t hi, void *ctx)
{
    const sum_job *s = ctx;
    const conv_job *j = s->j;
    const ln_conv_args *a = j->a;
    int64_t stride = col_width(&a->g) * a->m + a->m;
    const void *p = CAT(parts_of(j), s->off);
    LN_BY_DTYPE(a->dt, colsum_f32_parts(lo, hi, j->nchunks, stride, p, s->out),
                colsum_f64_parts(lo, hi, j->nchunks, stride, p, s->out));
}

/* fn over every chunk of a's batch on lunet's threads, each with a
 * one-thread GEMM; returns the job (its chunking) */
static conv_job run_chunks(const ln_conv_args *a, ln_slot_fn fn)
{
    conv_job j = {a, ln_conv_chunk(a->dt, &a->g, a->m), chunks(a->dt, &a->g, a->m), ln_dtype_size(a->dt), -1};
    int bt = ln_blas_one_thread();
    ln_parallel_slots(j.nchunks, fn, &j);
    ln_blas_restore(bt);
    return j;
}

void ln_conv2d_forward(const ln_conv_args *a)
{
    LN_PROF_SCOPE(LN_PROF_CONV);
    run_chunks(a, conv_forward_chunks);
}

void ln_conv2d_backward(ln_conv_args *a)
{
    LN_PROF_SCOPE(LN_PROF_CONV);
    conv_job j = run_chunks(a, conv_backward_chunks);
    a->pool_bad = atomic_load(&j.bad);
    int64_t K = col_width(&a->g);
    if (a->dw) {
        sum_job s = {&j, 0, a->dw};
        ln_parallel_for(K * a->m, 16, 1 << 16, sum_parts, &s);
    }
    if (a->db) {
        sum_job s = {&j, K * a->m, a->db};
        sum_parts(0, a->m, &s);
    }
}
