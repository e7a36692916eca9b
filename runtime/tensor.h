/*
 * tensor.h - lunet's runtime view of a tensor, statuses and shape helpers.
 *
 * The runtime never owns memory that a caller cannot see: a ln_tensor is a
 * view descriptor (data pointer, dtype, shape, strides) over storage that
 * somebody else allocated (in lunet, a Lua full userdata).  Kernels write into
 * views the caller prepared; functions that can fail return a ln_status and
 * never print, exit or longjmp.  Pure C11, no Lua.
 */
#ifndef LN_TENSOR_H
#define LN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define LN_MAX_DIMS 8

typedef enum ln_status {
    LN_OK = 0,
    LN_EARG,     /* an argument is invalid */
    LN_ESHAPE,   /* shapes do not match / cannot broadcast */
    LN_ERANGE,   /* a value or index is out of range */
    LN_ENOMEM,   /* an allocation failed */
    LN_EIO,      /* reading or writing a file failed */
    LN_EFORMAT,  /* a file is not in the expected format */
    LN_ETOOBIG   /* a size does not fit (overflow or cap) */
} ln_status;

typedef enum ln_dtype {
    LN_F32 = 0,
    LN_F64 = 1,
    LN_I32 = 2,
    LN_U8 = 3,
    LN_I64 = 4
} ln_dtype;

#define LN_NDTYPES 5

/* A strided view.  `data` points at element (0, 0, ..., 0) of the view;
 * strides are counted in elements and may be 0 (broadcast) but never
 * negative.  A 0-d tensor has ndim 0 and one element. */
typedef struct ln_tensor {
    void *data;
    ln_dtype dtype;
    int ndim;
    int64_t shape[LN_MAX_DIMS];
    int64_t stride[LN_MAX_DIMS];
} ln_tensor;

/* A message buffer filled by functions that can fail. */
typedef struct ln_error {
    char msg[256];
} ln_error;

ln_status ln_fail(ln_error *err, ln_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

size_t ln_dtype_size(ln_dtype dt);
const char *ln_dtype_name(ln_dtype dt);
/* Returns 0 and sets *dt when `name` names a dtype, -1 otherwise. */
int ln_dtype_from_name(const char *name, ln_dtype *dt);
int ln_dtype_is_float(ln_dtype dt);
/* numpy's promotion of two array dtypes (np.result_type of two arrays):
 * the same dtype stays; float32 with float64 or with int32/int64 gives
 * float64; uint8 with float32 stays float32; integers widen to the wider
 * (uint8 with int32 gives int32, anything with int64 gives int64). */
ln_dtype ln_promote_types(ln_dtype a, ln_dtype b);

/* Number of elements of a shape; LN_ETOOBIG when the product (times the
 * element size) exceeds `cap_bytes`, LN_ERANGE on a negative dimension.
 * The product of the nonzero dims must fit as well, so an empty shape
 * cannot hide an overflowing one.  *numel is set on success. */
ln_status ln_shape_numel(int ndim, const int64_t *shape, size_t elem_size, size_t cap_bytes,
                         int64_t *numel);
int64_t ln_numel(const ln_tensor *t);

/* Fill `t` as a contiguous (row-major) view of `data`. */
void ln_tensor_init(ln_tensor *t, void *data, ln_dtype dt, int ndim, const int64_t *shape);
/* A view of shape `shape` whose every element is v (stored, in dtype dt, in
 * the 8 bytes at `storage`; all strides 0). */
void ln_scalar(ln_tensor *t, void *storage, ln_dtype dt, double v, int ndim, const int64_t *shape);
/* The same for an integer value, stored exactly in an integer dtype (an
 * int64 above 2^53 does not pass through a double). */
void ln_scalar_i64(ln_tensor *t, void *storage, ln_dtype dt, int64_t v, int ndim,
                   const int64_t *shape);
int ln_is_contiguous(const ln_tensor *t);
int ln_same_shape(const ln_tensor *a, const ln_tensor *b);

/* numpy broadcasting of two shapes; LN_ESHAPE when they do not broadcast. */
ln_status ln_broadcast_shapes(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout,
                              int64_t *sout);
/* Expand `t` (in place) to `ndim`/`shape` with stride 0 on broadcast dims;
 * the shapes must be compatible (checked by ln_broadcast_shapes). */
void ln_broadcast_to(ln_tensor *t, int ndim, const int64_t *shape);

/* Lowest and highest byte addresses a view touches (for overlap checks). */
void ln_byte_extent(const ln_tensor *t, const char **lo, const char **hi);
int ln_overlaps(const ln_tensor *a, const ln_tensor *b);

/* Generic N-d loop over `nops` views of identical shape.  For each run of
 * the (collapsed) innermost dimension it calls fn(n, ptrs, steps, ctx) with
 * byte pointers and byte steps, as numpy's ufunc inner loops do. */
typedef void (*ln_loop_fn)(int64_t n, char **ptrs, const int64_t *steps, void *ctx);
#define LN_MAX_OPS 4
void ln_foreach(int nops, const ln_tensor *const *ops, ln_loop_fn fn, void *ctx);

/* The one way the runtime picks a float32 or float64 kernel: the call for
 * LN_F32, else the call for LN_F64 (the float dtypes; callers have checked
 * the dtype).  Once per call or per chunk, never per element.  (_Generic in
 * a kernel body picks a scalar math function by type: not a dispatch.) */
#define LN_BY_DTYPE(dt, F32_CALL, F64_CALL) ((dt) == LN_F32 ? (void)(F32_CALL) : (void)(F64_CALL))

#endif
