/*
 * activations.h - one forward/backward kernel pair per activation, behind
 * one table.  Formulas, defaults and the derivative at each kink are those
 * of SEMANTICS.md ("Activations").
 *
 * Elementwise activations take up to three scalar parameters (p->a, p->b,
 * p->c; the table names them and gives their defaults).  The backward
 * kernel reads either x or y (the table says which) and the incoming
 * gradient g, and overwrites dx.  prelu and pelu take tensor parameters and
 * also produce their gradients; softmax and log_softmax work along an axis.
 */
#ifndef LN_ACTIVATIONS_H
#define LN_ACTIVATIONS_H

#include "tensor.h"

typedef struct ln_act_params {
    double a, b, c;
} ln_act_params;

typedef void (*ln_act_fwd32)(int64_t n, const float *x, float *y, const ln_act_params *p);
typedef void (*ln_act_fwd64)(int64_t n, const double *x, double *y, const ln_act_params *p);
/* s is x or y (see saves_y); g the incoming gradient; overwrites dx */
typedef void (*ln_act_bwd32)(int64_t n, const float *s, const float *g, float *dx,
                             const ln_act_params *p);
typedef void (*ln_act_bwd64)(int64_t n, const double *s, const double *g, double *dx,
                             const ln_act_params *p);

typedef struct ln_act_def {
    const char *name;
    int saves_y; /* backward reads y (1) or x (0) */
    int nparams; /* public parameters: the first nparams slots */
    const char *param_names[3];
    double defaults[3]; /* all three slots; those after nparams are fixed */
    ln_act_fwd32 fwd32;
    ln_act_fwd64 fwd64;
    ln_act_bwd32 bwd32;
    ln_act_bwd64 bwd64;
} ln_act_def;

/* The elementwise activations, in table order; *n is set to their count. */
const ln_act_def *ln_act_table(int *n);
/* NULL when `name` is unknown. */
const ln_act_def *ln_act_find(const char *name);

/* y = f(x); x and y float tensors of one dtype and one shape, any strides
 * (y must not partly overlap x; y == x computes in place). */
void ln_act_forward(const ln_act_def *d, const ln_tensor *x, const ln_tensor *y,
                    const ln_act_params *p);
/* dx = f'(.) * g with s = x or y; all of one dtype and shape. */
void ln_act_backward(const ln_act_def *d, const ln_tensor *s, const ln_tensor *g,
                     const ln_tensor *dx, const ln_act_params *p);

/* ---- parametric activations ----------------------------------------------
 * x, y, g, dx are contiguous with n elements.  Each parameter is a
 * contiguous array of `period` values indexed by (i / inner) % period, i.e.
 * the parameter varies along a block of x's dims and is broadcast over the
 * dims before and after it (period = n, inner = 1 for a full-size one).
 * Parameter gradients are accumulated (+=) into double arrays of `period`
 * entries, summed over the broadcast dims. */
typedef struct ln_param_layout {
    int64_t n, period, inner;
} ln_param_layout;

/* prelu: x > 0: x; else alpha*x */
void ln_act_prelu_forward(ln_dtype dt, const ln_param_layout *l, const void *x,
                          const void *alpha, void *y);
void ln_act_prelu_backward(ln_dtype dt, const ln_param_layout *l, const void *x,
                           const void *alpha, const void *g, void *dx, double *dalpha);
/* pelu: x >= 0: (a/b)*x; else a*(exp(x/b) - 1) */
void ln_act_pelu_forward(ln_dtype dt, const ln_param_layout *l, const void *x, const void *a,
                         const void *b, void *y);
void ln_act_pelu_backward(ln_dtype dt, const ln_param_layout *l, const void *x, const void *a,
                          const void *b, const void *g, void *dx, double *da, double *db);

/* ---- softmax along an axis -----------------------------------------------
 * x, y (and g, dx) float tensors of one dtype and shape; `axis` 0-based.
 * log = 1 selects log_softmax.  Backward reads y. */
void ln_act_softmax_forward(const ln_tensor *x, const ln_tensor *y, int axis, int is_log);
void ln_act_softmax_backward(const ln_tensor *y, const ln_tensor *g, const ln_tensor *dx,
                             int axis, int is_log);

#endif
