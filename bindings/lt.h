/*
 * lt.h - what the binding files of lunet.core share: the tensor userdata,
 * argument checks that raise Lua errors naming the function, and the order
 * every bound function follows: check all arguments -> create the result
 * userdata -> run a kernel that cannot fail -> push.
 */
#ifndef LT_H
#define LT_H

#include <lauxlib.h>
#include <lua.h>

#include "../runtime/activations.h"
#include "../runtime/tensor.h"

#define LT_TENSOR "lunet.Tensor"
/* The registry field where lunet.distributed leaves a C function that the
 * launcher calls with the error message before it exits on an error: it
 * prints the message with the rank and aborts the whole MPI job. */
#define LT_ABORT_HOOK "lunet.abort_hook"
#define LT_ALIGN 64
/* Refuse shapes beyond this many bytes before asking for memory. */
#define LT_MAX_BYTES ((size_t)1 << 42)

/* The tensor userdata.  A tensor that owns storage keeps it inline, after
 * this header (aligned to LT_ALIGN), so the GC counts its bytes; a view has
 * no storage and holds the owner in its user value 1.  User value 2 holds
 * autograd's record of the tensor (core.tape_get/tape_set), nil if none. */
#define LT_NUV 2
#define LT_UV_TAPE 2
typedef struct lt_Tensor {
    ln_tensor v;
    char *storage; /* first byte of the owner's storage: identifies it */
    size_t nbytes; /* bytes of that storage */
    int closed;
} lt_Tensor;

/* ---- errors and checks (all raise) -------------------------------------- */
/* The Lua name of the binding it is used in, for error prefixes: every
 * binding is `static int l_<name>(lua_State *L)` and is registered as <name>,
 * so the name is written once, in the function's own name. */
#define LT_FN (__func__ + 2)
int lt_error(lua_State *L, const char *fname, const char *fmt, ...);
/* "(2, 3)", "(4,)", "()" */
const char *lt_shape_str(char *buf, size_t n, int ndim, const int64_t *shape);
#define LT_SHAPE_BUF 160
/* A number as Lua would print it, for messages. */
const char *lt_num_str(char *buf, size_t n, double v);

lt_Tensor *lt_test(lua_State *L, int idx);
lt_Tensor *lt_check(lua_State *L, int idx, const char *fname);
/* A float32/float64 tensor, or an error suggesting :float(). */
lt_Tensor *lt_check_float(lua_State *L, int idx, const char *fname);
int64_t lt_check_int(lua_State *L, int idx, const char *fname, const char *what);
/* A dim argument (1-based or negative) -> 0-based; `ndim` dims exist. */
int lt_check_dim(lua_State *L, int idx, int ndim, const char *fname);
int lt_opt_dim(lua_State *L, int idx, int ndim, const char *fname, int def);
/* A position (1-based or negative from the end) in a dim of `size` -> 0-based. */
int64_t lt_check_pos(lua_State *L, int idx, int64_t size, int dim, const char *fname);
ln_dtype lt_opt_dtype(lua_State *L, int idx, ln_dtype def, const char *fname);
/* Raise unless v is exactly representable as an element of dtype dt. */
void lt_check_value(lua_State *L, double v, ln_dtype dt, const char *fname);
void lt_check_ivalue(lua_State *L, lua_Integer v, ln_dtype dt, const char *fname);
/* The same for the Lua number at idx (an integer is checked as an integer,
 * so an int64 beyond 2^53 stays exact). */
void lt_check_number(lua_State *L, int idx, ln_dtype dt, const char *fname);
/* Store the (checked) Lua number at idx as an element of dtype dt at p, or
 * into every element of t: an integer into an integer dtype exactly. */
void lt_store_number(lua_State *L, int idx, void *p, ln_dtype dt);
void lt_fill_number(lua_State *L, int idx, ln_tensor *t);
/* A shape given as one table or as integer arguments from `first` on.
 * Returns the stack index after the shape. */
int lt_read_shape(lua_State *L, int first, const char *fname, int *ndim, int64_t *shape);
/* Check a shape's element count fits; returns numel. */
int64_t lt_check_numel(lua_State *L, int ndim, const int64_t *shape, ln_dtype dt,
                       const char *fname);

/* ---- creation ----------------------------------------------------------- */
/* Push a new contiguous tensor with inline storage (contents undefined). */
lt_Tensor *lt_new(lua_State *L, ln_dtype dt, int ndim, const int64_t *shape, const char *fname);
lt_Tensor *lt_new_like(lua_State *L, const ln_tensor *t, ln_dtype dt, const char *fname);
/* Push the tensor at idx to be written as a result of this dtype and
 * shape, when it is one: contiguous (an owner or a view), open, sharing
 * no storage with the tensors at the `nin` stack slots `inputs`.  Otherwise
 * (nil or anything else at idx) push a new tensor as lt_new does.  The
 * buffers layers keep from one training step to the next go through here. */
lt_Tensor *lt_out(lua_State *L, int idx, ln_dtype dt, int ndim, const int64_t *shape, int nin,
                  const int *inputs, const char *fname);
/* A workspace argument: a plain table (its absolute index) or nil/none (0);
 * anything else raises. */
int lt_opt_ws(lua_State *L, int idx, const char *fname);
/* lt_out on the buffer ws[key] (ws from lt_opt_ws; 0: a new tensor), and the
 * pushed result stored back as ws[key], for the next call to write again. */
lt_Tensor *lt_ws_out(lua_State *L, int ws, const char *key, ln_dtype dt, int ndim,
                     const int64_t *shape, int nin, const int *inputs, const char *fname);
/* Storages lt_new has made since the library was loaded, and their bytes. */
void lt_storage_count(int64_t *count, int64_t *bytes);
/* Push a view `v` that shares the storage of the tensor at `base`. */
lt_Tensor *lt_new_view(lua_State *L, int base, const ln_tensor *v);
/* Push a contiguous copy of the tensor at idx, converted to dt. */
lt_Tensor *lt_copy_of(lua_State *L, int idx, ln_dtype dt, const char *fname);
/* If the tensor at idx shares memory with `out` without being the same
 * view, replace it on the stack by a copy; returns the (new) tensor. */
lt_Tensor *lt_unalias(lua_State *L, int idx, const lt_Tensor *out, const char *fname);
int lt_same_storage(const lt_Tensor *a, const lt_Tensor *b);

/* Replace the tensor at idx by a contiguous copy unless it is contiguous. */
lt_Tensor *lt_contiguous_at(lua_State *L, int idx, const char *fname);

/* An activation by name (an unknown name lists the known ones), and its
 * parameters from stack slots first.. (nil = default; booleans allowed). */
const ln_act_def *lt_check_act(lua_State *L, int idx, const char *fname);
void lt_read_act_params(lua_State *L, int first, const ln_act_def *d, ln_act_params *p,
                        const char *fname);

/* Push one element as a Lua number (integers for int dtypes). */
void lt_push_elem(lua_State *L, const void *p, ln_dtype dt);

/* ---- module parts ------------------------------------------------------- */
struct ln_rng *lt_rng(lua_State *L);
void lt_open_tensor(lua_State *L);  /* fills core table at -2 and methods at -1 */
void lt_open_ops(lua_State *L);
void lt_open_linalg(lua_State *L);
void lt_open_random(lua_State *L);
void lt_open_bench(lua_State *L);
void lt_open_act(lua_State *L);
void lt_open_nn(lua_State *L);
void lt_open_data(lua_State *L);
int lt_tostring(lua_State *L);

/* Register functions into the table at the top of the stack. */
void lt_register(lua_State *L, const luaL_Reg *fns);
/* With the core table at -2 and the methods table at -1 (as lt_open_*
 * receive them): register `functions` into core and `methods` into the
 * methods; either may be NULL. */
void lt_open_part(lua_State *L, const luaL_Reg *functions, const luaL_Reg *methods);

#endif
