/*
 * conv.h - the 2-d convolution and pooling kernels of the NHWC layers
 * (Conv2D as im2col + one GEMM, MaxPooling2D with its argmax kept).
 *
 * Shapes are channels-last as Keras: x (n, h, w, c), a kernel (kh, kw, c, o).
 * A window's geometry is one ln_window: its size, strides, dilation and the
 * zero padding before each spatial dim (after it follows from oh, ow).
 */
#ifndef LN_CONV_H
#define LN_CONV_H

#include <stdint.h>

#include "activations.h"
#include "tensor.h"

typedef struct ln_window {
    int64_t n, h, w, c;   /* the input */
    int64_t kh, kw;       /* the window */
    int64_t sh, sw;       /* strides */
    int64_t dh, dw;       /* dilation */
    int64_t pt, pl;       /* padding before rows and columns */
    int64_t oh, ow;       /* the output's spatial size */
} ln_window;

/* col (n*oh*ow, kh*kw*c), contiguous, row r = (b, i, j) holding the window
 * at output (i, j) of sample b in (kh, kw, c) order, 0 outside the input.
 * x contiguous (n, h, w, c). */
void ln_im2col(ln_dtype dt, const ln_window *g, const void *x, void *col);

/* The adjoint of ln_im2col: dx (n, h, w, c) = the sum of every col entry
 * that came from each input element (overwrites dx). */
void ln_col2im(ln_dtype dt, const ln_window *g, const void *col, void *dx);

/* Max over each window (kh, kw, per channel, no dilation), cells outside
 * the input left out; y (n, oh, ow, c) and arg (the same shape) the index
 * of the max within its sample's (h, w, c) block (the first of ties; a NaN
 * wins, as numpy's max).  h*w*c must fit an int32 (the binding checks). */
void ln_maxpool_forward(ln_dtype dt, const ln_window *g, const void *x, void *y, int32_t *arg);

/* dx = 0, then dx[sample of k][arg[k]] += gy[k] for every output element k.
 * Returns -1, or the first k whose arg[k] is outside [0, h*w*c) (dx is then
 * incomplete: the caller reports the error). */
int64_t ln_maxpool_backward(ln_dtype dt, const ln_window *g, const void *gy, const int32_t *arg,
                            void *dx);

/* The mean of each window's cells inside the input (TensorFlow's "same":
 * the padding is not counted), per channel; y (n, oh, ow, c). */
void ln_avgpool_forward(ln_dtype dt, const ln_window *g, const void *x, void *y);

/* dx = 0, then each output's gradient / its cell count to each of its cells. */
void ln_avgpool_backward(ln_dtype dt, const ln_window *g, const void *gy, void *dx);

/* ---- Conv2D as one fused kernel ------------------------------------------
 * y = act(im2col(x) @ w + b) with x (n, h, w, c) contiguous, w (K, m)
 * contiguous (K = kh*kw*c: the Keras kernel (kh, kw, c, m) as it is stored)
 * and b (m) or NULL.  The batch is cut into chunks of ln_conv_chunk samples,
 * whose im2col matrix fits in cache; each chunk is one GEMM into its rows
 * of the output with the bias and activation fused into the pass after it,
 * and the chunks run on lunet's threads (ln_parallel_slots), each calling
 * a one-thread GEMM.  A chunk's result does not depend on the thread that
 * ran it, and the backward sums the kernel and bias gradients chunk by chunk
 * in chunk order, so every result is the same for any thread count.
 * ws is a workspace of ln_conv_workspace elements (of the dtype), owned by
 * the caller and reused from step to step: nothing is allocated here. */
typedef struct ln_conv_args {
    ln_dtype dt;
    ln_window g;              /* the whole batch */
    int64_t m;                /* filters */
    const void *x, *w, *b;
    const ln_act_def *act;    /* NULL: linear */
    const ln_act_params *p;
    void *y, *z;              /* forward: y, and z (pre-activation) or NULL */
    const void *s, *gy;       /* backward: s is y or z as act->saves_y says */
    void *dx, *dw, *db;       /* backward: each NULL when not wanted */
    void *ws;
    /* Max pooling fused after the activation (NULL: none).  pool is the
     * pooling window over the convolution's output (n, oh, ow, m).  The
     * forward then writes, instead of y and z, the pooled py, its argmax
     * parg (as ln_maxpool_forward's) and ps, the saved value (y or z, as
     * act->saves_y says; NULL without an activation) at each argmax: the
     * convolution's output never leaves the chunk.  The backward takes gp,
     * the pooled output's gradient, with parg and ps (s and gy unused), and
     * records in *pool_bad the first entry of parg outside its sample (-1:
     * none; the gradients are then incomplete and the caller raises). */
    const ln_window *pool;
    void *py, *ps;
    int32_t *parg;
    const void *gp;
    int64_t pool_bad;
} ln_conv_args;

int64_t ln_conv_chunk(ln_dtype dt, const ln_window *g, int64_t m);
int64_t ln_conv_workspace(ln_dtype dt, const ln_window *g, int64_t m);
void ln_conv2d_forward(const ln_conv_args *a);
void ln_conv2d_backward(ln_conv_args *a);

#endif
