/*
 * elementwise.h - elementwise kernels over strided views.
 *
 * Every kernel here writes its output view (it never accumulates) and cannot
 * fail: shapes were broadcast and dtypes chosen by the caller.  Inputs carry
 * the output's shape (broadcast dims have stride 0).  An output may be the
 * very same view as an input (in-place ops); other overlaps are the caller's
 * job to avoid.
 */
#ifndef LN_ELEMENTWISE_H
#define LN_ELEMENTWISE_H

#include "tensor.h"

typedef enum ln_binop {
    LN_OP_ADD,
    LN_OP_SUB,
    LN_OP_MUL,
    LN_OP_DIV,
    LN_OP_POW,
    LN_OP_MAXIMUM, /* NaN if either side is NaN, as numpy.maximum */
    LN_OP_MINIMUM,
    LN_OP_FLOOR_DIVIDE, /* numpy's floor_divide: Python's //; x // 0 is 0 for integers */
    LN_OP_REMAINDER     /* numpy's remainder: Python's %, the divisor's sign; x % 0 is 0 for integers */
} ln_binop;

typedef enum ln_unop {
    LN_OP_EXP,
    LN_OP_LOG,
    LN_OP_SQRT,
    LN_OP_ABS,
    LN_OP_NEG,
    LN_OP_SIGN,  /* -1, 0 or 1; NaN stays NaN */
    LN_OP_CLAMP, /* to [lo, hi]; NaN stays NaN */
    LN_OP_SQUARE,
    LN_OP_FLOOR,
    LN_OP_CEIL,
    LN_OP_ROUND, /* to the nearest integer, half to even (numpy's round: 2.5 -> 2, -0.5 -> -0) */
    LN_OP_TRUNC  /* toward zero; on an integer dtype these four copy */
} ln_unop;

typedef enum ln_cmpop { LN_CMP_EQ, LN_CMP_NE, LN_CMP_LT, LN_CMP_LE, LN_CMP_GT, LN_CMP_GE } ln_cmpop;

/* out = a op b; out, a and b share one dtype, any but for LN_OP_DIV (float
 * only).  Integer arithmetic wraps on overflow (two's complement, as
 * numpy's); integer LN_OP_POW needs exponents >= 0 (see ln_any_negative). */
void ln_binary(ln_binop op, ln_tensor *out, const ln_tensor *a, const ln_tensor *b);
/* out = op(a); lo/hi are used by LN_OP_CLAMP only.  out and a share one
 * dtype: a float one, or an integer one for the ops ln_unary_has_int names
 * (integer abs and neg wrap: abs(INT32_MIN) is INT32_MIN, as numpy's). */
void ln_unary(ln_unop op, ln_tensor *out, const ln_tensor *a, double lo, double hi);
int ln_unary_has_int(ln_unop op);
/* out = clamp(a, lo, hi) for an integer dtype, lo <= hi within it. */
void ln_clamp_int(ln_tensor *out, const ln_tensor *a, int64_t lo, int64_t hi);
/* Whether some element of t (an integer dtype) is negative. */
int ln_any_negative(const ln_tensor *t);
/* out (uint8) = a cmp b, any dtypes: two integer dtypes compare exactly
 * (as int64), anything else as doubles. */
void ln_compare(ln_cmpop op, ln_tensor *out, const ln_tensor *a, const ln_tensor *b);
/* out = cond != 0 ? a : b; out, a, b share a dtype; cond is any dtype. */
void ln_where(ln_tensor *out, const ln_tensor *cond, const ln_tensor *a, const ln_tensor *b);

/* dst = src converted to dst's dtype.  Float -> integer truncates toward
 * zero; the caller checks the range first with ln_check_convert. */
void ln_copy(ln_tensor *dst, const ln_tensor *src);

/* out = the slices idx[0..n) of src along dim (0-based, each checked by the
 * caller), out of src's dtype with shape[dim] = n.  Rows of a contiguous
 * src into a contiguous out (a batch of samples) are one memcpy each. */
void ln_index_select(ln_tensor *out, const ln_tensor *src, int dim, const int64_t *idx, int64_t n);
/* LN_ERANGE (and the first offending value in *bad) when some element of
 * src is NaN or, truncated, lies outside the range of dtype `to`. */
ln_status ln_check_convert(const ln_tensor *src, ln_dtype to, double *bad);
/* Every element of t = v (v representable in t's dtype; checked by caller). */
void ln_fill(ln_tensor *t, double v);
/* The same for an integer value: exact in an int64 tensor. */
void ln_fill_i64(ln_tensor *t, int64_t v);

/* Load / store one element as a double. */
double ln_load(const void *p, ln_dtype dt);
void ln_store(void *p, ln_dtype dt, double v);
/* Load / store one element as an int64: exact for the integer dtypes (a
 * float loads truncated, and must fit; a store into a narrower integer
 * dtype keeps the low bits). */
int64_t ln_load_i64(const void *p, ln_dtype dt);
void ln_store_i64(void *p, ln_dtype dt, int64_t v);

#endif
