/*
 * activations.c - forward/backward kernel pairs, one per activation, and
 * the table that names them (SEMANTICS.md, "Activations").
 *
 * Each elementwise pair is written once as two expressions (y of x, and dx
 * of s = x or y and g) and instantiated for float32 and float64.  float32
 * kernels call vmath.h's exp/expm1/tanh/Phi, which gcc vectorises; float64
 * kernels call libm.  Every kernel propagates NaN (the comparisons are
 * ordered so that a NaN falls into an arithmetic branch or is selected
 * explicitly).
 *
 * The driver runs kernels over chunks of 4 KiB: strided operands are
 * gathered into and scattered from a chunk buffer, contiguous ones are read
 * in place, and outputs of 16 MiB or more are written with streaming
 * stores.  Computing into a buffer also makes y == x (in place) safe with
 * restrict-qualified kernels.
 */
#include "activations.h"

#include <math.h>
#include <string.h>

#include "parallel.h"
#include "stream.h"
#include "vmath.h"
#include "prof.h"

#define EXP(v) _Generic((v), float: ln_expf, double: exp)(v)
#define EXPM1(v) _Generic((v), float: ln_expm1f, double: expm1)(v)
#define TANH(v) _Generic((v), float: ln_tanhf, double: tanh)(v)
#define LOG1P(v) _Generic((v), float: log1pf, double: log1p)(v)
#define FABS(v) _Generic((v), float: fabsf, double: fabs)(v)
#define PHI(v) _Generic((v), float: ln_phif, double: ln_phi)(v)
#define K(c) ((T)(c))

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define SQRT_2_OVER_PI 0.79788456080286535587989211986876
#define INV_SQRT_2PI 0.39894228040143267793994605993438
#define GELU_C 0.044715

/* Define one activation's four kernels, named in full at each use:
 * ln_act_<name>_forward_f32/_f64 (y = FWD of x) and
 * ln_act_<name>_backward_f32/_f64 (dx = BWD of s and g).  The expressions
 * are written once for both dtypes; T is the element type and pa, pb, pc
 * the parameters in it. */
#define DEF_ACT_T(FWD_NAME, BWD_NAME, TT, FPRE, FWD, BPRE, BWD)                                    \
    __attribute__((unused)) LN_SIMD_CLONES static void FWD_NAME(                                   \
        int64_t n, const TT *restrict xs, TT *restrict ys, const ln_act_params *p)                 \
    {                                                                                              \
        typedef TT T;                                                                              \
        const T pa = (T)p->a, pb = (T)p->b, pc = (T)p->c;                                          \
        (void)pa, (void)pb, (void)pc;                                                              \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T x = xs[i];                                                                     \
            FPRE;                                                                                  \
            ys[i] = (FWD);                                                                         \
        }                                                                                          \
    }                                                                                              \
    __attribute__((unused)) LN_SIMD_CLONES static void BWD_NAME(                                   \
        int64_t n, const TT *restrict ss, const TT *restrict gs, TT *restrict dxs,                 \
        const ln_act_params *p)                                                                    \
    {                                                                                              \
        typedef TT T;                                                                              \
        const T pa = (T)p->a, pb = (T)p->b, pc = (T)p->c;                                          \
        (void)pa, (void)pb, (void)pc;                                                              \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T s = ss[i], g = gs[i];                                                          \
            (void)s;                                                                               \
            BPRE;                                                                                  \
            dxs[i] = (BWD);                                                                        \
        }                                                                                          \
    }

/* DEF_ACT(forward_f32, forward_f64, backward_f32, backward_f64, FWD, BWD) */
#define DEF_ACT(F32, F64, B32, B64, FWD, BWD)                                                      \
    DEF_ACT_T(F32, B32, float, (void)0, FWD, (void)0, BWD)                                         \
    DEF_ACT_T(F64, B64, double, (void)0, FWD, (void)0, BWD)

/* The same with a statement before each expression, for a transcendental
 * that one branch needs: computed unconditionally into a local, gcc
 * vectorises it without the masking it otherwise adds (2x faster). */
#define DEF_ACT_PRE(F32, F64, B32, B64, FPRE, FWD, BPRE, BWD)                                      \
    DEF_ACT_T(F32, B32, float, FPRE, FWD, BPRE, BWD)                                               \
    DEF_ACT_T(F64, B64, double, FPRE, FWD, BPRE, BWD)

/* ---- scalar helpers shared by several kernels ---------------------------- */

#define DEF_SIGMOID(TT, SUF)                                                                       \
    static inline TT sigmoid_##SUF(TT x)                                                           \
    {                                                                                              \
        typedef TT T;                                                                              \
        T e = EXP(-FABS(x)); /* in (0, 1]: never overflows */                                      \
        T r = K(1) / (K(1) + e);                                                                   \
        return x >= 0 ? r : e * r;                                                                 \
    }                                                                                              \
    static inline TT softplus_##SUF(TT x)                                                          \
    {                                                                                              \
        typedef TT T;                                                                              \
        return (x > 0 ? x : K(0)) + LOG1P(EXP(-FABS(x)));                                          \
    }
DEF_SIGMOID(float, f)
DEF_SIGMOID(double, d)
#define SIGMOID(v) _Generic((v), float: sigmoid_f, double: sigmoid_d)(v)
#define SOFTPLUS(v) _Generic((v), float: softplus_f, double: softplus_d)(v)

/* ---- the kernels (s is x unless the table row says saves_y) --------------- */

/* clang-format off */
DEF_ACT(ln_act_linear_forward_f32, ln_act_linear_forward_f64,
        ln_act_linear_backward_f32, ln_act_linear_backward_f64, x, g)

/* relu(a = negative_slope, b = max_value (+inf: none), c = threshold).
 * Above the threshold, Keras' code (seed 003) clips to [0, max_value] when
 * max_value is set, so with a negative threshold x in (threshold, 0] gives 0;
 * without max_value it gives x.  Zeros carry Keras' signs: +0 below a zero
 * threshold (tf.nn.relu), x*0 below a non-zero one (x * (x > threshold)). */
#define RELU_CLIPS_AT_0(v) ((v) <= 0 && pb < (T)INFINITY)
DEF_ACT(ln_act_relu_forward_f32, ln_act_relu_forward_f64,
        ln_act_relu_backward_f32, ln_act_relu_backward_f64,
        x > pc ? (x < pb ? (RELU_CLIPS_AT_0(x) ? K(0) : x) : pb)
               : (pa != 0 ? pa * (x - pc) : (x != x ? x : (pc != 0 ? x * K(0) : K(0)))),
        s > pc ? (s < pb && !RELU_CLIPS_AT_0(s) ? g : K(0)) : (s <= pc ? pa * g : s))

DEF_ACT(ln_act_leaky_relu_forward_f32, ln_act_leaky_relu_forward_f64,
        ln_act_leaky_relu_backward_f32, ln_act_leaky_relu_backward_f64,
        x > 0 ? x : pa * x,
        s > 0 ? g : (s <= 0 ? pa * g : s))

DEF_ACT_PRE(ln_act_elu_forward_f32, ln_act_elu_forward_f64,
        ln_act_elu_backward_f32, ln_act_elu_backward_f64,
            const T e = EXPM1(x > 0 ? K(0) : x), x > 0 ? x : pa * e,
            const T e = EXP(s > 0 ? K(0) : s), s > 0 ? g : g * pa * e)

DEF_ACT_PRE(ln_act_selu_forward_f32, ln_act_selu_forward_f64,
        ln_act_selu_backward_f32, ln_act_selu_backward_f64,
            const T e = EXPM1(x > 0 ? K(0) : x),
            x > 0 ? K(SELU_SCALE) * x : K(SELU_SCALE) * (K(SELU_ALPHA) * e),
            const T e = EXP(s > 0 ? K(0) : s),
            s > 0 ? K(SELU_SCALE) * g : g * K(SELU_SCALE * SELU_ALPHA) * e)

DEF_ACT_PRE(ln_act_celu_forward_f32, ln_act_celu_forward_f64,
        ln_act_celu_backward_f32, ln_act_celu_backward_f64,
            const T e = EXPM1(x > 0 ? K(0) : x / pa), x > 0 ? x : pa * e,
            const T e = EXP(s > 0 ? K(0) : s / pa), s > 0 ? g : g * e)

/* backward from y: y*(1-y) */
DEF_ACT(ln_act_sigmoid_forward_f32, ln_act_sigmoid_forward_f64,
        ln_act_sigmoid_backward_f32, ln_act_sigmoid_backward_f64, SIGMOID(x), g * (s * (K(1) - s)))

/* clip(0.2x + 0.5, 0, 1) */
DEF_ACT(ln_act_hard_sigmoid_forward_f32, ln_act_hard_sigmoid_forward_f64,
        ln_act_hard_sigmoid_backward_f32, ln_act_hard_sigmoid_backward_f64,
        (K(0.2) * x + K(0.5)) < 0 ? K(0)
            : ((K(0.2) * x + K(0.5)) > 1 ? K(1) : K(0.2) * x + K(0.5)),
        (s > K(-2.5) && s < K(2.5)) ? K(0.2) * g : (s == s ? K(0) : s))

/* x * relu6(x + 3) / 6 */
DEF_ACT(ln_act_hard_silu_forward_f32, ln_act_hard_silu_forward_f64,
        ln_act_hard_silu_backward_f32, ln_act_hard_silu_backward_f64,
        x * ((x + 3) < 0 ? K(0) : ((x + 3) > 6 ? K(6) : x + 3)) / K(6),
        s < -3 ? K(0) : (s > 3 ? g : g * (2 * s + 3) / K(6)))

DEF_ACT(ln_act_silu_forward_f32, ln_act_silu_forward_f64,
        ln_act_silu_backward_f32, ln_act_silu_backward_f64,
        x * SIGMOID(x),
        g * (SIGMOID(s) + s * SIGMOID(s) * (K(1) - SIGMOID(s))))

/* backward from y: 1 - y^2 */
DEF_ACT(ln_act_tanh_forward_f32, ln_act_tanh_forward_f64,
        ln_act_tanh_backward_f32, ln_act_tanh_backward_f64, TANH(x), g * (K(1) - s * s))

DEF_ACT(ln_act_softplus_forward_f32, ln_act_softplus_forward_f64,
        ln_act_softplus_backward_f32, ln_act_softplus_backward_f64, SOFTPLUS(x), g * SIGMOID(s))

DEF_ACT(ln_act_softsign_forward_f32, ln_act_softsign_forward_f64,
        ln_act_softsign_backward_f32, ln_act_softsign_backward_f64,
        x / (K(1) + FABS(x)),
        g / ((K(1) + FABS(s)) * (K(1) + FABS(s))))

/* x tanh(softplus(x)); d/dx = t + x (1 - t^2) sigmoid(x) */
DEF_ACT(ln_act_mish_forward_f32, ln_act_mish_forward_f64,
        ln_act_mish_backward_f32, ln_act_mish_backward_f64,
        x * TANH(SOFTPLUS(x)),
        g * (TANH(SOFTPLUS(s)) + s * (K(1) - TANH(SOFTPLUS(s)) * TANH(SOFTPLUS(s))) * SIGMOID(s)))

/* exact: x Phi(x); d/dx = Phi(x) + x phi(x) */
DEF_ACT_PRE(ln_act_gelu_forward_f32, ln_act_gelu_forward_f64,
        ln_act_gelu_backward_f32, ln_act_gelu_backward_f64,
            const T ph = PHI(x), x * ph,
            const T ph = PHI(s); const T e = EXP(K(-0.5) * s * s),
            g * (ph + s * K(INV_SQRT_2PI) * e))

/* tanh approximation: u = sqrt(2/pi)(x + 0.044715 x^3), y = x (1 + tanh u) / 2 */
DEF_ACT(ln_act_gelu_tanh_forward_f32, ln_act_gelu_tanh_forward_f64,
        ln_act_gelu_tanh_backward_f32, ln_act_gelu_tanh_backward_f64,
        K(0.5) * x * (K(1) + TANH(K(SQRT_2_OVER_PI) * (x + K(GELU_C) * x * x * x))),
        g * (K(0.5) * (K(1) + TANH(K(SQRT_2_OVER_PI) * (s + K(GELU_C) * s * s * s)))
             + K(0.5) * s
                   * (K(1) - TANH(K(SQRT_2_OVER_PI) * (s + K(GELU_C) * s * s * s))
                                * TANH(K(SQRT_2_OVER_PI) * (s + K(GELU_C) * s * s * s)))
                   * K(SQRT_2_OVER_PI) * (K(1) + K(3 * GELU_C) * s * s)))

/* backward from y */
DEF_ACT(ln_act_exponential_forward_f32, ln_act_exponential_forward_f64,
        ln_act_exponential_backward_f32, ln_act_exponential_backward_f64, EXP(x), g * s)

DEF_ACT(ln_act_thresholded_relu_forward_f32, ln_act_thresholded_relu_forward_f64,
        ln_act_thresholded_relu_backward_f32, ln_act_thresholded_relu_backward_f64,
        x > pa ? x : (x == x ? K(0) : x),
        s > pa ? g : (s == s ? K(0) : s))
/* clang-format on */

/* gelu's `approximate` parameter selects the tanh form */
static void ln_act_gelu_any_forward_f32(int64_t n, const float *x, float *y, const ln_act_params *p)
{
    (p->a != 0 ? ln_act_gelu_tanh_forward_f32 : ln_act_gelu_forward_f32)(n, x, y, p);
}
static void ln_act_gelu_any_forward_f64(int64_t n, const double *x, double *y, const ln_act_params *p)
{
    (p->a != 0 ? ln_act_gelu_tanh_forward_f64 : ln_act_gelu_forward_f64)(n, x, y, p);
}
/* gelu's float32 derivative with Phi and phi from one exponential (the
 * generated ln_act_gelu_backward_f32 computes two) */
LN_SIMD_CLONES static void ln_act_gelu_backward1_f32(int64_t n, const float *restrict s,
                                                     const float *restrict g, float *restrict dx,
                                                     const ln_act_params *p)
{
    (void)p;
    for (int64_t i = 0; i < n; i++) {
        float ph, pdf;
        ln_phi_pdf_f(s[i], &ph, &pdf);
        dx[i] = g[i] * (ph + s[i] * pdf);
    }
}
static void ln_act_gelu_any_backward_f32(int64_t n, const float *s, const float *g, float *dx,
                           const ln_act_params *p)
{
    (p->a != 0 ? ln_act_gelu_tanh_backward_f32 : ln_act_gelu_backward1_f32)(n, s, g, dx, p);
}
static void ln_act_gelu_any_backward_f64(int64_t n, const double *s, const double *g, double *dx,
                           const ln_act_params *p)
{
    (p->a != 0 ? ln_act_gelu_tanh_backward_f64 : ln_act_gelu_backward_f64)(n, s, g, dx, p);
}

/* ---- the table ------------------------------------------------------------
 * One row per activation: its name, whether its backward reads y, its public
 * parameters (names and defaults; the defaults of the slots after them are
 * fixed values, as relu6's max_value), and its kernels.  Everything on the
 * Lua side derives from this table: the functions lunet.activations.<name>,
 * what Dense fuses, the layer-string lookup, parameter names and defaults,
 * and the specs (spec/activation_table_spec.lua).  Adding an activation is
 * three edits: its kernel pair above, its row here, and its test vector in
 * spec/activation_vectors.lua. */

#define ROW(NAME, KERN, SAVES_Y, NP, N1, D1, N2, D2, N3, D3)                                       \
    {NAME, SAVES_Y, NP, {N1, N2, N3}, {D1, D2, D3},                                                \
     ln_act_##KERN##_forward_f32, ln_act_##KERN##_forward_f64,                                     \
     ln_act_##KERN##_backward_f32, ln_act_##KERN##_backward_f64}
/* no parameter; one (name, default); or the kernel's slots fixed to values */
#define ROW0(NAME, KERN, SAVES_Y) ROW(NAME, KERN, SAVES_Y, 0, NULL, 0, NULL, 0, NULL, 0)
#define ROW1(NAME, KERN, N1, D1) ROW(NAME, KERN, 0, 1, N1, D1, NULL, 0, NULL, 0)
#define FIXED(NAME, KERN, D1, D2, D3) ROW(NAME, KERN, 0, 0, NULL, D1, NULL, D2, NULL, D3)

/* SAVES_Y: the backward reads the output y instead of the input x */
static const ln_act_def table[] = {
    ROW0("linear", linear, 0),
    ROW("relu", relu, 0, 3, "negative_slope", 0, "max_value", INFINITY, "threshold", 0),
    ROW1("leaky_relu", leaky_relu, "alpha", 0.3), ROW1("elu", elu, "alpha", 1),
    ROW0("selu", selu, 0), ROW1("celu", celu, "alpha", 1),
    ROW0("sigmoid", sigmoid, 1), ROW0("hard_sigmoid", hard_sigmoid, 0),
    ROW0("hard_silu", hard_silu, 0), ROW0("silu", silu, 0),
    ROW0("tanh", tanh, 1), ROW0("softplus", softplus, 0),
    ROW0("softsign", softsign, 0), ROW0("mish", mish, 0),
    ROW1("gelu", gelu_any, "approximate", 0), ROW0("exponential", exponential, 1),
    ROW1("thresholded_relu", thresholded_relu, "theta", 1),
    /* aliases and fixed-parameter variants: another row's kernels */
    FIXED("relu6", relu, 0, 6, 0), ROW0("swish", silu, 0), ROW0("hard_swish", hard_silu, 0),
};

const ln_act_def *ln_act_table(int *n)
{
    *n = (int)(sizeof table / sizeof table[0]);
    return table;
}

const ln_act_def *ln_act_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

/* ---- the elementwise driver ---------------------------------------------- */

#define CHUNK_BYTES LN_STREAM_CHUNK_BYTES

typedef struct act_ctx {
    const ln_act_def *d;
    const ln_act_params *p;
    ln_dtype dt;
    int backward;
} act_ctx;

static void gather(char *dst, const char *src, int64_t step, int64_t m, size_t es)
{
    for (int64_t j = 0; j < m; j++) memcpy(dst + (size_t)j * es, src + j * step, es);
}

static void scatter(char *dst, int64_t step, const char *src, int64_t m, size_t es)
{
    for (int64_t j = 0; j < m; j++) memcpy(dst + j * step, src + (size_t)j * es, es);
}

/* ops: [0] output, [1] x or s, [2] g (backward); elements [lo, hi) of a run
 * of n with byte steps s.  `stream`: the whole output is written with
 * streaming stores (chunks stay 32-byte aligned: bounds are multiples of
 * the chunk). */
typedef struct act_run {
    const act_ctx *c;
    char **p;
    const int64_t *s;
    int stream;
} act_run;

static void act_range(int64_t lo, int64_t hi, void *vrun)
{
    const act_run *run = vrun;
    const act_ctx *c = run->c;
    char **p = run->p;
    const int64_t *s = run->s;
    const size_t es = ln_dtype_size(c->dt);
    const int64_t ch = (int64_t)(CHUNK_BYTES / es);
    const int nin = c->backward ? 2 : 1;
    _Alignas(64) char in[2][CHUNK_BYTES];
    _Alignas(64) char out[CHUNK_BYTES];

    for (int64_t i = lo; i < hi; i += ch) {
        int64_t m = hi - i < ch ? hi - i : ch;
        const char *src[2];
        for (int k = 0; k < nin; k++) {
            const char *base = p[1 + k] + i * s[1 + k];
            if (s[1 + k] == (int64_t)es) {
                src[k] = base;
            } else {
                gather(in[k], base, s[1 + k], m, es);
                src[k] = in[k];
            }
        }
        if (!c->backward) {
            LN_BY_DTYPE(c->dt, c->d->fwd32(m, (const float *)src[0], (float *)out, c->p),
                c->d->fwd64(m, (const double *)src[0], (double *)out, c->p));
        } else {
            LN_BY_DTYPE(c->dt, c->d->bwd32(m, (const float *)src[0], (const float *)src[1], (float *)out, c->p),
                c->d->bwd64(m, (const double *)src[0], (const double *)src[1], (double *)out, c->p));
        }
        char *dst = p[0] + i * s[0];
        if (s[0] != (int64_t)es)
            scatter(dst, s[0], out, m, es);
        else if (run->stream && m == ch)
            ln_stream_store(dst, out, CHUNK_BYTES);
        else
            memcpy(dst, out, (size_t)m * es);
    }
    if (run->stream) ln_stream_fence();
}

static void act_loop(int64_t n, char **p, const int64_t *s, void *vctx)
{
    const act_ctx *c = vctx;
    const int64_t es = (int64_t)ln_dtype_size(c->dt);
    act_run run = {c, p, s, s[0] == es && ln_can_stream(p[0], n * es)};
    ln_parallel_for(n, CHUNK_BYTES / es, LN_PARALLEL_MIN, act_range, &run);
}

void ln_act_forward(const ln_act_def *d, const ln_tensor *x, const ln_tensor *y,
                    const ln_act_params *p)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    act_ctx c = {d, p, x->dtype, 0};
    const ln_tensor *ops[2] = {y, x};
    ln_foreach(2, ops, act_loop, &c);
}

void ln_act_backward(const ln_act_def *d, const ln_tensor *s, const ln_tensor *g,
                     const ln_tensor *dx, const ln_act_params *p)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    act_ctx c = {d, p, s->dtype, 1};
    const ln_tensor *ops[3] = {dx, s, g};
    ln_foreach(3, ops, act_loop, &c);
}

/* ---- prelu and pelu: parameters repeat with (i / inner) % period --------- */

/* Run BODY for every element: i is the flat index, j the parameter index.
 * The innermost loop runs over contiguous runs of equal j (inner > 1) or of
 * consecutive j (inner == 1), so it vectorises in the common layouts. */
#define PARAM_LOOP(l, ...)                                                                        \
    do {                                                                                           \
        const int64_t n_ = (l)->n, per_ = (l)->period, in_ = (l)->inner;                          \
        if (in_ == 1) {                                                                            \
            for (int64_t r_ = 0; r_ < n_; r_ += per_)                                              \
                for (int64_t j = 0; j < per_; j++) {                                               \
                    const int64_t i = r_ + j;                                                      \
                    __VA_ARGS__;                                                                   \
                }                                                                                  \
        } else {                                                                                   \
            for (int64_t r_ = 0; r_ < n_; r_ += per_ * in_)                                        \
                for (int64_t j = 0; j < per_; j++)                                                 \
                    for (int64_t k_ = 0; k_ < in_; k_++) {                                         \
                        const int64_t i = r_ + j * in_ + k_;                                       \
                        __VA_ARGS__;                                                               \
                    }                                                                              \
        }                                                                                          \
    } while (0)

#define DEF_PRELU(FWD_NAME, BWD_NAME, TT)                                                           \
    static void FWD_NAME(const ln_param_layout *l, const TT *restrict x,                    \
                                const TT *restrict al, TT *restrict y)                             \
    {                                                                                              \
        PARAM_LOOP(l, y[i] = x[i] > 0 ? x[i] : al[j] * x[i]);                                      \
    }                                                                                              \
    static void BWD_NAME(const ln_param_layout *l, const TT *restrict x,                    \
                                const TT *restrict al, const TT *restrict g, TT *restrict dx,      \
                                double *restrict dal)                                              \
    {                                                                                              \
        PARAM_LOOP(l, {                                                                            \
            TT v = x[i];                                                                           \
            dx[i] = v > 0 ? g[i] : (v <= 0 ? al[j] * g[i] : v);                                    \
            dal[j] += v > 0 ? 0.0 : (double)g[i] * (double)v;                                      \
        });                                                                                        \
    }
DEF_PRELU(ln_act_prelu_forward_f32, ln_act_prelu_backward_f32, float)
DEF_PRELU(ln_act_prelu_forward_f64, ln_act_prelu_backward_f64, double)

void ln_act_prelu_forward(ln_dtype dt, const ln_param_layout *l, const void *x,
                          const void *alpha, void *y)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, ln_act_prelu_forward_f32(l, x, alpha, y),
        ln_act_prelu_forward_f64(l, x, alpha, y));
}

void ln_act_prelu_backward(ln_dtype dt, const ln_param_layout *l, const void *x,
                           const void *alpha, const void *g, void *dx, double *dalpha)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, ln_act_prelu_backward_f32(l, x, alpha, g, dx, dalpha),
        ln_act_prelu_backward_f64(l, x, alpha, g, dx, dalpha));
}

/* pelu: x >= 0: (a/b) x, d/dx a/b, d/da x/b, d/db -a x/b^2;
 *       x <  0: a (e - 1) with e = exp(x/b), d/dx (a/b) e, d/da e - 1,
 *               d/db -a x e / b^2 */
#define DEF_PELU(FWD_NAME, BWD_NAME, TT)                                                            \
    static void FWD_NAME(const ln_param_layout *l, const TT *restrict x,                     \
                               const TT *restrict a, const TT *restrict b, TT *restrict y)         \
    {                                                                                              \
        PARAM_LOOP(l, {                                                                            \
            TT v = x[i];                                                                           \
            y[i] = v >= 0 ? (a[j] / b[j]) * v : a[j] * EXPM1(v / b[j]);                            \
        });                                                                                        \
    }                                                                                              \
    static void BWD_NAME(const ln_param_layout *l, const TT *restrict x,                     \
                               const TT *restrict a, const TT *restrict b, const TT *restrict g,   \
                               TT *restrict dx, double *restrict da, double *restrict db)          \
    {                                                                                              \
        PARAM_LOOP(l, {                                                                            \
            TT v = x[i], aj = a[j], bj = b[j], gi = g[i];                                          \
            TT e = EXP(v / bj);                                                                    \
            TT em1 = EXPM1(v / bj);                                                                \
            int pos = v >= 0;                                                                      \
            dx[i] = pos ? gi * (aj / bj) : gi * (aj / bj) * e;                                     \
            da[j] += (double)(gi * (pos ? v / bj : em1));                                          \
            db[j] += (double)(-gi * aj * v / (bj * bj) * (pos ? (TT)1 : e));                       \
        });                                                                                        \
    }
DEF_PELU(ln_act_pelu_forward_f32, ln_act_pelu_backward_f32, float)
DEF_PELU(ln_act_pelu_forward_f64, ln_act_pelu_backward_f64, double)

void ln_act_pelu_forward(ln_dtype dt, const ln_param_layout *l, const void *x, const void *a,
                         const void *b, void *y)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, ln_act_pelu_forward_f32(l, x, a, b, y),
        ln_act_pelu_forward_f64(l, x, a, b, y));
}

void ln_act_pelu_backward(ln_dtype dt, const ln_param_layout *l, const void *x, const void *a,
                          const void *b, const void *g, void *dx, double *da, double *db)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    LN_BY_DTYPE(dt, ln_act_pelu_backward_f32(l, x, a, b, g, dx, da, db),
        ln_act_pelu_backward_f64(l, x, a, b, g, dx, da, db));
}

/* ---- softmax and log_softmax along an axis -------------------------------- */

typedef struct softmax_ctx {
    int64_t len;      /* length of the axis */
    int64_t step[3];  /* byte step along the axis per operand (x, y, dy) */
    int is_log;
    int backward;
    ln_dtype dt;
} softmax_ctx;

#define DEF_SOFTMAX(FWD_NAME, BWD_NAME, TT)                                                         \
    /* one row: x and y with byte steps sx, sy */                                                  \
    static void FWD_NAME(int64_t len, const char *x, int64_t sx, char *y, int64_t sy,     \
                                  int is_log)                                                         \
    {                                                                                              \
        typedef TT T;                                                                              \
        T m = -(T)INFINITY;                                                                        \
        int nan = 0;                                                                               \
        for (int64_t k = 0; k < len; k++) {                                                        \
            T v = *(const T *)(x + k * sx);                                                        \
            nan |= v != v;                                                                         \
            m = v > m ? v : m;                                                                     \
        }                                                                                          \
        if (nan) m = (T)NAN;                                                                       \
        double sum = 0;                                                                            \
        for (int64_t k = 0; k < len; k++) {                                                        \
            T e = EXP(*(const T *)(x + k * sx) - m);                                               \
            sum += (double)e;                                                                      \
            if (!is_log) *(T *)(y + k * sy) = e;                                                      \
        }                                                                                          \
        if (is_log) {                                                                                 \
            T ls = (T)log(sum);                                                                    \
            for (int64_t k = 0; k < len; k++)                                                      \
                *(T *)(y + k * sy) = *(const T *)(x + k * sx) - m - ls;                            \
        } else {                                                                                   \
            T inv = (T)(1.0 / sum);                                                                \
            for (int64_t k = 0; k < len; k++) *(T *)(y + k * sy) *= inv;                           \
        }                                                                                          \
    }                                                                                              \
    /* softmax: dx = y (g - sum(g y)); log_softmax: dx = g - exp(y) sum(g) */                      \
    static void BWD_NAME(int64_t len, const char *y, int64_t sy, const char *g,       \
                                      int64_t sg, char *dx, int64_t sd, int is_log)                   \
    {                                                                                              \
        typedef TT T;                                                                              \
        double acc = 0;                                                                            \
        for (int64_t k = 0; k < len; k++) {                                                        \
            T gk = *(const T *)(g + k * sg);                                                       \
            acc += is_log ? (double)gk : (double)gk * (double)*(const T *)(y + k * sy);               \
        }                                                                                          \
        T a = (T)acc;                                                                              \
        for (int64_t k = 0; k < len; k++) {                                                        \
            T yk = *(const T *)(y + k * sy), gk = *(const T *)(g + k * sg);                        \
            *(T *)(dx + k * sd) = is_log ? gk - EXP(yk) * a : yk * (gk - a);                          \
        }                                                                                          \
    }
DEF_SOFTMAX(ln_act_softmax_forward_f32, ln_act_softmax_backward_f32, float)
DEF_SOFTMAX(ln_act_softmax_forward_f64, ln_act_softmax_backward_f64, double)

/* ops are views with the axis cut to length 1; each element starts a row */
static void softmax_loop(int64_t n, char **p, const int64_t *s, void *vctx)
{
    const softmax_ctx *c = vctx;
    for (int64_t i = 0; i < n; i++) {
        const char *x = p[1] + i * s[1];
        char *y = p[0] + i * s[0];
        if (!c->backward) {
            LN_BY_DTYPE(c->dt,
                        ln_act_softmax_forward_f32(c->len, x, c->step[1], y, c->step[0], c->is_log),
                        ln_act_softmax_forward_f64(c->len, x, c->step[1], y, c->step[0], c->is_log));
        } else {
            const char *g = p[2] + i * s[2];
            LN_BY_DTYPE(c->dt,
                        ln_act_softmax_backward_f32(c->len, x, c->step[1], g, c->step[2], y,
                                                    c->step[0], c->is_log),
                        ln_act_softmax_backward_f64(c->len, x, c->step[1], g, c->step[2], y,
                                                    c->step[0], c->is_log));
        }
    }
}

static void softmax_run(int nops, const ln_tensor *const *ops, int axis, int is_log,
                        int backward)
{
    softmax_ctx c;
    ln_tensor cut[3];
    const ln_tensor *cops[3];
    c.len = ops[0]->shape[axis];
    c.is_log = is_log;
    c.backward = backward;
    c.dt = ops[0]->dtype;
    for (int k = 0; k < nops; k++) {
        cut[k] = *ops[k];
        cut[k].shape[axis] = 1;
        c.step[k] = ops[k]->stride[axis] * (int64_t)ln_dtype_size(c.dt);
        cops[k] = &cut[k];
    }
    if (c.len == 0) return;
    ln_foreach(nops, cops, softmax_loop, &c);
}

void ln_act_softmax_forward(const ln_tensor *x, const ln_tensor *y, int axis, int is_log)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    const ln_tensor *ops[2] = {y, x};
    softmax_run(2, ops, axis, is_log, 0);
}

void ln_act_softmax_backward(const ln_tensor *y, const ln_tensor *g, const ln_tensor *dx,
                             int axis, int is_log)
{
    LN_PROF_SCOPE(LN_PROF_ELEMENTWISE);
    const ln_tensor *ops[3] = {dx, y, g};
    softmax_run(3, ops, axis, is_log, 1);
}
