/*
 * tensor.c - dtypes, shapes, broadcasting and the generic strided loop.
 */
#include "tensor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ln_status ln_fail(ln_error *err, ln_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

static const char *const dtype_names[LN_NDTYPES] = {"float32", "float64", "int32", "uint8",
                                                   "int64"};
static const size_t dtype_sizes[LN_NDTYPES] = {4, 8, 4, 1, 8};

size_t ln_dtype_size(ln_dtype dt) { return dtype_sizes[dt]; }
const char *ln_dtype_name(ln_dtype dt) { return dtype_names[dt]; }
int ln_dtype_is_float(ln_dtype dt) { return dt == LN_F32 || dt == LN_F64; }

ln_dtype ln_promote_types(ln_dtype a, ln_dtype b)
{
    /* [a][b] in ln_dtype order: float32, float64, int32, uint8, int64 */
    static const ln_dtype table[LN_NDTYPES][LN_NDTYPES] = {
        {LN_F32, LN_F64, LN_F64, LN_F32, LN_F64},
        {LN_F64, LN_F64, LN_F64, LN_F64, LN_F64},
        {LN_F64, LN_F64, LN_I32, LN_I32, LN_I64},
        {LN_F32, LN_F64, LN_I32, LN_U8, LN_I64},
        {LN_F64, LN_F64, LN_I64, LN_I64, LN_I64},
    };
    return table[a][b];
}

int ln_dtype_from_name(const char *name, ln_dtype *dt)
{
    for (int i = 0; i < LN_NDTYPES; i++) {
        if (strcmp(name, dtype_names[i]) == 0) {
            *dt = (ln_dtype)i;
            return 0;
        }
    }
    return -1;
}

ln_status ln_shape_numel(int ndim, const int64_t *shape, size_t elem_size, size_t cap_bytes,
                         int64_t *numel)
{
    /* Check every dim before multiplying: a negative dim is a different
     * mistake from a product that does not fit. */
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0) return LN_ERANGE;
    /* The bound applies to the product of the nonzero dims too, so that an
     * empty shape such as (2^62, 2^62, 0) cannot make strides, offsets or
     * partial products overflow later. */
    uint64_t limit = cap_bytes / (elem_size ? elem_size : 1);
    if (limit > (uint64_t)INT64_MAX) limit = (uint64_t)INT64_MAX;
    uint64_t n = 1;
    int empty = 0;
    for (int i = 0; i < ndim; i++) {
        uint64_t d = (uint64_t)shape[i];
        if (d == 0) {
            empty = 1;
            continue;
        }
        if (n > limit / d) return LN_ETOOBIG;
        n *= d;
    }
    *numel = empty ? 0 : (int64_t)n;
    return LN_OK;
}

int64_t ln_numel(const ln_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

void ln_tensor_init(ln_tensor *t, void *data, ln_dtype dt, int ndim, const int64_t *shape)
{
    t->data = data;
    t->dtype = dt;
    t->ndim = ndim;
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        t->shape[i] = shape[i];
        t->stride[i] = s;
        s *= shape[i] > 0 ? shape[i] : 1;
    }
    for (int i = ndim; i < LN_MAX_DIMS; i++) {
        t->shape[i] = 1;
        t->stride[i] = 0;
    }
}

void ln_scalar(ln_tensor *t, void *storage, ln_dtype dt, double v, int ndim, const int64_t *shape)
{
    switch (dt) {
    case LN_F32: *(float *)storage = (float)v; break;
    case LN_F64: *(double *)storage = v; break;
    case LN_I32: *(int32_t *)storage = (int32_t)v; break;
    case LN_U8: *(uint8_t *)storage = (uint8_t)v; break;
    case LN_I64: *(int64_t *)storage = (int64_t)v; break;
    }
    t->data = storage;
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < LN_MAX_DIMS; i++) {
        t->shape[i] = i < ndim ? shape[i] : 1;
        t->stride[i] = 0;
    }
}

void ln_scalar_i64(ln_tensor *t, void *storage, ln_dtype dt, int64_t v, int ndim,
                   const int64_t *shape)
{
    ln_scalar(t, storage, dt, 0, ndim, shape);
    switch (dt) {
    case LN_F32: *(float *)storage = (float)v; break;
    case LN_F64: *(double *)storage = (double)v; break;
    case LN_I32: *(int32_t *)storage = (int32_t)v; break;
    case LN_U8: *(uint8_t *)storage = (uint8_t)v; break;
    case LN_I64: *(int64_t *)storage = v; break;
    }
}

int ln_is_contiguous(const ln_tensor *t)
{
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 0) return 1;
        if (t->shape[i] != 1 && t->stride[i] != s) return 0;
        s *= t->shape[i];
    }
    return 1;
}

int ln_same_shape(const ln_tensor *a, const ln_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

ln_status ln_broadcast_shapes(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout,
                              int64_t *sout)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        /* align from the right */
        int ia = na - n + i, ib = nb - n + i;
        int64_t da = ia >= 0 ? sa[ia] : 1;
        int64_t db = ib >= 0 ? sb[ib] : 1;
        if (da == db || db == 1) sout[i] = da;
        else if (da == 1) sout[i] = db;
        else return LN_ESHAPE;
    }
    *nout = n;
    return LN_OK;
}

void ln_broadcast_to(ln_tensor *t, int ndim, const int64_t *shape)
{
    int64_t st[LN_MAX_DIMS];
    int off = ndim - t->ndim;
    for (int i = 0; i < ndim; i++) {
        int j = i - off;
        st[i] = (j < 0 || (t->shape[j] == 1 && shape[i] != 1)) ? 0 : t->stride[j];
    }
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->stride[i] = st[i];
    }
}

void ln_byte_extent(const ln_tensor *t, const char **lo, const char **hi)
{
    const char *p = (const char *)t->data;
    int64_t last = 0;
    int64_t es = (int64_t)ln_dtype_size(t->dtype);
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] == 0) {
            *lo = p;
            *hi = p;
            return;
        }
        last += (t->shape[i] - 1) * t->stride[i];
    }
    *lo = p;
    *hi = p + (last + 1) * es;
}

int ln_overlaps(const ln_tensor *a, const ln_tensor *b)
{
    const char *alo, *ahi, *blo, *bhi;
    ln_byte_extent(a, &alo, &ahi);
    ln_byte_extent(b, &blo, &bhi);
    if (alo == ahi || blo == bhi) return 0;
    return alo < bhi && blo < ahi;
}

void ln_foreach(int nops, const ln_tensor *const *ops, ln_loop_fn fn, void *ctx)
{
    const ln_tensor *t0 = ops[0];
    int64_t shape[LN_MAX_DIMS];
    int64_t steps[LN_MAX_DIMS][LN_MAX_OPS]; /* byte steps per (dim, op) */
    int64_t es[LN_MAX_OPS];
    int nd = 0;

    for (int k = 0; k < nops; k++) es[k] = (int64_t)ln_dtype_size(ops[k]->dtype);
    for (int i = 0; i < t0->ndim; i++) {
        if (t0->shape[i] == 0) return;
        if (t0->shape[i] == 1) continue;
        /* merge with the previous kept dim when every op is contiguous across them */
        int merge = nd > 0;
        for (int k = 0; k < nops && merge; k++)
            if (steps[nd - 1][k] != ops[k]->stride[i] * es[k] * t0->shape[i]) merge = 0;
        if (merge) {
            shape[nd - 1] *= t0->shape[i];
            for (int k = 0; k < nops; k++) steps[nd - 1][k] = ops[k]->stride[i] * es[k];
        } else {
            shape[nd] = t0->shape[i];
            for (int k = 0; k < nops; k++) steps[nd][k] = ops[k]->stride[i] * es[k];
            nd++;
        }
    }

    char *base[LN_MAX_OPS];
    for (int k = 0; k < nops; k++) base[k] = (char *)ops[k]->data;
    if (nd == 0) {
        int64_t one[LN_MAX_OPS] = {0};
        fn(1, base, one, ctx);
        return;
    }
    int64_t inner = shape[nd - 1];
    int64_t inner_steps[LN_MAX_OPS];
    for (int k = 0; k < nops; k++) inner_steps[k] = steps[nd - 1][k];
    if (nd == 1) {
        fn(inner, base, inner_steps, ctx);
        return;
    }
    int64_t idx[LN_MAX_DIMS] = {0};
    char *ptr[LN_MAX_OPS];
    for (;;) {
        for (int k = 0; k < nops; k++) ptr[k] = base[k];
        for (int d = 0; d < nd - 1; d++)
            for (int k = 0; k < nops; k++) ptr[k] += idx[d] * steps[d][k];
        fn(inner, ptr, inner_steps, ctx);
        int d = nd - 2;
        while (d >= 0 && ++idx[d] == shape[d]) idx[d--] = 0;
        if (d < 0) break;
    }
}
