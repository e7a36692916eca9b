/*
 * ldist.c - lunet.mpi: OpenMPI's collectives on lunet tensors, for
 * lunet.distributed (bindings/lunet/distributed.lua, Horovod's API).
 *
 * Built as its own module (build/lib/lunet/mpi.so, linked with -lmpi) when
 * mpicc is there, so `require("lunet")` never needs MPI.  Every collective
 * checks its arguments before it communicates, and, with the checks on (the
 * default), first compares each rank's dtype and shape in one small
 * allgather, so a mismatch raises the same error on every rank instead of
 * corrupting memory or hanging.  On an error the `lunet` launcher calls the
 * hook this module leaves in the registry (LT_ABORT_HOOK), which prints the
 * message with the rank and calls MPI_Abort before anything can reach
 * MPI_Finalize; a normal exit finalizes when the state closes.
 */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "../runtime/elementwise.h"
#include "lt.h"

static int inited, finalized, checks = 1;
static int world_rank, world_size, node_rank, node_size;

static void need_init(lua_State *L, const char *fname)
{
    if (!inited) lt_error(L, fname, "call lunet.distributed.init() first");
    if (finalized) lt_error(L, fname, "MPI was finalized");
}

/* raise the MPI error rc as a Lua error naming the function */
static void check_rc(lua_State *L, int rc, const char *fname)
{
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    lt_error(L, fname, "MPI failed: %s", msg);
}

/* the launcher's error path: the message with this rank, then the whole job ends */
static int l_abort_hook(lua_State *L)
{
    if (!inited || finalized) return 0;
    fflush(stdout);
    fprintf(stderr, "lunet: rank %d of %d: %s\n", world_rank, world_size, luaL_optstring(L, 1, "error"));
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 0;
}

static int l_init(lua_State *L)
{
    if (finalized) lt_error(L, LT_FN, "MPI was finalized; it cannot start again");
    if (!inited) {
        int flag = 0, provided;
        MPI_Initialized(&flag);
        if (!flag && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            lt_error(L, LT_FN, "MPI_Init failed");
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &world_size);
        MPI_Comm node;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node);
        MPI_Comm_rank(node, &node_rank);
        MPI_Comm_size(node, &node_size);
        MPI_Comm_free(&node);
        inited = 1;
        lua_pushcfunction(L, l_abort_hook);
        lua_setfield(L, LUA_REGISTRYINDEX, LT_ABORT_HOOK);
    }
    return 0;
}

static int l_initialized(lua_State *L)
{
    lua_pushboolean(L, inited && !finalized);
    return 1;
}

/* one of the numbers init found, once init ran */
static int push_known(lua_State *L, int v, const char *fname)
{
    need_init(L, fname);
    lua_pushinteger(L, v);
    return 1;
}

static int l_rank(lua_State *L) { return push_known(L, world_rank, LT_FN); }
static int l_size(lua_State *L) { return push_known(L, world_size, LT_FN); }
static int l_local_rank(lua_State *L) { return push_known(L, node_rank, LT_FN); }
static int l_local_size(lua_State *L) { return push_known(L, node_size, LT_FN); }

static int l_barrier(lua_State *L)
{
    need_init(L, LT_FN);
    check_rc(L, MPI_Barrier(MPI_COMM_WORLD), LT_FN);
    return 0;
}

static int l_set_checks(lua_State *L)
{
    if (!lua_isboolean(L, 1)) lt_error(L, LT_FN, "expected true or false, got %s", luaL_typename(L, 1));
    lua_pushboolean(L, checks);
    checks = lua_toboolean(L, 1);
    return 1;
}

/* ---- the shape handshake ------------------------------------------------------ */

#define SIG_LEN (3 + LN_MAX_DIMS)

/* every rank's dtype, ndim and shape (dims from `from` on: allgather lets
 * the first differ), compared with rank 0's; a mismatch raises on all */
static void handshake(lua_State *L, const ln_tensor *t, int from, int root, const char *fname)
{
    if (!checks || world_size == 1) return;
    int64_t sig[SIG_LEN] = {(int64_t)t->dtype, t->ndim, root};
    for (int i = from; i < t->ndim; i++) sig[3 + i] = t->shape[i];
    int64_t all[SIG_LEN * 64], *buf = world_size <= 64 ? all : lua_newuserdatauv(L, sizeof(int64_t) * SIG_LEN * (size_t)world_size, 0);
    check_rc(L, MPI_Allgather(sig, SIG_LEN, MPI_INT64_T, buf, SIG_LEN, MPI_INT64_T, MPI_COMM_WORLD), fname);
    for (int r = 1; r < world_size; r++) {
        const int64_t *o = buf + (size_t)r * SIG_LEN;
        if (memcmp(o, buf, sizeof sig) == 0) continue;
        char s0[LT_SHAPE_BUF], s1[LT_SHAPE_BUF];
        int n0 = (int)buf[1], n1 = (int)o[1];
        if (n0 < 0 || n0 > LN_MAX_DIMS || n1 < 0 || n1 > LN_MAX_DIMS || buf[0] < 0 || buf[0] >= LN_NDTYPES ||
            o[0] < 0 || o[0] >= LN_NDTYPES)
            lt_error(L, fname, "the ranks disagree on the tensor");
        int64_t d0[LN_MAX_DIMS], d1[LN_MAX_DIMS];
        for (int i = 0; i < n0; i++) d0[i] = i < from ? -1 : buf[3 + i];
        for (int i = 0; i < n1; i++) d1[i] = i < from ? -1 : o[3 + i];
        if (buf[2] != o[2])
            lt_error(L, fname, "the ranks name different roots: %lld on rank 0, %lld on rank %d",
                     (long long)buf[2], (long long)o[2], r);
        lt_error(L, fname, "the ranks disagree: rank 0 has %s %s, rank %d has %s %s%s",
                 ln_dtype_name((ln_dtype)buf[0]), lt_shape_str(s0, sizeof s0, n0, d0), r,
                 ln_dtype_name((ln_dtype)o[0]), lt_shape_str(s1, sizeof s1, n1, d1),
                 from ? " (-1: the size that may differ)" : "");
    }
}

static MPI_Datatype mpi_type(ln_dtype dt) { return dt == LN_F32 ? MPI_FLOAT : MPI_DOUBLE; }

/* the float tensor at 1 as one contiguous buffer: itself, or a copy (pushed) */
static lt_Tensor *float_operand(lua_State *L, int *copied, const char *fname)
{
    lt_Tensor *t = lt_check_float(L, 1, fname);
    if (t->closed) lt_error(L, fname, "the tensor is closed");
    *copied = !ln_is_contiguous(&t->v);
    return *copied ? lt_copy_of(L, 1, t->v.dtype, fname) : t;
}

/* allreduce(t, op) in place: op "sum", "mean", "max" or "min" */
static int l_allreduce(lua_State *L)
{
    need_init(L, LT_FN);
    static const char *const ops[] = {"sum", "mean", "max", "min", NULL};
    lt_Tensor *t = lt_check_float(L, 1, LT_FN);
    int op = luaL_checkoption(L, 2, "mean", ops);
    lua_settop(L, 1);
    int copied;
    lt_Tensor *c = float_operand(L, &copied, LT_FN);
    handshake(L, &t->v, 0, 0, LT_FN);
    int64_t n = ln_numel(&t->v);
    if (n > INT32_MAX) lt_error(L, LT_FN, "a tensor of %lld elements is too large (at most %d)", (long long)n, INT32_MAX);
    MPI_Op mop = op == 2 ? MPI_MAX : op == 3 ? MPI_MIN : MPI_SUM;
    check_rc(L, MPI_Allreduce(MPI_IN_PLACE, c->v.data, (int)n, mpi_type(t->v.dtype), mop, MPI_COMM_WORLD), LT_FN);
    if (op == 1 && world_size > 1) {
        double inv = 1.0 / world_size;
        if (t->v.dtype == LN_F32)
            for (int64_t i = 0; i < n; i++) ((float *)c->v.data)[i] = (float)((double)((float *)c->v.data)[i] * inv);
        else
            for (int64_t i = 0; i < n; i++) ((double *)c->v.data)[i] *= inv;
    }
    if (copied) ln_copy(&t->v, &c->v);
    lua_settop(L, 1);
    return 1;
}

/* allreduce_fused(list, flat, op): Horovod's tensor fusion in one call: the
 * contiguous tensors of list (one float dtype) are copied into flat (of
 * their total size), reduced in one MPI_Allreduce, and copied back, the
 * mean's division folded into that copy */
static int l_allreduce_fused(lua_State *L)
{
    need_init(L, LT_FN);
    static const char *const ops[] = {"sum", "mean", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    lt_Tensor *flat = lt_check_float(L, 2, LT_FN);
    int op = luaL_checkoption(L, 3, "mean", ops);
    if (!ln_is_contiguous(&flat->v) || flat->closed) lt_error(L, LT_FN, "flat must be an open contiguous tensor");
    const ln_dtype dt = flat->v.dtype;
    const size_t es = ln_dtype_size(dt);
    int64_t total = 0, n = (int64_t)lua_rawlen(L, 1);
    for (int64_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        lt_Tensor *t = lt_check(L, -1, LT_FN);
        if (t->v.dtype != dt || !ln_is_contiguous(&t->v) || t->closed || lt_same_storage(t, flat))
            lt_error(L, LT_FN, "tensor %lld of the list is not an open contiguous %s tensor apart from flat",
                     (long long)i, ln_dtype_name(dt));
        total += ln_numel(&t->v);
        lua_pop(L, 1);
    }
    if (total != ln_numel(&flat->v))
        lt_error(L, LT_FN, "flat holds %lld elements, the list %lld", (long long)ln_numel(&flat->v), (long long)total);
    if (total > INT32_MAX) lt_error(L, LT_FN, "a bucket of %lld elements is too large (at most %d)", (long long)total, INT32_MAX);
    handshake(L, &flat->v, 0, 0, LT_FN);
    char *f = flat->v.data;
    int64_t off = 0;
    for (int64_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        lt_Tensor *t = lt_test(L, -1);
        int64_t k = ln_numel(&t->v);
        memcpy(f + (size_t)off * es, t->v.data, (size_t)k * es);
        off += k;
        lua_pop(L, 1);
    }
    check_rc(L, MPI_Allreduce(MPI_IN_PLACE, f, (int)total, mpi_type(dt), MPI_SUM, MPI_COMM_WORLD), LT_FN);
    const int scale = op == 1 && world_size > 1;
    const double inv = 1.0 / world_size;
    off = 0;
    for (int64_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        lt_Tensor *t = lt_test(L, -1);
        int64_t k = ln_numel(&t->v);
        if (!scale) {
            memcpy(t->v.data, f + (size_t)off * es, (size_t)k * es);
        } else if (dt == LN_F32) {
            const float *src = (const float *)f + off;
            float *dst = t->v.data;
            for (int64_t j = 0; j < k; j++) dst[j] = (float)((double)src[j] * inv);
        } else {
            const double *src = (const double *)f + off;
            double *dst = t->v.data;
            for (int64_t j = 0; j < k; j++) dst[j] = src[j] * inv;
        }
        off += k;
        lua_pop(L, 1);
    }
    return 0;
}

/* ---- non-blocking allreduce: a request, then wait ------------------------------- */

#define REQUEST "lunet.mpi.Request"

typedef struct request {
    MPI_Request req;
    int active, mean;
    lt_Tensor *t; /* kept alive by the request's user value */
} request;

/* iallreduce(t, op) --> a request: MPI_Iallreduce on t (contiguous float,
 * in place) starts; wait(request) completes it (and divides for "mean") */
static int l_iallreduce(lua_State *L)
{
    need_init(L, LT_FN);
    static const char *const ops[] = {"sum", "mean", NULL};
    lt_Tensor *t = lt_check_float(L, 1, LT_FN);
    int op = luaL_checkoption(L, 2, "mean", ops);
    if (t->closed || !ln_is_contiguous(&t->v)) lt_error(L, LT_FN, "expected an open contiguous tensor");
    handshake(L, &t->v, 0, 0, LT_FN);
    int64_t n = ln_numel(&t->v);
    if (n > INT32_MAX) lt_error(L, LT_FN, "a tensor of %lld elements is too large (at most %d)", (long long)n, INT32_MAX);
    request *r = lua_newuserdatauv(L, sizeof *r, 1);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, REQUEST);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    r->t = t;
    r->mean = op == 1;
    check_rc(L, MPI_Iallreduce(MPI_IN_PLACE, t->v.data, (int)n, mpi_type(t->v.dtype), MPI_SUM, MPI_COMM_WORLD, &r->req),
             LT_FN);
    r->active = 1;
    return 1;
}

static void finish(request *r)
{
    r->active = 0;
    if (!r->mean || world_size == 1) return;
    int64_t n = ln_numel(&r->t->v);
    double inv = 1.0 / world_size;
    if (r->t->v.dtype == LN_F32)
        for (int64_t i = 0; i < n; i++) ((float *)r->t->v.data)[i] = (float)((double)((float *)r->t->v.data)[i] * inv);
    else
        for (int64_t i = 0; i < n; i++) ((double *)r->t->v.data)[i] *= inv;
}

/* wait(request) --> its tensor, reduced */
static int l_wait(lua_State *L)
{
    request *r = luaL_checkudata(L, 1, REQUEST);
    if (r->active) {
        need_init(L, LT_FN);
        r->active = 0;
        check_rc(L, MPI_Wait(&r->req, MPI_STATUS_IGNORE), LT_FN);
        r->active = 1;
        finish(r);
    }
    lua_getiuservalue(L, 1, 1);
    return 1;
}

/* a request dropped unfinished still completes: MPI keeps writing its buffer */
static int request_gc(lua_State *L)
{
    request *r = luaL_checkudata(L, 1, REQUEST);
    if (r->active && inited && !finalized) MPI_Wait(&r->req, MPI_STATUS_IGNORE);
    r->active = 0;
    return 0;
}

/* broadcast(t, root) in place */
static int l_broadcast(lua_State *L)
{
    need_init(L, LT_FN);
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    int64_t root = lt_check_int(L, 2, LT_FN, "root");
    if (root < 0 || root >= world_size)
        lt_error(L, LT_FN, "root %lld is not a rank (0 to %d)", (long long)root, world_size - 1);
    lua_settop(L, 1);
    if (t->closed) lt_error(L, LT_FN, "the tensor is closed");
    int copied = !ln_is_contiguous(&t->v);
    lt_Tensor *c = copied ? lt_copy_of(L, 1, t->v.dtype, LT_FN) : t;
    handshake(L, &t->v, 0, (int)root, LT_FN);
    int64_t bytes = ln_numel(&t->v) * (int64_t)ln_dtype_size(t->v.dtype);
    if (bytes > INT32_MAX) lt_error(L, LT_FN, "a tensor of %lld bytes is too large", (long long)bytes);
    check_rc(L, MPI_Bcast(c->v.data, (int)bytes, MPI_BYTE, (int)root, MPI_COMM_WORLD), LT_FN);
    if (copied) ln_copy(&t->v, &c->v);
    lua_settop(L, 1);
    return 1;
}

/* allgather(t) --> a new tensor: the ranks' t concatenated along dim 1 in
 * rank order (their first dims may differ, the others must agree) */
static int l_allgather(lua_State *L)
{
    need_init(L, LT_FN);
    lt_Tensor *t = lt_check(L, 1, LT_FN);
    if (t->v.ndim < 1) lt_error(L, LT_FN, "expected a tensor with at least one dim, got a 0-d one");
    lua_settop(L, 1);
    int copied = !ln_is_contiguous(&t->v);
    lt_Tensor *c = copied ? lt_copy_of(L, 1, t->v.dtype, LT_FN) : t; /* 2 when copied */
    handshake(L, &t->v, 1, 0, LT_FN);
    const int64_t row_bytes = (t->v.shape[0] ? ln_numel(&t->v) / t->v.shape[0] : 0) * (int64_t)ln_dtype_size(t->v.dtype);
    int64_t mine = t->v.shape[0];
    int64_t *rows = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)world_size, 0);
    int *counts = lua_newuserdatauv(L, sizeof(int) * 2 * (size_t)world_size, 0), *displs = counts + world_size;
    check_rc(L, MPI_Allgather(&mine, 1, MPI_INT64_T, rows, 1, MPI_INT64_T, MPI_COMM_WORLD), LT_FN);
    int64_t total = 0, off = 0;
    for (int r = 0; r < world_size; r++) {
        total += rows[r];
        int64_t b = rows[r] * row_bytes;
        if (b > INT32_MAX || off > INT32_MAX) lt_error(L, LT_FN, "the gathered tensor is too large");
        counts[r] = (int)b, displs[r] = (int)off;
        off += b;
    }
    int64_t shape[LN_MAX_DIMS];
    memcpy(shape, t->v.shape, sizeof shape);
    shape[0] = total;
    lt_Tensor *out = lt_new(L, t->v.dtype, t->v.ndim, shape, LT_FN);
    check_rc(L, MPI_Allgatherv(c->v.data, (int)(mine * row_bytes), MPI_BYTE, out->v.data, counts, displs, MPI_BYTE,
                               MPI_COMM_WORLD), LT_FN);
    return 1;
}

static int l_finalize(lua_State *L)
{
    (void)L;
    if (inited && !finalized) {
        finalized = 1;
        MPI_Finalize();
    }
    return 0;
}

/* abort(code): end the whole job now */
static int l_abort(lua_State *L)
{
    int code = (int)luaL_optinteger(L, 1, 1);
    if (inited && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
    return 0;
}

static const luaL_Reg functions[] = {
    {"init", l_init},           {"initialized", l_initialized}, {"rank", l_rank},
    {"size", l_size},           {"local_rank", l_local_rank},   {"local_size", l_local_size},
    {"barrier", l_barrier},     {"allreduce", l_allreduce},     {"broadcast", l_broadcast},
    {"allgather", l_allgather}, {"finalize", l_finalize},       {"abort", l_abort},
    {"set_checks", l_set_checks}, {"iallreduce", l_iallreduce}, {"wait", l_wait},
    {"allreduce_fused", l_allreduce_fused}, {NULL, NULL}};

int luaopen_lunet_mpi(lua_State *L);
int luaopen_lunet_mpi(lua_State *L)
{
    /* finalized when the state closes (a normal exit); the launcher's error
     * path aborts first, so no rank waits in finalize for one that failed */
    lua_newuserdatauv(L, 1, 0);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_finalize);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "lunet.mpi.sentinel");
    if (luaL_newmetatable(L, REQUEST)) {
        lua_pushcfunction(L, request_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, functions);
    return 1;
}
