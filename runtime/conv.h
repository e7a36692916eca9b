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
 * the input left out; y (n, oh, ow, c) and arg (the same shape) the flat
 * index in x of the max (the first of ties; a NaN wins, as numpy's max). */
void ln_maxpool_forward(ln_dtype dt, const ln_window *g, const void *x, void *y, int64_t *arg);

/* dx = 0, then dx[arg[k]] += gy[k] for every output element k. */
void ln_maxpool_backward(ln_dtype dt, const ln_window *g, const void *gy, const int64_t *arg,
                         void *dx);

#endif
