/*
 * conv.c - im2col/col2im and max pooling over NHWC tensors (see conv.h).
 */
#include "conv.h"

#include <string.h>

#define DEF_IM2COL(IM2COL, COL2IM, TT)                                                             \
    static void IM2COL(const ln_window *g, const TT *x, TT *col)                                   \
    {                                                                                              \
        const int64_t row = g->kh * g->kw * g->c;                                                  \
        for (int64_t b = 0; b < g->n; b++)                                                         \
            for (int64_t i = 0; i < g->oh; i++)                                                    \
                for (int64_t j = 0; j < g->ow; j++) {                                              \
                    TT *dst = col + ((b * g->oh + i) * g->ow + j) * row;                           \
                    for (int64_t u = 0; u < g->kh; u++) {                                          \
                        int64_t y = i * g->sh + u * g->dh - g->pt;                                 \
                        for (int64_t v = 0; v < g->kw; v++, dst += g->c) {                         \
                            int64_t xx = j * g->sw + v * g->dw - g->pl;                            \
                            if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) {                      \
                                memset(dst, 0, (size_t)g->c * sizeof(TT));                         \
                            } else {                                                               \
                                const TT *src = x + ((b * g->h + y) * g->w + xx) * g->c;           \
                                memcpy(dst, src, (size_t)g->c * sizeof(TT));                       \
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
    LN_BY_DTYPE(dt, ln_im2col_f32(g, x, col), ln_im2col_f64(g, x, col));
}

void ln_col2im(ln_dtype dt, const ln_window *g, const void *col, void *dx)
{
    LN_BY_DTYPE(dt, ln_col2im_f32(g, col, dx), ln_col2im_f64(g, col, dx));
}

#define DEF_MAXPOOL(FWD, BWD, TT)                                                                  \
    /* channels innermost: each window cell updates a contiguous row of c */                       \
    static void FWD(const ln_window *g, const TT *x, TT *y, int64_t *arg)                          \
    {                                                                                              \
        const int64_t c = g->c;                                                                    \
        for (int64_t b = 0; b < g->n; b++)                                                         \
            for (int64_t i = 0; i < g->oh; i++)                                                    \
                for (int64_t j = 0; j < g->ow; j++) {                                              \
                    int64_t o = ((b * g->oh + i) * g->ow + j) * c;                                 \
                    TT *yo = y + o;                                                                \
                    int64_t *ao = arg + o;                                                         \
                    int first = 1;                                                                 \
                    for (int64_t u = 0; u < g->kh; u++) {                                          \
                        int64_t r = i * g->sh + u - g->pt;                                         \
                        if (r < 0 || r >= g->h) continue;                                          \
                        for (int64_t v = 0; v < g->kw; v++) {                                      \
                            int64_t q = j * g->sw + v - g->pl;                                     \
                            if (q < 0 || q >= g->w) continue;                                      \
                            int64_t at = ((b * g->h + r) * g->w + q) * c;                          \
                            const TT *xr = x + at;                                                 \
                            if (first) {                                                           \
                                for (int64_t k = 0; k < c; k++) {                                  \
                                    yo[k] = xr[k];                                                 \
                                    ao[k] = at + k;                                                \
                                }                                                                  \
                                first = 0;                                                         \
                                continue;                                                          \
                            }                                                                      \
                            for (int64_t k = 0; k < c; k++) {                                      \
                                TT e = xr[k], m = yo[k];                                           \
                                /* a larger value wins, and a NaN over a number */                 \
                                if (e > m || (e != e && m == m)) {                                 \
                                    yo[k] = e;                                                     \
                                    ao[k] = at + k;                                                \
                                }                                                                  \
                            }                                                                      \
                        }                                                                          \
                    }                                                                              \
                    /* every window holds a cell of the input (the binding checks the sizes) */    \
                }                                                                                  \
    }                                                                                              \
    static void BWD(const ln_window *g, const TT *gy, const int64_t *arg, TT *dx)                  \
    {                                                                                              \
        memset(dx, 0, (size_t)(g->n * g->h * g->w * g->c) * sizeof(TT));                           \
        int64_t m = g->n * g->oh * g->ow * g->c;                                                   \
        for (int64_t o = 0; o < m; o++) dx[arg[o]] += gy[o];                                       \
    }
DEF_MAXPOOL(ln_maxpool_forward_f32, ln_maxpool_backward_f32, float)
DEF_MAXPOOL(ln_maxpool_forward_f64, ln_maxpool_backward_f64, double)

void ln_maxpool_forward(ln_dtype dt, const ln_window *g, const void *x, void *y, int64_t *arg)
{
    LN_BY_DTYPE(dt, ln_maxpool_forward_f32(g, x, y, arg), ln_maxpool_forward_f64(g, x, y, arg));
}

void ln_maxpool_backward(ln_dtype dt, const ln_window *g, const void *gy, const int64_t *arg,
                         void *dx)
{
    LN_BY_DTYPE(dt, ln_maxpool_backward_f32(g, gy, arg, dx),
                ln_maxpool_backward_f64(g, gy, arg, dx));
}
