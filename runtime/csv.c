/*
 * csv.c - numeric text tables (see csv.h).
 */
/* strtod_l (POSIX 2008 locales; glibc declares it under _GNU_SOURCE) */
#define _GNU_SOURCE
#include "csv.h"

#include "fileio.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CELL 256

static int blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

void ln_csv_cells_init(ln_csv_cells *c, const char *line, size_t len, int sep)
{
    c->p = line;
    c->end = line + len;
    c->sep = sep;
    c->done = 0;
}

int ln_csv_next_cell(ln_csv_cells *c, const char **cell, size_t *n)
{
    const char *p = c->p, *end = c->end;
    if (c->done) return 0;
    if (c->sep == 0) {
        while (p < end && blank(*p)) p++;
        if (p == end) {
            c->done = 1;
            return 0;
        }
        const char *s = p;
        if (*p == '"') {
            p++;
            while (p < end && *p != '"') p++;
            if (p < end) p++;
        } else {
            while (p < end && !blank(*p)) p++;
        }
        c->p = p;
        *cell = s;
        *n = (size_t)(p - s);
    } else {
        const char *s = p;
        int quoted = 0;
        while (p < end && (quoted || *p != c->sep)) {
            if (*p == '"') quoted = !quoted;
            p++;
        }
        const char *e = p;
        if (p < end) c->p = p + 1;
        else c->done = 1;
        /* trim blanks that are not the separator */
        while (s < e && blank(*s) && *s != c->sep) s++;
        while (e > s && blank(e[-1]) && e[-1] != c->sep) e--;
        *cell = s;
        *n = (size_t)(e - s);
    }
    if (*n >= 2 && (*cell)[0] == '"' && (*cell)[*n - 1] == '"') {
        (*cell)++;
        *n -= 2;
    }
    return 1;
}

/* Next line from *pos: returns 0 at the end of the text. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
{
    if (*pos >= len) return 0;
    const char *s = buf + *pos;
    const char *nl = (const char *)memchr(s, '\n', len - *pos);
    size_t k = nl ? (size_t)(nl - s) : len - *pos;
    *pos += k + (nl != NULL);
    if (k > 0 && s[k - 1] == '\r') k--;
    *line = s;
    *n = k;
    return 1;
}

static int is_blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!blank(s[i])) return 0;
    return 1;
}

static int64_t count_cells(const char *line, size_t n, int sep)
{
    ln_csv_cells c;
    const char *cell;
    size_t k;
    int64_t m = 0;
    ln_csv_cells_init(&c, line, n, sep);
    while (ln_csv_next_cell(&c, &cell, &k)) m++;
    return m;
}

ln_status ln_csv_scan(const char *buf, size_t len, const ln_csv_opts *o, ln_csv_layout *lay,
                      ln_error *err)
{
    size_t pos = 0, n;
    const char *line;
    int64_t lineno = 0, first_line = 0;
    memset(lay, 0, sizeof *lay);
    lay->cols = -1;
    while (lineno < o->skip && next_line(buf, len, &pos, &line, &n)) lineno++;
    int want_header = o->header;
    while (next_line(buf, len, &pos, &line, &n)) {
        lineno++;
        if (is_blank_line(line, n)) continue;
        if (!want_header && lay->cols >= 0 && o->nrows >= 0 && lay->rows >= o->nrows) break;
        int64_t m = count_cells(line, n, o->sep);
        if (want_header) {
            want_header = 0;
            lay->header_at = (size_t)(line - buf);
            lay->header_len = n;
            lay->cols = m;
            first_line = lineno;
            continue;
        }
        if (lay->cols < 0) { /* the first data line sets the width */
            lay->cols = m;
            first_line = lineno;
            if (o->nrows == 0) break; /* only the width was asked for */
        }
        if (m != lay->cols) { /* a ragged line, short or long: DESIGN's rule, no silent padding */
            if (!o->skip_bad)
                return ln_fail(err, LN_EFORMAT,
                               "line %lld has %lld columns, expected %lld (as %sline %lld; "
                               "on_bad_lines = \"skip\" drops such lines)",
                               (long long)lineno, (long long)m, (long long)lay->cols,
                               o->header ? "the header, " : "", (long long)first_line);
            if (o->on_bad) o->on_bad(o->on_bad_ctx, lineno, lay->cols, m);
            lay->dropped++;
            continue;
        }
        lay->rows++;
    }
    if (lay->rows == 0 && (o->nrows != 0 || lay->cols < 0)) {
        if (lay->dropped)
            return ln_fail(err, LN_EFORMAT, "no data rows (%lld lines read, %lld dropped by on_bad_lines)",
                           (long long)lineno, (long long)lay->dropped);
        return ln_fail(err, LN_EFORMAT, "no data rows (%lld lines read)", (long long)lineno);
    }
    return LN_OK;
}

static int word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* 0 and *v on success; otherwise a reason. */
static const char *parse_cell(const char *s, size_t n, int allow_nf, locale_t loc, double *v)
{
    if (n == 0) return "empty cell";
    if (n >= MAX_CELL) return "cell too long to be a number";
    int digits = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') digits++;
        else if (!(ch == '+' || ch == '-' || ch == '.' || ch == 'e' || ch == 'E')) other = 1;
    }
    const char *body = s;
    size_t bn = n;
    if (*body == '+' || *body == '-') {
        body++;
        bn--;
    }
    if (other || !digits) {
        int nonfinite = word_is(body, bn, "nan") || word_is(body, bn, "inf") ||
                        word_is(body, bn, "infinity");
        if (nonfinite && allow_nf) {
            *v = word_is(body, bn, "nan") ? NAN : (*s == '-' ? -INFINITY : INFINITY);
            return NULL;
        }
        if (nonfinite) return "is not finite (allow_nonfinite = true accepts nan and inf)";
        if (bn > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X'))
            return "is a hex number (not accepted)";
        return "is not a number";
    }
    char tmp[MAX_CELL];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *endp;
    errno = 0;
    double d = strtod_l(tmp, &endp, loc);
    if (endp != tmp + n) return "is not a number";
    if (isinf(d)) return "overflows float64";
    *v = d;
    return NULL;
}

ln_status ln_csv_parse(const char *buf, size_t len, const ln_csv_opts *o, const ln_csv_layout *lay,
                       ln_dtype dt, void *dst, ln_error *err)
{
    if (dt != LN_F32 && dt != LN_F64) return ln_fail(err, LN_EARG, "dtype must be float32 or float64");
    const int64_t *use = o->usecols;
    int64_t width = use ? o->nusecols : lay->cols;
    if (use) {
        if (width < 1) return ln_fail(err, LN_EARG, "usecols is empty");
        for (int64_t i = 0; i < width; i++)
            if (use[i] < 0 || use[i] >= lay->cols || (i > 0 && use[i] <= use[i - 1]))
                return ln_fail(err, LN_EARG, "usecols must be ascending columns in [0, %lld)",
                               (long long)lay->cols);
    }
    locale_t loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (loc == (locale_t)0) return ln_fail(err, LN_ENOMEM, "cannot create the C locale");
    size_t pos = 0, n;
    const char *line;
    int64_t lineno = 0, row = 0;
    ln_status st = LN_OK;
    while (lineno < o->skip && next_line(buf, len, &pos, &line, &n)) lineno++;
    int want_header = o->header;
    while (row < lay->rows && next_line(buf, len, &pos, &line, &n)) {
        lineno++;
        if (is_blank_line(line, n)) continue;
        if (want_header) {
            want_header = 0;
            continue;
        }
        if (o->skip_bad && count_cells(line, n, o->sep) != lay->cols) continue; /* as ln_csv_scan */
        ln_csv_cells c;
        const char *cell;
        size_t k;
        int64_t col = 0, kept = 0; /* the line's next column, the row's next element */
        size_t at = (size_t)(row * width);
        ln_csv_cells_init(&c, line, n, o->sep);
        while (kept < width && ln_csv_next_cell(&c, &cell, &k)) {
            int64_t j = col++;
            if (use && use[kept] != j) continue;
            double v = 0;
            const char *why = parse_cell(cell, k, o->allow_nonfinite, loc, &v);
            if (why == NULL && dt == LN_F32 && isfinite(v) && fabs(v) > (double)FLT_MAX)
                why = "overflows float32";
            if (why) {
                int shown = k > 40 ? 40 : (int)k;
                st = ln_fail(err, LN_EFORMAT, "line %lld, column %lld: '%.*s%s' %s",
                             (long long)lineno, (long long)(j + 1), shown, cell,
                             k > 40 ? "..." : "", why);
                goto out;
            }
            if (dt == LN_F32) ((float *)dst)[at + (size_t)kept] = (float)v;
            else ((double *)dst)[at + (size_t)kept] = v;
            kept++;
        }
        for (; kept < width; kept++) { /* unreachable (ln_csv_scan refuses short lines): never unwritten */
            if (dt == LN_F32) ((float *)dst)[at + (size_t)kept] = NAN;
            else ((double *)dst)[at + (size_t)kept] = (double)NAN;
        }
        row++;
    }
out:
    freelocale(loc);
    return st;
}

ln_status ln_read_text(const char *path, size_t cap, char **out, size_t *len, ln_error *err)
{
    *out = NULL;
    *len = 0;
    ln_input in;
    ln_status st = ln_input_open(path, &in, err);
    if (st != LN_OK) return st;
    if (in.gz == NULL && (uint64_t)in.size > cap) {
        ln_input_close(&in);
        return ln_fail(err, LN_ETOOBIG, "%lld bytes exceed the cap of %zu", (long long)in.size, cap);
    }
    /* raw: the file's size; gzip: grow by doubling up to the cap */
    size_t size = 0, room = in.gz ? (size_t)in.size * 4 + 4096 : (size_t)in.size;
    if (room > cap) room = cap;
    char *buf = NULL;
    for (;;) {
        char *nb = (char *)realloc(buf, room + 1);
        if (nb == NULL) {
            st = ln_fail(err, LN_ENOMEM, "out of memory for %zu bytes", room);
            goto fail;
        }
        buf = nb;
        size_t got;
        if ((st = ln_input_read(&in, buf + size, room - size, &got, err)) != LN_OK) goto fail;
        size += got;
        if (size < room || in.gz == NULL) break;
        if (room == cap) { /* full at the cap: is there more? */
            char extra;
            if ((st = ln_input_read(&in, &extra, 1, &got, err)) != LN_OK) goto fail;
            if (got) {
                st = ln_fail(err, LN_ETOOBIG, "decompresses to more than the cap of %zu bytes", cap);
                goto fail;
            }
            break;
        }
        room = room > cap / 2 ? cap : room * 2;
    }
    if (size == 0) {
        st = ln_fail(err, LN_EFORMAT, "empty file (after decompression)");
        goto fail;
    }
    ln_input_close(&in);
    buf[size] = 0;
    *out = buf;
    *len = size;
    return LN_OK;
fail:
    free(buf);
    ln_input_close(&in);
    return st;
}
