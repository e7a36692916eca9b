/*
 * csv.h - numeric text tables: comma, tab, space or any-whitespace
 * separated, an optional header line, skipped lines; locale-independent.
 *
 * Two passes over text in memory: ln_csv_scan finds the table's shape (and
 * reports lines with too many cells), the caller picks the columns kept
 * (opts.usecols) and allocates rows * kept elements, then ln_csv_parse
 * converts every kept cell, reporting the 1-based line and column of the
 * first one that is not a number.  Blank lines are skipped; a line may end
 * in \r\n; a cell may be wrapped in double quotes.
 *
 * The table has as many columns as the header line, or without a header
 * as the first data line (pandas' C parser does the same).  A line with
 * fewer or more cells (ragged) is an error naming it, or with skip_bad
 * dropped (and passed to on_bad when set).  pandas pads short lines with
 * NaN; lunet does not fill a table with values the file does not hold.
 */
#ifndef LN_CSV_H
#define LN_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

/* Told about each line dropped by skip_bad: its 1-based number, the
 * table's column count and the line's cell count.  It must not fail. */
typedef void (*ln_csv_bad_fn)(void *ctx, int64_t line, int64_t expected, int64_t saw);

typedef struct ln_csv_opts {
    int sep;             /* separator byte, or 0 for any run of spaces and tabs */
    int header;          /* the first line (after skip) holds column names */
    int64_t skip;        /* lines ignored at the start */
    int allow_nonfinite; /* accept nan, inf, infinity (any case, signed) */
    int64_t nrows;       /* at most this many data rows (>= 0), or -1: all */
    int skip_bad;        /* drop lines with too many cells instead of failing */
    ln_csv_bad_fn on_bad; /* NULL, or called by ln_csv_scan for each dropped line */
    void *on_bad_ctx;
    /* ln_csv_parse only: the 0-based columns kept, ascending, each < the
     * layout's cols; NULL keeps all of them */
    const int64_t *usecols;
    int64_t nusecols;
} ln_csv_opts;

/* Set by ln_csv_scan. */
typedef struct ln_csv_layout {
    int64_t rows, cols;           /* data rows read, columns of the table */
    int64_t dropped;              /* lines dropped by skip_bad */
    size_t header_at, header_len; /* the header line, when opts.header */
} ln_csv_layout;

/* The cells of one line. */
typedef struct ln_csv_cells {
    const char *p, *end;
    int sep;
    int done;
} ln_csv_cells;

void ln_csv_cells_init(ln_csv_cells *c, const char *line, size_t len, int sep);
/* Next cell (surrounding blanks and one pair of double quotes removed):
 * returns 1 and sets cell/n, or 0 after the last cell. */
int ln_csv_next_cell(ln_csv_cells *c, const char **cell, size_t *n);

ln_status ln_csv_scan(const char *buf, size_t len, const ln_csv_opts *o, ln_csv_layout *lay,
                      ln_error *err);
/* Fill dst, rows * (nusecols or cols) elements of dt (a float dtype),
 * row-major, overwriting it; cells missing from a short line are NaN.
 * The columns not kept are not converted (they may hold text). */
ln_status ln_csv_parse(const char *buf, size_t len, const ln_csv_opts *o, const ln_csv_layout *lay,
                       ln_dtype dt, void *dst, ln_error *err);

/* Read a whole file (gzip detected by its magic; a name ending in .gz must
 * be gzip) into a malloc'd buffer of at most cap bytes, NUL-terminated.
 * The caller frees *buf. */
ln_status ln_read_text(const char *path, size_t cap, char **buf, size_t *len, ln_error *err);

#endif
