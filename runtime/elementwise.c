/*
 * elementwise.c - binary, unary, comparison, where, copy/convert and fill.
 *
 * Inner loops follow numpy's ufunc convention (n, byte pointers, byte steps)
 * and are driven by ln_foreach.  Each typed loop has a contiguous path the
 * compiler vectorises, paths for a broadcast scalar on either side, and a
 * generic strided path.
 */
#include "elementwise.h"

#include <math.h>
#include <string.h>

#include "stream.h"
#include "parallel.h"
#include "prof.h"

/* ---- binary ------------------------------------------------------------ */

#define DEF_BINARY(NAME, T, EXPR)                                                                  \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        (void)ctx;                                                                                 \
        const int64_t es = (int64_t)sizeof(T);                                                     \
        T *o = (T *)p[0];                                                                          \
        const T *A = (const T *)p[1], *B = (const T *)p[2];                                        \
        if (s[0] == es && s[1] == es && s[2] == es) {                                              \
            if (o == A) {                                                                          \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = o[i], y = B[i];                                                          \
                    o[i] = (EXPR);                                                                 \
                }                                                                                  \
            } else if (ln_can_stream(o, n * es)) {                                                 \
                enum { CH = LN_STREAM_CHUNK_BYTES / sizeof(T) };                                   \
                _Alignas(64) T buf[CH];                                                            \
                int64_t i = 0;                                                                     \
                for (; i + CH <= n; i += CH) {                                                     \
                    for (int64_t j = 0; j < CH; j++) {                                             \
                        T x = A[i + j], y = B[i + j];                                              \
                        buf[j] = (EXPR);                                                           \
                    }                                                                              \
                    ln_stream_store(o + i, buf, sizeof buf);                                       \
                }                                                                                  \
                ln_stream_fence();                                                                 \
                for (; i < n; i++) {                                                               \
                    T x = A[i], y = B[i];                                                          \
                    o[i] = (EXPR);                                                                 \
                }                                                                                  \
            } else {                                                                               \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = A[i], y = B[i];                                                          \
                    o[i] = (EXPR);                                                                 \
                }                                                                                  \
            }                                                                                      \
        } else if (s[0] == es && s[1] == es && s[2] == 0) {                                        \
            const T y = *B;                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = A[i];                                                                        \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else if (s[0] == es && s[1] == 0 && s[2] == es) {                                        \
            const T x = *A;                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T y = B[i];                                                                        \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            char *po = p[0];                                                                       \
            const char *pa = p[1], *pb = p[2];                                                     \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1], pb += s[2]) {                  \
                T x = *(const T *)pa, y = *(const T *)pb;                                          \
                *(T *)po = (EXPR);                                                                 \
            }                                                                                      \
        }                                                                                          \
    }

#define DEF_BINARY2(N32, N64, E32, E64) DEF_BINARY(N32, float, E32) DEF_BINARY(N64, double, E64)
/* the int32, uint8 and int64 loops of an op; EXPR(T, U) is its expression in
 * element type T with U the unsigned type it wraps in (overflow wraps, as
 * numpy's, and is never undefined) */
#define DEF_BINARY_INT(NI32, NU8, NI64, EXPR)                                                       \
    DEF_BINARY(NI32, int32_t, EXPR(int32_t, uint32_t))                                             \
    DEF_BINARY(NU8, uint8_t, EXPR(uint8_t, uint32_t))                                              \
    DEF_BINARY(NI64, int64_t, EXPR(int64_t, uint64_t))
#define MAXIMUM(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define MINIMUM(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))
#define WRAP_ADD(T, U) (T)((U)x + (U)y)
#define WRAP_SUB(T, U) (T)((U)x - (U)y)
#define WRAP_MUL(T, U) (T)((U)x * (U)y)
#define INT_MAX_(T, U) MAXIMUM(x, y)
#define INT_MIN_(T, U) MINIMUM(x, y)
#define INT_POW(T, U) (T) ipow_u64((uint64_t)(U)x, (int64_t)y)
#define INT_FLOORDIV(T, U) floordiv_##T(x, y)
#define INT_REMAINDER(T, U) remainder_##T(x, y)

/* x^e by squaring, wrapping mod 2^64 (the caller keeps the low bits of its
 * dtype, which are those of the exact power); e < 0 gives 0, but callers
 * refuse negative exponents first, as numpy does */
static inline uint64_t ipow_u64(uint64_t x, int64_t e)
{
    if (e < 0) return 0;
    uint64_t r = 1;
    for (uint64_t k = (uint64_t)e; k; k >>= 1) {
        if (k & 1) r *= x;
        x *= x;
    }
    return r;
}

/* numpy's floor_divide and remainder (the sign of the divisor) on integers:
 * a zero divisor gives 0 (numpy warns and gives 0), and MIN // -1 wraps to
 * MIN, so no division traps (SIGFPE) */
#define DEF_INT_DIVMOD(T, U)                                                                       \
    static inline T floordiv_##T(T x, T y)                                                         \
    {                                                                                              \
        if (y == 0) return 0;                                                                      \
        if (y == -1) return (T)(0 - (U)x);                                                         \
        T q = (T)(x / y);                                                                          \
        if ((T)(x % y) != 0 && (x < 0) != (y < 0)) q--;                                            \
        return q;                                                                                  \
    }                                                                                              \
    static inline T remainder_##T(T x, T y)                                                        \
    {                                                                                              \
        if (y == 0 || y == -1) return 0;                                                           \
        T r = (T)(x % y);                                                                          \
        return r != 0 && (r < 0) != (y < 0) ? (T)(r + y) : r;                                      \
    }
DEF_INT_DIVMOD(int32_t, uint32_t)
DEF_INT_DIVMOD(int64_t, uint64_t)
static inline uint8_t floordiv_uint8_t(uint8_t x, uint8_t y) { return y ? (uint8_t)(x / y) : 0; }
static inline uint8_t remainder_uint8_t(uint8_t x, uint8_t y) { return y ? (uint8_t)(x % y) : 0; }

/* numpy's floor_divide and remainder on floats (Python's // and %):
 * x // y is the integer nearest to (x - remainder) / y, so 1 // 0.1 is 9
 * (floor(1 / 0.1) would be 10); the remainder takes the divisor's sign.
 * A zero divisor gives x / y (inf or NaN) and NaN. */
#define FMOD_(x, y) _Generic((x), float: fmodf, default: fmod)(x, y)
#define FLOOR_(x) _Generic((x), float: floorf, default: floor)(x)
#define COPYSIGN_(x, y) _Generic((x), float: copysignf, default: copysign)(x, y)
#define DEF_FLOAT_DIVMOD(T)                                                                        \
    static inline T floordiv_##T(T x, T y)                                                         \
    {                                                                                              \
        if (y == 0) return x / y;                                                                  \
        T r = FMOD_(x, y);                                                                         \
        T q = (x - r) / y; /* an integer, up to rounding */                                        \
        if (r != 0 && (r < 0) != (y < 0)) q -= (T)1;                                               \
        if (q == 0) return COPYSIGN_((T)0, x / y);                                                 \
        T f = FLOOR_(q);                                                                           \
        return q - f > (T)0.5 ? f + (T)1 : f;                                                      \
    }                                                                                              \
    static inline T remainder_##T(T x, T y)                                                        \
    {                                                                                              \
        T r = FMOD_(x, y);                                                                         \
        if (r == 0) return COPYSIGN_((T)0, y);                                                     \
        return (r < 0) != (y < 0) ? r + y : r;                                                     \
    }
DEF_FLOAT_DIVMOD(float)
DEF_FLOAT_DIVMOD(double)

/* one line per op: its float32 and float64 loops, then its integer loops */
DEF_BINARY2(add_f32, add_f64, x + y, x + y)
DEF_BINARY2(sub_f32, sub_f64, x - y, x - y)
DEF_BINARY2(mul_f32, mul_f64, x * y, x * y)
DEF_BINARY2(div_f32, div_f64, x / y, x / y)
DEF_BINARY2(pow_f32, pow_f64, powf(x, y), pow(x, y))
DEF_BINARY2(max_f32, max_f64, MAXIMUM(x, y), MAXIMUM(x, y))
DEF_BINARY2(min_f32, min_f64, MINIMUM(x, y), MINIMUM(x, y))
DEF_BINARY2(fdiv_f32, fdiv_f64, floordiv_float(x, y), floordiv_double(x, y))
DEF_BINARY2(rem_f32, rem_f64, remainder_float(x, y), remainder_double(x, y))
DEF_BINARY_INT(add_i32, add_u8, add_i64, WRAP_ADD)
DEF_BINARY_INT(sub_i32, sub_u8, sub_i64, WRAP_SUB)
DEF_BINARY_INT(mul_i32, mul_u8, mul_i64, WRAP_MUL)
DEF_BINARY_INT(pow_i32, pow_u8, pow_i64, INT_POW)
DEF_BINARY_INT(max_i32, max_u8, max_i64, INT_MAX_)
DEF_BINARY_INT(min_i32, min_u8, min_i64, INT_MIN_)
DEF_BINARY_INT(fdiv_i32, fdiv_u8, fdiv_i64, INT_FLOORDIV)
DEF_BINARY_INT(rem_i32, rem_u8, rem_i64, INT_REMAINDER)

void ln_binary(ln_binop op, ln_tensor *out, const ln_tensor *a, const ln_tensor *b)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    /* by ln_binop, then ln_dtype: float32, float64, int32, uint8, int64
     * (true division has no integer loops: callers divide in float64) */
    static const ln_loop_fn loops[][LN_NDTYPES] = {
        [LN_OP_ADD] = {add_f32, add_f64, add_i32, add_u8, add_i64},
        [LN_OP_SUB] = {sub_f32, sub_f64, sub_i32, sub_u8, sub_i64},
        [LN_OP_MUL] = {mul_f32, mul_f64, mul_i32, mul_u8, mul_i64},
        [LN_OP_DIV] = {div_f32, div_f64},
        [LN_OP_POW] = {pow_f32, pow_f64, pow_i32, pow_u8, pow_i64},
        [LN_OP_MAXIMUM] = {max_f32, max_f64, max_i32, max_u8, max_i64},
        [LN_OP_MINIMUM] = {min_f32, min_f64, min_i32, min_u8, min_i64},
        [LN_OP_FLOOR_DIVIDE] = {fdiv_f32, fdiv_f64, fdiv_i32, fdiv_u8, fdiv_i64},
        [LN_OP_REMAINDER] = {rem_f32, rem_f64, rem_i32, rem_u8, rem_i64},
    };
    const ln_tensor *ops[3] = {out, a, b};
    ln_foreach(3, ops, loops[op][out->dtype], NULL);
}

/* ---- unary ------------------------------------------------------------- */

typedef struct unary_ctx {
    double lo, hi;
    int64_t ilo, ihi; /* the integer loops' bounds (within their dtype) */
} unary_ctx;

#define DEF_UNARY_AS(NAME, T, EXPR, LO, HI)                                                        \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        const unary_ctx *c = (const unary_ctx *)ctx;                                               \
        const T lo = (T)c->LO, hi = (T)c->HI;                                                      \
        (void)lo;                                                                                  \
        (void)hi;                                                                                  \
        const int64_t es = (int64_t)sizeof(T);                                                     \
        if (s[0] == es && s[1] == es) {                                                            \
            T *o = (T *)p[0];                                                                      \
            const T *A = (const T *)p[1];                                                          \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = A[i];                                                                        \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            char *po = p[0];                                                                       \
            const char *pa = p[1];                                                                 \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1]) {                              \
                T x = *(const T *)pa;                                                              \
                *(T *)po = (EXPR);                                                                 \
            }                                                                                      \
        }                                                                                          \
    }
#define DEF_UNARY(NAME, T, EXPR) DEF_UNARY_AS(NAME, T, EXPR, lo, hi)

#define DEF_UNARY2(N32, N64, E32, E64) DEF_UNARY(N32, float, E32) DEF_UNARY(N64, double, E64)
/* the integer loops, as DEF_BINARY_INT */
#define DEF_UNARY_INT(NI32, NU8, NI64, EXPR)                                                       \
    DEF_UNARY_AS(NI32, int32_t, EXPR(int32_t, uint32_t), ilo, ihi)                                 \
    DEF_UNARY_AS(NU8, uint8_t, EXPR(uint8_t, uint32_t), ilo, ihi)                                  \
    DEF_UNARY_AS(NI64, int64_t, EXPR(int64_t, uint64_t), ilo, ihi)
#define SIGN(T, x) ((x) != (x) ? (x) : (T)(((x) > 0) - ((x) < 0)))
#define CLAMP(x) ((x) < lo ? lo : ((x) > hi ? hi : (x)))
#define WRAP_NEG(T, U) (T)(0 - (U)x)
#define WRAP_ABS(T, U) (x > 0 || x == 0 ? x : (T)(0 - (U)x)) /* abs(MIN) wraps to MIN */
#define WRAP_SQUARE(T, U) (T)((U)x * (U)x)
#define INT_SIGN(T, U) (T)(x > 0 ? 1 : x == 0 ? 0 : -1)
#define INT_CLAMP(T, U) CLAMP(x)
#define INT_SAME(T, U) x /* floor, ceil, round, trunc of an integer */

/* one line per op: its float32 and float64 loops, then its integer loops */
DEF_UNARY2(exp_f32, exp_f64, expf(x), exp(x))
DEF_UNARY2(log_f32, log_f64, logf(x), log(x))
DEF_UNARY2(sqrt_f32, sqrt_f64, sqrtf(x), sqrt(x))
DEF_UNARY2(abs_f32, abs_f64, fabsf(x), fabs(x))
DEF_UNARY2(neg_f32, neg_f64, -x, -x)
DEF_UNARY2(sign_f32, sign_f64, SIGN(float, x), SIGN(double, x))
DEF_UNARY2(clamp_f32, clamp_f64, CLAMP(x), CLAMP(x))
DEF_UNARY2(square_f32, square_f64, x *x, x *x)
DEF_UNARY2(floor_f32, floor_f64, floorf(x), floor(x))
DEF_UNARY2(ceil_f32, ceil_f64, ceilf(x), ceil(x))
DEF_UNARY2(round_f32, round_f64, rintf(x), rint(x)) /* the default mode: half to even */
DEF_UNARY2(trunc_f32, trunc_f64, truncf(x), trunc(x))
DEF_UNARY_INT(abs_i32, abs_u8, abs_i64, WRAP_ABS)
DEF_UNARY_INT(neg_i32, neg_u8, neg_i64, WRAP_NEG)
DEF_UNARY_INT(sign_i32, sign_u8, sign_i64, INT_SIGN)
DEF_UNARY_INT(square_i32, square_u8, square_i64, WRAP_SQUARE)
DEF_UNARY_INT(clamp_i32, clamp_u8, clamp_i64, INT_CLAMP)
DEF_UNARY_INT(same_i32, same_u8, same_i64, INT_SAME)

/* by ln_unop, then ln_dtype: float32, float64, int32, uint8, int64
 * (NULL: float only; callers check with ln_unary_has_int) */
static const ln_loop_fn unary_loops[][LN_NDTYPES] = {
    [LN_OP_EXP] = {exp_f32, exp_f64},
    [LN_OP_LOG] = {log_f32, log_f64},
    [LN_OP_SQRT] = {sqrt_f32, sqrt_f64},
    [LN_OP_ABS] = {abs_f32, abs_f64, abs_i32, abs_u8, abs_i64},
    [LN_OP_NEG] = {neg_f32, neg_f64, neg_i32, neg_u8, neg_i64},
    [LN_OP_SIGN] = {sign_f32, sign_f64, sign_i32, sign_u8, sign_i64},
    [LN_OP_CLAMP] = {clamp_f32, clamp_f64, clamp_i32, clamp_u8, clamp_i64},
    [LN_OP_SQUARE] = {square_f32, square_f64, square_i32, square_u8, square_i64},
    [LN_OP_FLOOR] = {floor_f32, floor_f64, same_i32, same_u8, same_i64},
    [LN_OP_CEIL] = {ceil_f32, ceil_f64, same_i32, same_u8, same_i64},
    [LN_OP_ROUND] = {round_f32, round_f64, same_i32, same_u8, same_i64},
    [LN_OP_TRUNC] = {trunc_f32, trunc_f64, same_i32, same_u8, same_i64},
};

static void run_unary(ln_unop op, ln_tensor *out, const ln_tensor *a, unary_ctx *c)
{
    const ln_tensor *ops[2] = {out, a};
    ln_foreach(2, ops, unary_loops[op][out->dtype], c);
}

void ln_unary(ln_unop op, ln_tensor *out, const ln_tensor *a, double lo, double hi)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    unary_ctx c = {lo, hi, 0, 0}; /* integer LN_OP_CLAMP goes through ln_clamp_int */
    run_unary(op, out, a, &c);
}

void ln_clamp_int(ln_tensor *out, const ln_tensor *a, int64_t lo, int64_t hi)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    unary_ctx c = {0, 0, lo, hi};
    run_unary(LN_OP_CLAMP, out, a, &c);
}

int ln_unary_has_int(ln_unop op) { return unary_loops[op][LN_I32] != NULL; }

static void negative_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    int *found = (int *)ctx;
    const ln_dtype dt = (ln_dtype)found[1];
    if (found[0]) return;
    for (int64_t i = 0; i < n; i++) {
        if (ln_load_i64(p[0] + i * s[0], dt) < 0) {
            found[0] = 1;
            return;
        }
    }
}

int ln_any_negative(const ln_tensor *t)
{
    if (t->dtype == LN_U8) return 0;
    int found[2] = {0, (int)t->dtype};
    const ln_tensor *ops[1] = {t};
    ln_foreach(1, ops, negative_loop, found);
    return found[0];
}

/* ---- loads and stores -------------------------------------------------- */

double ln_load(const void *p, ln_dtype dt)
{
    switch (dt) {
    case LN_F32: return (double)*(const float *)p;
    case LN_F64: return *(const double *)p;
    case LN_I32: return (double)*(const int32_t *)p;
    case LN_U8: return (double)*(const uint8_t *)p;
    case LN_I64: return (double)*(const int64_t *)p;
    }
    return 0;
}

void ln_store(void *p, ln_dtype dt, double v)
{
    switch (dt) {
    case LN_F32: *(float *)p = (float)v; break;
    case LN_F64: *(double *)p = v; break;
    case LN_I32: *(int32_t *)p = (int32_t)v; break;
    case LN_U8: *(uint8_t *)p = (uint8_t)v; break;
    case LN_I64: *(int64_t *)p = (int64_t)v; break;
    }
}

int64_t ln_load_i64(const void *p, ln_dtype dt)
{
    switch (dt) {
    case LN_I32: return *(const int32_t *)p;
    case LN_U8: return *(const uint8_t *)p;
    case LN_I64: return *(const int64_t *)p;
    default: return (int64_t)ln_load(p, dt);
    }
}

void ln_store_i64(void *p, ln_dtype dt, int64_t v)
{
    switch (dt) {
    case LN_F32: *(float *)p = (float)v; break;
    case LN_F64: *(double *)p = (double)v; break;
    case LN_I32: *(int32_t *)p = (int32_t)v; break;
    case LN_U8: *(uint8_t *)p = (uint8_t)v; break;
    case LN_I64: *(int64_t *)p = v; break;
    }
}

/* ---- comparisons ------------------------------------------------------- */

typedef struct cmp_ctx {
    ln_cmpop op;
    ln_dtype da, db;
} cmp_ctx;

/* one comparison, for each kind of operand; a float32, int32 or uint8 pair
 * converts exactly to the double or int64 form */
#define DEF_CMP_FN(NAME, T)                                                                        \
    static inline int NAME(ln_cmpop op, T x, T y)                                                  \
    {                                                                                              \
        switch (op) {                                                                              \
        case LN_CMP_EQ: return x == y;                                                             \
        case LN_CMP_NE: return x != y;                                                             \
        case LN_CMP_LT: return x < y;                                                              \
        case LN_CMP_LE: return x <= y;                                                             \
        case LN_CMP_GT: return x > y;                                                              \
        case LN_CMP_GE: return x >= y;                                                             \
        }                                                                                          \
        return 0;                                                                                  \
    }
DEF_CMP_FN(cmp_doubles, double)
DEF_CMP_FN(cmp_ints, int64_t)

#define DEF_CMP_SAME(NAME, T, CMPF)                                                                \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        const cmp_ctx *c = (const cmp_ctx *)ctx;                                                   \
        uint8_t *o = (uint8_t *)p[0];                                                              \
        const char *pa = p[1], *pb = p[2];                                                         \
        for (int64_t i = 0; i < n; i++, o += s[0], pa += s[1], pb += s[2])                        \
            *o = (uint8_t)CMPF(c->op, *(const T *)pa, *(const T *)pb);                             \
    }

DEF_CMP_SAME(cmp_f32, float, cmp_doubles)
DEF_CMP_SAME(cmp_f64, double, cmp_doubles)
DEF_CMP_SAME(cmp_i32, int32_t, cmp_ints)
DEF_CMP_SAME(cmp_u8, uint8_t, cmp_ints)
DEF_CMP_SAME(cmp_i64, int64_t, cmp_ints)

/* two integer dtypes: exactly, as int64 */
static void cmp_mixed_int(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const cmp_ctx *c = (const cmp_ctx *)ctx;
    uint8_t *o = (uint8_t *)p[0];
    const char *pa = p[1], *pb = p[2];
    for (int64_t i = 0; i < n; i++, o += s[0], pa += s[1], pb += s[2])
        *o = (uint8_t)cmp_ints(c->op, ln_load_i64(pa, c->da), ln_load_i64(pb, c->db));
}

static void cmp_mixed(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const cmp_ctx *c = (const cmp_ctx *)ctx;
    uint8_t *o = (uint8_t *)p[0];
    const char *pa = p[1], *pb = p[2];
    for (int64_t i = 0; i < n; i++, o += s[0], pa += s[1], pb += s[2])
        *o = (uint8_t)cmp_doubles(c->op, ln_load(pa, c->da), ln_load(pb, c->db));
}

void ln_compare(ln_cmpop op, ln_tensor *out, const ln_tensor *a, const ln_tensor *b)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    static const ln_loop_fn same[LN_NDTYPES] = {cmp_f32, cmp_f64, cmp_i32, cmp_u8, cmp_i64};
    cmp_ctx c = {op, a->dtype, b->dtype};
    const ln_tensor *ops[3] = {out, a, b};
    ln_loop_fn fn = a->dtype == b->dtype ? same[a->dtype]
                    : !ln_dtype_is_float(a->dtype) && !ln_dtype_is_float(b->dtype) ? cmp_mixed_int
                                                                                   : cmp_mixed;
    ln_foreach(3, ops, fn, &c);
}

/* ---- where ------------------------------------------------------------- */

typedef struct where_ctx {
    ln_dtype dc;
    size_t es;
} where_ctx;

static void where_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const where_ctx *c = (const where_ctx *)ctx;
    char *po = p[0];
    const char *pc = p[1], *pa = p[2], *pb = p[3];
    for (int64_t i = 0; i < n; i++, po += s[0], pc += s[1], pa += s[2], pb += s[3]) {
        int take_a;
        switch (c->dc) {
        case LN_F32: take_a = *(const float *)pc != 0; break;
        case LN_F64: take_a = *(const double *)pc != 0; break;
        case LN_I32: take_a = *(const int32_t *)pc != 0; break;
        case LN_I64: take_a = *(const int64_t *)pc != 0; break;
        default: take_a = *(const uint8_t *)pc != 0; break;
        }
        memcpy(po, take_a ? pa : pb, c->es);
    }
}

void ln_where(ln_tensor *out, const ln_tensor *cond, const ln_tensor *a, const ln_tensor *b)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    where_ctx c = {cond->dtype, ln_dtype_size(out->dtype)};
    const ln_tensor *ops[4] = {out, cond, a, b};
    ln_foreach(4, ops, where_loop, &c);
}

/* ---- copy / convert ---------------------------------------------------- */

#define DEF_CONVERT(NAME, TO, TI)                                                                  \
    static void NAME(int64_t n, char **p, const int64_t *s, void *ctx)                             \
    {                                                                                              \
        (void)ctx;                                                                                 \
        if (s[0] == (int64_t)sizeof(TO) && s[1] == (int64_t)sizeof(TI)) {                          \
            TO *o = (TO *)p[0];                                                                    \
            const TI *a = (const TI *)p[1];                                                        \
            for (int64_t i = 0; i < n; i++) o[i] = (TO)a[i];                                       \
        } else {                                                                                   \
            char *po = p[0];                                                                       \
            const char *pa = p[1];                                                                 \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1])                                \
                *(TO *)po = (TO) * (const TI *)pa;                                                 \
        }                                                                                          \
    }

/* the loops converting every source dtype into TO, named cv_<to>_<from> */
#define DEF_CONVERT_ROW(TN, TO)                                                                    \
    DEF_CONVERT(cv_##TN##_f32, TO, float)                                                          \
    DEF_CONVERT(cv_##TN##_f64, TO, double)                                                         \
    DEF_CONVERT(cv_##TN##_i32, TO, int32_t)                                                        \
    DEF_CONVERT(cv_##TN##_u8, TO, uint8_t)                                                         \
    DEF_CONVERT(cv_##TN##_i64, TO, int64_t)
#define CONVERT_ROW(TN) {cv_##TN##_f32, cv_##TN##_f64, cv_##TN##_i32, cv_##TN##_u8, cv_##TN##_i64}

DEF_CONVERT_ROW(f32, float)
DEF_CONVERT_ROW(f64, double)
DEF_CONVERT_ROW(i32, int32_t)
DEF_CONVERT_ROW(u8, uint8_t)
DEF_CONVERT_ROW(i64, int64_t)

/* [to][from], in ln_dtype order */
static const ln_loop_fn convert_loops[LN_NDTYPES][LN_NDTYPES] = {
    CONVERT_ROW(f32), CONVERT_ROW(f64), CONVERT_ROW(i32), CONVERT_ROW(u8), CONVERT_ROW(i64),
};

void ln_copy(ln_tensor *dst, const ln_tensor *src)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    if (dst->dtype == src->dtype && ln_is_contiguous(dst) && ln_is_contiguous(src) &&
        ln_same_shape(dst, src)) {
        memmove(dst->data, src->data, (size_t)ln_numel(dst) * ln_dtype_size(dst->dtype));
        return;
    }
    const ln_tensor *ops[2] = {dst, src};
    ln_foreach(2, ops, convert_loops[dst->dtype][src->dtype], NULL);
}

typedef struct check_ctx {
    ln_dtype from;
    double lo, hi; /* the target's range: lo included, hi excluded */
    int bad;
    double bad_value;
} check_ctx;

static void check_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    check_ctx *c = (check_ctx *)ctx;
    if (c->bad) return;
    const char *pa = p[0];
    for (int64_t i = 0; i < n; i++, pa += s[0]) {
        double v = ln_load(pa, c->from);
        double t = trunc(v);
        if (!(t >= c->lo && t < c->hi)) { /* also catches NaN */
            c->bad = 1;
            c->bad_value = v;
            return;
        }
    }
}

ln_status ln_check_convert(const ln_tensor *src, ln_dtype to, double *bad)
{
    check_ctx c = {src->dtype, 0, 0, 0, 0};
    ln_dtype from = src->dtype;
    /* every value of `from` fits `to` */
    if (ln_dtype_is_float(to) || from == to || from == LN_U8) return LN_OK;
    if (to == LN_I64 && from == LN_I32) return LN_OK;
    switch (to) {
    case LN_I32:
        c.lo = -2147483648.0;
        c.hi = 2147483648.0;
        break;
    case LN_I64:
        c.lo = -9223372036854775808.0;
        c.hi = 9223372036854775808.0;
        break;
    default:
        c.lo = 0;
        c.hi = 256;
        break;
    }
    /* (an int64 source is loaded as a double: exact near the int32 and
     * uint8 bounds, which are all that is checked for it) */
    const ln_tensor *ops[1] = {src};
    ln_foreach(1, ops, check_loop, &c);
    if (c.bad) {
        *bad = c.bad_value;
        return LN_ERANGE;
    }
    return LN_OK;
}

typedef struct fill_ctx {
    union {
        float f32;
        double f64;
        int32_t i32;
        uint8_t u8;
        int64_t i64;
    } v;
    ln_dtype dt;
} fill_ctx;

static void fill_loop(int64_t n, char **p, const int64_t *s, void *ctx)
{
    const fill_ctx *c = (const fill_ctx *)ctx;
    char *po = p[0];
    size_t es = ln_dtype_size(c->dt);
    if (s[0] == (int64_t)es) {
        switch (c->dt) {
        case LN_F32:
            for (int64_t i = 0; i < n; i++) ((float *)po)[i] = c->v.f32;
            break;
        case LN_F64:
            for (int64_t i = 0; i < n; i++) ((double *)po)[i] = c->v.f64;
            break;
        case LN_I32:
            for (int64_t i = 0; i < n; i++) ((int32_t *)po)[i] = c->v.i32;
            break;
        case LN_U8: memset(po, c->v.u8, (size_t)n); break;
        case LN_I64:
            for (int64_t i = 0; i < n; i++) ((int64_t *)po)[i] = c->v.i64;
            break;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++, po += s[0]) memcpy(po, &c->v, es);
}

/* every element of t set to the value stored in c */
static void fill_with(ln_tensor *t, fill_ctx *c)
{
    c->dt = t->dtype;
    const ln_tensor *ops[1] = {t};
    ln_foreach(1, ops, fill_loop, c);
}

typedef struct gather_rows {
    char *out;
    const char *src;
    const int64_t *idx;
    size_t row; /* bytes */
} gather_rows;

static void gather_range(int64_t lo, int64_t hi, void *ctx)
{
    const gather_rows *g = ctx;
    for (int64_t i = lo; i < hi; i++)
        memcpy(g->out + (size_t)i * g->row, g->src + (size_t)g->idx[i] * g->row, g->row);
}

/* bytes a gather of whole rows copies before it is split over the threads:
 * a shuffled batch's rows come from all over the data, so two threads
 * overlap twice the cache misses */
#define GATHER_PARALLEL_BYTES ((size_t)1 << 17)

void ln_index_select(ln_tensor *out, const ln_tensor *src, int dim, const int64_t *idx, int64_t n)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    const int64_t es = (int64_t)ln_dtype_size(src->dtype);
    if (dim == 0 && ln_is_contiguous(src) && ln_is_contiguous(out)) {
        const size_t row = (size_t)(src->shape[0] > 0 ? ln_numel(src) / src->shape[0] : 0) * (size_t)es;
        gather_rows g = {out->data, src->data, idx, row};
        const int64_t min_rows = row ? (int64_t)(GATHER_PARALLEL_BYTES / row) : n + 1;
        ln_parallel_for(n, 1, min_rows > 2 ? min_rows : 2, gather_range, &g);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        ln_tensor s = *src, d = *out;
        s.data = (char *)src->data + idx[i] * src->stride[dim] * es;
        s.shape[dim] = 1;
        d.data = (char *)out->data + i * out->stride[dim] * es;
        d.shape[dim] = 1;
        ln_copy(&d, &s);
    }
}

void ln_fill(ln_tensor *t, double v)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    fill_ctx c;
    ln_store(&c.v, t->dtype, v);
    fill_with(t, &c);
}

void ln_fill_i64(ln_tensor *t, int64_t v)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    fill_ctx c;
    ln_store_i64(&c.v, t->dtype, v);
    fill_with(t, &c);
}
