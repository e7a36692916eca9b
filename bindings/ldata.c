/*
 * ldata.c - file loaders of lunet.core: IDX and numeric CSV.
 *
 *   core.read_idx(path [, max_bytes]) --> tensor
 *   core.write_idx(path, t [, type [, gzip_level]])
 *   core.read_csv(path, {sep=",", header=false, skip=0, nrows=, usecols=,
 *                        on_bad_lines="error", dtype="float32",
 *                        allow_nonfinite=false, max_bytes=}) --> tensor [, names]
 *   core.read_file(path [, max_bytes]) --> string (a regular file's bytes)
 *   core.path_kind(path) --> "file" | "directory" | "fifo" | ... | nil, reason
 *   core.write_file(path, data) --> true | nil, reason  (data: a string or an
 *       array of strings; atomic: path.tmp, fsync, rename, fsync the directory)
 *
 * C resources (an open reader, a file's text) live in a "box" userdata
 * marked to-be-closed, so they are released when the function returns or a
 * Lua error (an allocation failing, a bad cell) unwinds it; __gc is the
 * fallback.  The result tensor is returned only when complete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/csv.h"
#include "../runtime/fileio.h"
#include "../runtime/idx.h"
#include "lt.h"

#define BOX "lunet.box"

typedef struct box {
    void *p;
    void (*release)(void *);
} box;

static int box_gc(lua_State *L)
{
    box *b = (box *)luaL_checkudata(L, 1, BOX);
    if (b->p) b->release(b->p);
    b->p = NULL;
    return 0;
}

static box *box_push(lua_State *L, void (*release)(void *))
{
    box *b = (box *)lua_newuserdatauv(L, sizeof *b, 0);
    b->p = NULL;
    b->release = release;
    if (luaL_newmetatable(L, BOX)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    return b;
}

/* A file path: a string (not a number Lua would convert), not empty, with
 * no NUL byte inside (C would see a shorter name). */
static const char *check_path(lua_State *L, int idx, const char *fname)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        lt_error(L, fname, "path must be a string (got %s)", luaL_typename(L, idx));
    size_t n;
    const char *path = lua_tolstring(L, idx, &n);
    if (n == 0) lt_error(L, fname, "path must not be empty");
    if (strlen(path) != n) lt_error(L, fname, "path must not contain a NUL byte");
    return path;
}

/* A whole file read by `reader` (ln_read_file, ln_read_text) into memory
 * owned by a to-be-closed box pushed on the stack: freed on return and on
 * any error.  Raises when the read fails. */
typedef ln_status (*read_whole_fn)(const char *path, size_t cap, char **buf, size_t *len,
                                   ln_error *err);

static char *read_boxed(lua_State *L, read_whole_fn reader, const char *path, size_t cap,
                        size_t *len, const char *fname)
{
    box *b = box_push(L, free);
    lua_toclose(L, -1);
    char *buf;
    ln_error err;
    if (reader(path, cap, &buf, len, &err) != LN_OK) lt_error(L, fname, "%s: %s", path, err.msg);
    b->p = buf;
    return buf;
}

static void release_reader(void *p) { ln_idx_close((ln_idx_reader *)p); }

static size_t opt_cap(lua_State *L, int idx, const char *fname, size_t def)
{
    if (lua_isnoneornil(L, idx)) return def;
    int64_t v = lt_check_int(L, idx, fname, "max_bytes");
    if (v < 1) lt_error(L, fname, "max_bytes must be a positive integer");
    return (size_t)v;
}

static int l_read_idx(lua_State *L)
{
    const char *path = check_path(L, 1, LT_FN);
    size_t cap = opt_cap(L, 2, LT_FN, LN_IDX_DEFAULT_CAP);
    lua_settop(L, 2);
    box *b = box_push(L, release_reader);
    lua_toclose(L, 3); /* closes the reader on return and on any error */
    ln_idx_header h;
    ln_error err;
    ln_idx_reader *r;
    if (ln_idx_open(path, cap, &r, &h, &err) != LN_OK)
        return lt_error(L, LT_FN, "%s: %s", path, err.msg);
    b->p = r;
    lt_Tensor *t = lt_new(L, h.dtype, h.ndim, h.shape, LT_FN);
    if (ln_idx_read(r, t->v.data, &err) != LN_OK)
        return lt_error(L, LT_FN, "%s: %s", path, err.msg);
    return 1;
}

/* core.idx_header(path [, max_bytes]) --> {type=, shape=, dtype=} (no data read) */
static int l_idx_header(lua_State *L)
{
    const char *path = check_path(L, 1, LT_FN);
    size_t cap = opt_cap(L, 2, LT_FN, LN_IDX_DEFAULT_CAP);
    ln_idx_header h;
    ln_error err;
    ln_idx_reader *r;
    if (ln_idx_open(path, cap, &r, &h, &err) != LN_OK)
        return lt_error(L, LT_FN, "%s: %s", path, err.msg);
    ln_idx_close(r);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, ln_idx_type_name(h.type));
    lua_setfield(L, -2, "type");
    lua_pushstring(L, ln_dtype_name(h.dtype));
    lua_setfield(L, -2, "dtype");
    lua_createtable(L, h.ndim, 0);
    for (int i = 0; i < h.ndim; i++) {
        lua_pushinteger(L, h.shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "shape");
    return 1;
}

static int default_type(ln_dtype dt)
{
    switch (dt) {
    case LN_U8: return LN_IDX_U8;
    case LN_I32: return LN_IDX_I32;
    case LN_F64: return LN_IDX_F64;
    default: return LN_IDX_F32;
    }
}

static int l_write_idx(lua_State *L)
{
    const char *path = check_path(L, 1, LT_FN);
    lt_Tensor *t = lt_check(L, 2, LT_FN);
    int type = default_type(t->v.dtype);
    if (!lua_isnoneornil(L, 3)) {
        const char *name = luaL_checkstring(L, 3);
        type = ln_idx_type_from_name(name);
        if (type < 0)
            lt_error(L, LT_FN, "unknown IDX type '%s' (known: uint8, int8, int16, int32, "
                     "float32, float64)", name);
    }
    int64_t level = lua_isnoneornil(L, 4) ? 0 : lt_check_int(L, 4, LT_FN, "gzip level");
    if (level < 0 || level > 9)
        lt_error(L, LT_FN, "gzip level must be 0 to 9, got %lld", (long long)level);
    if (t->v.ndim < 1 || t->v.ndim > LN_IDX_MAX_DIMS)
        lt_error(L, LT_FN, "an IDX file holds 1 to %d dims, the tensor has %d",
                 LN_IDX_MAX_DIMS, t->v.ndim);
    if (!ln_is_contiguous(&t->v)) {
        lua_settop(L, 4);
        t = lt_copy_of(L, 2, t->v.dtype, LT_FN);
    }
    ln_error err;
    if (ln_idx_write(path, &t->v, type, (int)level, &err) != LN_OK)
        return lt_error(L, LT_FN, "%s: %s", path, err.msg);
    return 0;
}

/* ---- CSV ------------------------------------------------------------------------ */

/* A value for a message: numbers and booleans as Lua prints them, strings
 * quoted (cut at 40 bytes), other types by name. */
static const char *show(lua_State *L, int idx, char *buf, size_t n)
{
    if (lua_type(L, idx) == LUA_TNUMBER) return lt_num_str(buf, n, lua_tonumber(L, idx));
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t k;
        const char *s = lua_tolstring(L, idx, &k);
        snprintf(buf, n, "'%.*s%s'", k > 40 ? 40 : (int)k, s, k > 40 ? "..." : "");
        return buf;
    }
    if (lua_type(L, idx) == LUA_TBOOLEAN) return lua_toboolean(L, idx) ? "true" : "false";
    return luaL_typename(L, idx);
}

/* opts[k]: absent (0) or a boolean. */
static int opt_bool(lua_State *L, int opts, const char *k, const char *fname, const char *hint)
{
    int ty = lua_getfield(L, opts, k);
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN) {
        char nb[64];
        lt_error(L, fname, "%s must be true or false, got %s%s", k, show(L, -1, nb, sizeof nb), hint);
    }
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* opts[k]: absent (def) or an integer >= 0 (a number, not a string). */
static int64_t opt_count(lua_State *L, int opts, const char *k, const char *fname, int64_t def)
{
    int ty = lua_getfield(L, opts, k);
    int64_t v = def;
    if (ty != LUA_TNIL) {
        char nb[64];
        int isint = 0;
        if (ty == LUA_TNUMBER) v = (int64_t)lua_tointegerx(L, -1, &isint);
        if (!isint || v < 0)
            lt_error(L, fname, "%s must be an integer >= 0, got %s", k, show(L, -1, nb, sizeof nb));
    }
    lua_pop(L, 1);
    return v;
}

/* opts.usecols: absent (0), or an array of positions from 1 (returns 1)
 * or of names (returns 2), checked here except against the file. */
static int check_usecols(lua_State *L, int opts, int header, const char *fname)
{
    char nb[64];
    int ty = lua_getfield(L, opts, "usecols");
    lua_pop(L, 1);
    if (ty == LUA_TNIL) return 0;
    lua_getfield(L, opts, "usecols");
    if (ty != LUA_TTABLE)
        lt_error(L, fname, "usecols must be an array of column positions (from 1) or names, got %s",
                 show(L, -1, nb, sizeof nb));
    int tab = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, tab), keys = 0;
    lua_pushnil(L);
    while (lua_next(L, tab)) {
        lua_pop(L, 1);
        keys++;
    }
    if (keys != n) lt_error(L, fname, "usecols must be an array (keys 1..n), got other keys");
    if (n == 0) lt_error(L, fname, "usecols must list at least one column");
    int kind = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        int et = lua_rawgeti(L, tab, i);
        int isint = 0;
        lua_Integer v = et == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
        int k = et == LUA_TSTRING ? 2 : 1;
        if (et != LUA_TSTRING && !isint)
            lt_error(L, fname, "usecols[%lld] must be a column position (an integer from 1) or a name, "
                     "got %s", (long long)i, show(L, -1, nb, sizeof nb));
        if (k == 1 && v < 1)
            lt_error(L, fname, "usecols[%lld] = %lld is not a column position (they start at 1)",
                     (long long)i, (long long)v);
        if (kind && k != kind)
            lt_error(L, fname, "usecols must hold only positions or only names, usecols[%lld] is %s",
                     (long long)i, show(L, -1, nb, sizeof nb));
        if (k == 2 && !header)
            lt_error(L, fname, "usecols[%lld] = %s names a column, which needs header = true",
                     (long long)i, show(L, -1, nb, sizeof nb));
        kind = k;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return kind;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The 0-based columns opts.usecols names, ascending (pandas' file order),
 * in a userdata pushed on the stack; *n is their count. */
static int64_t *resolve_usecols(lua_State *L, int opts, int kind, const char *buf,
                                const ln_csv_layout *lay, int sep, int64_t *n, const char *fname)
{
    char nb[64];
    lua_getfield(L, opts, "usecols");
    int tab = lua_gettop(L);
    *n = lua_istable(L, tab) ? (int64_t)lua_rawlen(L, tab) : 0;
    if (*n < 1) lt_error(L, fname, "usecols changed while the file was read");
    int64_t *sel = (int64_t *)lua_newuserdatauv(L, (size_t)*n * sizeof *sel, 0);
    for (int64_t i = 0; i < *n; i++) {
        int et = lua_rawgeti(L, tab, (lua_Integer)i + 1);
        if (et != (kind == 1 ? LUA_TNUMBER : LUA_TSTRING) || (kind == 1 && lua_tointeger(L, -1) < 1))
            lt_error(L, fname, "usecols changed while the file was read");
        if (kind == 1) {
            int64_t v = (int64_t)lua_tointeger(L, -1);
            if (v > lay->cols)
                lt_error(L, fname, "usecols[%lld] = %lld is out of range: the table has %lld columns",
                         (long long)i + 1, (long long)v, (long long)lay->cols);
            sel[i] = v - 1;
        } else {
            size_t want;
            const char *name = lua_tolstring(L, -1, &want);
            ln_csv_cells c;
            const char *cell;
            size_t k;
            int64_t col = 0, at = -1;
            ln_csv_cells_init(&c, buf + lay->header_at, lay->header_len, sep);
            for (; ln_csv_next_cell(&c, &cell, &k); col++) {
                if (k != want || memcmp(cell, name, k) != 0) continue;
                if (at >= 0)
                    lt_error(L, fname, "usecols[%lld] = %s names columns %lld and %lld of the header",
                             (long long)i + 1, show(L, -1, nb, sizeof nb), (long long)at + 1,
                             (long long)col + 1);
                at = col;
            }
            if (at < 0)
                lt_error(L, fname, "usecols[%lld] = %s is not a column name of the header",
                         (long long)i + 1, show(L, -1, nb, sizeof nb));
            sel[i] = at;
        }
        lua_pop(L, 1);
    }
    qsort(sel, (size_t)*n, sizeof *sel, cmp_i64);
    for (int64_t i = 1; i < *n; i++)
        if (sel[i] == sel[i - 1])
            lt_error(L, fname, "usecols gives column %lld twice", (long long)sel[i] + 1);
    lua_replace(L, tab); /* the userdata stays on the stack in the table's slot */
    return sel;
}

/* on_bad_lines = "warn": one line on stderr per dropped line, as pandas. */
static void warn_bad_line(void *ctx, int64_t line, int64_t expected, int64_t saw)
{
    fprintf(stderr, "read_csv: %s: skipping line %lld: expected %lld columns, saw %lld\n",
            (const char *)ctx, (long long)line, (long long)expected, (long long)saw);
    fflush(stderr);
}

static int l_read_csv(lua_State *L)
{
    const char *path = check_path(L, 1, LT_FN);
    ln_csv_opts o = {.sep = ',', .nrows = -1};
    ln_dtype dt = LN_F32;
    size_t cap = LN_IDX_DEFAULT_CAP;
    int usecols = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "sep");
        if (!lua_isnil(L, -1)) {
            size_t n;
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
            char nb[64];
            if (s && (strcmp(s, "whitespace") == 0 || strcmp(s, "\\s+") == 0)) o.sep = 0;
            else if (s && n == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r') o.sep = (unsigned char)s[0];
            else
                lt_error(L, LT_FN, "sep must be one character (',', '\\t', ' ', ';'), 'whitespace' "
                         "or '\\\\s+' (any run of spaces and tabs), got %s", show(L, -1, nb, sizeof nb));
        }
        lua_pop(L, 1);
        o.header = opt_bool(L, 2, "header", LT_FN,
                            " (pandas' header=0 is header = true, header=None is header = false)");
        o.allow_nonfinite = opt_bool(L, 2, "allow_nonfinite", LT_FN, "");
        o.skip = opt_count(L, 2, "skip", LT_FN, 0);
        o.nrows = opt_count(L, 2, "nrows", LT_FN, -1);
        lua_getfield(L, 2, "on_bad_lines");
        if (!lua_isnil(L, -1)) {
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            char nb[64];
            if (s && strcmp(s, "skip") == 0) o.skip_bad = 1;
            else if (s && strcmp(s, "warn") == 0) {
                o.skip_bad = 1;
                o.on_bad = warn_bad_line;
                o.on_bad_ctx = (void *)path;
            } else if (!s || strcmp(s, "error") != 0)
                lt_error(L, LT_FN, "on_bad_lines must be 'error', 'skip' or 'warn', got %s",
                         show(L, -1, nb, sizeof nb));
        }
        lua_pop(L, 1);
        usecols = check_usecols(L, 2, o.header, LT_FN);
        lua_getfield(L, 2, "dtype");
        if (!lua_isnil(L, -1)) {
            dt = lt_opt_dtype(L, -1, LN_F32, LT_FN);
            if (!ln_dtype_is_float(dt)) lt_error(L, LT_FN, "dtype must be float32 or float64");
        }
        lua_pop(L, 1);
        lua_getfield(L, 2, "max_bytes");
        cap = opt_cap(L, -1, LT_FN, cap);
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    size_t len;
    char *buf = read_boxed(L, ln_read_text, path, cap, &len, LT_FN); /* 3 */
    ln_error err;
    ln_csv_layout lay;
    if (ln_csv_scan(buf, len, &o, &lay, &err) != LN_OK)
        return lt_error(L, LT_FN, "%s: %s", path, err.msg);
    int64_t width = lay.cols;
    if (usecols) { /* 4 */
        o.usecols = resolve_usecols(L, 2, usecols, buf, &lay, o.sep, &width, LT_FN);
        o.nusecols = width;
    } else {
        lua_pushnil(L);
    }
    int64_t shape[2] = {lay.rows, width};
    lt_Tensor *t = lt_new(L, dt, 2, shape, LT_FN); /* 5 */
    if (ln_csv_parse(buf, len, &o, &lay, dt, t->v.data, &err) != LN_OK)
        return lt_error(L, LT_FN, "%s: %s", path, err.msg);
    if (!o.header) return 1;
    lua_createtable(L, (int)width, 0);
    ln_csv_cells c;
    const char *cell;
    size_t n;
    int64_t col = 0, i = 0;
    ln_csv_cells_init(&c, buf + lay.header_at, lay.header_len, o.sep);
    for (; i < width && ln_csv_next_cell(&c, &cell, &n); col++) {
        if (o.usecols && o.usecols[i] != col) continue;
        lua_pushlstring(L, cell, n);
        lua_rawseti(L, -2, (lua_Integer)++i);
    }
    return 2;
}

/* ---- whole files ------------------------------------------------------------- */

static int l_read_file(lua_State *L)
{
    const char *path = check_path(L, 1, LT_FN);
    size_t cap = opt_cap(L, 2, LT_FN, LN_IDX_DEFAULT_CAP);
    lua_settop(L, 2);
    size_t len;
    const char *buf = read_boxed(L, ln_read_file, path, cap, &len, LT_FN); /* 3 */
    lua_pushlstring(L, buf, len);
    return 1;
}

static int l_path_kind(lua_State *L)
{
    const char *path = check_path(L, 1, LT_FN);
    const char *kind = ln_path_kind(path);
    if (kind == NULL) {
        luaL_pushfail(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    lua_pushstring(L, kind);
    return 1;
}

static int l_write_file(lua_State *L)
{
    const char *path = check_path(L, 1, LT_FN);
    lua_settop(L, 2);
    size_t n = 1;
    if (lua_type(L, 2) == LUA_TTABLE) {
        n = (size_t)lua_rawlen(L, 2);
        for (size_t i = 1; i <= n; i++) {
            if (lua_rawgeti(L, 2, (lua_Integer)i) != LUA_TSTRING)
                lt_error(L, LT_FN, "data[%d] must be a string (got %s)", (int)i,
                         luaL_typename(L, -1));
            lua_pop(L, 1);
        }
    } else if (lua_type(L, 2) != LUA_TSTRING) {
        lt_error(L, LT_FN, "data must be a string or an array of strings (got %s)",
                 luaL_typename(L, 2));
    }
    const char *tmp = lua_pushfstring(L, "%s.tmp", path); /* 3 */
    /* the part pointers and lengths, in GC-owned memory (the strings stay
     * anchored by the table at 2) */
    const char **parts = (const char **)lua_newuserdatauv(L, (n ? n : 1) * sizeof *parts, 0); /* 4 */
    size_t *lens = (size_t *)lua_newuserdatauv(L, (n ? n : 1) * sizeof *lens, 0);               /* 5 */
    if (lua_type(L, 2) == LUA_TSTRING) {
        parts[0] = lua_tolstring(L, 2, &lens[0]);
    } else {
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, 2, (lua_Integer)i + 1);
            parts[i] = lua_tolstring(L, -1, &lens[i]);
            lua_pop(L, 1);
        }
    }
    ln_error err;
    if (ln_write_atomic(path, tmp, n, parts, lens, &err) != LN_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg fns[] = {
    {"read_file", l_read_file},
    {"write_file", l_write_file},
    {"path_kind", l_path_kind},
    {"read_idx", l_read_idx},
    {"idx_header", l_idx_header},
    {"write_idx", l_write_idx},
    {"read_csv", l_read_csv},
    {NULL, NULL},
};

void lt_open_data(lua_State *L) { lt_open_part(L, fns, NULL); }
