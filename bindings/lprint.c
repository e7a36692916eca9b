/*
 * lprint.c - tostring(t): numpy-like printing with shape and dtype.
 *
 *   tensor([[ 1.5 , -2.  ],
 *           [ 3.25,  4.  ]], shape=(2, 2), dtype=float32)
 *
 * Floats print with the fewest digits (at most 8 after the point) that
 * identify each value in its dtype, aligned on the decimal point; scientific
 * notation when the magnitudes call for it (max >= 1e8, min < 1e-4 or a
 * ratio above 1e3), as numpy does.  Tensors above 1000 elements print the
 * first and last 3 entries of each long dim around "...".  Lines wrap at 75.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/elementwise.h"
#include "lt.h"

#define EDGE 3
#define SUMMARY_THRESHOLD 1000
#define LINE_WIDTH 75
#define MAX_DIGITS 8
#define PREFIX "tensor("

typedef struct pfmt {
    ln_dtype dt;
    int summarize;
    int sci;
    int left_w, right_w, exp_w; /* float widths: through '.', after it, exponent digits */
    int int_w;                  /* integer dtypes */
    double max_abs, min_abs;    /* over finite nonzero values */
    int any_finite;
} pfmt;

typedef void (*elem_fn)(const char *p, void *ctx);

/* Visit the printed elements (all, or the summary's edges) in order. */
static void walk(const ln_tensor *v, const pfmt *f, int d, const char *p, elem_fn fn, void *ctx)
{
    if (d == v->ndim) {
        fn(p, ctx);
        return;
    }
    int64_t n = v->shape[d], step = v->stride[d] * (int64_t)ln_dtype_size(v->dtype);
    for (int64_t i = 0; i < n; i++) {
        if (f->summarize && n > 2 * EDGE && i == EDGE) i = n - EDGE;
        walk(v, f, d + 1, p + i * step, fn, ctx);
    }
}

static int same_value(double parsed, double v, ln_dtype dt)
{
    if (dt == LN_F32) return (float)parsed == (float)v;
    return parsed == v;
}

/* The shortest "%.Nf" / "%.Ne" (N <= 8) that reads back as v. */
static void shortest(char *buf, size_t n, double v, ln_dtype dt, int sci)
{
    for (int d = 0; d <= MAX_DIGITS; d++) {
        snprintf(buf, n, sci ? "%.*e" : "%.*f", d, v);
        if (same_value(strtod(buf, NULL), v, dt)) return;
    }
    /* not representable in 8 digits: keep 8, drop trailing zeros */
    if (!sci) {
        size_t len = strlen(buf);
        while (len > 0 && buf[len - 1] == '0') buf[--len] = '\0';
    }
}

/* Format one float into parts: int part with sign and '.', fraction digits,
 * exponent digits (sci) or a non-finite word in `word`. */
typedef struct fparts {
    char left[48], right[16], exp_sign, exp[8], word[8];
    int finite;
} fparts;

static void float_parts(double v, ln_dtype dt, int sci, fparts *fp)
{
    memset(fp, 0, sizeof *fp);
    if (!isfinite(v)) {
        strcpy(fp->word, v != v ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    fp->finite = 1;
    char buf[64];
    shortest(buf, sizeof buf, v, dt, sci);
    char *e = sci ? strchr(buf, 'e') : NULL;
    if (e) {
        fp->exp_sign = e[1];
        snprintf(fp->exp, sizeof fp->exp, "%s", e + 2);
        *e = '\0';
    }
    char *dot = strchr(buf, '.');
    if (dot) {
        snprintf(fp->right, sizeof fp->right, "%s", dot + 1);
        dot[1] = '\0';
        snprintf(fp->left, sizeof fp->left, "%s", buf);
    } else {
        snprintf(fp->left, sizeof fp->left, "%s.", buf);
    }
}

static void stats_fn(const char *p, void *ctx)
{
    pfmt *f = (pfmt *)ctx;
    if (!ln_dtype_is_float(f->dt)) {
        char buf[32];
        int w = snprintf(buf, sizeof buf, "%lld", (long long)ln_load_i64(p, f->dt));
        if (w > f->int_w) f->int_w = w;
        return;
    }
    double v = ln_load(p, f->dt), a = fabs(v);
    if (!isfinite(v) || a == 0) return;
    if (!f->any_finite || a > f->max_abs) f->max_abs = a;
    if (!f->any_finite || a < f->min_abs) f->min_abs = a;
    f->any_finite = 1;
}

static void width_fn(const char *p, void *ctx)
{
    pfmt *f = (pfmt *)ctx;
    fparts fp;
    float_parts(ln_load(p, f->dt), f->dt, f->sci, &fp);
    if (!fp.finite) {
        int w = (int)strlen(fp.word);
        if (w > f->int_w) f->int_w = w; /* widest non-finite word */
        return;
    }
    int l = (int)strlen(fp.left), r = (int)strlen(fp.right), x = (int)strlen(fp.exp);
    if (l > f->left_w) f->left_w = l;
    if (r > f->right_w) f->right_w = r;
    if (x > f->exp_w) f->exp_w = x;
}

/* The element's text, padded to the common width. */
static int elem_str(const pfmt *f, const char *p, char *out, size_t n)
{
    if (!ln_dtype_is_float(f->dt))
        return snprintf(out, n, "%*lld", f->int_w, (long long)ln_load_i64(p, f->dt));
    fparts fp;
    float_parts(ln_load(p, f->dt), f->dt, f->sci, &fp);
    int total = f->left_w + f->right_w + (f->sci ? 2 + f->exp_w : 0);
    if (!fp.finite) return snprintf(out, n, "%*s", total, fp.word);
    if (f->sci) {
        char frac[32];
        snprintf(frac, sizeof frac, "%-*s", f->right_w, fp.right);
        for (char *c = frac; *c; c++)
            if (*c == ' ') *c = '0';
        return snprintf(out, n, "%*s%se%c%0*d", f->left_w, fp.left, frac, fp.exp_sign, f->exp_w,
                        atoi(fp.exp));
    }
    return snprintf(out, n, "%*s%-*s", f->left_w, fp.left, f->right_w, fp.right);
}

typedef struct render {
    luaL_Buffer *b;
    const pfmt *f;
    const ln_tensor *v;
    int col; /* characters on the current line */
} render;

static void put(render *r, const char *s, size_t n)
{
    luaL_addlstring(r->b, s, n);
    const char *nl = memchr(s, '\n', n);
    if (nl) {
        const char *last = nl;
        while ((nl = memchr(last + 1, '\n', n - (size_t)(last + 1 - s))) != NULL) last = nl;
        r->col = (int)(n - (size_t)(last + 1 - s));
    } else {
        r->col += (int)n;
    }
}

static void puts_(render *r, const char *s) { put(r, s, strlen(s)); }

static void spaces(render *r, int n)
{
    for (int i = 0; i < n; i++) put(r, " ", 1);
}

static void render_dim(render *r, int d, const char *p)
{
    const ln_tensor *v = r->v;
    int64_t n = v->shape[d], step = v->stride[d] * (int64_t)ln_dtype_size(v->dtype);
    int indent = (int)strlen(PREFIX) + d + 1;
    int last = d == v->ndim - 1;
    puts_(r, "[");
    for (int64_t i = 0; i < n; i++) {
        int ellipsis = r->f->summarize && n > 2 * EDGE && i == EDGE;
        char s[96];
        int len = 0;
        if (last) len = ellipsis ? snprintf(s, sizeof s, "...") : elem_str(r->f, p + i * step, s, sizeof s);
        if (i > 0) {
            if (last) {
                /* wrap before an entry that would cross the line width */
                if (r->col + 2 + len + 1 > LINE_WIDTH) {
                    puts_(r, ",\n");
                    spaces(r, indent);
                } else {
                    puts_(r, ", ");
                }
            } else {
                puts_(r, ",");
                for (int k = 0; k < v->ndim - d - 1; k++) puts_(r, "\n");
                spaces(r, indent);
            }
        }
        if (last) {
            put(r, s, (size_t)len);
        } else if (ellipsis) {
            puts_(r, "...");
        } else {
            render_dim(r, d + 1, p + i * step);
        }
        if (ellipsis) i = n - EDGE - 1;
    }
    puts_(r, "]");
}

int lt_tostring(lua_State *L)
{
    lt_Tensor *t = lt_test(L, 1);
    if (!t) return luaL_error(L, "tostring: expected a tensor");
    if (t->closed) {
        lua_pushliteral(L, "tensor(<closed>)");
        return 1;
    }
    const ln_tensor *v = &t->v;
    pfmt f;
    memset(&f, 0, sizeof f);
    f.dt = v->dtype;
    int64_t numel = ln_numel(v);
    f.summarize = numel > SUMMARY_THRESHOLD;
    char sb[LT_SHAPE_BUF];
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    render r = {&b, &f, v, 0};
    puts_(&r, PREFIX);
    if (numel == 0) {
        puts_(&r, "[]");
    } else {
        walk(v, &f, 0, (const char *)v->data, stats_fn, &f);
        if (ln_dtype_is_float(f.dt)) {
            f.sci = f.any_finite && (f.max_abs >= 1e8 || f.min_abs < 1e-4 ||
                                     f.max_abs / f.min_abs > 1e3);
            walk(v, &f, 0, (const char *)v->data, width_fn, &f);
            /* non-finite words must fit the column too */
            int total = f.left_w + f.right_w + (f.sci ? 2 + f.exp_w : 0);
            if (f.int_w > total) f.left_w += f.int_w - total;
        }
        if (v->ndim == 0) {
            char s[96];
            int len = elem_str(&f, (const char *)v->data, s, sizeof s);
            const char *c = s;
            while (*c == ' ') c++;
            put(&r, c, (size_t)len - (size_t)(c - s));
        } else {
            render_dim(&r, 0, (const char *)v->data);
        }
    }
    char tail[LT_SHAPE_BUF + 48];
    snprintf(tail, sizeof tail, ", shape=%s, dtype=%s)", lt_shape_str(sb, sizeof sb, v->ndim, v->shape),
             ln_dtype_name(v->dtype));
    puts_(&r, tail);
    luaL_pushresult(&b);
    return 1;
}
