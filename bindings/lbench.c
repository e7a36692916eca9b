/*
 * lbench.c - raw reference timings for scripts/bench: a direct cblas_sgemm
 * and memcpy on a tensor's own buffers, so ratios compare like with like.
 * Exposed as lunet.core.bench (not part of the public API).
 */
#include <cblas.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "lt.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static lt_Tensor *contiguous_f32(lua_State *L, int idx, const char *fname)
{
    lt_Tensor *t = lt_check(L, idx, fname);
    if (t->v.dtype != LN_F32 || !ln_is_contiguous(&t->v))
        lt_error(L, fname, "argument %d must be a contiguous float32 tensor", idx);
    return t;
}

/* sgemm(a, b, c, reps) -> seconds per call of c = a @ b, all row-major */
static int l_sgemm(lua_State *L)
{
    lt_Tensor *a = contiguous_f32(L, 1, "bench.sgemm"), *b = contiguous_f32(L, 2, "bench.sgemm");
    lt_Tensor *c = contiguous_f32(L, 3, "bench.sgemm");
    int64_t reps = lt_check_int(L, 4, "bench.sgemm", "reps");
    if (a->v.ndim != 2 || b->v.ndim != 2 || c->v.ndim != 2 || a->v.shape[1] != b->v.shape[0] ||
        c->v.shape[0] != a->v.shape[0] || c->v.shape[1] != b->v.shape[1] || reps < 1)
        lt_error(L, "bench.sgemm", "shapes do not multiply");
    for (int i = 0; i < 2; i++)
        if (a->v.shape[i] > INT_MAX || b->v.shape[i] > INT_MAX)
            lt_error(L, "bench.sgemm", "dims above %d are not supported", INT_MAX);
    int m = (int)a->v.shape[0], k = (int)a->v.shape[1], n = (int)b->v.shape[1];
    double t0 = now();
    for (int64_t r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
                    (const float *)a->v.data, k, (const float *)b->v.data, n, 0.0f,
                    (float *)c->v.data, n);
    lua_pushnumber(L, (now() - t0) / (double)reps);
    return 1;
}

/* memcpy(dst, src, reps) -> seconds per copy of src's bytes into dst */
static int l_memcpy(lua_State *L)
{
    lt_Tensor *d = contiguous_f32(L, 1, "bench.memcpy"), *s = contiguous_f32(L, 2, "bench.memcpy");
    int64_t reps = lt_check_int(L, 3, "bench.memcpy", "reps");
    if (ln_numel(&d->v) != ln_numel(&s->v) || reps < 1)
        lt_error(L, "bench.memcpy", "sizes differ");
    size_t n = (size_t)ln_numel(&s->v) * 4;
    double t0 = now();
    for (int64_t r = 0; r < reps; r++) {
        memcpy(d->v.data, s->v.data, n);
        __asm__ volatile("" ::: "memory"); /* keep every copy */
    }
    lua_pushnumber(L, (now() - t0) / (double)reps);
    return 1;
}

static const luaL_Reg functions[] = {{"sgemm", l_sgemm}, {"memcpy", l_memcpy}, {NULL, NULL}};

void lt_open_bench(lua_State *L)
{
    /* stack: core, methods */
    lua_newtable(L);
    lt_register(L, functions);
    lua_setfield(L, -3, "bench");
}
