/*
 * reduce.h - reductions over one dim or over all elements.
 *
 * Float sums accumulate in double with a fixed order (deterministic);
 * integer sums, max and min are exact in int64.  var and std
 * are population statistics (ddof 0) computed in two passes.  max/min
 * return NaN when the run holds a NaN, and argmax/argmin the first NaN's
 * position, as numpy does.  Positions are 1-based (lunet's convention).
 */
#ifndef LN_REDUCE_H
#define LN_REDUCE_H

#include "tensor.h"

typedef enum ln_redop {
    LN_RED_SUM,
    LN_RED_MEAN,
    LN_RED_VAR,
    LN_RED_STD,
    LN_RED_MAX,
    LN_RED_MIN,
    LN_RED_ARGMAX,
    LN_RED_ARGMIN
} ln_redop;

/* Reduce x over `dim` (0-based) into out, which has x's ndim with
 * out->shape[dim] == 1; with dim == -1 reduce all elements into the single
 * element of out.  out's dtype: x's float dtype or float64 for an integer x
 * (mean/var/std), x's float dtype or int64 for an integer x (sum: exact,
 * wrapping on overflow as numpy's), x's (max/min), int32 (arg*).  The run must not be empty for max/min/arg* (caller checks).
 * Overwrites out. */
void ln_reduce(ln_redop op, ln_tensor *out, const ln_tensor *x, int dim);

#endif
